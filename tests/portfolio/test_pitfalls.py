"""Each pitfall signal and early warning on constructed data: fires, does not fire, and a value
exactly at its threshold does not fire; the query count of the signal list is pinned."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from funding.models import AllocationChange
from portfolio.models import PitfallRecord, PitfallThreshold, TransitionUnit
from portfolio.pitfalls import (
    PITFALLS,
    SPECS,
    WARNING_SPECS,
    Offender,
    Signal,
    early_warnings,
    last_complete_quarter,
    pitfall_signals,
    signals_by_value_stream,
)
from products.models import KeyResult, RoadmapItem
from tests.funding.factories import (
    AllocationFactory,
    EnvelopeFactory,
    FiscalPeriodFactory,
    RateFactory,
)
from tests.products.factories import (
    DisciplineFactory,
    KeyResultFactory,
    MeasurementFactory,
    OutcomeFactory,
    ProductFactory,
    RoadmapItemFactory,
    TeamFactory,
    TeamMembershipFactory,
    UserFactory,
)
from tests.valuestreams.factories import ValueStreamFactory
from valuestreams.flow.facts import refresh_facts
from valuestreams.models import FlowSnapshot, StatusChange, StatusMapping, WorkItem, WorkSource

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 6, 15)  # a Monday; the last complete quarter is Q1 2026
END_OF_TODAY = dt.datetime(2026, 6, 16, tzinfo=dt.UTC)


def signals(period=None, today=TODAY) -> dict[str, Signal]:
    return {s.key: s for s in pitfall_signals(period=period, today=today)}


def warnings(period=None, today=TODAY) -> dict[str, Signal]:
    return {s.key: s for s in early_warnings(period=period, today=today)}


def set_threshold(key: str, value) -> None:
    PitfallThreshold.objects.update_or_create(key=key, defaults={"threshold": Decimal(value)})


def healthy_product(**kwargs):
    """A product that no product-management or customer signal counts."""
    product = ProductFactory(owners=[UserFactory()], **kwargs)
    kr = KeyResultFactory(outcome=OutcomeFactory(product=product))
    MeasurementFactory(key_result=kr, date=TODAY - dt.timedelta(days=5))
    return product


# The interface.


def test_every_signal_is_listed_once_with_its_pitfall():
    result = pitfall_signals(today=TODAY)
    assert [s.key for s in result] == [spec.key for spec in SPECS]
    assert {s.pitfall for s in result} == {"project", "funding", "product_management", "customer"}
    assert all(s.pitfall in PITFALLS for s in result)
    assert all(s.rule and s.title and s.unit for s in result)
    assert [s.key for s in early_warnings(today=TODAY)] == [spec.key for spec in WARNING_SPECS]


def test_rule_names_the_threshold():
    set_threshold("pm.feature_factory", "30")
    assert "30 %" in signals()["pm.feature_factory"].rule
    assert "above 0 items" in signals()["project.end_dates"].rule


def test_signals_by_value_stream_lists_firing_signals_under_their_offenders_streams():
    firing = Signal(
        "a", "project", "A", "rule", 2, "items", 0, True, True,
        offenders=[Offender("x", "/x", value_stream_ids=frozenset({1, 2})), Offender("y", "/y")],
    )  # fmt: skip
    quiet = Signal(
        "b", "project", "B", "rule", 0, "items", 0, False, True,
        offenders=[Offender("z", "/z", value_stream_ids=frozenset({1}))],
    )  # fmt: skip
    assert signals_by_value_stream([firing, quiet]) == {1: [firing], 2: [firing]}


# Treating the transformation as a project.


def test_end_dates_fire_for_teams_and_products_ending_within_a_year():
    vs = ValueStreamFactory()
    product = ProductFactory(name="Ledger", planned_end=TODAY + dt.timedelta(days=365))
    vs.products.add(product)
    team = TeamFactory(name="Tiger", planned_end=TODAY + dt.timedelta(days=30), products=[product])
    TeamFactory(planned_end=TODAY + dt.timedelta(days=366))
    TeamFactory(planned_end=None)
    TeamFactory(planned_end=TODAY, archived_at=timezone.now())
    signal = signals()["project.end_dates"]
    assert signal.value == 2
    assert signal.firing and signal.enough_data and signal.status == "firing"
    assert [o.label for o in signal.offenders] == ["Team Tiger", "Product Ledger"]
    assert signal.offenders[0].url == team.get_absolute_url()
    assert signal.offenders[0].value_stream_ids == frozenset({vs.pk})
    assert signal.offenders[1].url == product.get_absolute_url()


def test_end_dates_do_not_fire_for_durable_teams():
    TeamFactory()
    ProductFactory()
    signal = signals()["project.end_dates"]
    assert signal.value == 0
    assert not signal.firing and signal.status == "ok"
    assert signal.offenders == []


def test_end_dates_exactly_at_threshold_do_not_fire():
    TeamFactory(planned_end=TODAY + dt.timedelta(days=10))
    TeamFactory(planned_end=TODAY + dt.timedelta(days=20))
    set_threshold("project.end_dates", 2)
    signal = signals()["project.end_dates"]
    assert (signal.value, signal.threshold, signal.firing) == (2, 2, False)
    TeamFactory(planned_end=TODAY)
    assert signals()["project.end_dates"].firing


def test_plan_end_fires_for_a_transition_plan_with_a_fixed_end():
    signal = signals()["project.plan_end"]
    assert (signal.value, signal.firing) == (0, False)
    TransitionUnit.objects.update_or_create(
        value_stream=None, defaults={"target_end": dt.date(2027, 12, 31)}
    )
    signal = signals()["project.plan_end"]
    assert (signal.value, signal.firing) == (1, True)
    assert signal.offenders[0].url == "/transition/organisation/"
    assert "31 Dec 2027" in signal.offenders[0].detail
    set_threshold("project.plan_end", 1)
    assert not signals()["project.plan_end"].firing


def test_milestone_outcomes_fire_for_outcomes_measuring_no_customer_or_business_change():
    product = ProductFactory(name="Ledger")
    bare = OutcomeFactory(product=product, statement="Ship release 2", order=1)
    other = OutcomeFactory(product=product, statement="Migrate to the cloud", order=2)
    KeyResultFactory(outcome=other, kind=KeyResult.Kind.OTHER, customer_facing=False)
    KeyResultFactory(
        outcome=OutcomeFactory(product=product, order=3),
        kind=KeyResult.Kind.REVENUE,
        customer_facing=False,
    )
    KeyResultFactory(
        outcome=OutcomeFactory(product=product, order=4),
        kind=KeyResult.Kind.OTHER,
        customer_facing=True,
    )
    OutcomeFactory(product=product, archived_at=timezone.now())
    signal = signals()["project.milestone_outcomes"]
    assert signal.value == 2 and signal.firing
    assert [o.url for o in signal.offenders] == [
        f"{product.get_absolute_url()}#outcome-{bare.pk}",
        f"{product.get_absolute_url()}#outcome-{other.pk}",
    ]
    assert signal.offenders[0].detail == "no key result"
    set_threshold("project.milestone_outcomes", 2)
    assert not signals()["project.milestone_outcomes"].firing


def test_milestone_outcomes_do_not_fire_for_outcome_key_results():
    KeyResultFactory(kind=KeyResult.Kind.NPS)
    signal = signals()["project.milestone_outcomes"]
    assert (signal.value, signal.firing) == (0, False)


# Legacy funding and governance.


@pytest.fixture
def funded():
    """A period with one value stream's envelope of 120,000 and a team costing 120,000."""
    period = FiscalPeriodFactory(start=dt.date(2026, 1, 1), end=dt.date(2026, 12, 31))
    engineer = DisciplineFactory(name="Engineer", slug="engineer")
    RateFactory(period=period, discipline=engineer, annual_cost=Decimal("120000.00"))
    team = TeamFactory(name="Tiger")
    TeamMembershipFactory(team=team, person__discipline=engineer, start_date=dt.date(2025, 1, 1))
    vs = ValueStreamFactory(name="Payments")
    EnvelopeFactory(period=period, value_stream=vs, amount=Decimal("120000.00"))
    return period, team, vs


