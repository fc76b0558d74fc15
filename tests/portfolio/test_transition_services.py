"""Transition stages: seeded criteria, assessments, advancement only when met or by override."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from portfolio import services
from portfolio.models import AssessmentAnswer, TransitionAssessment, TransitionCriterion
from portfolio.services import Answer
from tests.products.factories import OutcomeFactory, ProductFactory
from tests.valuestreams.factories import ValueStreamFactory

MET, PARTLY, NOT_MET = "met", "partly", "not_met"


def answers(stage: int, *values: str) -> list[Answer]:
    criteria = TransitionCriterion.objects.filter(stage=stage, archived_at__isnull=True)
    values = values or (MET,) * criteria.count()
    return [
        Answer(c.pk, v, f"note {i}") for i, (c, v) in enumerate(zip(criteria, values, strict=True))
    ]


def test_every_stage_is_seeded_with_the_product_model_activities(db):
    counts = {
        stage: TransitionCriterion.objects.filter(stage=stage).count() for stage in range(1, 6)
    }
    assert counts == {1: 4, 2: 4, 3: 3, 4: 4, 5: 3}
    assert TransitionCriterion.objects.filter(
        stage=1, text="An executive sponsor is named"
    ).exists()


def test_all_met_advances_to_the_next_stage(db, executive):
    unit = services.unit_for(None)
    assessment = services.assessment_record(
        actor=executive, unit=unit, answers=answers(1), advance=True
    )
    unit.refresh_from_db()
    assert (assessment.outcome, assessment.stage, assessment.stage_after) == ("advanced", 1, 2)
    assert unit.stage == 2
    assert unit.stage_since == timezone.localdate()
    assert assessment.answers.count() == 4


def test_unmet_criteria_block_advancement_and_change_nothing(db, executive):
    unit = services.unit_for(None)
    with pytest.raises(ValidationError) as refused:
        services.assessment_record(
            actor=executive, unit=unit, answers=answers(1, MET, PARTLY, MET, NOT_MET), advance=True
        )
    message = refused.value.message_dict["override_reason"][0]
    assert "The expected business outcomes are stated" in message
    assert "give a reason" in message
    assert not TransitionAssessment.objects.exists()
    unit.refresh_from_db()
    assert unit.stage == 1


def test_override_with_a_reason_advances_and_is_kept(db, portfolio_manager):
    unit = services.unit_for(None)
    assessment = services.assessment_record(
        actor=portfolio_manager,
        unit=unit,
        answers=answers(1, MET, PARTLY, MET, NOT_MET),
        advance=True,
        override_reason="Board mandate; comms follow next month",
    )
    unit.refresh_from_db()
    assert assessment.outcome == "overridden"
    assert assessment.override_reason == "Board mandate; comms follow next month"
    assert unit.stage == 2


def test_staying_records_the_answers_without_moving(db, executive):
    unit = services.unit_for(None)
    services.assessment_record(
        actor=executive, unit=unit, answers=answers(1, MET, PARTLY, MET, MET)
    )
    unit.refresh_from_db()
    assert unit.stage == 1
    assert list(AssessmentAnswer.objects.values_list("answer", flat=True).order_by("pk")) == [
        MET,
        PARTLY,
        MET,
        MET,
    ]


def test_every_criterion_must_be_answered_once(db, executive):
    unit = services.unit_for(None)
    partial = answers(1)[:3]
    with pytest.raises(ValidationError) as refused:
        services.assessment_record(actor=executive, unit=unit, answers=partial)
    assert "Answer every criterion" in refused.value.message_dict["answers"][0]
    wrong_stage = answers(1)[:3] + answers(2)[:1]
    with pytest.raises(ValidationError):
        services.assessment_record(actor=executive, unit=unit, answers=wrong_stage)
    assert not TransitionAssessment.objects.exists()


def test_stage_five_is_the_last(db, executive):
    unit = services.unit_for(None)
    for stage in range(1, 5):
        services.assessment_record(actor=executive, unit=unit, answers=answers(stage), advance=True)
    unit.refresh_from_db()
    assert unit.stage == 5
    with pytest.raises(ValidationError):
        services.assessment_record(actor=executive, unit=unit, answers=answers(5), advance=True)


def test_value_streams_move_on_their_own_and_answers_keep_the_data_evidence(db, executive):
    stream = ValueStreamFactory(name="Payments")
    with_outcome, without = ProductFactory(), ProductFactory()
    stream.products.set([with_outcome, without])
    OutcomeFactory(product=with_outcome)
    unit = services.unit_for(stream)
    assessment = services.assessment_record(actor=executive, unit=unit, answers=answers(1))
    stated = assessment.answers.get(criterion__evidence="outcomes_stated")
    assert stated.data_evidence == "1 of 2 products (50 %)"
    assert services.unit_for(None).stage == 1


def test_archived_criteria_leave_the_checklist(db, portfolio_manager, executive):
    criterion = TransitionCriterion.objects.filter(stage=1).last()
    services.criterion_archive(actor=portfolio_manager, criterion=criterion)
    unit = services.unit_for(None)
    assessment = services.assessment_record(
        actor=executive, unit=unit, answers=answers(1), advance=True
    )
    assert assessment.answers.count() == 3
    added = services.criterion_create(
        actor=portfolio_manager, stage=2, text="  A product council meets monthly "
    )
    assert (added.text, added.order) == ("A product council meets monthly", 5)
