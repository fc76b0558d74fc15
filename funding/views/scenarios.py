"""Scenarios of a period: copy the plan, change it freely, compare it with the plan, promote it.

The scenario page is the scenario's matrix beside the plan. Finance edits a cell in place: the
htmx post answers the matrix and, out of band, the limits it would break and the comparison with
the plan, all read afresh after the write. Cells over a limit are saved and shown red with a
label: a scenario's limits are shown, not enforced. Promotion (finance, with a reason) enforces
them and names each breach when it refuses. Without JavaScript every form posts normally.

Everyone signed in reads; every write answers 403 to a role without finance's permissions.
"""

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST

from funding import services
from funding.models import FiscalPeriod, Scenario
from funding.services.scenarios import ScenarioComparison
from funding.views.periods import period_crumbs
from portfolio.common.htmx import render_page
from portfolio.common.views import GET_POST, actor, needs, save_form
from products.models import Team
from valuestreams.models import ValueStream

ADD = "funding.add_scenario"
CHANGE = "funding.change_scenario"
DELETE = "funding.delete_scenario"
PROMOTE = "funding.change_allocation"
DETAIL = "funding/scenario_detail.html"
LIST = "funding/scenario_list.html"


class PercentField(forms.DecimalField):
    """A percent as people type it: "25", "12.5", "12,5" or "40 %"; blank empties the cell."""

    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]
        if isinstance(value, str):
            value = value.strip().removesuffix("%").strip().replace(",", ".")
        return super().to_python(value)


class ScenarioForm(forms.Form):
    name = forms.CharField(max_length=100)
    description = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What this scenario tries (optional).",
    )


class ScenarioCellForm(forms.Form):
    team = forms.ModelChoiceField(queryset=Team.objects.all())
    value_stream = forms.ModelChoiceField(queryset=ValueStream.objects.all())
    percent = PercentField(
        required=False,
        decimal_places=2,
        max_digits=5,
        error_messages={
            "invalid": "Enter a percent such as 25 or 12.5 (blank empties the cell).",
            "max_decimal_places": "Give the percent with at most two decimals.",
        },
    )


class PromoteForm(forms.Form):
    reason = forms.CharField(
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Recorded with every allocation the promotion changes.",
        error_messages={"required": "Say why this scenario becomes the plan."},
    )


def _scenario(pk: int) -> Scenario:
    return get_object_or_404(
        Scenario.objects.select_related("period", "created_by", "promoted_by"), pk=pk
    )


def _crumbs(scenario: Scenario, *below: str) -> list[tuple[str, str | None]]:
    crumbs = period_crumbs(scenario.period, "Scenarios")
    crumbs[-1] = ("Scenarios", reverse("funding:scenario_list", args=[scenario.period_id]))
    crumbs.append((scenario.name, scenario.get_absolute_url() if below else None))
    crumbs.extend((label, None) for label in below)
    return crumbs


# The scenarios of a period.


@GET_POST
def scenario_list(request: HttpRequest, pk: int) -> HttpResponse:
    """The period's scenarios, and (finance) a form that copies the plan into a new one."""
    period = get_object_or_404(FiscalPeriod, pk=pk)
    can_add = request.user.has_perm(ADD) and not period.is_closed
    form = ScenarioForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if not can_add:
            raise PermissionDenied
        scenario = save_form(
            form,
            lambda data: services.scenario_create(actor=actor(request), period=period, **data),
        )
        if scenario is not None:
            messages.success(request, f"Scenario “{scenario.name}” created from the plan.")
            return redirect(scenario)
    scenarios = list(
        Scenario.objects.filter(period=period)
        .select_related("created_by", "promoted_by")
        .annotate(cell_count=Count("cells"))
        .order_by(F("promoted_at").asc(nulls_first=True), "name", "pk")
    )
    return render(
        request,
        LIST,
        {
            "period": period,
            "scenarios": scenarios,
            "form": form if can_add else None,
            "breadcrumbs": period_crumbs(period, "Scenarios"),
        },
    )


# One scenario.


def detail_context(
    request: HttpRequest,
    scenario: Scenario,
    comparison: ScenarioComparison,
    *,
    cell_error: tuple[int, int, list[str]] | None = None,
    promote_form: PromoteForm | None = None,
) -> dict[str, Any]:
    """Everything the scenario page draws, from the comparison (no further query)."""
    user = request.user
    period = scenario.period
    writable = not period.is_closed and scenario.promoted_at is None
    can_promote = writable and user.has_perm(CHANGE) and user.has_perm(PROMOTE)
    columns = comparison.columns
    rows = [(row, list(zip(row.cells, columns, strict=True))) for row in comparison.rows]
    return {
        "period": period,
        "scenario": scenario,
        "comparison": comparison,
        "rows": rows,
        "columns": columns,
        "breaches": comparison.breaches,
        "changed": comparison.changed_cells(),
        "can_edit": writable and user.has_perm(CHANGE),
        "can_promote": can_promote,
        "can_delete": not period.is_closed and user.has_perm(DELETE),
        "promote_form": promote_form or (PromoteForm() if can_promote else None),
        "cell_error": cell_error,
        "breadcrumbs": _crumbs(scenario),
    }


