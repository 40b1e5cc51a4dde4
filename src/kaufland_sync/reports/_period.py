"""Report periods: a date range cut into day, week or month buckets (UTC calendar dates).

Every report counts a record in the bucket of one of its dates (an order's creation time, a
ticket's opening time), taken as a UTC calendar date. Weeks are ISO weeks (Monday to Sunday,
labelled ``2026-W09``); months are calendar months (``2026-02``); days are ``2026-02-27``.

A range is inclusive of both its dates. When it starts or ends inside a bucket, that bucket is
clipped to the range (``start``/``end`` say so) but keeps its calendar label.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

__all__ = ["Bucket", "DateRange", "Period", "utc_day_start"]


class Period(enum.StrEnum):
    """How a report range is cut into rows."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"

    def floor(self, day: date) -> date:
        """The first day of the bucket that holds ``day``."""
        if self is Period.DAY:
            return day
        if self is Period.WEEK:
            return day - timedelta(days=day.weekday())
        return day.replace(day=1)

    def following(self, first: date) -> date:
        """The first day of the bucket after the one starting on ``first``."""
        if self is Period.DAY:
            return first + timedelta(days=1)
        if self is Period.WEEK:
            return first + timedelta(days=7)
        return date(first.year + first.month // 12, first.month % 12 + 1, 1)

    def label(self, first: date) -> str:
        """The bucket's name: ``2026-02-27``, ``2026-W09`` or ``2026-02``."""
        if self is Period.DAY:
            return first.isoformat()
        if self is Period.WEEK:
            year, week, _ = first.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{first.year:04d}-{first.month:02d}"


def utc_day_start(day: date) -> datetime:
    """Midnight UTC at the start of ``day``."""
    return datetime.combine(day, time(0), tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Bucket:
    """One row's period: ``label`` and the dates it covers, ``start`` to ``end`` inclusive."""

    label: str
    start: date
    end: date

    def days(self) -> Iterator[date]:
        """Each date of the bucket, in order."""
        day = self.start
        while day <= self.end:
            yield day
            day += timedelta(days=1)


@dataclass(frozen=True, slots=True)
class DateRange:
    """Dates ``first`` to ``last``, both inclusive (UTC); either may be open (None)."""

    first: date | None = None
    last: date | None = None

    def __post_init__(self) -> None:
        if self.first is not None and self.last is not None and self.first > self.last:
            raise ValueError(f"the range starts ({self.first}) after it ends ({self.last})")

    @property
    def start(self) -> datetime | None:
        """The first instant in the range (None: open)."""
        return None if self.first is None else utc_day_start(self.first)

    @property
    def end(self) -> datetime | None:
        """The first instant after the range (None: open)."""
        return None if self.last is None else utc_day_start(self.last + timedelta(days=1))

    def contains(self, moment: datetime) -> bool:
        start, end = self.start, self.end
        return (start is None or moment >= start) and (end is None or moment < end)

    def closed_over(self, days: Iterable[date]) -> DateRange:
        """This range with each open end closed by the earliest/latest of ``days`` (the dates
        of the records found in it); with no records, by the other end. Fully open with no
        records: stays open (a report of nothing has no rows)."""
        seen = sorted(days)
        first = self.first if self.first is not None else (seen[0] if seen else self.last)
        last = self.last if self.last is not None else (seen[-1] if seen else self.first)
        if first is None or last is None:
            return DateRange()
        return DateRange(first, max(first, last))

    def buckets(self, by: Period) -> Iterator[Bucket]:
        """Every bucket of the range, oldest first, clipped to it; nothing for an open range."""
        if self.first is None or self.last is None:
            return
        start = by.floor(self.first)
        while start <= self.last:
            after = by.following(start)
            yield Bucket(
                by.label(start),
                max(start, self.first),
                min(after - timedelta(days=1), self.last),
            )
            start = after
