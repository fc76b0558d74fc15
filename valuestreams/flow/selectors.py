"""Reads of the flow snapshots."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from valuestreams.models import (
    FlowSnapshot,
)


def flow_snapshot_list(
    *,
    window: str,
    product_id: int | None = None,
    value_stream_id: int | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[FlowSnapshot]:
    """A product's or a value stream's snapshots of one window kind, oldest first, whose window
    starts between ``date_from`` and ``date_to`` (both included)."""
    qs = FlowSnapshot.objects.filter(window=window)
    if product_id is not None:
        qs = qs.filter(product_id=product_id)
    else:
        qs = qs.filter(value_stream_id=value_stream_id)
    if date_from is not None:
        qs = qs.filter(window_start__gte=date_from)
    if date_to is not None:
        qs = qs.filter(window_start__lte=date_to)
    return qs.order_by("window_start")
