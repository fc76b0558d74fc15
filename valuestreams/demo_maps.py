"""Value stream maps of the demo organisation (``manage.py seed_demo``).

A current-state and a future-state map for four of Harbour Bank's five value streams (Platform &
data is left unmapped, so the empty state shows too), with the steps people name in a mapping
workshop, their times in minutes, hours and days, and improvement outcomes on the future state.
The current-state steps name the tracker statuses of the demo work items (``demo_work``: To Do,
In Progress, Blocked, In Review, Ready for QA) that they correspond to, so the map page's
Measured panel has figures: queue steps take the waiting statuses, hands-on steps the active
ones. Written by value stream, state and name, and steps by their place, so a second run writes
nothing (and a demo seeded before the steps had statuses gets them).
"""

import datetime
from collections.abc import Sequence
from decimal import Decimal
from typing import NamedTuple

from django.contrib.auth.models import AbstractBaseUser

from products.demo import SeedStats, upsert
from valuestreams.models import ImprovementOutcome, MapStep, ValueStream, ValueStreamMap

H = 60
D = 24 * H


class Step(NamedTuple):
    name: str
    process_time: float
    lead_time: float
    pca: float
    performed_by: str = ""
    statuses: tuple[str, ...] = ()  # tracker statuses of the demo work items (``demo_work``)


class Outcome(NamedTuple):
    description: str
    metric: str
    comparator: str
    target: float


class DemoMap(NamedTuple):
    value_stream: str
    state: str
    name: str
    mapped_on: datetime.date
    notes: str
    steps: Sequence[Step]
    outcomes: Sequence[Outcome] = ()


LT = "total_lead_time_minutes"
AR = "activity_ratio"
CA = "rolled_percent_complete_accurate"

