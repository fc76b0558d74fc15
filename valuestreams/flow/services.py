"""Flow-metric recomputation: snapshots per product and value stream, swapped in one transaction
per scope (see ``valuestreams.flow`` for the definitions)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from products.models import Product
from valuestreams.flow.facts import rebuild_facts
from valuestreams.flow.sql import Collected, FlowPipeline, dialect
from valuestreams.flow.windows import (
    DAY,
    day_index,
    month_start,
    week_start,
    window_bounds,
    window_key,
    windows_between,
)
from valuestreams.models import (
    FlowSnapshot,
    ValueStream,
)

UNTYPED = "unmapped"
ValueStreamLink = ValueStream.products.through


@dataclass(frozen=True)
class FlowScope:
    """What a set of snapshots covers: one product or one value stream."""

    product_id: int | None = None
    value_stream_id: int | None = None

    def snapshots(self) -> QuerySet[FlowSnapshot]:
        if self.product_id is not None:
            return FlowSnapshot.objects.filter(product_id=self.product_id)
        return FlowSnapshot.objects.filter(value_stream_id=self.value_stream_id)


# Assembling snapshots.


def _q(value: float, places: str) -> Decimal:
    return Decimal(value).quantize(Decimal(places), rounding=ROUND_HALF_UP)


def scope_snapshots(
    scope: FlowScope,
    collected: Collected | None,
    *,
    now: dt.datetime,
    since: dt.datetime | None = None,
) -> tuple[list[FlowSnapshot], dict[str, dt.date | None]]:
    """The scope's snapshots from its earliest activity to the window holding ``now``, and per
    window kind the first window start they replace (``None``: all of the scope's snapshots).

    With ``since``, only windows from the one holding ``since`` are returned and replaced.
    """
    if collected is None or collected.first_t is None:
        return [], {FlowSnapshot.Window.WEEK: None, FlowSnapshot.Window.MONTH: None}
    cut = since.astimezone(dt.UTC).date() if since is not None else None
    first = dt.datetime.fromtimestamp(collected.first_t, tz=dt.UTC)
    today = now.astimezone(dt.UTC).date()
    first_day = first.date()

    snapshots: list[FlowSnapshot] = []
    cuts: dict[str, dt.date | None] = {}
    for window, key_index in ((FlowSnapshot.Window.WEEK, 0), (FlowSnapshot.Window.MONTH, 1)):
        starts = windows_between(window, first_day, today)
        if cut is not None:
            align = week_start if window == FlowSnapshot.Window.WEEK else month_start
            cuts[window] = max(align(cut), starts[0])
            starts = [s for s in starts if s >= align(cut)]
        else:
            cuts[window] = None
        if not starts:
            continue
        per_window: dict[int, list[tuple]] = defaultdict(list)
        for row in collected.completions:
            per_window[int(row[key_index])].append(row)
        percentiles = collected.percentiles["w" if key_index == 0 else "m"]
        loads = _daily_loads(
            collected.deltas, day_index(starts[0]), day_index(_window_end(window, starts))
        )
        for start in starts:
            key = window_key(window, start)
            snapshots.append(
                _snapshot(
                    scope,
                    window,
                    start,
                    per_window.get(key, []),
                    percentiles.get(key),
                    loads,
                    now,
                )
            )
    return snapshots, cuts


def _window_end(window: str, starts: list[dt.date]) -> dt.date:
    return window_bounds(window, starts[-1])[1]


def _daily_loads(deltas: dict[int, int], first: int, last: int) -> dict[int, int]:
    """Items in progress at each midnight (epoch day index) from ``first`` to ``last``."""
    running = sum(delta for day, delta in deltas.items() if day <= first)
    loads = {first: running}
    for day in range(first + 1, last + 1):
        running += deltas.get(day, 0)
        loads[day] = running
    return loads


def _snapshot(
    scope: FlowScope,
    window: str,
    start: dt.date,
    rows: list[tuple],
    percentiles: tuple[float, ...] | None,
    loads: dict[int, int],
    now: dt.datetime,
) -> FlowSnapshot:
    velocity = sum(row[3] for row in rows)
    flow = sum(float(row[4]) for row in rows)
    active = sum(float(row[5] or 0) for row in rows)
    by_type: dict[str, int] = defaultdict(int)
    for row in rows:
        by_type[row[2] or UNTYPED] += row[3]
    _, end = window_bounds(window, start)
    first_day, end_day = day_index(start), day_index(end)
    day_ends = [loads[day] for day in range(first_day + 1, end_day + 1)]
    return FlowSnapshot(
        product_id=scope.product_id,
        value_stream_id=scope.value_stream_id,
        window=window,
        window_start=start,
        velocity=velocity,
        flow_time_median_days=_q(percentiles[0] / DAY, "0.001") if percentiles else None,
        flow_time_p85_days=_q(percentiles[1] / DAY, "0.001") if percentiles else None,
        flow_efficiency=_q(active / flow * 100, "0.01") if velocity and flow > 0 else None,
        flow_load_end=loads[end_day],
        flow_load_avg=_q(sum(day_ends) / len(day_ends), "0.01"),
        distribution={
            item_type: float(_q(count / velocity * 100, "0.01"))
            for item_type, count in sorted(by_type.items())
        },
        computed_at=now,
    )


# The service.


@dataclass
class FlowRecomputeResult:
    """What a recomputation did: scopes recomputed and snapshot rows written."""

    products: int = 0
    value_streams: int = 0
    snapshots: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "products": self.products,
            "value_streams": self.value_streams,
            "snapshots": self.snapshots,
        }


def flow_scopes(product_ids: Iterable[int] | None = None) -> list[FlowScope]:
    """The products and value streams to recompute: every one, or the given products and the
    value streams they serve."""
    products = Product.objects.all()
    streams = ValueStream.objects.all()
    if product_ids is not None:
        ids = sorted(set(product_ids))
        products = products.filter(id__in=ids)
        streams = streams.filter(
            id__in=ValueStreamLink.objects.filter(product_id__in=ids).values("valuestream_id")
        )
    return [
        *(FlowScope(product_id=pk) for pk in products.order_by("id").values_list("id", flat=True)),
        *(
            FlowScope(value_stream_id=pk)
            for pk in streams.order_by("id").values_list("id", flat=True)
        ),
    ]


def _collect(streams: bool, ids: list[int] | None) -> dict[int, Collected]:
    """One statement over the facts for a batch of products or of value streams."""
    return FlowPipeline(dialect=dialect(), streams=streams, ids=ids).collect()


def _replace(
    scope: FlowScope,
    collected: Collected | None,
    *,
    now: dt.datetime,
    since: dt.datetime | None,
) -> int:
    rows, cuts = scope_snapshots(scope, collected, now=now, since=since)
    with transaction.atomic():
        old = scope.snapshots()
        for window, cut in cuts.items():
            if since is None or cut is None:
                old.filter(window=window).delete()
            else:
                old.filter(window=window, window_start__gte=cut).delete()
        FlowSnapshot.objects.bulk_create(rows)
    return len(rows)


def _scope_products(scope: FlowScope) -> list[int]:
    if scope.product_id is not None:
        return [scope.product_id]
    return list(
        ValueStreamLink.objects.filter(valuestream_id=scope.value_stream_id or 0).values_list(
            "product_id", flat=True
        )
    )


def flow_scope_replace(
    *, scope: FlowScope, now: dt.datetime, since: dt.datetime | None = None
) -> int:
    """Recompute one scope's snapshots (from ``since``; without it after deriving its items' facts
    again) and swap them in one transaction; returns the rows written.

    Everything is computed before the transaction opens, so a failure leaves the old rows.
    """
    if since is None:
        rebuild_facts(_scope_products(scope))
    streams = scope.product_id is None
    key = int((scope.value_stream_id if streams else scope.product_id) or 0)
    return _replace(scope, _collect(streams, [key]).get(key), now=now, since=since)


def flow_recompute(
    *,
    product_ids: Iterable[int] | None = None,
    since: dt.datetime | None = None,
    now: dt.datetime | None = None,
    rebuild: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> FlowRecomputeResult:
    """Recompute flow snapshots: all products and value streams (``product_ids`` None), or the
    given products and the value streams they serve, replacing windows from ``since`` on (all
    windows without it). Idempotent: the same history and ``now`` give identical rows.

    Snapshots aggregate the per-item flow facts, which each ingest keeps current for the items it
    touches (its ``since`` then reaches back to any completion a reopen took away). Without
    ``since`` the given products' facts are first derived again from their histories (a mapping
    changed, or someone asked); ``rebuild`` derives every item's again in a full run. The
    products are aggregated together in one statement, the value streams in another; each
    scope's snapshots are swapped in its own transaction. ``progress(done, total)`` is called
    after each scope.
    """
    now = now or timezone.now()
    ids = None if product_ids is None else sorted(set(product_ids))
    if ids is None:
        since = None
        if rebuild:
            rebuild_facts()
    elif since is None:
        rebuild_facts(ids)
    scopes = flow_scopes(ids)
    result = FlowRecomputeResult()
    products = [scope.product_id or 0 for scope in scopes if scope.product_id is not None]
    streams = [scope.value_stream_id or 0 for scope in scopes if scope.value_stream_id is not None]
    by_product = _collect(False, None if ids is None else products) if products else {}
    by_stream = _collect(True, None if ids is None else streams) if streams else {}
    for index, scope in enumerate(scopes, start=1):
        if scope.product_id is not None:
            collected = by_product.get(scope.product_id)
            result.products += 1
        else:
            collected = by_stream.get(scope.value_stream_id or 0)
            result.value_streams += 1
        result.snapshots += _replace(scope, collected, now=now, since=since)
        if progress is not None:
            progress(index, len(scopes))
    return result
