"""Reads of the five-stage transition: the overview of every unit, one unit's page, the criteria.

A value stream that nobody has assessed yet has no ``TransitionUnit`` row; it stands at stage 1
(``unit_for`` creates the row when the first assessment is recorded). These reads never write:
they show such a value stream as an unsaved unit at stage 1 with no ``stage_since``.
"""

from dataclasses import dataclass, field
from datetime import date

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import OuterRef, Prefetch, QuerySet, Subquery

from portfolio.evidence import EVIDENCE_CHOICES, Evidence, evidence_for
from portfolio.models import (
    AssessmentAnswer,
    Stage,
    TransitionAssessment,
    TransitionCriterion,
    TransitionUnit,
)
from valuestreams.models import ValueStream

User = AbstractBaseUser | AnonymousUser

EVIDENCE_LABELS = dict(EVIDENCE_CHOICES)


@dataclass
class UnitRow:
    """One line of the overview: a unit (saved or not) and its latest assessment."""

    value_stream: ValueStream | None
    unit: TransitionUnit | None
    last_assessed_on: date | None = None
    last_outcome: str = ""

    @property
    def assessed(self) -> bool:
        return self.unit is not None and self.last_assessed_on is not None

    @property
    def stage(self) -> int:
        return self.unit.stage if self.unit is not None else Stage.STARTING_OUT

    @property
    def stage_label(self) -> str:
        return Stage(self.stage).label

    @property
    def stage_since(self) -> date | None:
        return self.unit.stage_since if self.unit is not None else None

    @property
    def last_outcome_label(self) -> str:
        return TransitionAssessment.Outcome(self.last_outcome).label if self.last_outcome else ""


@dataclass
class StageRung:
    """One stage of the ladder: its number and name, and where the unit stands against it."""

    number: int
    label: str
    current: bool
    reached: bool


def stage_ladder(stage: int) -> list[StageRung]:
    """The five stages, the unit's current one marked, the ones before it reached."""
    return [
        StageRung(number=s.value, label=s.label, current=s == stage, reached=s < stage)
        for s in Stage
    ]


def _latest(unit_filter: dict[str, object], column: str) -> Subquery:
    latest = TransitionAssessment.objects.filter(**unit_filter).order_by(
        "-assessed_on", "-recorded_at", "-pk"
    )
    return Subquery(latest.values(column)[:1])


def assessment_queryset() -> QuerySet[TransitionAssessment]:
    """Assessments with their unit, value stream, assessor and answers (with criteria): three
    queries for any number of rows."""
    return TransitionAssessment.objects.select_related(
        "unit__value_stream", "assessor"
    ).prefetch_related(
        Prefetch(
            "answers",
            queryset=AssessmentAnswer.objects.select_related("criterion").order_by(
                "criterion__order", "criterion__pk"
            ),
        )
    )


def organisation_row() -> UnitRow:
    """The organisation's unit (None before its first assessment) and its latest assessment."""
    unit = (
        TransitionUnit.objects.filter(value_stream__isnull=True)
        .annotate(
            last_assessed_on=_latest({"unit": OuterRef("pk")}, "assessed_on"),
            last_outcome=_latest({"unit": OuterRef("pk")}, "outcome"),
        )
        .first()
    )
    if unit is None:
        return UnitRow(value_stream=None, unit=None)
    return UnitRow(
        value_stream=None,
        unit=unit,
        last_assessed_on=unit.last_assessed_on,  # type: ignore[attr-defined]
        last_outcome=unit.last_outcome or "",  # type: ignore[attr-defined]
    )


def value_stream_rows(*, user: User) -> list[UnitRow]:
    """Every active value stream with its unit (if assessed) and latest assessment: one query."""
    streams = (
        ValueStream.objects.visible_to(user)
        .active()
        .select_related("transition")
        .annotate(
            last_assessed_on=_latest({"unit__value_stream": OuterRef("pk")}, "assessed_on"),
            last_outcome=_latest({"unit__value_stream": OuterRef("pk")}, "outcome"),
        )
        .order_by("name", "pk")
    )
    rows = []
    for stream in streams:
        unit: TransitionUnit | None = getattr(stream, "transition", None)
        rows.append(
            UnitRow(
                value_stream=stream,
                unit=unit,
                last_assessed_on=stream.last_assessed_on,  # type: ignore[attr-defined]
                last_outcome=stream.last_outcome or "",  # type: ignore[attr-defined]
            )
        )
    return rows


def unit_lookup(value_stream: ValueStream | None) -> TransitionUnit:
    """The unit of the organisation (None) or a value stream, or an unsaved one at stage 1."""
    unit = TransitionUnit.objects.filter(value_stream=value_stream).first()
    if unit is None:
        unit = TransitionUnit(value_stream=value_stream, stage=Stage.STARTING_OUT)
        unit.stage_since = None  # type: ignore[assignment]  # not on a stage until assessed
    return unit


def criteria_by_stage(*, include_archived: bool = False) -> dict[int, list[TransitionCriterion]]:
    """Every stage's checklist in order, one query; every stage present even when empty."""
    criteria = TransitionCriterion.objects.order_by("stage", "order", "pk")
    if not include_archived:
        criteria = criteria.filter(archived_at__isnull=True)
    stages: dict[int, list[TransitionCriterion]] = {s.value: [] for s in Stage}
    for criterion in criteria:
        criterion.evidence_label = EVIDENCE_LABELS.get(criterion.evidence, "")  # type: ignore[attr-defined]
        stages[criterion.stage].append(criterion)
    return stages


@dataclass
class UnitPage:
    """What a unit's page shows: its stage, every checklist, the current one with the data's
    evidence, and the history of assessments newest first."""

    unit: TransitionUnit
    checklists: dict[int, list[TransitionCriterion]]
    evidence: dict[str, Evidence]
    history: list[TransitionAssessment] = field(default_factory=list)

    @property
    def current_criteria(self) -> list[TransitionCriterion]:
        return self.checklists[self.unit.stage]


def unit_page(*, value_stream: ValueStream | None) -> UnitPage:
    """The unit's page: its row, the checklists (one query), the current stage's evidence (one
    aggregate per figure) and the history (three queries for any number of assessments)."""
    unit = unit_lookup(value_stream)
    checklists = criteria_by_stage()
    keys = [c.evidence for c in checklists[unit.stage] if c.evidence]
    evidence = evidence_for(keys, value_stream=value_stream)
    for criterion in checklists[unit.stage]:
        criterion.data = evidence.get(criterion.evidence)  # type: ignore[attr-defined]
    history: list[TransitionAssessment] = []
    if unit.pk is not None:
        history = list(assessment_queryset().filter(unit=unit))
    return UnitPage(unit=unit, checklists=checklists, evidence=evidence, history=history)
