"""Hypothesis strategies shared by the geo tests: positions in and around China."""

from __future__ import annotations

from hypothesis import strategies as st

from orderflow.geo import LatLon

#: A box around mainland China and Hainan (degrees).
CHINA_LAT = (18.0, 53.5)
CHINA_LON = (73.5, 135.0)


def china_positions() -> st.SearchStrategy[LatLon]:
    """Any position in the box around China."""
    return st.builds(
        LatLon,
        st.floats(*CHINA_LAT, allow_nan=False),
        st.floats(*CHINA_LON, allow_nan=False),
    )


def factory_ids() -> st.SearchStrategy[str]:
    """Short factory ids such as ``F07``."""
    return st.integers(0, 99).map(lambda i: f"F{i:02d}")