MAPS: Sequence[DemoMap] = (
    DemoMap(
        "customer-onboarding",
        "current",
        "Account opening today",
        datetime.date(2026, 2, 10),
        "Mapped with the onboarding teams and two branch advisers.",
        (
            Step("Application form", 20, 45, 80, "Customer (online)", ("To Do",)),
            Step("ID check", 15, 2 * D, 85, "KYC team", ("In Progress",)),
            Step("Credit check", 30, 1 * D, 90, "Credit risk", ("Blocked",)),
            Step("Account set-up", 45, 3 * D, 95, "Back office", ("In Review",)),
            Step("Welcome pack and card", 10, 5 * D, 98, "Operations", ("Ready for QA",)),
        ),
    ),
    DemoMap(
        "customer-onboarding",
        "future",
        "Account opening target",
        datetime.date(2026, 3, 15),
        "Automated identity checks and a digital card on day one.",
        (
            Step("Application form", 12, 20, 92, "Customer (online)"),
            Step("ID check (automated)", 2, 4 * H, 95, "Identity verification"),
            Step("Credit check", 5, 30, 97, "Credit decisioning"),
            Step("Account set-up", 10, 2 * H, 98, "Back office"),
            Step("Welcome and digital card", 5, 1 * D, 99, "Welcome journeys"),
        ),
        (
            Outcome("Open an account within two days", LT, "below", 2 * D),
            Outcome("Most applications pass without rework", CA, "above", 80),
        ),
    ),
    DemoMap(
        "payments",
        "current",
        "Payment investigation today",
        datetime.date(2026, 1, 20),
        "A customer asks where a payment is.",
        (
            Step("Query logged", 5, 30, 85, "Contact centre", ("To Do",)),
            Step("Triage queue", 0, 1 * D, 100, "", ("Blocked",)),
            Step("Investigation", 60, 2 * D, 80, "Payments operations", ("In Progress",)),
            Step(
                "Correspondent bank enquiry", 20, 4 * D, 90, "Payments operations", ("In Review",)
            ),
            Step("Refund or confirm", 15, 4 * H, 95, "Payments operations", ("Ready for QA",)),
        ),
    ),
    DemoMap(
        "payments",
        "future",
        "Payment investigation target",
        datetime.date(2026, 2, 24),
        "Payments traced end to end; enquiries sent by API.",
        (
            Step("Query logged in the app", 3, 5, 95, "Customer"),
            Step("Automatic triage", 0, 15, 100),
            Step("Investigation with the traced payment", 30, 4 * H, 92, "Payments operations"),
            Step("Correspondent enquiry by API", 5, 1 * D, 95, "Payment hub"),
            Step("Refund or confirm", 10, 1 * H, 98, "Payments operations"),
        ),
        (
            Outcome("Answer every payment query within two days", LT, "below", 2 * D),
            Outcome("Half of the queries need no rework", CA, "above", 50),
        ),
    ),
    DemoMap(
        "lending",
        "current",
        "Mortgage application today",
        datetime.date(2026, 1, 28),
        "",
        (
            Step("Application", 45, 1 * D, 75, "Customer and adviser", ("To Do",)),
            Step("Document collection", 30, 5 * D, 70, "Mortgage advisers", ("Blocked",)),
            Step("Underwriting", 120, 4 * D, 90, "Underwriters", ("In Progress",)),
            Step("Valuation", 60, 7 * D, 95, "Valuation partner", ("In Review",)),
            Step("Offer issued", 20, 2 * D, 98, "Mortgage operations", ("Ready for QA",)),
        ),
    ),
    DemoMap(
        "lending",
        "future",
        "Mortgage application target",
        datetime.date(2026, 3, 2),
        "Open-banking data instead of paper; desktop valuations where the risk allows.",
        (
            Step("Application with open-banking data", 30, 2 * H, 90, "Customer and adviser"),
            Step("Document upload", 15, 1 * D, 88, "Customer"),
            Step("Underwriting", 60, 1 * D, 95, "Underwriters"),
            Step("Desktop valuation", 10, 4 * H, 97, "Valuation partner"),
            Step("Offer issued and e-signed", 10, 2 * H, 99, "Mortgage operations"),
        ),
        (
            Outcome("A mortgage offer within five days", LT, "below", 5 * D),
            Outcome("Flow efficiency above 3 %", AR, "above", 3),
        ),
    ),
    DemoMap(
        "claims",
        "current",
        "Home claim today",
        datetime.date(2026, 2, 3),
        "",
        (
            Step("First notice of loss", 15, 30, 90, "Customer (phone)", ("To Do",)),
            Step("Assessor allocation queue", 0, 2 * D, 100, "", ("Blocked",)),
            Step("Assessment visit", 90, 3 * D, 85, "Loss assessors", ("In Progress",)),
            Step("Repair booking", 20, 2 * D, 90, "Repair network", ("In Review",)),
            Step("Payout", 10, 1 * D, 97, "Claims payouts", ("Ready for QA",)),
        ),
    ),
    DemoMap(
        "claims",
        "future",
        "Home claim target",
        datetime.date(2026, 3, 9),
        "Photos with the first notice; desk assessment for most claims.",
        (
            Step("First notice with photos", 10, 15, 95, "Customer (app)"),
            Step("Automatic allocation", 0, 2 * H, 100),
            Step("Desk assessment", 45, 1 * D, 92, "Loss assessors"),
            Step("Repair booking", 10, 4 * H, 95, "Repair network"),
            Step("Payout", 5, 1 * H, 99, "Claims payouts"),
        ),
        (Outcome("Claims paid within five days", LT, "below", 5 * D),),
    ),
)


def _dec(value: float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def seed_maps(*, actor: AbstractBaseUser) -> SeedStats:
    """The demo maps, their steps and improvement outcomes (needs the value streams first)."""
    stats = SeedStats()
    value_streams = {
        vs.slug: vs for vs in ValueStream.objects.filter(slug__in={m.value_stream for m in MAPS})
    }
    for demo in MAPS:
        value_stream = value_streams.get(demo.value_stream)
        if value_stream is None:
            stats.skipped.append(f"map “{demo.name}”: value stream {demo.value_stream} not found")
            continue
        vsm = upsert(
            ValueStreamMap,
            lookup={"value_stream": value_stream, "state": demo.state, "name": demo.name},
            values={"mapped_on": demo.mapped_on, "notes": demo.notes},
            stats=stats,
        )
        for place, step in enumerate(demo.steps, start=1):
            upsert(
                MapStep,
                lookup={"map": vsm, "order": place},
                values={
                    "name": step.name,
                    "process_time_minutes": _dec(step.process_time),
                    "lead_time_minutes": _dec(step.lead_time),
                    "percent_complete_accurate": _dec(step.pca),
                    "performed_by": step.performed_by,
                    "statuses": list(step.statuses),
                },
                stats=stats,
            )
        MapStep.objects.filter(map=vsm, order__gt=len(demo.steps)).delete()
        for outcome in demo.outcomes:
            upsert(
                ImprovementOutcome,
                lookup={"map": vsm, "description": outcome.description},
                values={
                    "metric": outcome.metric,
                    "comparator": outcome.comparator,
                    "target": _dec(outcome.target),
                },
                stats=stats,
            )
    return stats