@pytest.mark.parametrize(
    ("percent", "value", "firing"),
    [("70.00", Decimal("30.0"), True), ("80.00", Decimal("20.0"), False), ("100", 0, False)],
)
def test_unallocated_budget_against_the_default_threshold(funded, percent, value, firing):
    period, team, vs = funded
    AllocationFactory(period=period, team=team, value_stream=vs, percent=Decimal(percent))
    signal = signals(period)["funding.unallocated_budget"]
    assert signal.value == value
    assert signal.threshold == Decimal(20)
    assert signal.firing is firing
    assert [o.label for o in signal.offenders] == (["Payments"] if value else [])
    if value:
        assert signal.offenders[0].url == f"/funding/periods/{period.pk}/allocations/"


def test_unallocated_budget_needs_envelopes():
    period = FiscalPeriodFactory()
    signal = signals(period)["funding.unallocated_budget"]
    assert signal.value is None and not signal.enough_data and signal.status == "no_data"
    assert not signal.firing


def test_funding_signals_without_any_period_say_so():
    result = signals()
    for key in (
        "funding.unallocated_budget",
        "funding.no_envelope",
        "funding.unchanged_allocations",
    ):
        assert result[key].enough_data is False
        assert result[key].value is None


def test_no_envelope_fires_for_a_value_stream_funded_without_one(funded):
    period, team, _vs = funded
    bare = ValueStreamFactory(name="Reporting")
    AllocationFactory(period=period, team=team, value_stream=bare, percent=Decimal("10"))
    AllocationFactory(period=period, team=team, value_stream=ValueStreamFactory(), percent=0)
    signal = signals(period)["funding.no_envelope"]
    assert (signal.value, signal.firing) == (1, True)
    assert signal.offenders[0].label == "Reporting"
    assert signal.offenders[0].url == f"/funding/periods/{period.pk}/"
    assert signal.offenders[0].value_stream_ids == frozenset({bare.pk})
    set_threshold("funding.no_envelope", 1)
    assert not signals(period)["funding.no_envelope"].firing


