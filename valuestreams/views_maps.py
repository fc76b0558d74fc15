"""Value stream map pages, mounted at /value-streams/<slug>/maps/.

The map page shows the map's figures, its picture (server-drawn SVG), its steps and its
improvement outcomes. Portfolio managers edit steps in place with htmx: an edit, an added step,
a move or a removal answers the steps table and, out of band, the figures, the picture and the
outcomes, all recomputed from the stored steps. An invalid form comes back in the table with the
errors beside the fields (status 200). Without JavaScript the same forms post normally: a write
redirects to the map page, an invalid form gets the whole page with its errors.

Everyone signed in reads; every write view answers 403 to the other roles, on GET and POST.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from portfolio.common.htmx import render_page
from portfolio.common.views import GET_POST, actor, needs, save_form
from valuestreams import maps
from valuestreams.mapmetrics import (
    METRIC_LABELS,
    RATIO_METRICS,
    MetricChange,
    change_text,
    compare_maps,
    map_metrics,
    outcome_met,
    outcome_progress,
)
from valuestreams.mapsvg import map_svg
from valuestreams.models import ImprovementOutcome, MapStep, ValueStream, ValueStreamMap

Context = dict[str, Any]

ADD_MAP = "valuestreams.add_valuestreammap"
CHANGE_MAP = "valuestreams.change_valuestreammap"
DELETE_MAP = "valuestreams.delete_valuestreammap"
ADD_STEP = "valuestreams.add_mapstep"
CHANGE_STEP = "valuestreams.change_mapstep"
DELETE_STEP = "valuestreams.delete_mapstep"
ADD_OUTCOME = "valuestreams.add_improvementoutcome"
CHANGE_OUTCOME = "valuestreams.change_improvementoutcome"
DELETE_OUTCOME = "valuestreams.delete_improvementoutcome"

DETAIL = "valuestreams/map_detail.html"


# Forms: the shape of the input; the rules (lead time >= process time, ...) live in the services.


def minutes_field(label: str, help_text: str) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        max_digits=14,
        decimal_places=2,
        help_text=help_text,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )


class MapForm(forms.Form):
    state = forms.ChoiceField(choices=ValueStreamMap.State.choices)
    name = forms.CharField(
        max_length=200,
        required=False,
        help_text="Optional; the value stream, state and date name it otherwise.",
    )
    mapped_on = forms.DateField(
        label="Mapped on",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="When the mapping was done.",
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))


class StepForm(forms.Form):
    name = forms.CharField(max_length=200)
    process_time_minutes = minutes_field("Process time (min)", "Hands-on time; 0 for a queue.")
    lead_time_minutes = minutes_field(
        "Lead time (min)", "From work available until handed on; at least the process time."
    )
    percent_complete_accurate = forms.DecimalField(
        label="%C&A",
        max_digits=5,
        decimal_places=2,
        initial=100,
        help_text="Share the next step can use as is (more than 0, at most 100).",
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    performed_by = forms.CharField(label="Done by", max_length=200, required=False)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class OutcomeForm(forms.Form):
    description = forms.CharField(max_length=300, help_text="What the mapping is meant to achieve.")
    metric = forms.ChoiceField(label="Figure", choices=ImprovementOutcome.Metric.choices)
    comparator = forms.ChoiceField(label="Must be", choices=ImprovementOutcome.Comparator.choices)
    target = forms.DecimalField(
        max_digits=14,
        decimal_places=2,
        help_text="Minutes for times, percent for ratios.",
        widget=forms.NumberInput(attrs={"step": "any"}),
    )


def _step_initial(step: MapStep) -> dict[str, Any]:
    return {f: getattr(step, f) for f in maps.STEP_FIELDS}


def _outcome_initial(outcome: ImprovementOutcome) -> dict[str, Any]:
    return {f: getattr(outcome, f) for f in maps.OUTCOME_FIELDS}


# Reading the rows.


def _htmx(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return htmx is not None and bool(htmx) and not htmx.boosted


def _value_stream(request: HttpRequest, slug: str) -> ValueStream:
    return get_object_or_404(ValueStream.objects.visible_to(request.user), slug=slug)


def _vsm(request: HttpRequest, slug: str, pk: int) -> ValueStreamMap:
    """The map with its steps and outcomes (three queries), or 404."""
    return get_object_or_404(
        maps.map_detail_queryset(user=request.user).filter(value_stream__slug=slug), pk=pk
    )


def _step(vsm: ValueStreamMap, step_pk: int) -> MapStep:
    step = next((s for s in vsm.steps.all() if s.pk == step_pk), None)
    if step is None:
        raise Http404
    step.map = vsm
    return step


def _outcome(vsm: ValueStreamMap, outcome_pk: int) -> ImprovementOutcome:
    outcome = next((o for o in vsm.improvement_outcomes.all() if o.pk == outcome_pk), None)
    if outcome is None:
        raise Http404
    outcome.map = vsm
    return outcome


# What the map page shows.


@dataclass
class OutcomeRow:
    outcome: ImprovementOutcome
    value: Decimal | None
    met: bool | None
    editing: bool = False
    form: forms.Form | None = None

    @property
    def is_percent(self) -> bool:
        return self.outcome.metric in RATIO_METRICS

    @property
    def metric_label(self) -> str:
        return METRIC_LABELS.get(self.outcome.metric, self.outcome.metric)


def _crumbs(vsm: ValueStreamMap, *below: str) -> list[tuple[str, str | None]]:
    vs = vsm.value_stream
    crumbs: list[tuple[str, str | None]] = [
        ("Value streams", reverse("valuestreams:value_stream_list")),
        (vs.name, vs.get_absolute_url()),
        (str(vsm), vsm.get_absolute_url() if below else None),
    ]
    crumbs.extend((label, None) for label in below)
    return crumbs


def map_context(
    request: HttpRequest,
    vsm: ValueStreamMap,
    *,
    editing_step: int | None = None,
    step_form: forms.Form | None = None,
    add_form: forms.Form | None = None,
    editing_outcome: int | None = None,
    outcome_form: forms.Form | None = None,
    add_outcome_form: forms.Form | None = None,
) -> Context:
    """Everything the map page draws, from the map's prefetched rows (no further query)."""
    user = request.user
    steps = list(vsm.steps.all())
    metrics = map_metrics(steps)
    waits = {s.id: s for s in metrics.steps}
    for step in steps:
        step.figures = waits[step.pk]  # type: ignore[attr-defined]
        step.editing = step.pk == editing_step  # type: ignore[attr-defined]
        step.form = step_form if step.pk == editing_step else None  # type: ignore[attr-defined]
    outcomes = [
        OutcomeRow(
            outcome=o,
            value=metrics.value(o.metric),
            met=outcome_met(o.comparator, o.target, metrics.value(o.metric)),
            editing=o.pk == editing_outcome,
            form=outcome_form if o.pk == editing_outcome else None,
        )
        for o in vsm.improvement_outcomes.all()
    ]
    can_add_step = user.has_perm(ADD_STEP)
    can_add_outcome = user.has_perm(ADD_OUTCOME)
    return {
        "vsm": vsm,
        "value_stream": vsm.value_stream,
        "steps": steps,
        "step_count": len(steps),
        "metrics": metrics,
        "svg": map_svg(metrics, title=f"Value stream map: {vsm}", svg_id=f"vsm-{vsm.pk}"),
        "outcomes": outcomes,
        "can_edit_steps": user.has_perm(CHANGE_STEP),
        "can_delete_steps": user.has_perm(DELETE_STEP),
        "can_edit_outcomes": user.has_perm(CHANGE_OUTCOME),
        "can_delete_outcomes": user.has_perm(DELETE_OUTCOME),
        "can_edit_map": user.has_perm(CHANGE_MAP),
        "can_delete_map": user.has_perm(DELETE_MAP),
        "add_form": add_form or (StepForm(auto_id="new-step_%s") if can_add_step else None),
        "add_outcome_form": add_outcome_form
        or (OutcomeForm(auto_id="new-outcome_%s") if can_add_outcome else None),
        "breadcrumbs": _crumbs(vsm),
    }


