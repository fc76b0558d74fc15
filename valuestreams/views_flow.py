"""Flow-metric pages: a value stream's flow page, a product's flow panel (the product page loads
it with htmx), a recompute button and the recompute's progress.

The charts are drawn by static/js/flow-charts.js from the JSON in the ``data-flow-data``
attribute (not a ``json_script`` block: the htmx config has ``allowScriptTags`` off, so htmx drops
every script element of a swapped fragment, data blocks included); the same numbers are in the
table under them. Windows: the last 26 calendar weeks, or the last 12 months.

Recompute (portfolio managers; 403 for the other roles) queues ``recompute_flow_task`` after the
request's transaction commits, like the API's recompute endpoint, and answers a progress fragment
that polls the task's state (Celery's result backend: the filesystem one or Redis) every 2 s until
it succeeds or fails, then offers to reload the charts. Without JavaScript the button posts
normally and the page comes back with a notice.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from celery.result import AsyncResult
from django.contrib import messages
from django.db import transaction
from django.db.models import Max, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from portfolio.celery import app
from portfolio.common.htmx import render_page
from portfolio.common.views import needs
from products.models import Product
from valuestreams.flow import flow_snapshot_list, month_start, week_start, windows_between
from valuestreams.models import FlowSnapshot, ValueStream
from valuestreams.models.flow import ItemType
from valuestreams.tasks import recompute_flow_task

Context = dict[str, Any]

RECOMPUTE = "products.change_product"  # as the API's recompute endpoint
WINDOW_COUNTS: dict[str, int] = {
    FlowSnapshot.Window.WEEK.value: 26,
    FlowSnapshot.Window.MONTH.value: 12,
}
UNMAPPED = "unmapped"
DISTRIBUTION_KEYS = [*ItemType.values, UNMAPPED]
DISTRIBUTION_LABELS = {**dict(ItemType.choices), UNMAPPED: "Unmapped"}
FINISHED = ("SUCCESS", "FAILURE", "REVOKED")


@dataclass(frozen=True)
class FlowRow:
    """One window's figures (``snapshot`` None: nothing stored for it)."""

    start: dt.date
    label: str
    snapshot: FlowSnapshot | None

    @property
    def too_few(self) -> bool:
        """No completed items: flow time, efficiency and distribution have no value."""
        return not self.snapshot or not self.snapshot.velocity

    def share(self, key: str) -> float | None:
        if self.too_few or self.snapshot is None:
            return None
        return float(self.snapshot.distribution.get(key, 0))

    @property
    def shares(self) -> list[float | None]:
        return [self.share(key) for key in DISTRIBUTION_KEYS]


def _window(request: HttpRequest) -> str:
    requested = request.GET.get("window", "")
    return requested if requested in WINDOW_COUNTS else FlowSnapshot.Window.WEEK