@require_GET
def scenario_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The scenario's matrix, the limits it would break and its comparison with the plan."""
    scenario = _scenario(pk)
    comparison = services.scenario_compare(scenario=scenario)
    return render_page(
        request, DETAIL, detail_context(request, scenario, comparison), partial="scenario-body"
    )


@needs(CHANGE)
@require_POST
def scenario_cell(request: HttpRequest, pk: int) -> HttpResponse:
    """Set one cell (htmx answers the matrix, the limits and the comparison; else a redirect)."""
    scenario = _scenario(pk)
    form = ScenarioCellForm(request.POST)
    error: tuple[int, int, list[str]] | None = None
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.scenario_set_cell(
                actor=actor(request),
                scenario=scenario,
                team=data["team"],
                value_stream=data["value_stream"],
                percent=data["percent"],
            )
        except ValidationError as refused:
            error = (data["team"].pk, data["value_stream"].pk, refused.messages)
    else:
        team, stream = request.POST.get("team", ""), request.POST.get("value_stream", "")
        if not (team.isdigit() and stream.isdigit()) or "percent" not in form.errors:
            return HttpResponse("Name a team and a value stream.", status=400)
        error = (int(team), int(stream), [str(m) for m in form.errors["percent"]])
    htmx = getattr(request, "htmx", None)
    if not (htmx and not htmx.boosted):
        if error is not None:
            messages.error(request, " ".join(error[2]))
        return redirect(scenario)
    comparison = services.scenario_compare(scenario=scenario)
    context = detail_context(request, scenario, comparison, cell_error=error)
    context["oob"] = True
    return render_page(request, DETAIL, context, partial="cell-response")


@needs(CHANGE)
@GET_POST
def scenario_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Rename the scenario or change its description."""
    scenario = _scenario(pk)
    form = ScenarioForm(
        request.POST if request.method == "POST" else None,
        initial={"name": scenario.name, "description": scenario.description},
    )
    if request.method == "POST":
        saved = save_form(
            form,
            lambda data: services.scenario_update(actor=actor(request), scenario=scenario, **data),
        )
        if saved is not None:
            messages.success(request, "Scenario saved.")
            return redirect(saved)
    return render(
        request,
        "funding/scenario_form.html",
        {
            "form": form,
            "scenario": scenario,
            "period": scenario.period,
            "breadcrumbs": _crumbs(scenario, "Edit"),
        },
    )


@needs(CHANGE)
@needs(PROMOTE)
@require_POST
def scenario_promote(request: HttpRequest, pk: int) -> HttpResponse:
    """Make the scenario the plan (finance, with a reason); a refusal names each breach."""
    scenario = _scenario(pk)
    form = PromoteForm(request.POST)
    promoted = save_form(
        form,
        lambda data: services.scenario_promote(
            actor=actor(request), scenario=scenario, reason=data["reason"]
        ),
    )
    if promoted is not None:
        messages.success(
            request,
            f"“{promoted.name}” is now the plan of {promoted.period.name}; "
            "the allocations it changed are drafts to approve.",
        )
        return redirect(reverse("funding:matrix", args=[promoted.period_id]))
    scenario = _scenario(pk)
    comparison = services.scenario_compare(scenario=scenario)
    context = detail_context(request, scenario, comparison, promote_form=form)
    return render_page(request, DETAIL, context, partial="scenario-promote")


@needs(DELETE)
@GET_POST
def scenario_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask once, then delete the scenario (the plan is not touched)."""
    scenario = _scenario(pk)
    if request.method == "POST":
        try:
            services.scenario_delete(actor=actor(request), scenario=scenario)
        except ValidationError as refused:
            messages.error(request, " ".join(refused.messages))
            return redirect(scenario)
        messages.success(request, f"Scenario “{scenario.name}” deleted.")
        return redirect(reverse("funding:scenario_list", args=[scenario.period_id]))
    return render(
        request,
        "funding/scenario_delete.html",
        {
            "scenario": scenario,
            "period": scenario.period,
            "cancel_url": scenario.get_absolute_url(),
            "breadcrumbs": _crumbs(scenario, "Delete"),
        },
    )


urlpatterns = [
    path("periods/<int:pk>/scenarios/", scenario_list, name="scenario_list"),
    path("scenarios/<int:pk>/", scenario_detail, name="scenario_detail"),
    path("scenarios/<int:pk>/edit/", scenario_edit, name="scenario_edit"),
    path("scenarios/<int:pk>/cells/", scenario_cell, name="scenario_cell"),
    path("scenarios/<int:pk>/promote/", scenario_promote, name="scenario_promote"),
    path("scenarios/<int:pk>/delete/", scenario_delete, name="scenario_delete"),
]