def test_no_envelope_does_not_fire_when_every_funded_stream_has_one(funded):
    period, team, vs = funded
    AllocationFactory(period=period, team=team, value_stream=vs, percent=Decimal("50"))
    signal = signals(period)["funding.no_envelope"]
    assert (signal.value, signal.firing) == (0, False)


def _off_track(vs):
    product = ProductFactory()
    vs.products.add(product)
    KeyResultFactory(outcome=OutcomeFactory(product=product), status=KeyResult.Status.OFF_TRACK)


def _change(allocation, at, before, after, action="changed"):
    AllocationChange.objects.create(
        period=allocation.period,
        allocation=allocation,
        team=allocation.team,
        value_stream=allocation.value_stream,
        action=action,
        percent_before=before,
        percent_after=after,
        at=at,
    )


def test_unchanged_allocations_fire_when_a_year_old_and_outcomes_off_track(funded):
    period, team, vs = funded
    _off_track(vs)
    long_ago = END_OF_TODAY - dt.timedelta(days=400)
    allocation = AllocationFactory(
        period=period, team=team, value_stream=vs, percent=Decimal("50"), created_at=long_ago
    )
    _change(allocation, long_ago, None, Decimal("50"), action="created")
    # Approving does not change the percent, so it does not count as a change.
    _change(allocation, END_OF_TODAY - dt.timedelta(days=3), Decimal("50"), Decimal("50"))
    signal = signals(period)["funding.unchanged_allocations"]
    assert (signal.value, signal.firing) == (1, True)
    assert signal.offenders[0].label == "Tiger → Payments"
    assert signal.offenders[0].url == f"/funding/periods/{period.pk}/teams/{team.slug}/history/"
    set_threshold("funding.unchanged_allocations", 1)
    assert not signals(period)["funding.unchanged_allocations"].firing


def test_unchanged_allocations_fall_back_to_the_allocations_creation(funded):
    period, team, vs = funded
    _off_track(vs)
    AllocationFactory(
        period=period,
        team=team,
        value_stream=vs,
        created_at=END_OF_TODAY - dt.timedelta(days=366),
    )
    assert signals(period)["funding.unchanged_allocations"].value == 1


def test_unchanged_allocations_do_not_fire_after_a_recent_change(funded):
    period, team, vs = funded
    _off_track(vs)
    allocation = AllocationFactory(
        period=period,
        team=team,
        value_stream=vs,
        created_at=END_OF_TODAY - dt.timedelta(days=400),
    )
    _change(allocation, END_OF_TODAY - dt.timedelta(days=364), Decimal("40"), Decimal("50"))
    assert signals(period)["funding.unchanged_allocations"].value == 0


