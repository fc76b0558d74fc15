"""Flow-metric recomputation: snapshots per product and value stream, swapped in one transaction
per scope (see ``valuestreams.flow`` for the definitions)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from products.models import Product
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
    TypeMapping,
    ValueStream,
    WorkItem,
)
from valuestreams.models.flow import status_key

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

    def items(self) -> QuerySet[WorkItem]:
        if self.product_id is not None:
            return WorkItem.objects.filter(product_id=self.product_id)
        links = ValueStreamLink.objects.filter(valuestream__in=[self.value_stream_id])
        return WorkItem.objects.filter(product__in=links.values("product_id"))


# Assembling snapshots.


def _q(value: float, places: str) -> Decimal:
    return Decimal(value).quantize(Decimal(places), rounding=ROUND_HALF_UP)


def _type_map(scope: FlowScope) -> dict[str, str] | None:
    """For a value stream: each tracker type (as sent) of its items -> item type by its mapping."""
    if scope.value_stream_id is None:
        return None
    rows = TypeMapping.objects.filter(
        Q(value_stream__isnull=True) | Q(value_stream_id=scope.value_stream_id)
    ).values_list("value_stream_id", "tracker_type_key", "type")
    defaults = {key: t for vs, key, t in rows if vs is None}
    own = {key: t for vs, key, t in rows if vs is not None}
    sent = scope.items().exclude(tracker_type="").values_list("tracker_type", flat=True).distinct()
    return {
        name: own.get(status_key(name)) or defaults.get(status_key(name), "")
        for name in sent.order_by()
    }


def scope_snapshots(
    scope: FlowScope,
    collected: Collected | None,
    *,
    now: dt.datetime,
    since: dt.datetime | None = None,
) -> tuple[list[FlowSnapshot], dict[str, dt.date | None]]:
    """The scope's snapshots from its earliest activity to the window holding ``now``, and per
    window kind the first window start they replace (``None``: all of the scope's snapshots).

    With ``since``, only windows from the one holding ``since`` (or the earlier previous
    completion of an item changed since then) are returned and replaced.
    """
    if collected is None or collected.first_t is None:
        return [], {FlowSnapshot.Window.WEEK: None, FlowSnapshot.Window.MONTH: None}
    since_t = since.timestamp() if since is not None else None
    cut: dt.date | None = None
    if since_t is not None:
        earliest = collected.earliest_affected
        cut_t = min(since_t, earliest) if earliest is not None else since_t
        cut = dt.datetime.fromtimestamp(cut_t, tz=dt.UTC).date()
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


def _collect(
    scope: FlowScope, since: dt.datetime | None, *, product_ids: list[int] | None = None
) -> dict[int, Collected]:
    """One statement for a value stream, or for a batch of products (``product_ids``)."""
    since_t = since.timestamp() if since is not None else None
    if scope.value_stream_id is not None:
        pipeline = FlowPipeline(
            dialect=dialect(), value_stream_id=scope.value_stream_id, type_map=_type_map(scope)
        )
    else:
        pipeline = FlowPipeline(dialect=dialect(), product_ids=product_ids)
    return pipeline.collect(since_t)


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


def flow_scope_replace(
    *, scope: FlowScope, now: dt.datetime, since: dt.datetime | None = None
) -> int:
    """Recompute one scope and swap its snapshots in one transaction; returns the rows written.

    Everything is computed before the transaction opens, so a failure leaves the old rows.
    """
    key = scope.value_stream_id if scope.product_id is None else scope.product_id
    product_ids = None if scope.product_id is None else [scope.product_id]
    collected = _collect(scope, since, product_ids=product_ids)
    return _replace(scope, collected.get(int(key or 0)), now=now, since=since)


def flow_recompute(
    *,
    product_ids: Iterable[int] | None = None,
    since: dt.datetime | None = None,
    now: dt.datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> FlowRecomputeResult:
    """Recompute flow snapshots: all products and value streams (``product_ids`` None), or the
    given products and the value streams they serve, replacing windows from ``since`` on (all
    windows without it). Idempotent: the same history and ``now`` give identical rows.

    The products are computed together in one statement (every product in a full run); each
    value stream in one of its own. Each scope's snapshots are swapped in its own transaction.
    ``progress(done, total)`` is called after each scope.
    """
    now = now or timezone.now()
    if product_ids is None:
        since = None
    scopes = flow_scopes(product_ids)
    result = FlowRecomputeResult()
    product_scopes = [scope for scope in scopes if scope.product_id is not None]
    by_product: dict[int, Collected] = {}
    if product_scopes:
        ids = None if product_ids is None else [scope.product_id or 0 for scope in product_scopes]
        by_product = _collect(product_scopes[0], since, product_ids=ids)
    for index, scope in enumerate(scopes, start=1):
        if scope.product_id is not None:
            collected = by_product.get(scope.product_id)
            result.products += 1
        else:
            collected = _collect(scope, since).get(scope.value_stream_id or 0)
            result.value_streams += 1
        result.snapshots += _replace(scope, collected, now=now, since=since)
        if progress is not None:
            progress(index, len(scopes))
    return result
