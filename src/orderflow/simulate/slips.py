"""When a floor change reaches the store: minutes for a live scan; for a paper slip, the
office's next keying round (hours overnight, days over a weekend), or the weekly
reconciliation for a mislaid one. This lag is what the status-timeliness (R8) and
status-accuracy (R9) metrics of a simulated year measure."""

from __future__ import annotations

import datetime as dt
import random

from orderflow.simulate.profile import PlantProfile

__all__ = ["SlipLag"]

_HOUR = 3_600_000_000
_DAY = 24 * _HOUR
_LOCAL = 8 * _HOUR  # Beijing time (UTC+8, no daylight saving): the plant's office clock
_EPOCH = dt.date(1970, 1, 1)


class SlipLag:
    """Recording lags drawn from ``rng`` (the simulation's own, so a seed replays the
    same year) under ``profile``'s slip rates, keying hours and working days."""

    def __init__(self, profile: PlantProfile, rng: random.Random) -> None:
        self.p = profile
        self.rng = rng
        self.keying_days: dict[int, bool] = {}  # local day number -> office keys slips in
        self.rounds = sorted(int(hour * _HOUR) for hour in profile.keying_hours)

    def lag(self, occurred_us: int) -> int:
        """Recording lag of a change that happened at ``occurred_us``.

        Minutes for a live scan; for a paper slip (``late_record_rate``), until the office
        keys it in at its next round, which is hours overnight and days over a weekend, or
        at the weekly reconciliation if the slip was mislaid (``mislaid_slip_rate``).
        """
        rng = self.rng
        if rng.random() < self.p.late_record_rate:
            mislaid = rng.random() < self.p.mislaid_slip_rate
            return self.keyed_at(occurred_us, mislaid) - occurred_us
        low, high = self.p.scan_lag_minutes
        return int(rng.uniform(low, high) * 60_000_000)

    def keyed_at(self, occurred_us: int, mislaid: bool = False) -> int:
        """When the office keys in a paper slip written at ``occurred_us`` (UTC micros).

        At the first keying round on a working day after the slip reaches the office; a
        ``mislaid`` slip only turns up at the weekly reconciliation, a day later at least.
        """
        rng = self.rng
        # the slip has to reach the office first; keying the pile takes a while too
        ready = occurred_us + _LOCAL + int(rng.uniform(0.25, 1.0) * _HOUR)
        work = int(rng.uniform(0.0, 1.0) * _HOUR)
        if mislaid:
            ready += _DAY
        day = ready // _DAY
        weekday = self.p.reconcile_weekday
        for _ in range(400):  # a year of holidays is far less; the bound only stops a loop
            # day 0 (1970-01-01) was a Thursday: ISO weekday 4
            if self.is_keying_day(day) and (not mislaid or (day + 3) % 7 + 1 == weekday):
                for offset in self.rounds:
                    round_us = day * _DAY + offset
                    if round_us >= ready:
                        return round_us - _LOCAL + work
            day += 1
        return ready - _LOCAL + work

    def is_keying_day(self, day: int) -> bool:
        known = self.keying_days.get(day)
        if known is None:
            known = self.keying_days[day] = self.p.is_working_day(_EPOCH + dt.timedelta(days=day))
        return known
