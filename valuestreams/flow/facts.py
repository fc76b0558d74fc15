"""Per-item flow facts: each work item's first activity, start, completion, active time, latest
category and in-progress intervals, derived from its status history in one SQL statement and
kept in ``FlowFact`` and ``FlowSpan`` (see ``valuestreams.flow`` for the definitions).

Each ingest refreshes the facts of the items it touched in its own transaction; the flow task
refreshes a product's when a mapping changes or someone asks for a recompute, and every item's
in the weekly run. The weekly and monthly snapshots then aggregate about one row per item
instead of re-reading every status change. One row per mapping an item is seen through: per
value stream serving its product, or the default mapping when none does; ``for_product`` marks
the product's own (lowest value stream id). Refreshes of the same products are serialised
(PostgreSQL advisory locks), and each replaces its items' rows in one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import OperationalError, connection, transaction

from portfolio.common.sql import array_literal
from products.models import Product
from valuestreams.flow.sql import _Dialect, dialect
from valuestreams.models import (
    FlowFact,
    FlowSpan,
    StatusChange,
    StatusMapping,
    TypeMapping,
    ValueStream,
    WorkItem,
)
from valuestreams.models.flow import status_key

ValueStreamLink = ValueStream.products.through
LOCK_KEY = 4_726_548  # the flow-fact refreshes' advisory locks
WORK_MEM = "1GB"
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's error code when lock_timeout passes
MAX_PRODUCT_LOCKS = 500  # more products than this take the one exclusive lock
REBUILD_BATCH = 20  # products a transaction of ``rebuild_facts``
# How long an ingest waits for a refresh holding its products (a rebuild batch holds its
# products for seconds; a migration's full derivation, every product for about a minute at a
# million items) before it gives up, writing nothing: well inside a web worker's timeout, so
# the sender gets an answer it can retry on.
INGEST_LOCK_WAIT = "10s"


class FactsBusy(Exception):
    """The products' flow facts are being rebuilt: an ingest waited ``INGEST_LOCK_WAIT`` and
    gave up (its transaction is rolled back; nothing was written)."""


# A change into done from outside it (a completion); a status that holds while the item is in
# progress (started, not done).
INTO_DONE = "cat = 'done' AND (prev_cat IS NULL OR prev_cat <> 'done')"
IN_PROGRESS = "started = 1 AND (cat IS NULL OR cat <> 'done')"


@dataclass(frozen=True)
class Selection:
    """Which items to refresh: these items, every item of these products, or every item."""

    item_ids: Sequence[int] | None = None
    product_ids: Sequence[int] | None = None

    @property
    def everything(self) -> bool:
        return self.item_ids is None and self.product_ids is None

    def where(self, alias: str) -> tuple[str, list[Any]]:
        """A condition on the work items table (as ``alias``) and its parameters."""
        if self.item_ids is not None:
            return _in_list(f"{alias}.id", self.item_ids)
        if self.product_ids is not None:
            return _in_list(f"{alias}.product_id", self.product_ids)
        return "1 = 1", []


def _in_list(column: str, values: Sequence[int]) -> tuple[str, list[Any]]:
    """``column`` among ``values``, as one parameter whatever their number."""
    ints = [int(v) for v in values]
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s::bigint[])", [array_literal(ints)]
    return f"{column} IN (SELECT value FROM json_each(%s))", [json.dumps(ints)]


def _type_rows(selection: Selection) -> tuple[str, list[Any]]:
    """``VALUES`` rows (value stream, tracker type as sent, item type by that value stream's
    mapping) for the tracker types of the selected items."""
    items = WorkItem._meta.db_table
    where, params = selection.where("i")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT i.tracker_type FROM {items} i WHERE {where} AND i.tracker_type <> ''",
            params,
        )
        sent = sorted(row[0] for row in cursor.fetchall())
    rows: list[tuple[int, str, str]] = []
    if sent:
        mapped = TypeMapping.objects.values_list("value_stream_id", "tracker_type_key", "type")
        defaults: dict[str, str] = {}
        own: dict[tuple[int, str], str] = {}
        for stream, key, item_type in mapped:
            if stream is None:
                defaults[key] = item_type
            else:
                own[(stream, key)] = item_type
        streams = ValueStreamLink.objects.values_list("valuestream_id", flat=True).distinct()
        if selection.product_ids is not None:
            streams = streams.filter(product_id__in=list(selection.product_ids))
        for stream in sorted(set(streams)):
            for name in sent:
                key = status_key(name)
                rows.append((stream, name, own.get((stream, key)) or defaults.get(key, "")))
    if not rows:
        return (
            "SELECT CAST(NULL AS BIGINT) AS vs, CAST(NULL AS VARCHAR(100)) AS tt, "
            "CAST(NULL AS VARCHAR(10)) AS ty",
            [],
        )
    values = ", ".join(f"({int(stream)}, %s, %s)" for stream, _, _ in rows)
    params = [value for _, name, item_type in rows for value in (name, item_type)]
    if connection.vendor == "postgresql":
        return f"SELECT * FROM (VALUES {values}) AS v (vs, tt, ty)", params
    # SQLite names a VALUES list's columns column1, column2, ...
    return f"SELECT column1 AS vs, column2 AS tt, column3 AS ty FROM (VALUES {values})", params


def _derivation(d: _Dialect, selection: Selection) -> tuple[str, list[Any]]:
    """The common table expressions: ``seq``, each status change of the selected items, once per
    mapping, with its category (``cm``: each mapping's category of each status key), the
    previous category, the next change's time, the number of ``done`` changes so far and whether
    the item has started by then; ``isl``, seq summed per island (a done change and the statuses
    after it, up to the next: the first island, everything before the first done), from which
    both the per-item facts and the in-progress intervals follow."""
    items = WorkItem._meta.db_table
    changes = StatusChange._meta.db_table
    mappings = StatusMapping._meta.db_table
    link = ValueStreamLink._meta.db_table
    where, params = selection.where("i")
    types_sql, type_params = _type_rows(selection)
    sql = f"""
    WITH sel AS (
        SELECT i.id AS id, i.product_id AS product_id, i.type AS type,
               i.tracker_type AS tracker_type
        FROM {items} i WHERE {where}
    ),
    tm AS ({types_sql}),
    pm AS (SELECT product_id, MIN(valuestream_id) AS vs FROM {link} GROUP BY product_id),
    k AS (
        SELECT s.id AS item_id, l.valuestream_id AS vk, s.product_id AS product_id,
               CASE WHEN l.valuestream_id = pm.vs THEN 1 ELSE 0 END AS for_product,
               s.type AS type,
               CASE WHEN s.tracker_type = '' THEN s.type ELSE COALESCE(tm.ty, '') END
                   AS stream_type
        FROM sel s
        JOIN {link} l ON l.product_id = s.product_id
        JOIN pm ON pm.product_id = s.product_id
        LEFT JOIN tm ON tm.vs = l.valuestream_id AND tm.tt = s.tracker_type
        UNION ALL
        SELECT s.id, 0, s.product_id, 1, s.type, s.type
        FROM sel s WHERE NOT EXISTS (SELECT 1 FROM {link} l WHERE l.product_id = s.product_id)
    ),
    vks AS (SELECT DISTINCT vk FROM k),
    cm AS (
        SELECT v.vk AS vk, m.status_key AS status_key, COALESCE(o.category, m.category) AS cat
        FROM vks v
        CROSS JOIN {mappings} m
        LEFT JOIN {mappings} o ON o.value_stream_id = v.vk AND o.status_key = m.status_key
        WHERE m.value_stream_id IS NULL
        UNION ALL
        SELECT o.value_stream_id, o.status_key, o.category
        FROM {mappings} o JOIN vks v ON v.vk = o.value_stream_id
        WHERE NOT EXISTS (
            SELECT 1 FROM {mappings} m
            WHERE m.value_stream_id IS NULL AND m.status_key = o.status_key
        )
    ),
    ch AS (
        SELECT k.item_id AS item_id, k.vk AS vk, c.id AS id, c.at AS at,
               {d.epoch("c.at")} AS t, cm.cat AS cat
        FROM k
        JOIN {changes} c ON c.item_id = k.item_id
        LEFT JOIN cm ON cm.vk = k.vk AND cm.status_key = c.status_key
    ),
    seq AS (
        SELECT item_id, vk, at, t, cat,
               LAG(cat) OVER w AS prev_cat,
               LEAD(t) OVER w AS next_t,
               SUM(CASE WHEN cat = 'done' THEN 1 ELSE 0 END) OVER w AS dones,
               MAX(CASE WHEN cat IN ('active', 'waiting') THEN 1 ELSE 0 END) OVER w AS started
        FROM ch
        WINDOW w AS (PARTITION BY item_id, vk ORDER BY at, id)
    ),
    isl AS (
        SELECT item_id, vk,
               MIN(t) AS first_t,
               MIN(CASE WHEN cat IN ('active', 'waiting') THEN t END) AS start_t,
               MIN(CASE WHEN cat IN ('active', 'waiting') THEN at END) AS started_at,
               MAX(CASE WHEN {INTO_DONE} THEN t END) AS done_t,
               MAX(CASE WHEN {INTO_DONE} THEN at END) AS done_at,
               SUM(CASE WHEN cat = 'active' THEN next_t - t ELSE 0 END) AS active_s,
               MAX(CASE WHEN next_t IS NULL THEN cat END) AS last_cat,
               MAX(started) AS started,
               COUNT(*) AS changes,
               MIN(CASE WHEN {IN_PROGRESS} THEN t END) AS span_t,
               MAX(CASE WHEN {IN_PROGRESS} THEN next_t END) AS span_next_t,
               SUM(CASE WHEN {IN_PROGRESS} AND next_t IS NULL THEN 1 ELSE 0 END) AS span_open
        FROM seq
        GROUP BY item_id, vk, dones
    )
    """
    return sql, [*params, *type_params]


def _facts_insert(d: _Dialect) -> str:
    day = d.floor("x.done_t / 86400")
    return f"""
    INSERT INTO {FlowFact._meta.db_table} (item_id, value_stream_id, product_id, for_product,
        type, stream_type, first_t, start_t, started_at, done_t, done_week, done_month,
        active_s, category, changes)
    SELECT x.item_id, NULLIF(x.vk, 0), k.product_id, k.for_product = 1, k.type, k.stream_type,
           x.first_t, x.start_t, x.started_at, x.done_t,
           CASE WHEN x.done_t IS NOT NULL THEN {day} - (({day} + 3) %% 7) END,
           CASE WHEN x.done_t IS NOT NULL THEN {d.month_key("x.done_at")} END,
           x.active_s, x.category, x.changes
    FROM (
        SELECT item_id, vk, MIN(first_t) AS first_t, MIN(start_t) AS start_t,
               MIN(started_at) AS started_at,
               CASE WHEN MAX(started) = 1 AND MAX(last_cat) = 'done'
                    THEN MAX(done_t) END AS done_t,
               MAX(done_at) AS done_at,
               COALESCE(SUM(active_s), 0) AS active_s,
               COALESCE(MAX(last_cat), '') AS category,
               SUM(changes) AS changes
        FROM isl
        GROUP BY item_id, vk
    ) x JOIN k ON k.item_id = x.item_id AND k.vk = x.vk
    """


def _spans_insert(d: _Dialect) -> str:
    # Each not-done status after the start holds over (t, next t]: it covers the midnights
    # floor(t) + 1 .. floor(next t) in days. The statuses between two done changes (an island)
    # follow each other, so together they cover floor(first t) + 1 .. floor(last next t), or
    # every later midnight while the latest of them is the item's latest status.
    return f"""
    INSERT INTO {FlowSpan._meta.db_table} (item_id, value_stream_id, product_id, for_product,
        first_day, last_day)
    SELECT s.item_id, NULLIF(s.vk, 0), k.product_id, k.for_product = 1, s.first_day, s.last_day
    FROM (
        SELECT item_id, vk, {d.floor("span_t / 86400")} + 1 AS first_day,
               CASE WHEN span_open > 0 THEN NULL
                    ELSE {d.floor("span_next_t / 86400")} END AS last_day
        FROM isl
        WHERE span_t IS NOT NULL
    ) s JOIN k ON k.item_id = s.item_id AND k.vk = s.vk
    WHERE s.last_day IS NULL OR s.last_day >= s.first_day
    """


def _lock_and_tune(product_ids: Sequence[int] | None, *, large: bool) -> None:
    """On PostgreSQL, in one statement: serialise refreshes that may write the same rows, until
    the transaction ends, and tune the session for the derivation.

    The locks: one per product (taken in id order, so two refreshes never wait on each other in
    a ring) under a shared lock, or the exclusive lock for a refresh of everything or of many
    products. Without them two ingests touching one item would each derive its facts without
    the other's changes (neither sees the other's uncommitted rows) and both write them. They are
    taken before the derivation, whose statement then sees what the previous holder committed.
    The tuning: no JIT compilation (which the statements' estimated cost invites, and which
    takes longer than running them), and for a large refresh memory to sort millions of changes.
    """
    if connection.vendor != "postgresql":
        return  # SQLite runs one writing transaction at a time
    settings = "set_config('jit', 'off', true)"
    if large:
        settings += f", set_config('work_mem', '{WORK_MEM}', true)"
    else:  # an ingest: a bounded wait (the settings come first in the statement)
        settings += f", set_config('lock_timeout', '{INGEST_LOCK_WAIT}', true)"
    with connection.cursor() as cursor:
        if product_ids is None or len(product_ids) > MAX_PRODUCT_LOCKS:
            cursor.execute(f"SELECT {settings}, pg_advisory_xact_lock(%s)", [LOCK_KEY])
            return
        try:
            cursor.execute(
                f"SELECT {settings}, pg_advisory_xact_lock_shared(%s), "
                "(SELECT COUNT(pg_advisory_xact_lock(%s, CAST(p %% 2147483647 AS INTEGER))) "
                "FROM unnest(CAST(%s AS BIGINT[])) AS p)",
                [
                    LOCK_KEY,
                    LOCK_KEY,
                    array_literal(sorted({int(p) for p in product_ids})),
                ],
            )
        except OperationalError as error:
            if getattr(error.__cause__, "pgcode", None) == LOCK_NOT_AVAILABLE:
                raise FactsBusy from error
            raise


def refresh_facts(
    *,
    item_ids: Sequence[int] | None = None,
    product_ids: Sequence[int] | None = None,
    products: Sequence[int] | None = None,
) -> float | None:
    """Derive the flow facts of these items (or of every item of these products; of every item
    when both are None) from their status histories and replace theirs, in one transaction.

    With ``item_ids``, ``products`` names the products whose facts this may change (the items'
    products, before and after a move), to lock them. Returns the earliest completion the
    replaced facts of ``item_ids`` held (epoch seconds), or None: a recomputation from a later
    instant must reach back to it, since a reopen takes that completion away.
    """
    selection = Selection(
        item_ids=None if item_ids is None else sorted(set(item_ids)),
        product_ids=None if product_ids is None else sorted(set(product_ids)),
    )
    if selection.item_ids == [] or selection.product_ids == []:
        return None
    d = dialect()
    items = WorkItem._meta.db_table
    where, params = selection.where("i")
    # Inside an ingest this is part of its transaction (all or nothing already); alone, one.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        _lock_and_tune(
            products if selection.item_ids is not None else selection.product_ids,
            large=selection.item_ids is None,
        )
        # The replaced facts' completions: a refresh may take one away (a reopen).
        completions: list[float] = []
        for table, answer in (
            (FlowFact._meta.db_table, " RETURNING done_t"),
            (FlowSpan._meta.db_table, ""),
        ):
            if selection.everything:
                cursor.execute(f"DELETE FROM {table}")
                continue
            if selection.item_ids is not None:  # by the item index, not a join
                condition, condition_params = _in_list("item_id", selection.item_ids)
            else:
                condition = f"item_id IN (SELECT i.id FROM {items} i WHERE {where})"
                condition_params = params
            cursor.execute(f"DELETE FROM {table} WHERE {condition}{answer}", condition_params)
            if answer:
                completions = [row[0] for row in cursor.fetchall() if row[0] is not None]
        ctes, cte_params = _derivation(d, selection)
        if connection.vendor == "postgresql":
            # One pass over the history feeds both tables.
            cursor.execute(
                f"{ctes}, facts_written AS ({_facts_insert(d)} RETURNING 1)\n{_spans_insert(d)}",
                cte_params,
            )
        else:
            cursor.execute(ctes + _facts_insert(d), cte_params)
            cursor.execute(ctes + _spans_insert(d), cte_params)
    if selection.everything:
        _analyze()
    if selection.item_ids is None or not completions:
        return None
    return float(min(completions))


def rebuild_facts(product_ids: Sequence[int] | None = None) -> int:
    """Derive the facts of every item of these products (None: of every product) again, a batch
    of ``REBUILD_BATCH`` products per transaction; returns the batches run.

    Each batch holds only its own products' locks, for seconds, so ingests of other products go
    on and ingests of these wait less than ``INGEST_LOCK_WAIT``. A full rebuild then drops the
    rows of items that no longer exist and refreshes the planner's statistics.
    """
    everything = product_ids is None
    if product_ids is None:
        ids = list(Product.objects.order_by("pk").values_list("pk", flat=True))
    else:
        ids = sorted(set(product_ids))
    batches = 0
    for start in range(0, len(ids), REBUILD_BATCH):
        refresh_facts(product_ids=ids[start : start + REBUILD_BATCH])
        batches += 1
    if everything:
        items = WorkItem._meta.db_table
        with transaction.atomic(), connection.cursor() as cursor:
            for table in (FlowFact._meta.db_table, FlowSpan._meta.db_table):
                cursor.execute(
                    f"DELETE FROM {table} WHERE NOT EXISTS "
                    f"(SELECT 1 FROM {items} i WHERE i.id = {table}.item_id)"
                )
        _analyze()
    return batches


def _analyze() -> None:
    """After both tables were rewritten, the planner's statistics (for the ingests' lookups by
    item) now, rather than whenever autovacuum comes by."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {FlowFact._meta.db_table}, {FlowSpan._meta.db_table}")
