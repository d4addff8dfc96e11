"""Shared test configuration: Hypothesis profiles (CI is deterministic and bounded)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "dev", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "nightly", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
if os.environ.get("ORDERFLOW_NIGHTLY") == "1":
    settings.load_profile("nightly")
else:
    settings.load_profile("ci" if os.environ.get("CI") == "true" else "dev")