def test_unchanged_allocations_do_not_fire_while_outcomes_are_on_track(funded):
    period, team, vs = funded
    product = ProductFactory()
    vs.products.add(product)
    KeyResultFactory(outcome=OutcomeFactory(product=product), status=KeyResult.Status.AT_RISK)
    AllocationFactory(
        period=period,
        team=team,
        value_stream=vs,
        created_at=END_OF_TODAY - dt.timedelta(days=800),
    )
    assert signals(period)["funding.unchanged_allocations"].value == 0


# Weak product management.


def test_products_without_an_owner():
    healthy_product()
    vs = ValueStreamFactory()
    orphan = ProductFactory(name="Orphan")
    vs.products.add(orphan)
    signal = signals()["pm.no_owner"]
    assert (signal.value, signal.firing) == (1, True)
    assert signal.offenders[0].url == orphan.get_absolute_url()
    assert signal.offenders[0].value_stream_ids == frozenset({vs.pk})
    set_threshold("pm.no_owner", 1)
    assert not signals()["pm.no_owner"].firing


def test_products_with_owners_do_not_fire():
    healthy_product()
    ProductFactory(archived_at=timezone.now())
    assert signals()["pm.no_owner"].value == 0
    assert not signals()["pm.no_owner"].firing


def test_products_without_a_key_result():
    healthy_product()
    bare = ProductFactory(name="Bare", owners=[UserFactory()])
    archived_only = ProductFactory(name="Archived outcome", owners=[UserFactory()])
    KeyResultFactory(outcome=OutcomeFactory(product=archived_only, archived_at=timezone.now()))
    signal = signals()["pm.no_key_result"]
    assert [o.label for o in signal.offenders] == ["Archived outcome", "Bare"]
    assert signal.offenders[1].url == bare.get_absolute_url() + "#outcomes"
    assert signal.firing
    # Not counted again as "not measured".
    assert signals()["pm.no_measurement"].value == 0
    set_threshold("pm.no_key_result", 2)
    assert not signals()["pm.no_key_result"].firing


@pytest.mark.parametrize(("days_ago", "counted"), [(59, False), (60, True), (200, True)])
def test_products_without_a_measurement_in_60_days(days_ago, counted):
    product = ProductFactory(owners=[UserFactory()])
    kr = KeyResultFactory(outcome=OutcomeFactory(product=product))
    MeasurementFactory(key_result=kr, date=TODAY - dt.timedelta(days=days_ago))
    signal = signals()["pm.no_measurement"]
    assert signal.value == int(counted)
    assert signal.firing is counted


def test_feature_factory_share_of_open_roadmap_items_without_a_key_result():
    product = healthy_product()
    kr = product.key_results.get()
    for _ in range(3):
        RoadmapItemFactory(product=product, key_results=[kr])
    lonely = RoadmapItemFactory(product=product, title="Dark mode")
    RoadmapItemFactory(product=product, horizon=RoadmapItem.Horizon.DONE)
    signal = signals()["pm.feature_factory"]
    # 1 of 4 open items: exactly the default threshold of 25 %, so it does not fire.
    assert (signal.value, signal.threshold, signal.firing) == (Decimal("25.0"), Decimal(25), False)
    assert signal.offenders[0].url == f"{product.get_absolute_url()}#roadmap-item-{lonely.pk}"
    RoadmapItemFactory(product=product, horizon=RoadmapItem.Horizon.LATER)
    signal = signals()["pm.feature_factory"]
    assert (signal.value, signal.firing) == (Decimal("40.0"), True)


def test_feature_factory_without_open_items_has_no_data():
    RoadmapItemFactory(horizon=RoadmapItem.Horizon.DONE)
    signal = signals()["pm.feature_factory"]
    assert signal.value is None and not signal.enough_data and not signal.firing


# Losing sight of the customer.


@pytest.mark.parametrize(
    ("customer_facing", "days_ago", "counted"),
    [(True, 89, False), (True, 90, True), (False, 1, True)],
)
def test_no_customer_facing_key_result_measured_in_90_days(customer_facing, days_ago, counted):
    product = ProductFactory(owners=[UserFactory()])
    kr = KeyResultFactory(outcome=OutcomeFactory(product=product), customer_facing=customer_facing)
    MeasurementFactory(key_result=kr, date=TODAY - dt.timedelta(days=days_ago))
    signal = signals()["customer.no_measure"]
    assert signal.value == int(counted)
    assert signal.firing is counted
    if counted:
        set_threshold("customer.no_measure", 1)
        assert not signals()["customer.no_measure"].firing


