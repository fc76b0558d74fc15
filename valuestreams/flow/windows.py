"""Calendar windows of the flow metrics: weeks from Monday 00:00 UTC and months, and the keys
the SQL groups them by."""

from __future__ import annotations

import datetime as dt

from valuestreams.models import (
    FlowSnapshot,
)

DAY = 86400
EPOCH = dt.date(1970, 1, 1)


def week_start(day: dt.date) -> dt.date:
    """The Monday of ``day``'s calendar week."""
    return day - dt.timedelta(days=day.weekday())


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def window_bounds(window: str, start: dt.date) -> tuple[dt.date, dt.date]:
    """[start, end) of the week or month that starts on ``start``."""
    if window == FlowSnapshot.Window.WEEK:
        return start, start + dt.timedelta(days=7)
    return start, _next_month(start)


def windows_between(window: str, first: dt.date, last: dt.date) -> list[dt.date]:
    """Starts of the weeks or months from the one holding ``first`` to the one holding ``last``."""
    align = week_start if window == FlowSnapshot.Window.WEEK else month_start
    current, stop = align(first), align(last)
    starts = []
    while current <= stop:
        starts.append(current)
        current = window_bounds(window, current)[1]
    return starts


def window_key(window: str, start: dt.date) -> int:
    """The key the SQL groups by: epoch day of the Monday, or year * 12 + month - 1."""
    if window == FlowSnapshot.Window.WEEK:
        return (start - EPOCH).days
    return start.year * 12 + start.month - 1


def day_index(day: dt.date) -> int:
    return (day - EPOCH).days
