"""Actual spend of a period: the grid of teams x months (finance edits a cell in place), the CSV
import, the burn charts of a team and of a value stream, and "What the money buys".

Everyone signed in reads; finance writes (``funding.add_actual`` / ``change_actual`` /
``delete_actual``; others get 403). A closed period's months are read-only: the grid offers no
edit and the services refuse one. Without JavaScript a cell's link opens its edit form as a page
and the form posts back to the grid; with htmx the cell turns into its form and back, and the
row's, the month's and the period's totals update in the same response (out of band).
"""

from __future__ import annotations

import csv
import datetime
import io
import json
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET

from funding import services
from funding.actuals import (
    ActualsGrid,
    Burn,
    actuals_grid,
    period_months,
    team_burn,
    value_stream_burn,
)
from funding.models import Actual, Allocation, FiscalPeriod
from funding.services.actuals import parse_amount, parse_month
from funding.value import SPLIT_KEYS, SPLIT_LABELS, value_report
from funding.views.periods import get_period, period_crumbs
from portfolio.common.htmx import render_page
from portfolio.common.views import GET_POST, actor, needs
from products.models import Team
from valuestreams.models import ValueStream

ADD = "funding.add_actual"
CHANGE = "funding.change_actual"
DELETE = "funding.delete_actual"
GRID = "funding/actuals.html"
IMPORT_MAX_BYTES = 5 * 1024 * 1024
ZERO = Decimal("0.00")


