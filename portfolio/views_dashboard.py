"""The CIO dashboard (the home page of everyone but product owners), its CSV export, the
"explain" fragment behind every headline figure and the lazily loaded pitfall list."""

import csv

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portfolio import pitfalls
from portfolio import selectors_dashboard as selectors
from portfolio.common.htmx import render_page

CSV_HEADER = [
    "value stream",
    "products",
    "envelope",
    "allocated",
    "on track",
    "at risk",
    "off track",
    "no data",
    "velocity (last month)",
    "median flow time days (last month)",
    "transition stage",
    "pitfall signals",
]


def _board(request: HttpRequest) -> selectors.Dashboard:
    period, periods = selectors.resolve_period(request.GET.get("period"))
    return selectors.dashboard(user=request.user, period=period, periods=periods)


def dashboard_page(request: HttpRequest) -> HttpResponse:
    """The dashboard for ``?period=<id>`` (default: the current period); ``?format=csv`` answers
    the value-stream table as CSV."""
    board = _board(request)
    if request.GET.get("format") == "csv":
        return dashboard_csv_response(board)
    return render(
        request,
        "portfolio/home.html",
        {"board": board, "pitfalls_url": selectors.pitfalls_url()},
    )


@require_GET
def dashboard_csv(request: HttpRequest) -> HttpResponse:
    """The value-stream table as CSV (``/dashboard.csv?period=<id>``)."""
    return dashboard_csv_response(_board(request))


def dashboard_csv_response(board: selectors.Dashboard) -> HttpResponse:
    name = board.period.name if board.period is not None else "no-period"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="dashboard-{name}.csv"'
    writer = csv.writer(response)
    writer.writerow(CSV_HEADER)
    for row in board.rows:
        writer.writerow(
            [
                row.name,
                row.products,
                "" if row.envelope is None else row.envelope,
                row.allocated,
                row.outcomes["on_track"],
                row.outcomes["at_risk"],
                row.outcomes["off_track"],
                row.outcomes["no_data"],
                "" if row.last_velocity is None else row.last_velocity,
                "" if row.last_flow_time is None else row.last_flow_time,
                row.stage_label if row.stage else "1 (not assessed)",
                "; ".join(s.title for s in row.signals),
            ]
        )
    return response


@require_GET
def explain(request: HttpRequest, key: str) -> HttpResponse:
    """A figure's definition, window, freshness and the records it counts (an htmx fragment, or
    a page of its own without htmx)."""
    board = _board(request)
    explanation = selectors.explain(key=key, dashboard=board)
    if explanation is None:
        raise Http404("No such figure.")
    return render_page(
        request, "portfolio/explain.html", {"x": explanation, "board": board}, partial="explain"
    )


@require_GET
def dashboard_pitfalls(request: HttpRequest) -> HttpResponse:
    """The pitfall list widget, loaded lazily by the dashboard: the pitfall signals (constant
    queries), then (``?part=warnings``, loaded lazily in turn) the early warnings from flow, which
    read work items and take longer on large data."""
    period, _ = selectors.resolve_period(request.GET.get("period"))
    warnings = request.GET.get("part") == "warnings"
    if warnings:
        signals = selectors.warning_list(period=period)
    else:
        signals = selectors.pitfall_list(period=period)
    return render(
        request,
        "portfolio/_dashboard_pitfalls.html",
        {
            "signals": [(s, pitfalls.PITFALLS.get(s.pitfall, s.pitfall)) for s in signals],
            "pitfalls_url": selectors.pitfalls_url(),
            "warnings": warnings,
            "period": period,
        },
    )
