"""The measured value stream (issue 4, deliverable 7): a current-state map's steps measured from
the status history of its value stream's products' items.

Each step lists the tracker statuses it covers (``MapStep.statuses``, matched by ``status_key``).
Over the window ``[start, end)``:

- each status change opens an interval that lasts until the item's next change (``LEAD`` over
  the item's changes by time, then arrival), or is still open; intervals are clipped to the
  window, and an item counts for a step when it spent time (> 0) in the step's statuses in it;
- an item's **process time** in a step = its time in the step's statuses that map to ``active``
  (through the value stream's own status mapping, falling back to the default); its **wait** =
  its time in the step's statuses less that process time (backlog, waiting, and anything
  unmapped);
- a step's measured process time and wait are the **medians** over its counted items, in minutes
  (``percentile_cont(0.5)`` on PostgreSQL; on SQLite the two middle ranks are selected in SQL and
  interpolated here, as ``valuestreams.flow.sql`` does); a step no item passed has no figures;
- the measured map's metrics (``mapmetrics``) take per measured step PT = the measured process
  time, LT = process time + wait, and the workshop's %C&A; steps without items are left out of
  them (no figures to add), and without any measured step there are no metrics.

One statement computes every step's figures; nothing loops over items in Python.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection

from valuestreams.flow.sql import ValueStreamLink, _dbl, _int, _interpolate, dialect
from valuestreams.mapmetrics import MapMetrics, map_metrics
from valuestreams.models import MapStep, StatusChange, StatusMapping, ValueStreamMap, WorkItem
from valuestreams.models.flow import status_key

MINUTE = 60
DEFAULT_DAYS = 90


def _minutes(seconds: float) -> Decimal:
    return Decimal(seconds / MINUTE).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class MeasuredStep:
    """One step: the workshop's figures (``step``) and the measured ones (None without items)."""

    step: MapStep
    items: int
    process_time_minutes: Decimal | None
    wait_minutes: Decimal | None

    @property
    def lead_time_minutes(self) -> Decimal | None:
        if self.process_time_minutes is None or self.wait_minutes is None:
            return None
        return self.process_time_minutes + self.wait_minutes


@dataclass
class _Figures:
    """A measured step as ``mapmetrics`` reads it."""

    id: Any
    name: str
    order: int
    process_time_minutes: Decimal
    lead_time_minutes: Decimal
    percent_complete_accurate: Decimal


@dataclass(frozen=True)
class MeasuredMap:
    """A map measured over ``[start, end)``: its steps and the metrics of the measured figures
    (None when no step has items)."""

    start: dt.datetime
    end: dt.datetime
    steps: tuple[MeasuredStep, ...]
    metrics: MapMetrics | None


def _step_rows(steps: list[MapStep]) -> tuple[str, list[Any]]:
    """The (step, status key) pairs as a derived table."""
    rows, params = [], []
    for step in steps:
        for key in sorted({status_key(s) for s in step.statuses or [] if isinstance(s, str)}):
            if key:
                rows.append("SELECT CAST(%s AS BIGINT) AS step_id, CAST(%s AS TEXT) AS skey")
                params += [step.id, key]
    if not rows:
        return "SELECT CAST(NULL AS BIGINT) AS step_id, CAST(NULL AS TEXT) AS skey WHERE 1 = 0", []
    return " UNION ALL ".join(rows), params