def _page(
    request: HttpRequest, slug: str, pk: int, *, partial: str, written: bool = False, **state: Any
) -> HttpResponse:
    """The map page read afresh, or for htmx the ``partial`` (and, after a write, the figures,
    picture and outcomes out of band)."""
    vsm = _vsm(request, slug, pk)
    context = map_context(request, vsm, **state)
    context["oob"] = written
    return render_page(request, DETAIL, context, partial=partial)


def _written(
    request: HttpRequest, slug: str, pk: int, notice: str, *, partial: str, anchor: str = ""
) -> HttpResponse:
    if not _htmx(request):
        messages.success(request, notice)
        return redirect(
            reverse("valuestreams:map_detail", kwargs={"slug": slug, "pk": pk}) + anchor
        )
    return _page(request, slug, pk, partial=partial, written=True)


# The value stream's maps (the panel its page loads) and the map page.


@require_GET
def value_stream_maps(request: HttpRequest, slug: str) -> HttpResponse:
    """The maps of a value stream: the panel the value stream page loads with htmx (a small page
    of its own without htmx)."""
    value_stream = _value_stream(request, slug)
    vsms = list(maps.maps_for_value_stream(user=request.user, value_stream=value_stream))
    states = {m.state for m in vsms}
    context = {
        "value_stream": value_stream,
        "maps": vsms,
        "can_compare": {"current", "future"} <= states,
        "can_add": request.user.has_perm(ADD_MAP),
        "breadcrumbs": [
            ("Value streams", reverse("valuestreams:value_stream_list")),
            (value_stream.name, value_stream.get_absolute_url()),
            ("Maps", None),
        ],
    }
    return render_page(request, "valuestreams/map_list_panel.html", context, partial="map-panel")


