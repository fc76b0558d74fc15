"""The measured value stream on a current-state map's page (issue 4, deliverable 7): a lazy
panel comparing each step's workshop figures with those measured from the status history, and a
small form per step for the statuses it covers (portfolio managers). Without JavaScript the
panel's forms answer with the whole map page."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST

from portfolio.common.views import actor, needs
from valuestreams import maps
from valuestreams.mapmetrics import map_metrics
from valuestreams.measured import measured_map, measured_window
from valuestreams.models import ValueStreamMap
from valuestreams.views_maps import DETAIL, map_context

PANEL = "valuestreams/_map_measured.html"
CHANGE_STEP = "valuestreams.change_mapstep"


def _is_htmx(request: HttpRequest) -> bool:
    """An htmx request that swaps the panel (not a boosted link, nor htmx restoring a page of
    its history, which the window form pushes)."""
    htmx = getattr(request, "htmx", None)
    if not htmx:
        return False
    return not htmx.boosted and not htmx.history_restore_request


def _current_map(request: HttpRequest, slug: str, pk: int) -> ValueStreamMap:
    """A current-state map of a visible value stream, or 404 (future maps are not measured).

    For a request that gets the whole map page (no htmx), with the steps and outcomes the page
    draws."""
    rows = (
        maps.map_list(user=request.user)
        if _is_htmx(request)
        else maps.map_detail_queryset(user=request.user)
    )
    vsm = get_object_or_404(rows.filter(value_stream__slug=slug), pk=pk)
    if vsm.state != ValueStreamMap.State.CURRENT:
        raise Http404("Only current-state maps are measured.")
    return vsm


def _panel(
    request: HttpRequest,
    vsm: ValueStreamMap,
    *,
    errors: dict[int, list[str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The Measured panel for htmx; otherwise (a plain form without JavaScript) the whole map
    page with the panel in place, over the chosen window."""
    window_errors: list[str] = []
    try:
        start, end = measured_window(
            request.GET.get("from"), request.GET.get("to"), today=timezone.now().date()
        )
    except ValidationError as error:
        window_errors = [m for messages in error.message_dict.values() for m in messages]
        start, end = measured_window(None, None, today=timezone.now().date())
    measured = measured_map(value_stream_map=vsm, start=start, end=end)
    context = {
        "vsm": vsm,
        "value_stream": vsm.value_stream,
        "measured": measured,
        "workshop": map_metrics(m.step for m in measured.steps),
        "first_day": start.date(),
        "last_day": (end - dt.timedelta(days=1)).date(),
        "window_errors": window_errors,
        "step_errors": errors or {},
        "can_set_statuses": request.user.has_perm(CHANGE_STEP),
    }
    if _is_htmx(request):
        response = render(request, PANEL, context, status=status)
    else:
        page = map_context(request, vsm)
        page.update(context)
        response = render(request, DETAIL, page, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


@require_GET
def map_measured(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """The Measured panel of a current-state map over ``?from=&to=`` (default: last 90 days);
    the whole map page with it for a request without htmx."""
    return _panel(request, _current_map(request, slug, pk))


@needs(CHANGE_STEP)
@require_POST
def map_step_statuses(request: HttpRequest, slug: str, pk: int, step_pk: int) -> HttpResponse:
    """Set a step's statuses from one name per line; the panel again (htmx) or the map page."""
    vsm = _current_map(request, slug, pk)
    step = get_object_or_404(vsm.steps.all(), pk=step_pk)
    names = [line.strip() for line in request.POST.get("statuses", "").splitlines()]
    try:
        maps.step_set_statuses(actor=actor(request), step=step, statuses=[n for n in names if n])
    except ValidationError as error:
        messages = [m for ms in error.message_dict.values() for m in ms]
        # htmx swaps only 2xx answers: the panel with the step's errors; without htmx the
        # map page with them, as 400.
        status = 200 if _is_htmx(request) else 400
        return _panel(request, vsm, errors={step.pk: messages}, status=status)
    if _is_htmx(request):
        return _panel(request, vsm)
    return redirect(vsm.get_absolute_url())
