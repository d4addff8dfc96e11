"""The small value types the calculators share: ratios, periods, counts, query events."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import attrs
import pendulum

from orderflow.exceptions import InputError

__all__ = ["SHARE_PLACES", "Count", "Period", "QueryEvent", "QueryKind", "Ratio"]

SHARE_PLACES = Decimal("0.000001")
"""Shares are rounded half-even to six decimal places (0.0001 %)."""

HOUR_PLACES = Decimal("0.001")
"""Durations in hours are rounded half-even to three decimal places (3.6 s)."""

_MICROS_PER_HOUR = Decimal(3_600_000_000)


def micros(delta: dt.timedelta) -> int:
    """A timedelta as whole microseconds (exact, unlike ``total_seconds``)."""
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def hours(micro: int | Decimal) -> Decimal:
    """Microseconds as hours, rounded to :data:`HOUR_PLACES`."""
    return (Decimal(micro) / _MICROS_PER_HOUR).quantize(HOUR_PLACES, ROUND_HALF_EVEN)


def _aware(instance: Any, attribute: attrs.Attribute[Any], value: dt.datetime) -> None:
    if not isinstance(value, dt.datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InputError(
            f"{type(instance).__name__}.{attribute.name} must be a timezone-aware datetime, "
            f"got {value!r}"
        )


_UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Z", "+00:00"})


def _plain_utc(value: dt.datetime) -> dt.datetime:
    u = dt.datetime.astimezone(value, dt.UTC)
    return dt.datetime(
        u.year, u.month, u.day, u.hour, u.minute, u.second, u.microsecond, tzinfo=dt.UTC
    )


def _share(self: Ratio) -> Decimal | None:
    if self.denominator == 0:
        return None
    return (Decimal(self.numerator) / Decimal(self.denominator)).quantize(
        SHARE_PLACES, ROUND_HALF_EVEN
    )


@attrs.frozen
class Ratio:
    """A share with the counts behind it: ``numerator`` of ``denominator``.

    ``share`` is ``numerator / denominator`` as a :class:`~decimal.Decimal` in [0, 1],
    rounded half-even to six places, or ``None`` when there is nothing to measure
    (``denominator == 0``). It is derived, never set by hand: passing a value that does
    not match the counts raises :class:`~orderflow.InputError`.
    """

    numerator: int
    denominator: int
    share: Decimal | None = attrs.field(default=attrs.Factory(_share, takes_self=True))

    def __attrs_post_init__(self) -> None:
        if not 0 <= self.numerator <= self.denominator:
            raise InputError(
                f"a ratio needs 0 <= numerator <= denominator, got "
                f"{self.numerator}/{self.denominator}"
            )
        if self.share != _share(self):
            raise InputError(
                f"ratio {self.numerator}/{self.denominator}: share {self.share} does not "
                "match the counts"
            )

    def meets(self, target: Decimal) -> bool | None:
        """Whether the exact share is at least ``target``; ``None`` with nothing measured."""
        if self.denominator == 0:
            return None
        return Decimal(self.numerator) >= target * self.denominator

    def percent(self, places: int = 1) -> str:
        """The share as a percentage string such as ``"99.2 %"``, or ``"n/a"``."""
        if self.share is None:
            return "n/a"
        value = (self.share * 100).quantize(Decimal(1).scaleb(-places), ROUND_HALF_EVEN)
        return f"{value} %"


@attrs.frozen
class Count:
    """How many items share one ``key`` (a stage, a root cause, a device ...)."""

    key: str
    count: int


@attrs.frozen
class Period:
    """A half-open reporting interval ``[start, end)`` with the zone its calendar uses.

    Build a calendar month with :meth:`month`; ``label`` names the period in reports.
    """

    start: dt.datetime = attrs.field(validator=_aware)
    end: dt.datetime = attrs.field(validator=_aware)
    timezone: str
    label: str

    def __attrs_post_init__(self) -> None:
        if not self.start < self.end:
            raise InputError(
                f"period {self.label!r}: start {self.start.isoformat()} is not before end "
                f"{self.end.isoformat()}"
            )
        try:
            pendulum.timezone(self.timezone)
        except Exception:  # pendulum raises its own InvalidTimezone
            raise InputError(
                f"period {self.label!r}: unknown time zone {self.timezone!r}"
            ) from None

    @classmethod
    def month(cls, year: int, month: int, timezone: str = "Asia/Shanghai") -> Period:
        """The calendar month ``year-month`` in ``timezone`` (midnight to midnight, local)."""
        if not 1 <= month <= 12:
            raise InputError(f"month must be 1-12, got {month}")
        try:
            start = pendulum.datetime(year, month, 1, tz=timezone)
        except Exception:
            raise InputError(f"unknown time zone {timezone!r}") from None
        return cls(start, start.add(months=1), timezone, f"{year:04d}-{month:02d}")

    def utc_bounds(self, like: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
        """``(start, end)`` in UTC, for fast comparisons.

        Comparing instants that share one ``tzinfo`` object is an order of magnitude
        faster than across zones. If ``like`` (a sample of the data) is in a UTC zone
        other than :data:`datetime.UTC` (pendulum's, zoneinfo's), the bounds use that
        very ``tzinfo``; otherwise plain :data:`datetime.UTC`. Results are exact either
        way: only the speed differs.
        """
        tz = None if like is None else like.tzinfo
        if tz is not None and tz is not dt.UTC and str(tz) in _UTC_NAMES:
            return dt.datetime.astimezone(self.start, tz), dt.datetime.astimezone(self.end, tz)
        return _plain_utc(self.start), _plain_utc(self.end)

    def contains(self, instant: dt.datetime) -> bool:
        """Whether ``instant`` falls in ``[start, end)``."""
        return self.start <= instant < self.end


class QueryKind(enum.StrEnum):
    """What a customer did with a status link (R9).

    ``sent``: the link went out (SMS/WeChat); ``opened``: the link was opened;
    ``viewed``: the status page was shown (self-service answered the enquiry);
    ``called``: the customer phoned support about the order's status.
    """

    SENT = "sent"
    OPENED = "opened"
    VIEWED = "viewed"
    CALLED = "called"


def _kind(value: Any) -> QueryKind:
    try:
        return QueryKind(value)
    except ValueError:
        known = ", ".join(k.value for k in QueryKind)
        raise InputError(f"unknown query event kind {value!r} (known: {known})") from None


@attrs.frozen
class QueryEvent:
    """One customer status-query event (R9): input to the query metrics.

    ``shown_stage`` is the stage the status page displayed; set it for ``viewed``
    events (it feeds :func:`~orderflow.metrics.status_accuracy`), leave it ``None``
    for the other kinds.
    """

    order_id: str
    kind: QueryKind = attrs.field(converter=_kind)
    at: dt.datetime = attrs.field(validator=_aware)
    shown_stage: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.shown_stage is not None and self.kind is not QueryKind.VIEWED:
            raise InputError(
                f"query event for order {self.order_id}: shown_stage only applies to "
                f"'viewed' events, not {self.kind.value!r}"
            )
