"""Policy what-if: a recorded period replayed through the real service under other
policies, beside what was recorded (R4, R8).

:func:`compare` is the whole of it; :func:`replay` and :func:`outcome` are its parts.
What is and is not modelled is written down in :mod:`orderflow.whatif.replay` and in the
guide "Tuning the policy with last year's orders".
"""

from __future__ import annotations

from orderflow.whatif.compare import (
    Comparison,
    Scenario,
    compare,
    render_html,
    render_table,
    report_section,
    write_section,
)
from orderflow.whatif.measures import Outcome, months, outcome
from orderflow.whatif.recording import Survey, survey
from orderflow.whatif.replay import ReplayResult, replay

__all__ = [
    "Comparison",
    "Outcome",
    "ReplayResult",
    "Scenario",
    "Survey",
    "compare",
    "months",
    "outcome",
    "render_html",
    "render_table",
    "replay",
    "report_section",
    "survey",
    "write_section",
]