@require_GET
def map_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """A map: its figures, picture, steps and improvement outcomes."""
    vsm = _vsm(request, slug, pk)
    return render(request, DETAIL, map_context(request, vsm))


# Maps.


def _map_form_page(
    request: HttpRequest, form: MapForm, *, title: str, submit: str, cancel: str, crumbs: Any
) -> HttpResponse:
    return render(
        request,
        "valuestreams/map_form.html",
        {
            "form": form,
            "title": title,
            "submit": submit,
            "cancel_url": cancel,
            "breadcrumbs": crumbs,
        },
    )


@needs(ADD_MAP)
@GET_POST
def map_create(request: HttpRequest, slug: str) -> HttpResponse:
    """Start a map of the value stream (portfolio managers)."""
    value_stream = _value_stream(request, slug)
    state = request.GET.get("state", ValueStreamMap.State.CURRENT)
    form = MapForm(
        request.POST if request.method == "POST" else None,
        initial={"state": state, "mapped_on": timezone.localdate()},
    )
    if request.method == "POST":
        vsm = save_form(
            form,
            lambda data: maps.map_create(actor=actor(request), value_stream=value_stream, **data),
        )
        if vsm is not None:
            messages.success(request, f"Map “{vsm}” created: add its steps.")
            return redirect(vsm)
    return _map_form_page(
        request,
        form,
        title="New value stream map",
        submit="Create map",
        cancel=value_stream.get_absolute_url(),
        crumbs=[
            ("Value streams", reverse("valuestreams:value_stream_list")),
            (value_stream.name, value_stream.get_absolute_url()),
            ("New map", None),
        ],
    )