def _htmx(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return htmx is not None and bool(htmx) and not htmx.boosted


def _can_write(request: HttpRequest, period: FiscalPeriod) -> bool:
    user = request.user
    return (
        user.has_perm(ADD)
        and user.has_perm(CHANGE)
        and user.has_perm(DELETE)
        and not period.is_closed
    )


def _grid_url(period: FiscalPeriod) -> str:
    return reverse("funding:actuals", kwargs={"pk": period.pk})


# The grid.


def _burn_streams(period: FiscalPeriod) -> list[ValueStream]:
    """The value streams funded in the period (their burn pages are linked from the grid)."""
    ids = Allocation.objects.filter(period=period).values("value_stream_id")
    return list(ValueStream.objects.filter(pk__in=ids).only("id", "name", "slug").order_by("name"))


@require_GET
def actuals_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Teams x months of the period with their actuals and totals both ways (three queries)."""
    period = get_period(pk)
    grid = actuals_grid(period=period)
    recorded = sum(1 for _, total in grid.month_totals if total is not None)
    context = {
        "period": period,
        "grid": grid,
        "can_write": _can_write(request, period),
        "recorded_months": recorded,
        "value_streams": _burn_streams(period),
        "breadcrumbs": period_crumbs(period, "Actuals"),
    }
    return render(request, GRID, context)


class CellForm(forms.Form):
    amount = forms.CharField(
        label="Amount",
        required=False,
        max_length=30,
        help_text="12345.67 or 12,345.67; empty removes the month's actual.",
    )

    def clean_amount(self) -> Decimal | None:
        text = self.cleaned_data["amount"].strip()
        if not text:
            return None
        amount = parse_amount(text)
        if amount is None:
            raise ValidationError(
                "Give an amount such as 12345.67 or 12,345.67 (not negative, two decimals at most)."
            )
        return amount


def _cell_context(
    period: FiscalPeriod, team: Team, month: datetime.date, grid: ActualsGrid, **extra: Any
) -> dict[str, Any]:
    row = grid.row(team.pk)
    return {
        "period": period,
        "team": team,
        "month": month,
        "amount": dict(row.cells).get(month),
        "row": row,
        "month_total": grid.month_total(month),
        "grid": grid,
        "can_write": True,
        **extra,
    }


@needs(CHANGE)
@GET_POST
def actual_cell(request: HttpRequest, pk: int, slug: str, month: str) -> HttpResponse:
    """One team's month: its edit form (GET), or saving it (POST; empty removes it).

    htmx gets the cell back (its form again with the error when refused) with the totals out
    of band; a plain post goes back to the grid with a message.
    """
    if not (request.user.has_perm(ADD) and request.user.has_perm(DELETE)):
        raise PermissionDenied
    period = get_period(pk)
    team = get_object_or_404(Team.objects.visible_to(request.user), slug=slug)
    first = parse_month(month)
    if first is None or first not in {m for m, _ in period_months(period)}:
        raise Http404("No such month in the period.")
    cell_url = reverse("funding:actual_cell", args=[period.pk, team.slug, f"{first:%Y-%m}"])
    label = f"{team.name}, {first:%b %Y}"
    if request.method == "GET" and request.GET.get("show") and _htmx(request):
        grid = actuals_grid(period=period, team_ids=[team.pk])
        context = _cell_context(period, team, first, grid)
        return render_page(request, GRID, context, partial="actual-cell")
    if request.method == "POST":
        form = CellForm(request.POST)
        if form.is_valid():
            try:
                message = _save_cell(request, team, first, form.cleaned_data["amount"], label)
            except ValidationError as error:
                form.add_error("amount", error.messages[0] if error.messages else str(error))
            else:
                if not _htmx(request):
                    messages.success(request, message)
                    return redirect(_grid_url(period))
                # The whole grid: the month's and the period's totals count every team.
                grid = actuals_grid(period=period)
                context = _cell_context(period, team, first, grid, oob=True, saved=message)
                return render_page(request, GRID, context, partial="cell-saved")
    else:
        stored = Actual.objects.filter(team=team, month=first).first()
        form = CellForm(initial={"amount": "" if stored is None else f"{stored.amount:.2f}"})
    context = {
        "period": period,
        "team": team,
        "month": first,
        "form": form,
        "cell_url": cell_url,
        "label": label,
        "grid_url": _grid_url(period),
        "breadcrumbs": [
            *period_crumbs(period, "Actuals")[:-1],
            ("Actuals", _grid_url(period)),
            (label, None),
        ],
    }
    if _htmx(request):
        return render_page(request, "funding/actuals_cell.html", context, partial="cell-form")
    return render(request, "funding/actuals_cell.html", context)


def _save_cell(
    request: HttpRequest, team: Team, month: datetime.date, amount: Decimal | None, label: str
) -> str:
    if amount is None:
        stored = Actual.objects.filter(team=team, month=month).first()
        if stored is None:
            return f"{label}: nothing recorded."
        services.actual_delete(actor=actor(request), actual=stored)
        return f"{label}: actual removed."
    stored = Actual.objects.filter(team=team, month=month).first()
    services.actual_set(
        actor=actor(request),
        team=team,
        month=month,
        amount=amount,
        note=stored.note if stored else "",
    )
    return f"{label}: actual saved."


# The import.


class ImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="Columns team, month, amount and optionally note.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > IMPORT_MAX_BYTES:
            raise ValidationError("The file is larger than 5 MB; split it.")
        return upload


@needs(ADD)
@GET_POST
def actuals_import(request: HttpRequest, pk: int) -> HttpResponse:
    """Upload a CSV of actuals for the period: counts, or every bad row (nothing written)."""
    if not request.user.has_perm(CHANGE):
        raise PermissionDenied
    period = get_period(pk)
    posted = request.method == "POST"
    form = ImportForm(request.POST if posted else None, request.FILES if posted else None)
    result = None
    if posted and period.is_closed:
        form.add_error(None, f"{period.name} is closed: its actuals are read-only.")
    elif posted and form.is_valid():
        result = services.actuals_import(
            actor=actor(request), file=form.cleaned_data["file"], period=period
        )
        if result.ok:
            messages.success(
                request,
                f"Imported {result.rows} row{'s' if result.rows != 1 else ''}: "
                f"{result.created} created, {result.updated} updated, "
                f"{result.unchanged} unchanged.",
            )
            return redirect(_grid_url(period))
    return render(
        request,
        "funding/actuals_import.html",
        {
            "period": period,
            "form": form,
            "result": result,
            "breadcrumbs": [
                *period_crumbs(period, "Actuals")[:-1],
                ("Actuals", _grid_url(period)),
                ("Import", None),
            ],
        },
    )


@require_GET
def actuals_example(request: HttpRequest, pk: int) -> HttpResponse:
    """An example CSV for the period: two teams' first two months."""
    period = get_period(pk)
    teams = list(
        Team.objects.filter(archived_at__isnull=True)
        .order_by("name")
        .values_list("slug", "name")[:2]
    ) or [("team-slug", "Team name")]
    months = [m for m, _ in period_months(period)][:2]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["team", "month", "amount", "note"])
    for index, (slug, name) in enumerate(teams):
        for month in months:
            writer.writerow(
                [slug if index == 0 else name, f"{month:%Y-%m}", "12,345.67", "from the ledger"]
            )
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="actuals-example-{period.pk}.csv"'
    return response


