"""The flow-metric SQL: per-item facts from the status history by window functions, and one
statement aggregating them per scope and window (PostgreSQL and SQLite give the same results)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from valuestreams.models import (
    StatusChange,
    StatusMapping,
    ValueStream,
    WorkItem,
)

PERCENTILES = (0.5, 0.85)
ValueStreamLink = ValueStream.products.through


# Dialects: the few SQL expressions that differ between PostgreSQL and SQLite.


class _Dialect:
    """Epoch seconds of a timestamp, integer floor, and the calendar-month key."""

    postgres = False

    def epoch(self, col: str) -> str:
        # Rounded to the millisecond: julianday's floating point would put an exact midnight
        # a few microseconds before it, on the previous day.
        return f"ROUND((julianday({col}) - 2440587.5) * 86400.0, 3)"

    def floor(self, expr: str) -> str:
        return f"CAST({expr} AS INTEGER)"  # epoch values are positive: truncation is floor

    def month_key(self, col: str) -> str:
        return (
            f"(CAST(strftime('%%Y', {col}) AS INTEGER) * 12"
            f" + CAST(strftime('%%m', {col}) AS INTEGER) - 1)"
        )


class _PostgresDialect(_Dialect):
    postgres = True

    def epoch(self, col: str) -> str:
        # Double precision, like SQLite's REAL: microseconds stay exact at today's epochs.
        return f"CAST(EXTRACT(EPOCH FROM {col}) AS DOUBLE PRECISION)"

    def floor(self, expr: str) -> str:
        return f"CAST(FLOOR({expr}) AS BIGINT)"

    def month_key(self, col: str) -> str:
        return (
            f"(CAST(EXTRACT(YEAR FROM {col} AT TIME ZONE 'UTC') AS INTEGER) * 12"
            f" + CAST(EXTRACT(MONTH FROM {col} AT TIME ZONE 'UTC') AS INTEGER) - 1)"
        )


def dialect() -> _Dialect:
    return _PostgresDialect() if connection.vendor == "postgresql" else _Dialect()


# The SQL pipeline.


@dataclass
class FlowPipeline:
    """The per-item facts as SQL common table expressions, and the one statement over them.

    One statement covers a batch of scopes, told apart by the group ``g``: the given products
    (``product_ids``; ``None`` = every product), each through its mapping value stream, or one
    value stream (``value_stream_id``) through its own mapping.
    """

    dialect: _Dialect
    product_ids: list[int] | None = None
    value_stream_id: int | None = None
    type_map: dict[str, str] | None = None  # tracker type as sent -> item type (value streams)

    def ctes(self) -> tuple[str, list[Any]]:
        d = self.dialect
        changes = StatusChange._meta.db_table
        items = WorkItem._meta.db_table
        mappings = StatusMapping._meta.db_table
        link = ValueStreamLink._meta.db_table
        params: list[Any] = []
        if self.value_stream_id is not None:
            stream = int(self.value_stream_id)
            group, mapping_join = f"{stream}", ""
            mapping = f"{stream}"
            where = (
                f"i.product_id IN (SELECT product_id FROM {link} WHERE valuestream_id = {stream})"
            )
        else:
            group = "i.product_id"
            # A product maps through the value stream it serves with the lowest id.
            mapping_join = f"""LEFT JOIN (
                SELECT product_id, MIN(valuestream_id) AS vs FROM {link} GROUP BY product_id
            ) pm ON pm.product_id = i.product_id"""
            mapping = "pm.vs"
            where = "1 = 1"
            if self.product_ids is not None:
                where = f"i.product_id IN ({', '.join(['%s'] * len(self.product_ids))})"
                params += self.product_ids
        type_sql, type_params = self._type_expression()
        sql = f"""
        WITH ch AS (
            SELECT {group} AS g, c.item_id AS item_id, c.id AS id, c.at AS at,
                   {d.epoch("c.at")} AS t, COALESCE(o.category, m.category) AS cat
            FROM {changes} c
            JOIN {items} i ON i.id = c.item_id
            {mapping_join}
            LEFT JOIN {mappings} o ON o.value_stream_id = {mapping} AND o.status_key = c.status_key
            LEFT JOIN {mappings} m ON m.value_stream_id IS NULL AND m.status_key = c.status_key
            WHERE {where}
        ),
        seq AS (
            SELECT g, item_id, at, t, cat,
                   LAG(cat) OVER (PARTITION BY item_id ORDER BY at, id) AS prev_cat,
                   LEAD(t) OVER (PARTITION BY item_id ORDER BY at, id) AS next_t
            FROM ch
        ),
        facts AS (
            SELECT g, item_id,
                   MIN(CASE WHEN cat IN ('active', 'waiting') THEN t END) AS start_t,
                   MAX(CASE WHEN next_t IS NULL THEN cat END) AS last_cat,
                   MAX(CASE WHEN cat = 'done' AND (prev_cat IS NULL OR prev_cat <> 'done')
                       THEN at END) AS done_at,
                   MAX(CASE WHEN cat = 'done' AND (prev_cat IS NULL OR prev_cat <> 'done')
                       THEN t END) AS done_t,
                   SUM(CASE WHEN cat = 'active' THEN next_t - t ELSE 0 END) AS active_s
            FROM seq GROUP BY g, item_id
        ),
        completed AS (
            SELECT f.g AS g, {type_sql} AS item_type, f.done_t - f.start_t AS flow_s,
                   f.active_s AS active_s, {d.floor("f.done_t / 86400")} AS done_day,
                   {d.month_key("f.done_at")} AS mk
            FROM facts f JOIN {items} i ON i.id = f.item_id
            WHERE f.start_t IS NOT NULL AND f.last_cat = 'done'
        ),
        completed_w AS (
            SELECT g, item_type, flow_s, active_s, mk, done_day - ((done_day + 3) %% 7) AS wk
            FROM completed
        ),
        spans AS (
            SELECT s.g AS g, {d.floor("s.t / 86400")} + 1 AS first_d,
                   CASE WHEN s.next_t IS NULL THEN NULL
                        ELSE {d.floor("s.next_t / 86400")} END AS last_d
            FROM seq s JOIN facts f ON f.item_id = s.item_id
            WHERE f.start_t IS NOT NULL AND s.t >= f.start_t
              AND (s.cat IS NULL OR s.cat <> 'done')
        )
        """
        return sql, [*params, *type_params]

    def _type_expression(self) -> tuple[str, list[Any]]:
        if self.type_map is None:
            return "i.type", []
        cases, params = [], []
        for tracker_type, item_type in sorted(self.type_map.items()):
            cases.append("WHEN %s THEN %s")
            params += [tracker_type, item_type]
        # An item sent without a tracker type keeps the type it was sent with.
        return f"(CASE i.tracker_type WHEN '' THEN i.type {' '.join(cases)} ELSE '' END)", params

    def collect(self, since_t: float | None = None) -> dict[int, Collected]:
        """Per group, everything its snapshots need, in one statement over the per-item facts
        (PostgreSQL evaluates them once): the first activity; completions per week, month and
        type; flow-time percentiles per week and per month; the daily load deltas; with
        ``since_t``, the earliest completion that a change at or after it may have undone."""
        d = self.dialect
        parts = [
            f"""SELECT 'f' AS kind, {_int("g")} AS g, NULL AS a, NULL AS b, NULL AS label,
                   {_dbl("MIN(t)")} AS x, NULL AS y, NULL AS z
            FROM ch GROUP BY g""",
            f"""SELECT 'c', {_int("g")}, {_int("wk")}, {_int("mk")}, item_type,
                   {_dbl("COUNT(*)")}, {_dbl("SUM(flow_s)")}, {_dbl("SUM(active_s)")}
            FROM completed_w GROUP BY g, wk, mk, item_type""",
        ]
        for kind, key in (("w", "wk"), ("m", "mk")):
            if d.postgres:
                p50, p85 = (
                    f"percentile_cont({p}) WITHIN GROUP (ORDER BY {_dbl('flow_s')})"
                    for p in PERCENTILES
                )
                parts.append(
                    f"""SELECT 'p{kind}', {_int("g")}, {_int(key)}, NULL, NULL,
                           {_dbl(p50)}, {_dbl(p85)}, NULL
                    FROM completed_w GROUP BY g, {key}"""
                )
            else:
                # SQLite has no percentile_cont: keep only the ranks each percentile
                # interpolates between, and interpolate per window in Python.
                wanted = " OR ".join(
                    f"r = CAST({p} * (n - 1) AS INTEGER) OR r = CAST({p} * (n - 1) AS INTEGER) + 1"
                    for p in PERCENTILES
                )
                parts.append(
                    f"""SELECT 'r{kind}', g, k, r, NULL, n, v, NULL FROM (
                        SELECT g, {key} AS k, {_dbl("flow_s")} AS v,
                               COUNT(*) OVER (PARTITION BY g, {key}) AS n,
                               ROW_NUMBER() OVER (PARTITION BY g, {key} ORDER BY flow_s) - 1 AS r
                        FROM completed_w
                    ) ranked WHERE {wanted}"""
                )
        # Load: each not-done status after the start holds over (lo, hi]: it covers the
        # midnights floor(lo) + 1 .. floor(hi) in days, or every later one while it is the
        # latest status; +1 at the first, -1 after the last, summed per day.
        parts.append(
            f"""SELECT 'l', {_int("g")}, d, NULL, NULL, {_dbl("SUM(delta)")}, NULL, NULL FROM (
                SELECT g, first_d AS d, 1 AS delta FROM spans
                WHERE last_d IS NULL OR last_d >= first_d
                UNION ALL
                SELECT g, last_d + 1 AS d, -1 AS delta FROM spans
                WHERE last_d IS NOT NULL AND last_d >= first_d
            ) ev GROUP BY g, d"""
        )
        extra: list[Any] = []
        if since_t is not None:
            parts.append(
                f"""SELECT 'e', {_int("g")}, NULL, NULL, NULL, {_dbl("MIN(prior_done_t)")},
                       NULL, NULL
                FROM (
                    SELECT g, item_id, MAX(CASE WHEN cat = 'done'
                                     AND (prev_cat IS NULL OR prev_cat <> 'done')
                                     AND t < %s THEN t END) AS prior_done_t,
                           MAX(t) AS last_t
                    FROM seq GROUP BY g, item_id
                ) touched WHERE last_t >= %s GROUP BY g"""
            )
            extra = [since_t, since_t]
        sql, params = self.ctes()
        with connection.cursor() as cursor:
            cursor.execute(sql + "\nUNION ALL\n".join(parts), [*params, *extra])
            return Collected.from_rows(cursor.fetchall())


def _int(expr: str) -> str:
    return f"CAST({expr} AS BIGINT)"


def _dbl(expr: str) -> str:
    return f"CAST({expr} AS DOUBLE PRECISION)"


@dataclass
class Collected:
    """The rows of ``FlowPipeline.collect`` for one group, sorted by kind."""

    first_t: float | None = None
    completions: list[tuple[int, int, str, int, float, float]] = field(default_factory=list)
    percentiles: dict[str, dict[int, tuple[float, ...]]] = field(
        default_factory=lambda: {"w": {}, "m": {}}
    )
    deltas: dict[int, int] = field(default_factory=dict)
    earliest_affected: float | None = None

    @classmethod
    def from_rows(cls, rows: Iterable[tuple]) -> dict[int, Collected]:
        groups: dict[int, Collected] = defaultdict(cls)
        ranks: dict[tuple[int, str, int], dict[int, float]] = defaultdict(dict)
        counts: dict[tuple[int, str, int], int] = {}
        for kind, g, a, b, label, x, y, z in rows:
            group = groups[int(g)]
            if kind == "f":
                group.first_t = x
            elif kind == "c":
                group.completions.append((a, b, label, int(x), y, z))
            elif kind in ("pw", "pm"):
                group.percentiles[kind[1]][a] = (x, y)
            elif kind in ("rw", "rm"):
                ranks[(int(g), kind[1], a)][b] = y
                counts[(int(g), kind[1], a)] = int(x)
            elif kind == "l":
                group.deltas[a] = int(x)
            elif kind == "e":
                group.earliest_affected = x
        for (g, window, key), values in ranks.items():
            groups[g].percentiles[window][key] = tuple(
                _interpolate(values, counts[(g, window, key)], p) for p in PERCENTILES
            )
        return dict(groups)


def _interpolate(values: dict[int, float], n: int, p: float) -> float:
    """``percentile_cont``: the value at rank p * (n - 1), interpolated between its neighbours."""
    pos = p * (n - 1)
    low = int(pos)
    below = values[low]
    above = values.get(low + 1, below)
    return below + (pos - low) * (above - below)