@needs(CHANGE_MAP)
@GET_POST
def map_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Change a map's state, name, date or notes."""
    vsm = _vsm(request, slug, pk)
    form = MapForm(
        request.POST if request.method == "POST" else None,
        initial={f: getattr(vsm, f) for f in maps.MAP_FIELDS},
    )
    title = f"Edit {vsm}"
    crumbs = _crumbs(vsm, "Edit")
    if request.method == "POST":
        saved = save_form(form, lambda data: maps.map_update(actor=actor(request), vsm=vsm, **data))
        if saved is not None:
            messages.success(request, "Map saved.")
            return redirect(saved)
    return _map_form_page(
        request,
        form,
        title=title,
        submit="Save changes",
        cancel=vsm.get_absolute_url(),
        crumbs=crumbs,
    )


@needs(DELETE_MAP)
@GET_POST
def map_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Ask once, then delete the map with its steps and improvement outcomes."""
    vsm = _vsm(request, slug, pk)
    if request.method == "POST":
        name = str(vsm)
        maps.map_delete(actor=actor(request), vsm=vsm)
        messages.success(request, f"Map “{name}” deleted.")
        return redirect(vsm.value_stream)
    return render(
        request,
        "valuestreams/map_delete.html",
        {
            "vsm": vsm,
            "step_count": len(vsm.steps.all()),
            "outcome_count": len(vsm.improvement_outcomes.all()),
            "cancel_url": vsm.get_absolute_url(),
            "breadcrumbs": _crumbs(vsm, "Delete"),
        },
    )


# Steps.


@needs(ADD_STEP)
@GET_POST
def step_add(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Add a step at the end of the map. GET shows the page with the form."""
    vsm = _vsm(request, slug, pk)
    form = StepForm(request.POST if request.method == "POST" else None, auto_id="new-step_%s")
    if request.method == "POST":
        step = save_form(form, lambda data: maps.step_add(actor=actor(request), vsm=vsm, **data))
        if step is not None:
            return _written(
                request,
                slug,
                pk,
                f"Step “{step.name}” added.",
                partial="steps-response",
                anchor=f"#step-{step.pk}",
            )
    return _page(request, slug, pk, partial="map-steps", add_form=form)


@needs(CHANGE_STEP)
@GET_POST
def step_edit(request: HttpRequest, slug: str, pk: int, step_pk: int) -> HttpResponse:
    """Change a step in place: name, times, %C&A, who does it. GET opens its row for editing."""
    vsm = _vsm(request, slug, pk)
    step = _step(vsm, step_pk)
    auto_id = f"step-{step.pk}_%s"
    if request.method == "POST":
        form = StepForm(request.POST, auto_id=auto_id)
        saved = save_form(
            form, lambda data: maps.step_update(actor=actor(request), step=step, **data)
        )
        if saved is not None:
            return _written(
                request,
                slug,
                pk,
                f"Step “{saved.name}” saved.",
                partial="steps-response",
                anchor=f"#step-{saved.pk}",
            )
    else:
        form = StepForm(initial=_step_initial(step), auto_id=auto_id)
    return _page(request, slug, pk, partial="map-steps", editing_step=step.pk, step_form=form)


@needs(CHANGE_STEP)
@require_POST
def step_move(request: HttpRequest, slug: str, pk: int, step_pk: int) -> HttpResponse:
    """Move a step one place up or down (``direction``)."""
    vsm = _vsm(request, slug, pk)
    step = _step(vsm, step_pk)
    direction = request.POST.get("direction", "")
    if direction not in ("up", "down"):
        return HttpResponse("Move a step up or down.", status=400)
    maps.step_shift(actor=actor(request), step=step, direction=direction)
    return _written(
        request,
        slug,
        pk,
        f"Step “{step.name}” moved {direction}.",
        partial="steps-response",
        anchor=f"#step-{step.pk}",
    )