def _collect(
    *, value_stream_id: int, steps: list[MapStep], start_t: float, end_t: float
) -> dict[int, tuple[int, float, float]]:
    """Per step id: (items counted, median active seconds, median other seconds)."""
    d = dialect()
    step_sql, step_params = _step_rows(steps)
    stream = int(value_stream_id)
    sql = f"""
    WITH ss AS ({step_sql}),
    seq AS (
        SELECT c.item_id AS item_id, c.status_key AS skey,
               COALESCE(o.category, m.category) AS cat, {d.epoch("c.at")} AS t,
               LEAD({d.epoch("c.at")}) OVER (PARTITION BY c.item_id ORDER BY c.at, c.id) AS next_t
        FROM {StatusChange._meta.db_table} c
        JOIN {WorkItem._meta.db_table} i ON i.id = c.item_id
        LEFT JOIN {StatusMapping._meta.db_table} o
               ON o.value_stream_id = {stream} AND o.status_key = c.status_key
        LEFT JOIN {StatusMapping._meta.db_table} m
               ON m.value_stream_id IS NULL AND m.status_key = c.status_key
        WHERE i.product_id IN (
            SELECT product_id FROM {ValueStreamLink._meta.db_table} WHERE valuestream_id = {stream}
        )
    ),
    clipped AS (
        SELECT item_id, skey, cat,
               CASE WHEN t > %s THEN t ELSE %s END AS lo,
               CASE WHEN next_t IS NULL OR next_t > %s THEN %s ELSE next_t END AS hi
        FROM seq
    ),
    per AS (
        SELECT ss.step_id AS step_id, q.item_id AS item_id,
               SUM(CASE WHEN q.cat = 'active' THEN q.hi - q.lo ELSE 0 END) AS active_s,
               SUM(CASE WHEN q.cat = 'active' THEN 0 ELSE q.hi - q.lo END) AS other_s
        FROM clipped q JOIN ss ON ss.skey = q.skey
        WHERE q.hi > q.lo
        GROUP BY ss.step_id, q.item_id
    )
    """
    params: list[Any] = [*step_params, start_t, start_t, end_t, end_t]
    if d.postgres:
        sql += f"""
        SELECT 'p', {_int("step_id")}, {_int("COUNT(*)")}, NULL,
               {_dbl("percentile_cont(0.5) WITHIN GROUP (ORDER BY active_s)")},
               {_dbl("percentile_cont(0.5) WITHIN GROUP (ORDER BY other_s)")}
        FROM per GROUP BY step_id
        """
    else:
        middle = "r = CAST(0.5 * (n - 1) AS INTEGER) OR r = CAST(0.5 * (n - 1) AS INTEGER) + 1"
        sql += " UNION ALL ".join(
            f"""SELECT '{kind}', step_id, n, r, v, NULL FROM (
                SELECT step_id, {_dbl(col)} AS v,
                       COUNT(*) OVER (PARTITION BY step_id) AS n,
                       ROW_NUMBER() OVER (PARTITION BY step_id ORDER BY {col}) - 1 AS r
                FROM per
            ) ranked WHERE {middle}"""
            for kind, col in (("a", "active_s"), ("o", "other_s"))
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    result: dict[int, tuple[int, float, float]] = {}
    ranks: dict[tuple[int, str], dict[int, float]] = defaultdict(dict)
    counts: dict[int, int] = {}
    for kind, step_id, n, r, x, y in rows:
        if kind == "p":
            result[int(step_id)] = (int(n), float(x), float(y))
        else:
            ranks[(int(step_id), kind)][int(r)] = float(x)
            counts[int(step_id)] = int(n)
    for step_id, n in counts.items():
        result[step_id] = (
            n,
            _interpolate(ranks[(step_id, "a")], n, 0.5),
            _interpolate(ranks[(step_id, "o")], n, 0.5),
        )
    return result


def measured_window(
    from_value: str | None, to_value: str | None, *, today: dt.date
) -> tuple[dt.datetime, dt.datetime]:
    """The window ``[from 00:00 UTC, the day after to 00:00 UTC)`` from ``YYYY-MM-DD`` dates;
    by default the 90 days ending ``today``. Raises ``ValidationError`` on a bad date or range."""
    errors: dict[str, str] = {}
    days: dict[str, dt.date] = {}
    for field, value in (("from", from_value), ("to", to_value)):
        if value:
            try:
                days[field] = dt.date.fromisoformat(value)
            except ValueError:
                errors[field] = "Enter a date as YYYY-MM-DD."
    if errors:
        raise ValidationError(errors)
    last = days.get("to", today)
    first = days.get("from", last - dt.timedelta(days=DEFAULT_DAYS - 1))
    if first > last:
        raise ValidationError({"from": "The window starts after it ends."})
    start = dt.datetime.combine(first, dt.time.min, tzinfo=dt.UTC)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    return start, end


def measured_map(
    *, value_stream_map: ValueStreamMap, start: dt.datetime, end: dt.datetime
) -> MeasuredMap:
    """The map's steps measured from the status history in ``[start, end)`` (module docstring).

    Two queries whatever the number of steps and items: the steps, and one statement.
    """
    steps = list(value_stream_map.steps.order_by("order", "id"))
    figures = _collect(
        value_stream_id=value_stream_map.value_stream_id,
        steps=steps,
        start_t=start.timestamp(),
        end_t=end.timestamp(),
    )
    measured = []
    for step in steps:
        if step.id in figures:
            n, active_s, other_s = figures[step.id]
            measured.append(MeasuredStep(step, n, _minutes(active_s), _minutes(other_s)))
        else:
            measured.append(MeasuredStep(step, 0, None, None))
    counted = [
        _Figures(
            id=m.step.id,
            name=m.step.name,
            order=m.step.order,
            process_time_minutes=m.process_time_minutes or Decimal(0),
            lead_time_minutes=m.lead_time_minutes or Decimal(0),
            percent_complete_accurate=m.step.percent_complete_accurate,
        )
        for m in measured
        if m.items
    ]
    return MeasuredMap(
        start=start,
        end=end,
        steps=tuple(measured),
        metrics=map_metrics(counted) if counted else None,
    )