def _month(vs, start, velocity, distribution):
    FlowSnapshot.objects.create(
        value_stream=vs,
        window=FlowSnapshot.Window.MONTH,
        window_start=start,
        velocity=velocity,
        distribution=distribution,
        computed_at=timezone.now(),
    )


def test_last_complete_quarter():
    assert last_complete_quarter(dt.date(2026, 6, 15)) == (dt.date(2026, 1, 1), dt.date(2026, 4, 1))
    assert last_complete_quarter(dt.date(2026, 1, 1)) == (dt.date(2025, 10, 1), dt.date(2026, 1, 1))
    assert last_complete_quarter(dt.date(2026, 12, 31)) == (
        dt.date(2026, 7, 1),
        dt.date(2026, 10, 1),
    )


def test_a_quarter_without_debt_or_risk_work_fires():
    vs = ValueStreamFactory(name="Payments")
    for month in (1, 2, 3):
        _month(vs, dt.date(2026, month, 1), 5, {"feature": 80.0, "defect": 20.0})
    # Outside the quarter: does not rescue it.
    _month(vs, dt.date(2026, 4, 1), 5, {"debt": 100.0})
    balanced = ValueStreamFactory(name="Lending")
    _month(balanced, dt.date(2026, 2, 1), 4, {"feature": 75.0, "risk": 25.0})
    signal = signals()["customer.no_debt_risk"]
    assert (signal.value, signal.firing) == (1, True)
    assert signal.offenders[0].label == "Payments"
    assert signal.offenders[0].url == f"/value-streams/{vs.slug}/flow/"
    assert "15 items completed in Q1 2026" in signal.offenders[0].detail
    set_threshold("customer.no_debt_risk", 1)
    assert not signals()["customer.no_debt_risk"].firing


def test_a_quarter_without_completed_work_has_no_data():
    _month(ValueStreamFactory(), dt.date(2026, 2, 1), 0, {})
    signal = signals()["customer.no_debt_risk"]
    assert signal.value is None and not signal.enough_data


# Early warnings.


@pytest.fixture
def tracker():
    return WorkSource.objects.create(name="Tracker", slug="tracker")


def _item(source, product, key, changes):
    item = WorkItem.objects.create(
        source=source, key=key, product=product, title=f"Item {key}", created_at=changes[0][1]
    )
    for status, at in changes:
        StatusChange.objects.create(item=item, to_status=status, at=at)
    refresh_facts(item_ids=[item.pk], products=[product.pk])  # as an ingest does
    return item


def _p85(product, days, start=dt.date(2026, 5, 1)):
    FlowSnapshot.objects.create(
        product=product,
        window=FlowSnapshot.Window.MONTH,
        window_start=start,
        velocity=6,
        flow_time_p85_days=Decimal(days),
        computed_at=timezone.now(),
    )


def test_ageing_work_lists_items_older_than_their_products_85th_percentile(tracker):
    product = ProductFactory(name="Ledger")
    _p85(product, "3.000", start=dt.date(2026, 4, 1))
    _p85(product, "10.000")  # the latest month wins
    ago = lambda days: END_OF_TODAY - dt.timedelta(days=days)  # noqa: E731
    old = _item(tracker, product, "L-1", [("To Do", ago(30)), ("In Progress", ago(20))])
    blocked = _item(tracker, product, "L-2", [("In Progress", ago(15)), ("Blocked", ago(2))])
    _item(tracker, product, "L-3", [("In Progress", ago(9))])  # younger than 10 days
    _item(tracker, product, "L-4", [("In Progress", ago(10))])  # exactly the 85th percentile
    _item(tracker, product, "L-5", [("In Progress", ago(40)), ("Done", ago(1))])
    _item(tracker, product, "L-6", [("To Do", ago(50))])  # never started
    _item(tracker, ProductFactory(), "X-1", [("In Progress", ago(50))])  # no snapshot
    signal = warnings()["warning.ageing"]
    assert signal.pitfall == "warning"
    assert (signal.value, signal.firing) == (2, True)
    assert [o.label for o in signal.offenders] == ["L-1 Item L-1", "L-2 Item L-2"]
    assert signal.offenders[0].url == f"/value-streams/flow/product/{product.slug}/"
    assert "in progress 20.0 d" in signal.offenders[0].detail
    assert "10.0 d" in signal.offenders[0].detail
    assert {old.pk, blocked.pk}
    set_threshold("warning.ageing", 2)
    assert not warnings()["warning.ageing"].firing


