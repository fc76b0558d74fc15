"""The allocation rules: limits (with equality), stale edits, approvals and their trail,
closed periods, and the limits holding under two real concurrent connections."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connections, transaction

from funding import services
from funding.models import Allocation, AllocationChange, AllocationStatus, FiscalPeriod
from tests.funding.factories import EnvelopeFactory, FiscalPeriodFactory, RateFactory
from tests.products.factories import (
    DisciplineFactory,
    PersonFactory,
    TeamFactory,
    TeamMembershipFactory,
)
from tests.valuestreams.factories import ValueStreamFactory

D = datetime.date
P = Decimal


@pytest.fixture
def plan(db, finance_user):
    """FY2030: one team costing exactly 120,000.00 and two value streams."""
    period = FiscalPeriodFactory(name="FY2030", start=D(2030, 1, 1), end=D(2030, 12, 31))
    engineer = DisciplineFactory(name="Engineer", slug="engineer")
    RateFactory(period=period, discipline=engineer, annual_cost=P("120000.00"))
    team = TeamFactory(name="Checkout")
    TeamMembershipFactory(team=team, person=PersonFactory(discipline=engineer), fte=1)
    payments, search = ValueStreamFactory(name="Payments"), ValueStreamFactory(name="Search")
    return period, team, payments, search, finance_user


def set_cell(plan, stream, percent, **kw):
    period, team, *_rest, actor = plan
    return services.allocation_set_percent(
        actor=actor, period=period, team=team, value_stream=stream, percent=percent, **kw
    )


def test_a_team_can_be_allocated_exactly_100_percent_and_not_a_cent_more(plan):
    _, team, payments, search, _ = plan
    set_cell(plan, payments, P("40.00"))
    set_cell(plan, search, P("60.00"))
    assert services.team_allocated_percent(period=plan[0], team_id=team.pk) == P("100.00")
    with pytest.raises(ValidationError) as refused:
        set_cell(plan, search, P("60.01"), version=1)
    message = refused.value.message_dict["percent"][0]
    assert "100.01 %" in message and "0.01 % over the 100 % limit" in message
    assert Allocation.objects.get(value_stream=search).percent == P("60.00")


def test_amount_is_percent_of_capacity_rounded_half_up(plan):
    _, _team, payments, *_ = plan
    set_cell(plan, payments, P("33.33"))
    # 33.33 % of 120000.00 = 39996.00
    assert services.value_stream_allocated(period=plan[0], value_stream_id=payments.pk) == P(
        "39996.00"
    )


def test_a_value_stream_can_take_exactly_its_envelope_and_not_more(plan):
    period, _team, payments, *_ = plan
    EnvelopeFactory(period=period, value_stream=payments, amount=P("60000.00"))
    set_cell(plan, payments, P("50.00"))  # 60,000.00: exactly the envelope
    with pytest.raises(ValidationError) as refused:
        set_cell(plan, payments, P("50.01"), version=1)  # 60,012.00
    message = refused.value.message_dict["percent"][0]
    assert "€12.00 over its envelope of €60,000.00" in message
    assert Allocation.objects.get(value_stream=payments).percent == P("50.00")


def test_an_envelope_cannot_drop_below_what_is_allocated(plan):
    period, _, payments, _, actor = plan
    set_cell(plan, payments, P("50.00"))
    with pytest.raises(ValidationError) as refused:
        services.envelope_set(
            actor=actor, period=period, value_stream=payments, amount=P("59999.99")
        )
    assert "€0.01 short" in refused.value.message_dict["amount"][0]
    envelope = services.envelope_set(
        actor=actor, period=period, value_stream=payments, amount=P("60000.00")
    )
    assert envelope.amount == P("60000.00")


def test_a_stale_edit_is_refused_and_changes_nothing(plan):
    _, _, payments, *_ = plan
    first = set_cell(plan, payments, P("20.00"), version=0)
    set_cell(plan, payments, P("30.00"), version=first.version)  # someone else: now version 2
    with pytest.raises(ValidationError) as refused:
        set_cell(plan, payments, P("25.00"), version=1)
    assert refused.value.error_dict["percent"][0].code == "stale"
    assert "since this page was loaded" in refused.value.message_dict["percent"][0]
    assert Allocation.objects.get(value_stream=payments).percent == P("30.00")
    # An empty cell that someone filled meanwhile is stale too.
    _, _, _, search, _ = plan
    set_cell(plan, search, P("10.00"))
    with pytest.raises(ValidationError):
        set_cell(plan, search, P("15.00"), version=0)


def test_workflow_draft_proposed_approved_records_who_when_before_after_why(plan):
    period, team, payments, search, actor = plan
    set_cell(plan, payments, P("40.00"))
    set_cell(plan, search, P("50.00"))
    assert services.allocations_move(actor=actor, period=period, step="propose") == 2
    assert services.allocations_move(actor=actor, period=period, step="approve") == 2
    assert set(Allocation.objects.values_list("status", flat=True)) == {AllocationStatus.APPROVED}
    with pytest.raises(ValidationError):
        services.allocations_move(actor=actor, period=period, step="approve")

    with pytest.raises(ValidationError) as refused:
        set_cell(plan, payments, P("45.00"))
    assert "say why" in refused.value.message_dict["reason"][0]
    set_cell(plan, payments, P("45.00"), reason="Fraud work moved up")
    last = AllocationChange.objects.filter(team=team, value_stream=payments).first()
    assert (last.action, last.percent_before, last.percent_after, last.reason, last.actor) == (
        AllocationChange.Action.CHANGED,
        P("40.00"),
        P("45.00"),
        "Fraud work moved up",
        actor,
    )
    actions = list(
        AllocationChange.objects.filter(value_stream=payments)
        .order_by("at", "pk")
        .values_list("action", flat=True)
    )
    assert actions == ["created", "proposed", "approved", "changed"]


def test_removing_a_cell_keeps_its_trail(plan):
    _, _, payments, *_ = plan
    set_cell(plan, payments, P("40.00"))
    assert set_cell(plan, payments, None) is None
    assert not Allocation.objects.exists()
    trail = list(AllocationChange.objects.order_by("at", "pk").values_list("action", flat=True))
    assert trail == ["created", "deleted"]


def test_a_closed_period_is_read_only(plan):
    period, team, payments, _, actor = plan
    set_cell(plan, payments, P("40.00"))
    services.fiscal_period_set_status(actor=actor, period=period, status="active")
    services.fiscal_period_set_status(actor=actor, period=period, status="closed")
    period.refresh_from_db()
    for write in (
        lambda: set_cell(plan, payments, P("50.00")),
        lambda: services.allocations_move(actor=actor, period=period, step="propose"),
        lambda: services.envelope_set(
            actor=actor, period=period, value_stream=payments, amount=P("1")
        ),
        lambda: services.rate_set(
            actor=actor,
            period=period,
            discipline=team.memberships.first().person.discipline,
            annual_cost=P("1"),
        ),
        lambda: services.fiscal_period_update(actor=actor, period=period, name="Renamed"),
        lambda: services.fiscal_period_set_status(actor=actor, period=period, status="active"),
    ):
        with pytest.raises(ValidationError):
            write()
    assert Allocation.objects.get().percent == P("40.00")
    assert FiscalPeriod.objects.get().name == "FY2030"


def test_periods_never_overlap(db, finance_user):
    services.fiscal_period_create(
        actor=finance_user, name="FY2030", start=D(2030, 1, 1), end=D(2030, 12, 31)
    )
    with pytest.raises(ValidationError) as refused:
        services.fiscal_period_create(
            actor=finance_user, name="H2", start=D(2030, 12, 31), end=D(2031, 6, 30)
        )
    assert "overlaps FY2030" in refused.value.message_dict["start"][0]
    services.fiscal_period_create(
        actor=finance_user, name="FY2031", start=D(2031, 1, 1), end=D(2031, 12, 31)
    )
    assert FiscalPeriod.objects.count() == 2


def test_only_one_period_is_active(db, finance_user):
    a = FiscalPeriodFactory(status="active")
    b = FiscalPeriodFactory()
    with pytest.raises(ValidationError) as refused:
        services.fiscal_period_set_status(actor=finance_user, period=b, status="active")
    assert f"{a.name} is active" in refused.value.message_dict["status"][0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_connections_cannot_both_take_the_last_60_percent(plan):
    """Two finance users each try to give the team's last 60 % to a different value stream at
    the same moment, on two real PostgreSQL connections: exactly one succeeds."""
    period, team, payments, search, actor = plan
    other = ValueStreamFactory(name="Loyalty")
    set_cell(plan, other, P("40.00"))

    first_has_lock = threading.Event()
    results: dict[str, str] = {}

    def take(stream, *, hold: bool) -> None:
        try:
            with transaction.atomic():
                services.allocation_set_percent(
                    actor=actor, period=period, team=team, value_stream=stream, percent=P("60.00")
                )
                if hold:
                    first_has_lock.set()
                    # Keep the transaction open so the second writer runs while it holds.
                    threading.Event().wait(0.5)
            results[stream.name] = "saved"
        except ValidationError as error:
            results[stream.name] = " ".join(error.messages)
        finally:
            first_has_lock.set()
            connections.close_all()

    one = threading.Thread(target=take, args=(payments,), kwargs={"hold": True})
    two = threading.Thread(target=lambda: (first_has_lock.wait(5), take(search, hold=False)))
    one.start()
    two.start()
    one.join(10)
    two.join(10)

    assert results["Payments"] == "saved"
    assert "over the 100 % limit" in results["Search"]
    assert Allocation.objects.filter(period=period, team=team).count() == 2
    assert services.team_allocated_percent(period=period, team_id=team.pk) == P("100.00")