def window_starts(window: str, today: dt.date) -> list[dt.date]:
    """The starts of the last 26 weeks or 12 months, the current one last."""
    if window == FlowSnapshot.Window.WEEK:
        last = week_start(today)
        return windows_between(window, last - dt.timedelta(weeks=WINDOW_COUNTS[window] - 1), last)
    last = month_start(today)
    months = last.year * 12 + last.month - 1 - (WINDOW_COUNTS[window] - 1)
    return windows_between(window, dt.date(months // 12, months % 12 + 1, 1), last)


def _number(value: Decimal | int | None) -> float | int | None:
    if value is None or isinstance(value, int):
        return value
    return float(value)


def chart_data(window: str, rows: list[FlowRow]) -> Context:
    """What flow-charts.js draws: labels, and per chart its unit and series (None: no value)."""

    def series(label: str, colour: str, values: list[Any]) -> Context:
        return {"label": label, "colour": colour, "data": [_number(v) for v in values]}

    def pick(attribute: str) -> list[Any]:
        return [None if row.snapshot is None else getattr(row.snapshot, attribute) for row in rows]

    timed = [None if row.too_few else row.snapshot for row in rows]
    return {
        "window": window,
        "labels": [row.label for row in rows],
        "charts": {
            "velocity": {
                "kind": "bar",
                "unit": "items completed",
                "series": [series("Velocity", "accent", pick("velocity"))],
            },
            "flow-time": {
                "kind": "line",
                "unit": "days",
                "series": [
                    series("Median", "accent", [s and s.flow_time_median_days for s in timed]),
                    series(
                        "85th percentile", "defect", [s and s.flow_time_p85_days for s in timed]
                    ),
                ],
            },
            "efficiency": {
                "kind": "line",
                "unit": "%",
                "max": 100,
                "series": [
                    series("Flow efficiency", "accent", [s and s.flow_efficiency for s in timed])
                ],
            },
            "load": {
                "kind": "line",
                "unit": "items in progress",
                "series": [
                    series("At the end", "accent", pick("flow_load_end")),
                    series("Daily average", "debt", pick("flow_load_avg")),
                ],
            },
            "distribution": {
                "kind": "stacked",
                "unit": "% of items completed",
                "max": 100,
                "series": [
                    series(
                        DISTRIBUTION_LABELS[key],
                        key,
                        [row.share(key) for row in rows],
                    )
                    for key in DISTRIBUTION_KEYS
                ],
            },
        },
    }


def flow_context(
    request: HttpRequest, *, scope: Q, panel_url: str, recompute_url: str, dom_id: str, **filters
) -> Context:
    """The panel's context for one scope (``filters``: product_id or value_stream_id)."""
    window = _window(request)
    starts = window_starts(window, timezone.now().date())
    stored = {
        row.window_start: row
        for row in flow_snapshot_list(
            window=window, date_from=starts[0], date_to=starts[-1], **filters
        )
    }
    label = "j M" if window == FlowSnapshot.Window.WEEK else "M Y"
    rows = [FlowRow(start, date_format(start, label), stored.get(start)) for start in starts]
    chart = chart_data(window, rows)
    computed_at = FlowSnapshot.objects.filter(scope).aggregate(newest=Max("computed_at"))["newest"]
    return {
        "window": window,
        "windows": WINDOW_COUNTS,
        "rows": rows,
        "any_data": bool(stored),
        "chart": chart,
        "chart_json": json.dumps(chart),
        "distribution_labels": [DISTRIBUTION_LABELS[key] for key in DISTRIBUTION_KEYS],
        "computed_at": computed_at,
        "panel_url": panel_url,
        "recompute_url": recompute_url,
        "dom_id": dom_id,
        "can_recompute": request.user.has_perm(RECOMPUTE),
    }


def _value_stream(slug: str) -> ValueStream:
    return get_object_or_404(ValueStream.objects.only("id", "name", "slug"), slug=slug)


def _product(request: HttpRequest, slug: str) -> Product:
    return get_object_or_404(
        Product.objects.visible_to(request.user).only("id", "name", "slug"), slug=slug
    )


def _value_stream_context(request: HttpRequest, value_stream: ValueStream) -> Context:
    context = flow_context(
        request,
        scope=Q(value_stream_id=value_stream.pk),
        panel_url=reverse("valuestreams:value_stream_flow", args=[value_stream.slug]),
        recompute_url=reverse("valuestreams:value_stream_flow_recompute", args=[value_stream.slug]),
        dom_id=f"flow-value-stream-{value_stream.pk}",
        value_stream_id=value_stream.pk,
    )
    context["value_stream"] = value_stream
    context["breadcrumbs"] = [
        ("Value streams", reverse("valuestreams:value_stream_list")),
        (value_stream.name, value_stream.get_absolute_url()),
        ("Flow", None),
    ]
    return context


def _product_context(request: HttpRequest, product: Product) -> Context:
    context = flow_context(
        request,
        scope=Q(product_id=product.pk),
        panel_url=reverse("valuestreams:product_flow", args=[product.slug]),
        recompute_url=reverse("valuestreams:product_flow_recompute", args=[product.slug]),
        dom_id=f"flow-product-{product.pk}",
        product_id=product.pk,
    )
    context["product"] = product
    context["breadcrumbs"] = [
        ("Products", reverse("products:product_list")),
        (product.name, product.get_absolute_url()),
        ("Flow", None),
    ]
    return context


@require_GET
def value_stream_flow(request: HttpRequest, slug: str) -> HttpResponse:
    """A value stream's flow metrics (all its products' items, its own mapping)."""
    context = _value_stream_context(request, _value_stream(slug))
    return render_page(request, "valuestreams/flow_value_stream.html", context, partial="panel")


@require_GET
def product_flow(request: HttpRequest, slug: str) -> HttpResponse:
    """A product's flow metrics: the panel the product page loads with htmx, or a page of its
    own for a plain request (products must not import valuestreams)."""
    context = _product_context(request, _product(request, slug))
    return render_page(request, "valuestreams/flow_product.html", context, partial="panel")


def _queue_recompute(request: HttpRequest, product_ids: list[int], panel_url: str) -> HttpResponse:
    """Queue the task once the transaction commits; htmx gets the progress fragment, a plain
    post goes back to the page."""
    task_id = str(uuid.uuid4())
    transaction.on_commit(
        lambda: recompute_flow_task.apply_async(
            kwargs={"product_ids": product_ids, "since": None}, task_id=task_id
        )
    )
    if not request.htmx:  # type: ignore[attr-defined]
        messages.success(request, "Recompute queued: the charts update when it has finished.")
        return redirect(panel_url)
    return render(
        request,
        "valuestreams/_flow_progress.html",
        {
            "state": "PENDING",
            "progress": None,
            "finished": False,
            **_status_urls(task_id, panel_url),
        },
    )


def _status_urls(task_id: str, panel_url: str) -> Context:
    return {
        "status_url": reverse("valuestreams:flow_task_status", args=[task_id]),
        "panel_url": panel_url,
    }


@needs(RECOMPUTE)
@require_POST
def value_stream_flow_recompute(request: HttpRequest, slug: str) -> HttpResponse:
    """Recompute the flow metrics of the value stream's products and of the value stream."""
    value_stream = _value_stream(slug)
    product_ids = list(value_stream.products.values_list("id", flat=True))
    panel_url = reverse("valuestreams:value_stream_flow", args=[value_stream.slug])
    return _queue_recompute(request, product_ids, panel_url)


@needs(RECOMPUTE)
@require_POST
def product_flow_recompute(request: HttpRequest, slug: str) -> HttpResponse:
    """Recompute the product's flow metrics (and its value streams')."""
    product = _product(request, slug)
    panel_url = reverse("valuestreams:product_flow", args=[product.slug])
    return _queue_recompute(request, [product.pk], panel_url)


@require_GET
def flow_task_status(request: HttpRequest, task_id: uuid.UUID) -> HttpResponse:
    """The progress fragment of a recompute task; it polls itself until the task has finished.
    An unknown id reads as PENDING (Celery cannot tell it from a queued task)."""
    panel_url = request.GET.get("panel", "")
    if not panel_url.startswith("/") or not url_has_allowed_host_and_scheme(
        panel_url, allowed_hosts={request.get_host()}
    ):
        panel_url = ""
    result = AsyncResult(str(task_id), app=app)
    state = result.state
    info = result.info if state == "PROGRESS" and isinstance(result.info, dict) else None
    response = render(
        request,
        "valuestreams/_flow_progress.html",
        {
            "state": state,
            "progress": info,
            "finished": state in FINISHED,
            **_status_urls(str(task_id), panel_url),
        },
    )
    if state == "SUCCESS":
        response["HX-Trigger"] = "flow-recomputed"
    return response