# Burn charts.


def _burn_page(
    request: HttpRequest,
    period: FiscalPeriod,
    burn: Burn,
    *,
    subject: str,
    kind: str,
    label: str,
    extra: dict[str, Any],
) -> HttpResponse:
    context = {
        "period": period,
        "burn": burn,
        "subject": subject,
        "kind": kind,
        "plan_label": label,
        "chart_json": json.dumps(burn.chart()),
        "breadcrumbs": [
            *period_crumbs(period, "Actuals")[:-1],
            ("Actuals", _grid_url(period)),
            (f"Burn of {subject}", None),
        ],
        **extra,
    }
    return render(request, "funding/burn.html", context)


@require_GET
def team_burn_page(request: HttpRequest, pk: int, slug: str) -> HttpResponse:
    """A team's cumulative actual against its capacity cost, with the forecast at its run rate."""
    period = get_period(pk)
    team = get_object_or_404(
        Team.objects.visible_to(request.user).only("id", "name", "slug"), slug=slug
    )
    burn = team_burn(period=period, team=team)
    return _burn_page(
        request,
        period,
        burn,
        subject=team.name,
        kind="team",
        label="capacity cost",
        extra={"team": team},
    )


@require_GET
def value_stream_burn_page(request: HttpRequest, pk: int, slug: str) -> HttpResponse:
    """A value stream's attributed actual against its allocated amount, with the forecast."""
    period = get_period(pk)
    value_stream = get_object_or_404(
        ValueStream.objects.visible_to(request.user).only("id", "name", "slug"), slug=slug
    )
    burn = value_stream_burn(period=period, value_stream=value_stream)
    return _burn_page(
        request,
        period,
        burn,
        subject=value_stream.name,
        kind="value stream",
        label="allocated amount",
        extra={"value_stream": value_stream},
    )


# What the money buys.


@require_GET
def value_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Per value stream: funded amount, outcomes, flow, cost per item, split by work type."""
    period = get_period(pk)
    report = value_report(period=period, user=request.user)
    return render(
        request,
        "funding/value.html",
        {
            "period": period,
            "report": report,
            "split_keys": SPLIT_KEYS,
            "split_labels": [SPLIT_LABELS[k] for k in SPLIT_KEYS],
            "breadcrumbs": period_crumbs(period, "What the money buys"),
        },
    )


urlpatterns = [
    path("periods/<int:pk>/actuals/", actuals_page, name="actuals"),
    path("periods/<int:pk>/actuals/import/", actuals_import, name="actuals_import"),
    path("periods/<int:pk>/actuals/example.csv", actuals_example, name="actuals_example"),
    path("periods/<int:pk>/actuals/<slug:slug>/<str:month>/", actual_cell, name="actual_cell"),
    path("periods/<int:pk>/teams/<slug:slug>/burn/", team_burn_page, name="team_burn"),
    path(
        "periods/<int:pk>/value-streams/<slug:slug>/burn/",
        value_stream_burn_page,
        name="value_stream_burn",
    ),
    path("periods/<int:pk>/value/", value_page, name="value"),
]
