"""Day arithmetic the daily rollups share (``rollup`` for orders, ``job_rollup`` for jobs):
UTC calendar days, their midnights, and runs of consecutive days to recompute in one go."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

__all__ = ["as_date", "day_runs", "midnight"]


def as_date(value: Any) -> date:
    """The UTC day of a stored value: an aware or naive (UTC) datetime, a date, or the text a
    database hands back for either (``YYYY-MM-DD...``)."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def midnight(day: date) -> datetime:
    """The start of ``day`` in UTC."""
    return datetime.combine(day, time(0), tzinfo=UTC)


def day_runs(days: Iterable[date]) -> list[tuple[date, date]]:
    """Sorted days as runs of consecutive days ``(first, last)``."""
    runs: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs
