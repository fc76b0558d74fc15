"""The funding demo: periods, rate cards, envelopes, an approved plan inside both limits with its
trail, a year of actuals and a scenario; a second run writes nothing."""

import datetime
import hashlib
from collections import Counter
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from funding import services
from funding.capacity import team_capacities
from funding.demo import month_start, seed_funding
from funding.models import (
    Actual,
    Allocation,
    AllocationChange,
    Envelope,
    FiscalPeriod,
    Rate,
    Scenario,
)
from funding.selectors import allocation_matrix
from products.demo import seed_products
from products.models import Person, Team
from tests.conftest import ensure_roles
from valuestreams.demo import seed_value_streams
from valuestreams.models import ValueStream

pytestmark = pytest.mark.django_db


@pytest.fixture
def organisation(db):
    """The demo's people, teams, products and value streams (not its outcomes, maps or work)."""
    ensure_roles()
    users = get_user_model().objects
    pm = users.create_user("pm")
    po = users.create_user("po")
    finance = users.create_user("finance", first_name="Fiona", last_name="Clarke")
    seed_products(actor=pm, product_owner=po, owner_group=Group.objects.get(name="product_owner"))
    seed_value_streams(actor=pm)
    return finance


@pytest.fixture
def seeded(organisation):
    seed_funding(actor=organisation)
    return organisation


def funding_fingerprint() -> str:
    digest = hashlib.sha256()
    for model in apps.get_app_config("funding").get_models():
        fields = model._meta.concrete_fields
        for row in model._default_manager.order_by("pk"):
            digest.update(repr([f.value_from_object(row) for f in fields]).encode())
    return digest.hexdigest()


def test_periods_rates_and_envelopes(seeded):
    year = timezone.localdate().year
    current = FiscalPeriod.objects.get(name=f"FY{year}")
    planning = FiscalPeriod.objects.get(name=f"FY{year + 1}")
    assert (current.status, current.start, current.end) == (
        "active",
        datetime.date(year, 1, 1),
        datetime.date(year, 12, 31),
    )
    assert planning.status == "planning"
    used = set(Person.objects.values_list("discipline_id", flat=True))
    for period in (current, planning):
        assert (
            set(Rate.objects.filter(period=period).values_list("discipline_id", flat=True)) == used
        )
        assert Envelope.objects.filter(period=period).count() == ValueStream.objects.count()
    engineer = Rate.objects.get(period=current, discipline__slug="engineer").annual_cost
    assert Decimal("80000") < engineer < Decimal("150000")
    assert Rate.objects.get(period=planning, discipline__slug="engineer").annual_cost > engineer
    guarded = Envelope.objects.filter(period=current, min_debt_risk_percent__isnull=False)
    assert 1 <= guarded.count() < ValueStream.objects.count()
    # Every team is fully priced: no member without a rate.
    assert all(c.complete for c in team_capacities(period=current).values())


def test_the_current_plan_is_approved_and_inside_both_limits(seeded):
    current = FiscalPeriod.objects.get(status="active")
    matrix = allocation_matrix(period=current)
    assert matrix.status == "approved"
    assert set(Allocation.objects.filter(period=current).values_list("status", flat=True)) == {
        "approved"
    }
    percents = {row.team.slug: row.allocated_percent for row in matrix.rows}
    assert len(percents) == Team.objects.count()
    assert all(p <= 100 for p in percents.values())
    partly = [slug for slug, p in percents.items() if p < 100]
    assert 2 <= len(partly) <= 4
    assert all(p > 0 for p in percents.values())
    for column in matrix.columns:
        assert column.envelope is not None
        assert Decimal("0") < column.unfunded < column.envelope.amount / 5, column.value_stream
    # The limits the services check agree.
    for row in matrix.rows:
        assert (
            services.check_team_limit(period=current, team=row.team, total=row.allocated_percent)
            is None
        )


def test_the_approval_trail_is_dated_before_the_year_began(seeded):
    current = FiscalPeriod.objects.get(status="active")
    trail = AllocationChange.objects.filter(period=current)
    cells = Allocation.objects.filter(period=current).count()
    assert Counter(trail.values_list("action", flat=True)) == {
        "created": cells,
        "proposed": cells,
        "approved": cells,
    }
    assert set(trail.values_list("actor__username", flat=True)) == {"finance"}
    start = datetime.datetime.combine(current.start, datetime.time(), tzinfo=datetime.UTC)
    firsts = {
        action: trail.filter(action=action).values_list("at", flat=True).first()
        for action in ("created", "proposed", "approved")
    }
    assert firsts["created"] < firsts["proposed"] < firsts["approved"] < start


def test_a_year_of_monthly_actuals_around_the_capacity_cost(seeded):
    anchor = timezone.localdate().replace(day=1)
    current = FiscalPeriod.objects.get(status="active")
    costs = {t: c.cost for t, c in team_capacities(period=current).items()}
    months = sorted(set(Actual.objects.values_list("month", flat=True)))
    assert months == [month_start(anchor, -n) for n in range(12, 0, -1)]
    assert Actual.objects.count() == 12 * Team.objects.count()
    for actual in Actual.objects.all():
        monthly = costs[actual.team_id] / 12
        assert monthly * Decimal("0.88") <= actual.amount <= monthly * Decimal("1.10")
    assert len(set(Actual.objects.values_list("amount", flat=True))) > 100  # it varies


def test_a_scenario_in_the_planning_period(seeded):
    planning = FiscalPeriod.objects.get(status="planning")
    scenario = Scenario.objects.get(period=planning)
    assert scenario.name == "Grow lending"
    assert scenario.created_by.username == "finance"
    assert scenario.cells.count() >= Team.objects.count()
    comparison = services.scenario_compare(scenario=scenario)
    lending = next(c for c in comparison.columns if c.value_stream.slug == "lending")
    assert lending.scenario_amount > 0
    assert all(row.scenario_percent <= 100 for row in comparison.rows)


def test_a_second_run_writes_nothing(seeded):
    before = funding_fingerprint()
    stats = seed_funding(actor=seeded)
    assert funding_fingerprint() == before
    assert not any(stats.created.values()) and not any(stats.updated.values())
    assert stats.unchanged["actuals"] == 12 * Team.objects.count()
    assert not stats.skipped


def test_a_run_next_year_closes_this_year_and_activates_the_next(seeded):
    year = timezone.localdate().year
    months_before = set(Actual.objects.values_list("month", flat=True))
    new_months = {datetime.date(year, m, 1) for m in range(1, 13)} - months_before
    stats = seed_funding(actor=seeded, today=datetime.date(year + 1, 1, 15))
    assert FiscalPeriod.objects.get(name=f"FY{year}").status == "closed"
    assert FiscalPeriod.objects.get(name=f"FY{year + 1}").status == "active"
    assert FiscalPeriod.objects.get(name=f"FY{year + 2}").status == "planning"
    assert list(FiscalPeriod.objects.filter(status="active").values_list("name", flat=True)) == [
        f"FY{year + 1}"
    ]
    # Next year's plan is approved now, and the new month's actuals are there.
    assert allocation_matrix(period=FiscalPeriod.objects.get(status="active")).status == "approved"
    assert Actual.objects.filter(month=datetime.date(year, 12, 1)).count() == Team.objects.count()
    assert stats.created["actuals"] == len(new_months) * Team.objects.count()
    assert stats.updated["actuals"] == 0  # the months already there keep their figures
    assert not stats.skipped
