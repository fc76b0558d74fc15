"""Transition pages, mounted at /transition/: the overview of every unit's stage, a unit's page
(the organisation or one value stream) with its checklist, the data's evidence, the assessment
form and the history, and the criteria that portfolio managers keep.

Everyone signed in reads. Executives and portfolio managers record assessments; the form is not
offered to the other roles and their POST answers 403. Portfolio managers edit the criteria in
place with htmx (every write view answers 403 to the other roles, on GET and POST). Without
JavaScript the same forms post normally: a write redirects, a refusal shows the whole page with
the message beside the field.
"""

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from portfolio import selectors_transition as selectors
from portfolio import services
from portfolio.common.htmx import render_page
from portfolio.common.views import GET_POST, actor, needs, save_form
from portfolio.evidence import EVIDENCE_CHOICES
from portfolio.models import (
    AssessmentAnswer,
    Stage,
    TransitionAssessment,
    TransitionCriterion,
    TransitionUnit,
)
from valuestreams.models import ValueStream

ASSESS = "portfolio.add_transitionassessment"
ADD_CRITERION = "portfolio.add_transitioncriterion"
CHANGE_CRITERION = "portfolio.change_transitioncriterion"

UNIT_TEMPLATE = "portfolio/transition_unit.html"
CRITERIA_TEMPLATE = "portfolio/transition_criteria.html"