def test_ageing_work_maps_statuses_through_the_products_value_stream(tracker):
    product = ProductFactory()
    vs = ValueStreamFactory()
    vs.products.add(product)
    StatusMapping.objects.create(value_stream=vs, status_name="Peer check", category="waiting")
    StatusMapping.objects.create(value_stream=vs, status_name="In Progress", category="backlog")
    _p85(product, "1.000")
    ago = lambda days: END_OF_TODAY - dt.timedelta(days=days)  # noqa: E731
    # "In Progress" is backlog in this value stream: the start is the move into "Peer check".
    _item(tracker, product, "P-1", [("In Progress", ago(9)), ("Peer check", ago(5))])
    _item(tracker, product, "P-2", [("In Progress", ago(9))])
    signal = warnings()["warning.ageing"]
    assert [o.label for o in signal.offenders] == ["P-1 Item P-1"]
    assert "in progress 5.0 d" in signal.offenders[0].detail
    assert signal.offenders[0].value_stream_ids == frozenset({vs.pk})


def test_ageing_work_does_not_fire_without_old_items(tracker):
    product = ProductFactory()
    _p85(product, "30.000")
    _item(tracker, product, "L-1", [("In Progress", END_OF_TODAY - dt.timedelta(days=3))])
    signal = warnings()["warning.ageing"]
    assert (signal.value, signal.firing, signal.offenders) == (0, False, [])


def test_ageing_work_is_one_query(tracker):
    from portfolio.pitfalls import ageing_work

    product = ProductFactory()
    _p85(product, "1.000")
    for n in range(5):
        _item(tracker, product, f"A-{n}", [("In Progress", END_OF_TODAY - dt.timedelta(days=4))])
    with CaptureQueriesContext(connection) as ctx:
        rows = ageing_work(today=TODAY, now=END_OF_TODAY)
    assert len(ctx.captured_queries) == 1
    assert len(rows) == 5


def _week(vs, start, load, velocity):
    FlowSnapshot.objects.create(
        value_stream=vs,
        window=FlowSnapshot.Window.WEEK,
        window_start=start,
        velocity=velocity,
        flow_load_end=load,
        computed_at=timezone.now(),
    )


WEEKS = [dt.date(2026, 5, 11) + dt.timedelta(weeks=n) for n in range(5)]


@pytest.mark.parametrize(
    ("loads", "velocities", "counted"),
    [
        ([3, 4, 5, 6, 7], [5, 6, 4, 5, 5], True),  # load up four weeks running, velocity flat
        ([3, 4, 5, 6, 7], [5, 5, 5, 5, 6], False),  # velocity rose too
        ([3, 4, 4, 6, 7], [5, 5, 5, 5, 5], False),  # one week without a rise
    ],
)
def test_flow_load_rising_while_velocity_does_not(loads, velocities, counted):
    vs = ValueStreamFactory(name="Payments")
    for start, load, velocity in zip(WEEKS, loads, velocities, strict=True):
        _week(vs, start, load, velocity)
    _week(vs, dt.date(2026, 6, 15), 0, 0)  # this week is not complete: ignored
    signal = warnings()["warning.flow_load"]
    assert signal.value == int(counted)
    assert signal.firing is counted
    if counted:
        assert signal.offenders[0].url == f"/value-streams/{vs.slug}/flow/"
        assert signal.offenders[0].detail.startswith("flow load 3 → 7")
        set_threshold("warning.flow_load", 1)
        assert not warnings()["warning.flow_load"].firing


def test_flow_load_needs_five_complete_weeks():
    vs = ValueStreamFactory()
    for start in WEEKS[1:]:
        _week(vs, start, 1, 1)
    signal = warnings()["warning.flow_load"]
    assert signal.value is None and not signal.enough_data


