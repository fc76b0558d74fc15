"""The flow-metric SQL: one statement aggregating the per-item facts per scope and window
(PostgreSQL and SQLite give the same results)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from valuestreams.models import FlowFact, FlowSpan, ValueStream

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


# The aggregation.


@dataclass
class FlowPipeline:
    """One statement over the per-item facts (``valuestreams.flow.facts``) giving what a batch of
    scopes' snapshots need, told apart by the group ``g``: products (``streams`` False), each
    through its own facts row, or value streams (``streams`` True); ``ids`` narrows the batch
    (None: every one)."""

    dialect: _Dialect
    streams: bool = False
    ids: list[int] | None = None

    def _where(self) -> tuple[str, str, str, list[Any]]:
        """The group column, the type column, the condition on a facts or spans row, params."""
        if self.streams:
            group, type_column, where = (
                "value_stream_id",
                "stream_type",
                "value_stream_id IS NOT NULL",
            )
        else:
            group, type_column, where = "product_id", "type", "for_product = TRUE"
        params: list[Any] = []
        if self.ids is not None:
            where += f" AND {group} IN ({', '.join(['%s'] * len(self.ids))})"
            params = list(self.ids)
        return group, type_column, where, params

    def collect(self) -> dict[int, Collected]:
        """Per group, everything its snapshots need, in one statement: the first activity;
        completions per week, month and type; flow-time percentiles per week and per month; the
        daily load deltas."""
        d = self.dialect
        facts, spans = FlowFact._meta.db_table, FlowSpan._meta.db_table
        g, type_column, where, where_params = self._where()
        done = f"{where} AND done_t IS NOT NULL"
        parts = [
            f"""SELECT 'f' AS kind, {_int(g)} AS g, NULL AS a, NULL AS b, NULL AS label,
                   {_dbl("MIN(first_t)")} AS x, NULL AS y, NULL AS z
            FROM {facts} WHERE {where} GROUP BY {g}""",
            f"""SELECT 'c', {_int(g)}, {_int("done_week")}, {_int("done_month")}, {type_column},
                   {_dbl("COUNT(*)")}, {_dbl("SUM(done_t - start_t)")}, {_dbl("SUM(active_s)")}
            FROM {facts} WHERE {done} GROUP BY {g}, done_week, done_month, {type_column}""",
        ]
        params = [*where_params, *where_params]
        for kind, key in (("w", "done_week"), ("m", "done_month")):
            if d.postgres:
                p50, p85 = (
                    f"percentile_cont({p}) WITHIN GROUP (ORDER BY {_dbl('done_t - start_t')})"
                    for p in PERCENTILES
                )
                parts.append(
                    f"""SELECT 'p{kind}', {_int(g)}, {_int(key)}, NULL, NULL,
                           {_dbl(p50)}, {_dbl(p85)}, NULL
                    FROM {facts} WHERE {done} GROUP BY {g}, {key}"""
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
                        SELECT {g} AS g, {key} AS k, {_dbl("done_t - start_t")} AS v,
                               COUNT(*) OVER (PARTITION BY {g}, {key}) AS n,
                               ROW_NUMBER() OVER (
                                   PARTITION BY {g}, {key} ORDER BY done_t - start_t
                               ) - 1 AS r
                        FROM {facts} WHERE {done}
                    ) ranked WHERE {wanted}"""
                )
            params += where_params
        # Load: each in-progress span covers the midnights first_day .. last_day (every later
        # one while open): +1 at the first, -1 after the last, summed per day.
        parts.append(
            f"""SELECT 'l', {_int("g")}, d, NULL, NULL, {_dbl("SUM(delta)")}, NULL, NULL FROM (
                SELECT {g} AS g, first_day AS d, 1 AS delta FROM {spans} WHERE {where}
                UNION ALL
                SELECT {g} AS g, last_day + 1 AS d, -1 AS delta FROM {spans}
                WHERE {where} AND last_day IS NOT NULL
            ) ev GROUP BY g, d"""
        )
        params += [*where_params, *where_params]
        with connection.cursor() as cursor:
            cursor.execute("\nUNION ALL\n".join(parts), params)
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
