"""Demo transition history: the organisation reached stage 3 (Expansion) over the past year; its
value streams stand between stage 2 and stage 4, each with the assessments that took it there.

Written through ``portfolio.services.assessment_record`` so the rules hold (advancing needs every
criterion met, or an override with a reason). A unit that already has assessments is left alone,
so running the demo again changes nothing.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from portfolio import services
from portfolio.models import AssessmentAnswer, TransitionCriterion
from products.demo import SeedStats
from valuestreams.models import ValueStream

MET, PARTLY, NOT_MET = (
    AssessmentAnswer.Answer.MET,
    AssessmentAnswer.Answer.PARTLY,
    AssessmentAnswer.Answer.NOT_MET,
)


@dataclass(frozen=True)
class Step:
    """One assessment: months ago, who (exec or pm), answers (in criterion order; short lists
    repeat their last answer), advance or not, an override reason, notes."""

    months_ago: int
    by: str
    answers: tuple[str, ...]
    advance: bool
    override: str = ""
    notes: str = ""


ORGANISATION: tuple[Step, ...] = (
    Step(11, "exec", (MET,), True, notes="Board approved the move to products; sponsor named."),
    Step(
        6,
        "exec",
        (MET, MET, PARTLY, MET),
        True,
        override="Pilots in onboarding and payments show early wins; feedback loops follow.",
        notes="Three pilot teams running for a quarter.",
    ),
    Step(
        1,
        "pm",
        (MET, PARTLY, NOT_MET),
        False,
        notes="Flow time not yet falling outside the pilots.",
    ),
)

# value stream slug -> its assessments, oldest first
VALUE_STREAMS: dict[str, tuple[Step, ...]] = {
    "customer-onboarding": (
        Step(10, "pm", (MET,), True),
        Step(7, "pm", (MET,), True, notes="Pilot teams formed around the onboarding journey."),
        Step(3, "exec", (MET,), True, notes="Mapped current and future state; lead time down."),
    ),
    "payments": (
        Step(9, "pm", (MET,), True),
        Step(4, "pm", (MET,), True, notes="Pilot product: instant payments."),
    ),
    "lending": (Step(5, "pm", (MET,), True, notes="Sponsor: head of lending."),),
    "claims": (
        Step(8, "pm", (MET,), True),
        Step(2, "pm", (MET, PARTLY, NOT_MET, PARTLY), False, notes="Pilot team still forming."),
    ),
    "platform-data": (
        Step(8, "pm", (MET,), True),
        Step(
            5, "exec", (MET,), True, notes="Platform teams run as products for internal customers."
        ),
    ),
}


def _months_ago(today: date, months: int) -> date:
    year, month = divmod(today.year * 12 + today.month - 1 - months, 12)
    return date(year, month + 1, 1) + timedelta(days=14)


def _play(unit, steps: tuple[Step, ...], users: dict[str, AbstractBaseUser], today: date) -> int:
    done = 0
    for step in steps:
        criteria = list(
            TransitionCriterion.objects.filter(stage=unit.stage, archived_at__isnull=True)
        )
        answers = [
            services.Answer(c.pk, step.answers[min(i, len(step.answers) - 1)])
            for i, c in enumerate(criteria)
        ]
        services.assessment_record(
            actor=users[step.by],
            unit=unit,
            answers=answers,
            assessed_on=_months_ago(today, step.months_ago),
            notes=step.notes,
            advance=step.advance,
            override_reason=step.override,
        )
        unit.refresh_from_db()
        done += 1
    return done


def seed_transition(*, users: dict[str, AbstractBaseUser]) -> SeedStats:
    """The organisation's and the demo value streams' assessment histories (idempotent)."""
    stats = SeedStats()
    today = timezone.localdate()
    units = [(services.unit_for(None), ORGANISATION)]
    streams = {vs.slug: vs for vs in ValueStream.objects.filter(slug__in=VALUE_STREAMS)}
    units += [
        (services.unit_for(streams[slug]), steps)
        for slug, steps in VALUE_STREAMS.items()
        if slug in streams
    ]
    for unit, steps in units:
        if unit.assessments.exists():
            stats.unchanged["transition assessments"] += unit.assessments.count()
            continue
        stats.created["transition assessments"] += _play(unit, steps, users, today)
    return stats