def test_teams_spread_over_more_than_two_value_streams():
    period = FiscalPeriodFactory(start=dt.date(2026, 1, 1), end=dt.date(2026, 12, 31))
    spread = TeamFactory(name="Spread")
    focused = TeamFactory(name="Focused")
    streams = [ValueStreamFactory(name=f"VS {n}") for n in range(3)]
    for vs in streams:
        AllocationFactory(period=period, team=spread, value_stream=vs, percent=Decimal("30"))
    for vs in streams[:2]:
        AllocationFactory(period=period, team=focused, value_stream=vs, percent=Decimal("40"))
    AllocationFactory(period=period, team=focused, value_stream=ValueStreamFactory(), percent=0)
    signal = warnings(period)["warning.spread_teams"]
    assert (signal.value, signal.firing) == (1, True)
    offender = signal.offenders[0]
    assert offender.label == "Team Spread"
    assert offender.url == f"/funding/periods/{period.pk}/teams/{spread.slug}/history/"
    assert offender.value_stream_ids == frozenset(vs.pk for vs in streams)
    assert offender.detail == "allocated to 3 value streams: VS 0, VS 1, VS 2"
    set_threshold("warning.spread_teams", 1)
    assert not warnings(period)["warning.spread_teams"].firing


# Trend.


def test_trend_is_the_last_eight_weeks_of_records_oldest_first():
    for days_ago, value in ((56, 9), (55, 3), (7, 2), (0, 1)):
        PitfallRecord.objects.create(
            key="pm.no_owner", day=TODAY - dt.timedelta(days=days_ago), value=Decimal(value)
        )
    PitfallRecord.objects.create(key="pm.no_owner", day=TODAY + dt.timedelta(days=1), value=5)
    trend = signals()["pm.no_owner"].trend
    assert trend == [
        (TODAY - dt.timedelta(days=55), Decimal(3)),
        (TODAY - dt.timedelta(days=7), Decimal(2)),
        (TODAY, Decimal(1)),
    ]
    assert signals()["pm.no_key_result"].trend == []


# Query counts: constant whatever the size of the portfolio.


def _portfolio(n: int, period, tracker) -> None:
    """n of everything, each lighting its signal."""
    engineer = DisciplineFactory(name="Engineer", slug="engineer")
    RateFactory(period=period, discipline=engineer, annual_cost=Decimal("100000"))
    for i in range(n):
        vs = ValueStreamFactory()
        bare_vs = ValueStreamFactory()
        product = ProductFactory(planned_end=TODAY)
        vs.products.add(product)
        team = TeamFactory(planned_end=TODAY, products=[product])
        TeamMembershipFactory(team=team, person__discipline=engineer)
        EnvelopeFactory(period=period, value_stream=vs, amount=Decimal("500000"))
        outcome = OutcomeFactory(product=product)
        KeyResultFactory(
            outcome=outcome,
            kind=KeyResult.Kind.OTHER,
            customer_facing=False,
            status=KeyResult.Status.OFF_TRACK,
        )
        vs.products.add(ProductFactory())
        RoadmapItemFactory(product=product)
        for target in (vs, bare_vs, ValueStreamFactory()):
            AllocationFactory(
                period=period,
                team=team,
                value_stream=target,
                percent=Decimal("20"),
                created_at=END_OF_TODAY - dt.timedelta(days=500),
            )
        _p85(product, "1.000")
        _item(tracker, product, f"Q-{i}", [("In Progress", END_OF_TODAY - dt.timedelta(days=5))])
        for month in (1, 2, 3):
            _month(vs, dt.date(2026, month, 1), 3, {"feature": 100.0})
        for start, load in zip(WEEKS, range(5), strict=True):
            _week(vs, start, load, 1)
    TransitionUnit.objects.update_or_create(
        value_stream=None, defaults={"target_end": dt.date(2027, 1, 1)}
    )
    PitfallRecord.objects.create(key="pm.no_owner", day=TODAY, value=n)


PITFALL_QUERIES = 19
WARNING_QUERIES = 6


@pytest.mark.parametrize("n", [1, 10])
def test_pitfall_signals_query_count_is_constant(n, tracker, django_assert_num_queries):
    period = FiscalPeriodFactory(start=dt.date(2026, 1, 1), end=dt.date(2026, 12, 31))
    _portfolio(n, period, tracker)
    with django_assert_num_queries(PITFALL_QUERIES):
        result = {s.key: s for s in pitfall_signals(period=period, today=TODAY)}
    assert all(s.firing for s in result.values()), [k for k, s in result.items() if not s.firing]
    assert result["pm.no_owner"].value == 2 * n
    with django_assert_num_queries(WARNING_QUERIES):
        found = {s.key: s for s in early_warnings(period=period, today=TODAY)}
    assert all(s.firing for s in found.values()), [k for k, s in found.items() if not s.firing]
    assert found["warning.ageing"].value == n
