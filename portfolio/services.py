"""Writes of the portfolio level: transition criteria and assessments.

A unit (the organisation or a value stream) advances to the next stage only when every criterion
of its current stage is met, or by an explicit override with a reason. Each assessment keeps what
the data showed for each criterion at the time, so the history reads as it was judged.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from portfolio.common.services import archive, model_update, restore
from portfolio.evidence import evidence_for
from portfolio.models import (
    AssessmentAnswer,
    Stage,
    TransitionAssessment,
    TransitionCriterion,
    TransitionUnit,
)
from valuestreams.models import ValueStream

CRITERION_FIELDS = ("stage", "text", "order", "evidence")


@transaction.atomic
def criterion_create(
    *, actor: AbstractBaseUser, stage: int, text: str, evidence: str = "", order: int | None = None
) -> TransitionCriterion:
    """Add a criterion to a stage's checklist (at the end unless an order is given)."""
    if order is None:
        last = TransitionCriterion.objects.filter(stage=stage).order_by("-order").first()
        order = (last.order + 1) if last else 1
    criterion = TransitionCriterion(stage=stage, text=text.strip(), evidence=evidence, order=order)
    criterion.full_clean()
    criterion.save()
    return criterion


@transaction.atomic
def criterion_update(
    *, actor: AbstractBaseUser, criterion: TransitionCriterion, **data: Any
) -> TransitionCriterion:
    """Change a criterion's text, stage, order or evidence figure (past answers keep their text)."""
    if "text" in data:
        data["text"] = data["text"].strip()
    criterion, _ = model_update(instance=criterion, fields=CRITERION_FIELDS, data=data)
    return criterion


@transaction.atomic
def criterion_archive(
    *, actor: AbstractBaseUser, criterion: TransitionCriterion
) -> TransitionCriterion:
    """Take a criterion off its stage's checklist; past assessments keep their answers to it."""
    return archive(instance=criterion)


@transaction.atomic
def criterion_restore(
    *, actor: AbstractBaseUser, criterion: TransitionCriterion
) -> TransitionCriterion:
    """Put an archived criterion back on its stage's checklist (at its old place in the order);
    assessments from then on ask it again."""
    return restore(instance=criterion)


def unit_for(value_stream: ValueStream | None) -> TransitionUnit:
    """The transition record of the organisation (None) or a value stream, created at stage 1."""
    unit, _ = TransitionUnit.objects.get_or_create(value_stream=value_stream)
    return unit


@dataclass(frozen=True)
class Answer:
    """One criterion's answer as the assessor gives it."""

    criterion_id: int
    answer: str
    note: str = ""


@transaction.atomic
def assessment_record(
    *,
    actor: AbstractBaseUser,
    unit: TransitionUnit,
    answers: list[Answer],
    assessed_on: date | None = None,
    notes: str = "",
    advance: bool = False,
    override_reason: str = "",
) -> TransitionAssessment:
    """Record a unit's assessment against its current stage's criteria.

    Every criterion of the stage is answered exactly once. With ``advance`` the unit moves to the
    next stage when all are met; otherwise only with an ``override_reason`` (kept, and shown in
    the history). Refused with a message naming the unmet criteria.
    """
    unit = (
        TransitionUnit.objects.select_for_update(of=("self",))
        .select_related("value_stream")
        .get(pk=unit.pk)
    )
    assessed_on = assessed_on or timezone.localdate()
    if assessed_on > timezone.localdate():
        raise ValidationError({"assessed_on": "An assessment cannot be dated in the future."})
    criteria = {
        c.pk: c
        for c in TransitionCriterion.objects.filter(stage=unit.stage, archived_at__isnull=True)
    }
    given: dict[int, Answer] = {}
    for answer in answers:
        if answer.criterion_id not in criteria:
            raise ValidationError(
                {
                    "answers": f"Criterion {answer.criterion_id} is not on stage {unit.stage}'s checklist."
                }
            )
        if answer.criterion_id in given:
            raise ValidationError({"answers": "Each criterion is answered once."})
        if answer.answer not in AssessmentAnswer.Answer.values:
            raise ValidationError(
                {"answers": f"Answer met, partly or not_met, not {answer.answer!r}."}
            )
        given[answer.criterion_id] = answer
    missing = [c.text for pk, c in criteria.items() if pk not in given]
    if missing:
        raise ValidationError({"answers": "Answer every criterion: " + "; ".join(missing) + "."})

    override_reason = override_reason.strip()
    unmet = [
        criteria[pk].text for pk, a in given.items() if a.answer != AssessmentAnswer.Answer.MET
    ]
    outcome = TransitionAssessment.Outcome.STAYED
    stage_after = unit.stage
    if advance:
        if unit.stage >= Stage.APPROACHING_MATURITY:
            raise ValidationError({"advance": "Stage 5 is the last stage."})
        if unmet and not override_reason:
            raise ValidationError(
                {
                    "override_reason": f"Not every criterion of stage {unit.stage} is met ("
                    + "; ".join(unmet)
                    + "): give a reason to advance anyway."
                }
            )
        outcome = (
            TransitionAssessment.Outcome.OVERRIDDEN
            if unmet
            else TransitionAssessment.Outcome.ADVANCED
        )
        stage_after = unit.stage + 1
    elif override_reason:
        raise ValidationError(
            {"override_reason": "An override reason goes with advancing the stage."}
        )

    evidence = evidence_for(
        [c.evidence for c in criteria.values() if c.evidence], value_stream=unit.value_stream
    )
    assessment = TransitionAssessment(
        unit=unit,
        assessed_on=assessed_on,
        assessor=actor,  # type: ignore[misc]
        stage=unit.stage,
        outcome=outcome,
        stage_after=stage_after,
        notes=notes.strip(),
        override_reason=override_reason
        if outcome == TransitionAssessment.Outcome.OVERRIDDEN
        else "",
    )
    assessment.full_clean()
    assessment.save()
    AssessmentAnswer.objects.bulk_create(
        AssessmentAnswer(
            assessment=assessment,
            criterion_id=pk,
            answer=answer.answer,
            evidence_note=answer.note.strip(),
            data_evidence=evidence[criteria[pk].evidence].display[:200]
            if criteria[pk].evidence in evidence
            else "",
        )
        for pk, answer in given.items()
    )
    if stage_after != unit.stage:
        unit.stage = stage_after
        unit.stage_since = assessed_on
        unit.save(update_fields=["stage", "stage_since", "updated_at"])
    return assessment