@needs(DELETE_STEP)
@GET_POST
def step_delete(request: HttpRequest, slug: str, pk: int, step_pk: int) -> HttpResponse:
    """Remove a step: GET asks (without JavaScript), POST removes; the others close up."""
    vsm = _vsm(request, slug, pk)
    step = _step(vsm, step_pk)
    if request.method == "POST":
        name = step.name
        maps.step_delete(actor=actor(request), step=step)
        return _written(request, slug, pk, f"Step “{name}” removed.", partial="steps-response")
    return render(
        request,
        "valuestreams/map_step_delete.html",
        {
            "vsm": vsm,
            "step": step,
            "cancel_url": f"{vsm.get_absolute_url()}#step-{step.pk}",
            "breadcrumbs": _crumbs(vsm, "Remove step"),
        },
    )


# Improvement outcomes.


@needs(ADD_OUTCOME)
@GET_POST
def outcome_add(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """State an improvement outcome of the map. GET shows the page with the form."""
    vsm = _vsm(request, slug, pk)
    form = OutcomeForm(request.POST if request.method == "POST" else None, auto_id="new-outcome_%s")
    if request.method == "POST":
        outcome = save_form(
            form,
            lambda data: maps.improvement_outcome_create(actor=actor(request), vsm=vsm, **data),
        )
        if outcome is not None:
            return _written(
                request,
                slug,
                pk,
                "Improvement outcome added.",
                partial="map-outcomes",
                anchor="#map-outcomes",
            )
    return _page(request, slug, pk, partial="map-outcomes", add_outcome_form=form)


@needs(CHANGE_OUTCOME)
@GET_POST
def outcome_edit(request: HttpRequest, slug: str, pk: int, outcome_pk: int) -> HttpResponse:
    """Change an improvement outcome in place. GET opens it for editing."""
    vsm = _vsm(request, slug, pk)
    outcome = _outcome(vsm, outcome_pk)
    auto_id = f"outcome-{outcome.pk}_%s"
    if request.method == "POST":
        form = OutcomeForm(request.POST, auto_id=auto_id)
        saved = save_form(
            form,
            lambda data: maps.improvement_outcome_update(
                actor=actor(request), outcome=outcome, **data
            ),
        )
        if saved is not None:
            return _written(
                request,
                slug,
                pk,
                "Improvement outcome saved.",
                partial="map-outcomes",
                anchor="#map-outcomes",
            )
    else:
        form = OutcomeForm(initial=_outcome_initial(outcome), auto_id=auto_id)
    return _page(
        request, slug, pk, partial="map-outcomes", editing_outcome=outcome.pk, outcome_form=form
    )


@needs(DELETE_OUTCOME)
@GET_POST
def outcome_delete(request: HttpRequest, slug: str, pk: int, outcome_pk: int) -> HttpResponse:
    """Remove an improvement outcome: GET asks (without JavaScript), POST removes."""
    vsm = _vsm(request, slug, pk)
    outcome = _outcome(vsm, outcome_pk)
    if request.method == "POST":
        maps.improvement_outcome_delete(actor=actor(request), outcome=outcome)
        return _written(
            request,
            slug,
            pk,
            "Improvement outcome removed.",
            partial="map-outcomes",
            anchor="#map-outcomes",
        )
    return render(
        request,
        "valuestreams/map_outcome_delete.html",
        {
            "vsm": vsm,
            "outcome": outcome,
            "cancel_url": f"{vsm.get_absolute_url()}#map-outcomes",
            "breadcrumbs": _crumbs(vsm, "Remove improvement outcome"),
        },
    )


# Current state against future state.


@dataclass
class CompareOutcome:
    outcome: ImprovementOutcome
    before: Decimal | None
    after: Decimal | None
    met: bool | None
    progress: Decimal | None

    @property
    def is_percent(self) -> bool:
        return self.outcome.metric in RATIO_METRICS

    @property
    def metric_label(self) -> str:
        return METRIC_LABELS.get(self.outcome.metric, self.outcome.metric)


@dataclass
class ChangeRow:
    change: MetricChange
    text: str
    better: bool | None


# Which way is better for each figure: times down, ratios up.
LOWER_IS_BETTER = {"total_lead_time_minutes", "total_process_time_minutes", "total_wait_minutes"}


def _pick(vsms: list[ValueStreamMap], wanted: str | None, state: str) -> ValueStreamMap | None:
    if wanted and wanted.isdigit():
        return next((m for m in vsms if m.pk == int(wanted)), None)
    # The newest map of the state (maps come newest first).
    return next((m for m in vsms if m.state == state), None)


@require_GET
def map_compare(request: HttpRequest, slug: str) -> HttpResponse:
    """The current-state and the future-state map side by side: each figure, its change
    ("lead time -42 %", "activity ratio +9 points") and progress against the improvement
    outcomes. ``?current=`` and ``?future=`` pick maps; by default the newest of each state."""
    value_stream = _value_stream(request, slug)
    vsms = list(
        maps.map_detail_queryset(user=request.user)
        .filter(value_stream=value_stream)
        .order_by("-mapped_on", "-id")
    )
    current = _pick(vsms, request.GET.get("current"), ValueStreamMap.State.CURRENT)
    future = _pick(vsms, request.GET.get("future"), ValueStreamMap.State.FUTURE)
    context: Context = {
        "value_stream": value_stream,
        "maps": vsms,
        "current": current,
        "future": future,
        "breadcrumbs": [
            ("Value streams", reverse("valuestreams:value_stream_list")),
            (value_stream.name, value_stream.get_absolute_url()),
            ("Current and future state", None),
        ],
    }
    if current is not None and future is not None:
        before = map_metrics(current.steps.all())
        after = map_metrics(future.steps.all())
        rows = []
        for change in compare_maps(before, after):
            better = None
            if change.change is not None and change.change != 0:
                lower = change.metric in LOWER_IS_BETTER
                better = (change.change < 0) if lower else (change.change > 0)
            rows.append(ChangeRow(change=change, text=change_text(change), better=better))
        outcomes = [
            CompareOutcome(
                outcome=o,
                before=before.value(o.metric),
                after=after.value(o.metric),
                met=outcome_met(o.comparator, o.target, after.value(o.metric)),
                progress=outcome_progress(o.target, before.value(o.metric), after.value(o.metric)),
            )
            for vsm in (future, current)
            for o in vsm.improvement_outcomes.all()
        ]
        context.update(
            before=before,
            after=after,
            changes=rows,
            compare_outcomes=outcomes,
            current_svg=map_svg(before, title=f"Current state: {current}", svg_id="vsm-current"),
            future_svg=map_svg(after, title=f"Future state: {future}", svg_id="vsm-future"),
        )
    return render(request, "valuestreams/map_compare.html", context)


# Routes, included by valuestreams.urls under "<slug:slug>/maps/".

urlpatterns = [
    path("", value_stream_maps, name="value_stream_maps"),
    path("new/", map_create, name="map_create"),
    path("compare/", map_compare, name="map_compare"),
    path("<int:pk>/", map_detail, name="map_detail"),
    path("<int:pk>/edit/", map_edit, name="map_edit"),
    path("<int:pk>/delete/", map_delete, name="map_delete"),
    path("<int:pk>/steps/add/", step_add, name="step_add"),
    path("<int:pk>/steps/<int:step_pk>/edit/", step_edit, name="step_edit"),
    path("<int:pk>/steps/<int:step_pk>/move/", step_move, name="step_move"),
    path("<int:pk>/steps/<int:step_pk>/delete/", step_delete, name="step_delete"),
    path("<int:pk>/outcomes/add/", outcome_add, name="outcome_add"),
    path("<int:pk>/outcomes/<int:outcome_pk>/edit/", outcome_edit, name="outcome_edit"),
    path("<int:pk>/outcomes/<int:outcome_pk>/delete/", outcome_delete, name="outcome_delete"),
]