def _htmx(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return htmx is not None and bool(htmx) and not htmx.boosted


def _overview_crumb() -> tuple[str, str | None]:
    return ("Transition", reverse("transition:overview"))


# The overview.


@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    """The organisation's stage on the five-stage ladder, and every active value stream's."""
    organisation = selectors.organisation_row()
    rows = selectors.value_stream_rows(user=request.user)
    per_stage = {s.value: 0 for s in Stage}
    for row in rows:
        per_stage[row.stage] += 1
    ladder = selectors.stage_ladder(organisation.stage)
    for rung in ladder:
        rung.value_streams = per_stage[rung.number]  # type: ignore[attr-defined]
    return render(
        request,
        "portfolio/transition_overview.html",
        {
            "organisation": organisation,
            "ladder": ladder,
            "rows": rows,
            "breadcrumbs": [("Portfolio", reverse("home")), ("Transition", None)],
        },
    )


# A unit's page and its assessment form.


class AssessmentForm(forms.Form):
    """An assessment of the unit's current stage: one answer and evidence note per criterion.

    The rules (every criterion answered, advancing only when all are met or with a reason) live
    in ``services.assessment_record``; this form checks the shape and that the stage has not
    moved since the form was drawn.
    """

    stage = forms.IntegerField(widget=forms.HiddenInput)
    assessed_on = forms.DateField(
        label="Assessed on",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    advance = forms.BooleanField(required=False)
    override_reason = forms.CharField(
        label="Override reason",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Only when advancing although not every criterion is met: why advance anyway.",
    )

    def __init__(
        self, *args: Any, unit: TransitionUnit, criteria: list[TransitionCriterion], **kwargs: Any
    ) -> None:
        kwargs.setdefault("auto_id", "assess_%s")
        super().__init__(*args, **kwargs)
        self.unit = unit
        self.criteria = criteria
        self.fields["stage"].initial = unit.stage
        self.fields["assessed_on"].initial = timezone.localdate()
        for criterion in criteria:
            self.fields[f"answer_{criterion.pk}"] = forms.ChoiceField(
                label=criterion.text,
                choices=AssessmentAnswer.Answer.choices,
                widget=forms.RadioSelect,
                error_messages={"required": "Choose met, partly met or not met."},
            )
            self.fields[f"note_{criterion.pk}"] = forms.CharField(
                label="Evidence note",
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
        if unit.stage >= Stage.APPROACHING_MATURITY:
            del self.fields["advance"]
            del self.fields["override_reason"]
        else:
            following = Stage(unit.stage + 1)
            self.fields["advance"].label = f"Advance to stage {following.value}, {following.label}"

    @property
    def next_stage(self) -> Stage | None:
        return Stage(self.unit.stage + 1) if "advance" in self.fields else None

    def rows(self) -> list[dict[str, Any]]:
        """Per criterion of the stage: the criterion (with its evidence) and its two fields."""
        return [
            {
                "criterion": c,
                "answer": self[f"answer_{c.pk}"],
                "note": self[f"note_{c.pk}"],
            }
            for c in self.criteria
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        stage = data.get("stage")
        if stage is not None and stage != self.unit.stage:
            current = Stage(self.unit.stage)
            raise ValidationError(
                f"{self.unit.name} moved to stage {current.value}, {current.label}, since this "
                "form was opened: answer that stage's checklist."
            )
        return data

    def answers(self) -> list[services.Answer]:
        return [
            services.Answer(
                criterion_id=c.pk,
                answer=self.cleaned_data[f"answer_{c.pk}"],
                note=self.cleaned_data.get(f"note_{c.pk}", ""),
            )
            for c in self.criteria
        ]


def _value_stream(request: HttpRequest, slug: str | None) -> ValueStream | None:
    if slug is None:
        return None
    return get_object_or_404(ValueStream.objects.visible_to(request.user), slug=slug)


def _unit_url(value_stream: ValueStream | None) -> str:
    if value_stream is None:
        return reverse("transition:unit")
    return reverse("transition:unit", kwargs={"slug": value_stream.slug})


@transaction.atomic
def _record(
    request: HttpRequest, value_stream: ValueStream | None, form: AssessmentForm
) -> TransitionAssessment:
    """The unit's row (made at stage 1 on its first assessment) and the assessment, together:
    a refused assessment leaves no new unit behind."""
    data = form.cleaned_data
    return services.assessment_record(
        actor=actor(request),
        unit=services.unit_for(value_stream),
        answers=form.answers(),
        assessed_on=data["assessed_on"],
        notes=data.get("notes", ""),
        advance=bool(data.get("advance")),
        override_reason=data.get("override_reason", ""),
    )


def _recorded_notice(assessment: TransitionAssessment, name: str) -> str:
    after = Stage(assessment.stage_after)
    if assessment.outcome == TransitionAssessment.Outcome.STAYED:
        return f"Assessment recorded: {name} stays at stage {after.value}, {after.label}."
    how = " by override" if assessment.outcome == TransitionAssessment.Outcome.OVERRIDDEN else ""
    return f"Assessment recorded: {name} advanced{how} to stage {after.value}, {after.label}."


def _unit_response(
    request: HttpRequest,
    value_stream: ValueStream | None,
    page: selectors.UnitPage,
    form: AssessmentForm | None,
    notice: str = "",
) -> HttpResponse:
    unit = page.unit
    crumbs = [
        ("Portfolio", reverse("home")),
        _overview_crumb(),
        (unit.name, None),
    ]
    context = {
        "value_stream": value_stream,
        "unit": unit,
        "page": page,
        "ladder": selectors.stage_ladder(unit.stage),
        "current_stage": Stage(unit.stage),
        "other_stages": [
            (Stage(number), criteria)
            for number, criteria in page.checklists.items()
            if number != unit.stage
        ],
        "form": form,
        "notice": notice,
        "unit_url": _unit_url(value_stream),
        "breadcrumbs": crumbs,
    }
    return render_page(request, UNIT_TEMPLATE, context, partial="unit-body")


@GET_POST
def unit_detail(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    """A unit's stage and checklist with the data's evidence, the assessment form (executives and
    portfolio managers) and the history. POST records an assessment; htmx gets the page's body
    back, redrawn for the unit's stage after it."""
    value_stream = _value_stream(request, slug)
    can_assess = request.user.has_perm(ASSESS)
    if request.method == "POST" and not can_assess:
        raise PermissionDenied
    page = selectors.unit_page(value_stream=value_stream)
    if request.method != "POST":
        form = (
            AssessmentForm(unit=page.unit, criteria=page.current_criteria) if can_assess else None
        )
        return _unit_response(request, value_stream, page, form)

    form = AssessmentForm(request.POST, unit=page.unit, criteria=page.current_criteria)
    assessment = save_form(form, lambda _: _record(request, value_stream, form))
    if assessment is None:
        return _unit_response(request, value_stream, page, form)
    notice = _recorded_notice(assessment, page.unit.name)
    if not _htmx(request):
        messages.success(request, notice)
        return redirect(_unit_url(value_stream) + "#history")
    page = selectors.unit_page(value_stream=value_stream)
    fresh = AssessmentForm(unit=page.unit, criteria=page.current_criteria)
    return _unit_response(request, value_stream, page, fresh, notice)


# The criteria, edited in place by portfolio managers.


class CriterionForm(forms.Form):
    text = forms.CharField(max_length=300, help_text="An activity the product model prescribes.")
    stage = forms.TypedChoiceField(choices=Stage.choices, coerce=int)
    order = forms.IntegerField(
        min_value=0,
        max_value=32767,
        required=False,
        help_text="Place in the stage's checklist; empty puts it at the end.",
    )
    evidence = forms.ChoiceField(
        label="Evidence from data",
        choices=EVIDENCE_CHOICES,
        required=False,
        help_text="A figure the data shows beside people's answer.",
    )


def _criterion_initial(criterion: TransitionCriterion) -> dict[str, Any]:
    return {f: getattr(criterion, f) for f in services.CRITERION_FIELDS}


def _criterion(pk: int) -> TransitionCriterion:
    criterion = TransitionCriterion.objects.filter(pk=pk, archived_at__isnull=True).first()
    if criterion is None:
        raise Http404
    return criterion


def _criteria_page(
    request: HttpRequest,
    *,
    editing: int | None = None,
    edit_form: CriterionForm | None = None,
    add_form: CriterionForm | None = None,
    notice: str = "",
) -> HttpResponse:
    """The criteria page read afresh, or for htmx only its list (``criteria-list``)."""
    every = selectors.criteria_by_stage(include_archived=True)
    stages: list[tuple[Stage, list[TransitionCriterion]]] = []
    archived: list[TransitionCriterion] = []
    for number, criteria in every.items():
        active = [c for c in criteria if c.archived_at is None]
        archived.extend(c for c in criteria if c.archived_at is not None)
        for criterion in active:
            criterion.editing = criterion.pk == editing  # type: ignore[attr-defined]
            criterion.form = edit_form if criterion.pk == editing else None  # type: ignore[attr-defined]
        stages.append((Stage(number), active))
    can_add = request.user.has_perm(ADD_CRITERION)
    context = {
        "stages": stages,
        "archived": archived,
        "can_add": can_add,
        "can_change": request.user.has_perm(CHANGE_CRITERION),
        "add_form": add_form or (CriterionForm(auto_id="new-criterion_%s") if can_add else None),
        "notice": notice,
        "breadcrumbs": [("Portfolio", reverse("home")), _overview_crumb(), ("Criteria", None)],
    }
    return render_page(request, CRITERIA_TEMPLATE, context, partial="criteria-list")


def _criteria_written(request: HttpRequest, notice: str, anchor: str = "") -> HttpResponse:
    if not _htmx(request):
        messages.success(request, notice)
        return redirect(reverse("transition:criteria") + anchor)
    return _criteria_page(request, notice=notice)


@require_GET
def criteria(request: HttpRequest) -> HttpResponse:
    """Every stage's checklist; portfolio managers add, edit and archive criteria here."""
    return _criteria_page(request)


@needs(ADD_CRITERION)
@GET_POST
def criterion_create(request: HttpRequest) -> HttpResponse:
    """Add a criterion to a stage's checklist. GET shows the page with the form."""
    form = CriterionForm(request.POST or None, auto_id="new-criterion_%s")
    if request.method == "POST":
        criterion = save_form(
            form, lambda data: services.criterion_create(actor=actor(request), **data)
        )
        if criterion is not None:
            return _criteria_written(
                request,
                f"Criterion added to stage {criterion.stage}: “{criterion.text}”.",
                f"#criterion-{criterion.pk}",
            )
    return _criteria_page(request, add_form=form)


@needs(CHANGE_CRITERION)
@GET_POST
def criterion_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a criterion in place: text, stage, order, evidence. GET opens its row."""
    criterion = _criterion(pk)
    auto_id = f"criterion-{criterion.pk}_%s"
    if request.method == "POST":
        form = CriterionForm(request.POST, auto_id=auto_id)

        def save(data: dict[str, Any]) -> TransitionCriterion:
            if data.get("order") is None:
                data.pop("order", None)
            return services.criterion_update(actor=actor(request), criterion=criterion, **data)

        saved = save_form(form, save)
        if saved is not None:
            return _criteria_written(
                request, f"Criterion saved: “{saved.text}”.", f"#criterion-{saved.pk}"
            )
    else:
        form = CriterionForm(initial=_criterion_initial(criterion), auto_id=auto_id)
    return _criteria_page(request, editing=criterion.pk, edit_form=form)


@needs(CHANGE_CRITERION)
@require_POST
def criterion_restore(request: HttpRequest, pk: int) -> HttpResponse:
    """Put an archived criterion back on its checklist (a button on the archived list)."""
    criterion = TransitionCriterion.objects.filter(pk=pk, archived_at__isnull=False).first()
    if criterion is None:
        raise Http404
    services.criterion_restore(actor=actor(request), criterion=criterion)
    return _criteria_written(
        request,
        f"Criterion restored to stage {criterion.stage}: “{criterion.text}”.",
        f"#criterion-{criterion.pk}",
    )


@needs(CHANGE_CRITERION)
@GET_POST
def criterion_archive(request: HttpRequest, pk: int) -> HttpResponse:
    """Take a criterion off its checklist: GET asks (without JavaScript), POST archives."""
    criterion = _criterion(pk)
    if request.method == "POST":
        services.criterion_archive(actor=actor(request), criterion=criterion)
        return _criteria_written(request, f"Criterion archived: “{criterion.text}”.")
    return render(
        request,
        "portfolio/transition_criterion_archive.html",
        {
            "criterion": criterion,
            "cancel_url": reverse("transition:criteria") + f"#criterion-{criterion.pk}",
            "breadcrumbs": [
                ("Portfolio", reverse("home")),
                _overview_crumb(),
                ("Criteria", reverse("transition:criteria")),
                ("Archive", None),
            ],
        },
    )
