"""Scenario services: copy the plan, change it freely, compare it (figures checked by hand) and
promote it (limits enforced, all or nothing, with its trail)."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connections, transaction

from funding import services
from funding.models import (
    Allocation,
    AllocationChange,
    AllocationStatus,
    FiscalPeriod,
    ScenarioCell,
)
from tests.funding.factories import (
    AllocationFactory,
    EnvelopeFactory,
    FiscalPeriodFactory,
    RateFactory,
)
from tests.products.factories import (
    DisciplineFactory,
    PersonFactory,
    TeamFactory,
    TeamMembershipFactory,
)
from tests.valuestreams.factories import ValueStreamFactory

D = datetime.date
P = Decimal


class Plan:
    """FY2030: Checkout costs 120,000.00, Search 60,000.00; Payments has an envelope of
    90,000.00, Growth one of 120,000.00.

    The plan: Checkout 50 % to Payments (60,000.00) and 30 % to Growth (36,000.00), approved;
    Search 40 % to Payments (24,000.00), approved.
    """

    def __init__(self, actor):
        self.actor = actor
        self.period = FiscalPeriodFactory(name="FY2030", start=D(2030, 1, 1), end=D(2030, 12, 31))
        engineer = DisciplineFactory(name="Engineer", slug="engineer")
        RateFactory(period=self.period, discipline=engineer, annual_cost=P("120000.00"))
        self.checkout = TeamFactory(name="Checkout")
        self.search = TeamFactory(name="Search")
        TeamMembershipFactory(
            team=self.checkout, person=PersonFactory(discipline=engineer), fte=P("1")
        )
        TeamMembershipFactory(
            team=self.search, person=PersonFactory(discipline=engineer), fte=P("0.5")
        )
        self.payments = ValueStreamFactory(name="Payments")
        self.growth = ValueStreamFactory(name="Growth")
        EnvelopeFactory(period=self.period, value_stream=self.payments, amount=P("90000.00"))
        EnvelopeFactory(period=self.period, value_stream=self.growth, amount=P("120000.00"))
        approved = AllocationStatus.APPROVED
        for team, stream, percent in (
            (self.checkout, self.payments, "50.00"),
            (self.checkout, self.growth, "30.00"),
            (self.search, self.payments, "40.00"),
        ):
            AllocationFactory(
                period=self.period,
                team=team,
                value_stream=stream,
                percent=P(percent),
                status=approved,
            )

    def scenario(self, name="Bigger bets"):
        return services.scenario_create(actor=self.actor, period=self.period, name=name)

    def set(self, scenario, team, stream, percent):
        return services.scenario_set_cell(
            actor=self.actor,
            scenario=scenario,
            team=team,
            value_stream=stream,
            percent=None if percent is None else P(percent),
        )

    def plan_cells(self):
        return {
            (a.team.name, a.value_stream.name): (a.percent, a.status, a.version)
            for a in Allocation.objects.filter(period=self.period).select_related(
                "team", "value_stream"
            )
        }


@pytest.fixture
def plan(db, finance_user):
    return Plan(finance_user)


def cells_of(scenario):
    return {
        (c.team.name, c.value_stream.name): c.percent
        for c in ScenarioCell.objects.filter(scenario=scenario).select_related(
            "team", "value_stream"
        )
    }


def test_a_scenario_starts_as_a_copy_of_the_plan(plan):
    scenario = plan.scenario()
    assert scenario.created_by == plan.actor
    assert cells_of(scenario) == {
        ("Checkout", "Payments"): P("50.00"),
        ("Checkout", "Growth"): P("30.00"),
        ("Search", "Payments"): P("40.00"),
    }
    comparison = services.scenario_compare(scenario=scenario)
    assert comparison.changed_cells() == []
    assert comparison.delta_amount == 0
    assert comparison.breaches == []


def test_two_scenarios_of_a_period_need_different_names(plan):
    plan.scenario("Same")
    with pytest.raises(ValidationError) as refused:
        plan.scenario("Same")
    assert "already has a scenario of this name" in str(refused.value)
    with pytest.raises(ValidationError):
        plan.scenario("   ")


def test_cells_change_freely_beyond_the_limits_but_stay_between_0_and_100(plan):
    scenario = plan.scenario()
    plan.set(scenario, plan.checkout, plan.payments, "80.00")  # Checkout at 110 %
    plan.set(scenario, plan.search, plan.growth, "100.00")  # Search at 140 %
    assert cells_of(scenario)[("Checkout", "Payments")] == P("80.00")
    with pytest.raises(ValidationError) as refused:
        plan.set(scenario, plan.search, plan.growth, "100.01")
    assert refused.value.message_dict["percent"] == ["A percent is between 0 and 100."]
    with pytest.raises(ValidationError):
        plan.set(scenario, plan.search, plan.growth, "-1")
    assert cells_of(scenario)[("Search", "Growth")] == P("100.00")
    # Empty (or 0) removes the cell.
    assert plan.set(scenario, plan.search, plan.growth, None) is None
    assert plan.set(scenario, plan.search, plan.payments, "0") is None
    assert ("Search", "Growth") not in cells_of(scenario)
    assert ("Search", "Payments") not in cells_of(scenario)
    # The plan itself is untouched.
    assert plan.plan_cells()[("Checkout", "Payments")][0] == P("50.00")


def test_the_comparison_with_the_plan_checked_by_hand(plan):
    scenario = plan.scenario()
    plan.set(scenario, plan.checkout, plan.payments, "80.00")  # 96,000.00 (plan 60,000.00)
    plan.set(scenario, plan.checkout, plan.growth, "40.00")  # 48,000.00 (plan 36,000.00)
    plan.set(scenario, plan.search, plan.payments, None)  # 0 (plan 24,000.00)
    plan.set(scenario, plan.search, plan.growth, "33.33")  # 19,998.00 (plan none)

    comparison = services.scenario_compare(scenario=scenario)

    checkout, search = comparison.rows
    assert (checkout.team.name, search.team.name) == ("Checkout", "Search")
    assert (checkout.capacity.cost, search.capacity.cost) == (P("120000.00"), P("60000.00"))
    assert [c.value_stream.name for c in comparison.columns] == ["Growth", "Payments"]
    growth_cell, payments_cell = checkout.cells
    assert (payments_cell.plan_percent, payments_cell.plan_amount) == (P("50.00"), P("60000.00"))
    assert (payments_cell.scenario_percent, payments_cell.scenario_amount) == (
        P("80.00"),
        P("96000.00"),
    )
    assert (payments_cell.delta_percent, payments_cell.delta_amount) == (P("30.00"), P("36000.00"))
    assert growth_cell.delta_amount == P("12000.00")
    removed, added = search.cells[1], search.cells[0]
    assert (removed.scenario_percent, removed.scenario_amount) == (None, None)
    assert (removed.delta_percent, removed.delta_amount) == (P("-40.00"), P("-24000.00"))
    assert (added.plan_amount, added.scenario_amount) == (None, P("19998.00"))

    # Per team.
    assert (checkout.plan_percent, checkout.scenario_percent) == (P("80.00"), P("120.00"))
    assert (checkout.plan_amount, checkout.scenario_amount) == (P("96000.00"), P("144000.00"))
    assert (checkout.over, checkout.over_by, checkout.unallocated_amount) == (
        True,
        P("20.00"),
        P("-24000.00"),
    )
    assert (search.plan_percent, search.scenario_percent, search.delta_amount) == (
        P("40.00"),
        P("33.33"),
        P("-4002.00"),
    )
    assert not search.over
    # Per value stream.
    growth, payments = comparison.columns
    assert (payments.plan_amount, payments.scenario_amount, payments.delta_amount) == (
        P("84000.00"),
        P("96000.00"),
        P("12000.00"),
    )
    assert (payments.over, payments.over_by, payments.unfunded) == (
        True,
        P("6000.00"),
        P("-6000.00"),
    )
    assert (growth.plan_amount, growth.scenario_amount, growth.unfunded) == (
        P("36000.00"),
        P("67998.00"),
        P("52002.00"),
    )
    assert not growth.over
    # Overall.
    assert comparison.capacity_cost == P("180000.00")
    assert (comparison.plan_amount, comparison.scenario_amount) == (
        P("120000.00"),
        P("163998.00"),
    )
    assert comparison.delta_amount == P("43998.00")
    assert comparison.envelope_amount == P("210000.00")
    assert len(comparison.changed_cells()) == 4
    # The limits it would break, with by how much.
    assert [(b.kind, b.name, b.over_by) for b in comparison.breaches] == [
        ("team", "Checkout", P("20.00")),
        ("value_stream", "Payments", P("6000.00")),
    ]
    assert "20.00 % over the 100 % limit" in comparison.breaches[0].message
    assert "€6,000.00 over its envelope of €90,000.00" in comparison.breaches[1].message


def test_promotion_breaking_a_limit_is_refused_and_changes_nothing(plan):
    scenario = plan.scenario()
    plan.set(scenario, plan.checkout, plan.payments, "80.00")
    plan.set(scenario, plan.search, plan.growth, "50.00")
    before = plan.plan_cells()

    with pytest.raises(ValidationError) as refused:
        services.scenario_promote(actor=plan.actor, scenario=scenario, reason="Bigger bets")

    messages = refused.value.messages
    assert len(messages) == 2
    assert "Checkout would be allocated 110.00 %" in messages[0]
    assert "10.00 % over the 100 % limit" in messages[0]
    assert "Payments would receive €120,000.00" in messages[1]
    assert "€30,000.00 over its envelope of €90,000.00" in messages[1]
    assert plan.plan_cells() == before
    assert not AllocationChange.objects.exists()
    scenario.refresh_from_db()
    assert scenario.promoted_at is None


def test_promotion_replaces_the_plan_records_the_trail_and_returns_changes_to_draft(plan):
    scenario = plan.scenario()
    plan.set(scenario, plan.checkout, plan.payments, "70.00")  # changed: 84,000.00 ...
    plan.set(scenario, plan.search, plan.payments, "10.00")  # ... + 6,000.00: exactly 90,000.00
    plan.set(scenario, plan.checkout, plan.growth, None)  # removed
    plan.set(scenario, plan.search, plan.growth, "90.00")  # created: Search at exactly 100 %
    plan.set(scenario, plan.checkout, plan.growth, "30.00")  # back as it is in the plan

    promoted = services.scenario_promote(
        actor=plan.actor, scenario=scenario, reason="  Fund the payments rebuild  "
    )

    assert plan.plan_cells() == {
        ("Checkout", "Payments"): (P("70.00"), AllocationStatus.DRAFT, 2),
        ("Checkout", "Growth"): (P("30.00"), AllocationStatus.APPROVED, 1),  # unchanged
        ("Search", "Payments"): (P("10.00"), AllocationStatus.DRAFT, 2),
        ("Search", "Growth"): (P("90.00"), AllocationStatus.DRAFT, 1),
    }
    trail = {
        (c.team.name, c.value_stream.name): c
        for c in AllocationChange.objects.select_related("team", "value_stream")
    }
    assert set(trail) == {
        ("Checkout", "Payments"),
        ("Search", "Payments"),
        ("Search", "Growth"),
    }
    assert all(c.action == AllocationChange.Action.PROMOTED for c in trail.values())
    assert all(c.actor == plan.actor for c in trail.values())
    assert all(c.reason == "Fund the payments rebuild" for c in trail.values())
    changed = trail[("Checkout", "Payments")]
    assert (changed.percent_before, changed.status_before) == (P("50.00"), "approved")
    assert (changed.percent_after, changed.status_after) == (P("70.00"), "draft")
    assert changed.allocation is not None
    created = trail[("Search", "Growth")]
    assert (created.percent_before, created.status_before) == (None, "")
    assert (created.percent_after, created.status_after) == (P("90.00"), "draft")
    assert promoted.promoted_by == plan.actor
    assert promoted.promotion_reason == "Fund the payments rebuild"
    assert promoted.promoted_at is not None


def test_promotion_removing_cells_records_them(plan):
    scenario = plan.scenario()
    plan.set(scenario, plan.search, plan.payments, None)
    services.scenario_promote(actor=plan.actor, scenario=scenario, reason="Search pauses")
    assert ("Search", "Payments") not in plan.plan_cells()
    removed = AllocationChange.objects.get()
    assert (removed.team, removed.value_stream, removed.allocation) == (
        plan.search,
        plan.payments,
        None,
    )
    assert (removed.percent_before, removed.status_before) == (P("40.00"), "approved")
    assert (removed.percent_after, removed.status_after) == (None, "")


def test_promotion_needs_a_reason_and_happens_once(plan):
    scenario = plan.scenario()
    plan.set(scenario, plan.search, plan.payments, "20.00")
    with pytest.raises(ValidationError) as refused:
        services.scenario_promote(actor=plan.actor, scenario=scenario, reason="  ")
    assert refused.value.message_dict["reason"] == ["Say why this scenario becomes the plan."]
    assert plan.plan_cells()[("Search", "Payments")][0] == P("40.00")

    services.scenario_promote(actor=plan.actor, scenario=scenario, reason="Agreed at the board")
    with pytest.raises(ValidationError, match="read-only"):
        services.scenario_promote(actor=plan.actor, scenario=scenario, reason="Again")
    with pytest.raises(ValidationError, match="read-only"):
        plan.set(scenario, plan.search, plan.payments, "30.00")
    # A promoted scenario may still be deleted: the trail keeps what it did.
    services.scenario_delete(actor=plan.actor, scenario=scenario)
    assert AllocationChange.objects.filter(action="promoted").count() == 1


def test_a_closed_period_refuses_every_scenario_write(plan):
    scenario = plan.scenario()
    FiscalPeriod.objects.filter(pk=plan.period.pk).update(status=FiscalPeriod.Status.CLOSED)
    plan.period.refresh_from_db()
    scenario.refresh_from_db()
    with pytest.raises(ValidationError, match="closed"):
        plan.scenario("Another")
    with pytest.raises(ValidationError, match="closed"):
        plan.set(scenario, plan.search, plan.growth, "10.00")
    with pytest.raises(ValidationError, match="closed"):
        services.scenario_promote(actor=plan.actor, scenario=scenario, reason="Too late")
    with pytest.raises(ValidationError, match="closed"):
        services.scenario_delete(actor=plan.actor, scenario=scenario)
    with pytest.raises(ValidationError, match="closed"):
        services.scenario_update(actor=plan.actor, scenario=scenario, name="Renamed")


def test_scenario_update_renames(plan):
    scenario = plan.scenario()
    services.scenario_update(
        actor=plan.actor, scenario=scenario, name=" Lean year ", description="Half the growth"
    )
    scenario.refresh_from_db()
    assert (scenario.name, scenario.description) == ("Lean year", "Half the growth")


def test_compare_reads_in_a_fixed_number_of_queries(plan, django_assert_num_queries):
    scenario = plan.scenario()
    with django_assert_num_queries(7):
        services.scenario_compare(scenario=scenario)
    for n in range(10):
        team = TeamFactory(name=f"Team {n}")
        ValueStreamFactory(name=f"Stream {n}")
        plan.set(scenario, team, plan.growth, "10.00")
    with django_assert_num_queries(7):
        comparison = services.scenario_compare(scenario=scenario)
    assert len(comparison.rows) == 12 and len(comparison.columns) == 12


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_promotion_and_a_concurrent_cell_edit_cannot_break_the_team_limit(plan):
    """The promotion takes Checkout to exactly 100 % and keeps its transaction open; a finance
    user giving Checkout 1 % more at the same moment, on another PostgreSQL connection, waits for
    the promotion's locks and is then refused."""
    loyalty = ValueStreamFactory(name="Loyalty")
    scenario = plan.scenario()
    plan.set(scenario, plan.checkout, plan.growth, "50.00")  # Checkout: 50 + 50 = 100 %
    promoted = threading.Event()
    results: dict[str, str] = {}

    def promote() -> None:
        try:
            with transaction.atomic():
                services.scenario_promote(actor=plan.actor, scenario=scenario, reason="Growth")
                promoted.set()
                threading.Event().wait(0.5)  # hold the locks while the other writer tries
            results["promotion"] = "saved"
        except ValidationError as error:
            results["promotion"] = " ".join(error.messages)
        finally:
            promoted.set()
            connections.close_all()

    def edit() -> None:
        promoted.wait(5)
        try:
            services.allocation_set_percent(
                actor=plan.actor,
                period=plan.period,
                team=plan.checkout,
                value_stream=loyalty,
                percent=P("1.00"),
            )
            results["edit"] = "saved"
        except ValidationError as error:
            results["edit"] = " ".join(error.messages)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=promote), threading.Thread(target=edit)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert results["promotion"] == "saved"
    assert "101.00 %" in results["edit"] and "over the 100 % limit" in results["edit"]
    assert services.team_allocated_percent(period=plan.period, team_id=plan.checkout.pk) == P(
        "100.00"
    )
