"""The health report as JSON, through orderflow's cattrs converter (round-trips exactly)."""

from __future__ import annotations

from orderflow.report.model import HealthReport
from orderflow.serialization import from_json, to_json

__all__ = ["read_json", "render_json"]


def render_json(report: HealthReport) -> str:
    """The report as a JSON document (sorted keys, UTF-8 text, Decimals as strings).

    :func:`read_json` turns it back into an equal :class:`~orderflow.report.HealthReport`.
    """
    return to_json(report)


def read_json(text: str | bytes) -> HealthReport:
    """Parse a document written by :func:`render_json`; :class:`~orderflow.InputError` if bad."""
    return from_json(text, HealthReport)
