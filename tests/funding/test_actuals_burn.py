"""Burn of a team and of a value stream: plan spread by days, cumulative actual, run-rate
forecast and variance, on hand-computed figures; and the actuals grid's totals."""

import datetime
from decimal import Decimal

import pytest

from funding.actuals import actuals_grid, period_months, team_burn, value_stream_burn
from tests.funding.factories import (
    ActualFactory,
    AllocationFactory,
    FiscalPeriodFactory,
    RateFactory,
)
from tests.products.factories import TeamFactory, TeamMembershipFactory
from tests.valuestreams.factories import ValueStreamFactory

pytestmark = pytest.mark.django_db


def month(n: int) -> datetime.date:
    return datetime.date(2030, n, 1)


@pytest.fixture
def period():
    """FY2030: 365 days; engineers cost 120,000.00 a year."""
    period = FiscalPeriodFactory(
        name="FY2030", start=datetime.date(2030, 1, 1), end=datetime.date(2030, 12, 31)
    )
    RateFactory(period=period, annual_cost=Decimal("120000.00"))
    return period


def staffed_team(fte: str, **kwargs):
    team = TeamFactory(**kwargs)
    TeamMembershipFactory(team=team, fte=Decimal(fte))
    return team


def test_period_months_hold_the_periods_days():
    period = FiscalPeriodFactory(start=datetime.date(2030, 1, 15), end=datetime.date(2030, 3, 10))
    assert period_months(period) == [
        (datetime.date(2030, 1, 1), 17),
        (datetime.date(2030, 2, 1), 28),
        (datetime.date(2030, 3, 1), 10),
    ]


def test_team_burn_plan_actual_forecast_and_variance(period):
    team = staffed_team("1")  # capacity 1 x 120,000 x 365/365 = 120,000.00
    ActualFactory(team=team, month=month(1), amount=Decimal("9000.00"))
    ActualFactory(team=team, month=month(2), amount=Decimal("11000.00"))
    ActualFactory(team=team, month=month(3), amount=Decimal("13000.00"))
    ActualFactory(team=team, month=datetime.date(2029, 12, 1), amount=Decimal("99999"))  # before

    burn = team_burn(period=period, team=team)

    assert burn.plan == Decimal("120000.00")
    # 120,000 x 31/365, x 59/365, x 90/365, to the cent; the last month reaches the plan.
    cumulative = [m.plan_cumulative for m in burn.months]
    assert cumulative[:3] == [Decimal("10191.78"), Decimal("19397.26"), Decimal("29589.04")]
    assert cumulative[-1] == Decimal("120000.00")
    assert burn.months[1].plan == Decimal("9205.48")
    assert sum(m.plan for m in burn.months) == Decimal("120000.00")
    assert [m.actual_cumulative for m in burn.months[:4]] == [
        Decimal("9000.00"),
        Decimal("20000.00"),
        Decimal("33000.00"),
        None,
    ]
    assert burn.elapsed == 3
    assert burn.actual_to_date == Decimal("33000.00")
    assert burn.plan_to_date == Decimal("29589.04")
    assert burn.run_rate == Decimal("11000.00")
    assert burn.remaining_months == 9
    assert burn.forecast == Decimal("132000.00")  # 33,000 + 9 x 11,000
    assert burn.variance == Decimal("12000.00")
    assert burn.variance_percent == Decimal("10.0")
    assert burn.over
    # The forecast line starts at the last recorded month and reaches the forecast at the end.
    assert burn.months[1].forecast_cumulative is None
    assert burn.months[2].forecast_cumulative == Decimal("33000.00")
    assert burn.months[3].forecast_cumulative == Decimal("44000.00")
    assert burn.months[-1].forecast_cumulative == Decimal("132000.00")
    chart = burn.chart()
    assert chart["labels"][0] == "Jan 2030"
    assert [s["label"] for s in chart["series"]] == ["Plan", "Actual", "Forecast"]
    assert chart["series"][1]["data"][:4] == [9000.0, 20000.0, 33000.0, None]


def test_a_month_without_an_actual_before_the_latest_counts_as_nothing_spent(period):
    team = staffed_team("1")
    ActualFactory(team=team, month=month(1), amount=Decimal("9000.00"))
    ActualFactory(team=team, month=month(3), amount=Decimal("12000.00"))
    burn = team_burn(period=period, team=team)
    assert burn.months[1].recorded is False
    assert burn.months[1].actual == Decimal("0.00")
    assert burn.elapsed == 3
    assert burn.run_rate == Decimal("7000.00")
    assert burn.forecast == Decimal("84000.00")  # 21,000 + 9 x 7,000
    assert burn.variance == Decimal("-36000.00")
    assert not burn.over


def test_without_actuals_there_is_no_run_rate_forecast_or_variance(period):
    burn = team_burn(period=period, team=staffed_team("0.5"))
    assert burn.plan == Decimal("60000.00")
    assert not burn.has_actuals
    assert burn.actual_to_date == Decimal("0.00")
    assert burn.run_rate is burn.forecast is burn.variance is None
    assert all(m.actual_cumulative is None for m in burn.months)


def test_value_stream_burn_attributes_each_teams_actual_by_its_percent(period):
    stream = ValueStreamFactory(name="Payments")
    a = staffed_team("1", name="Alpha")  # 120,000.00
    b = staffed_team("0.5", name="Beta")  # 60,000.00
    AllocationFactory(period=period, team=a, value_stream=stream, percent=Decimal("50"))
    AllocationFactory(period=period, team=b, value_stream=stream, percent=Decimal("100"))
    other = ValueStreamFactory()
    AllocationFactory(period=period, team=a, value_stream=other, percent=Decimal("50"))
    ActualFactory(team=a, month=month(1), amount=Decimal("10000.00"))
    ActualFactory(team=b, month=month(1), amount=Decimal("5000.01"))
    ActualFactory(team=a, month=month(2), amount=Decimal("10001.00"))

    burn = value_stream_burn(period=period, value_stream=stream)

    assert burn.plan == Decimal("120000.00")  # 50 % of 120,000 + 100 % of 60,000
    # Jan: 5,000.00 + 5,000.01; Feb: 50 % of 10,001 = 5,000.50.
    assert [m.actual for m in burn.months[:2]] == [Decimal("10000.01"), Decimal("5000.50")]
    assert burn.actual_to_date == Decimal("15000.51")
    assert burn.run_rate == Decimal("7500.26")  # 7,500.255 half-up
    assert burn.forecast == Decimal("90003.11")  # 15,000.51 + 10 x 7,500.26
    assert burn.variance == Decimal("-29996.89")
    assert [(s.team.name, s.percent, s.allocated, s.actual) for s in burn.shares] == [
        ("Alpha", Decimal("50.00"), Decimal("60000.00"), Decimal("10000.50")),
        ("Beta", Decimal("100.00"), Decimal("60000.00"), Decimal("5000.01")),
    ]


def test_value_stream_burn_without_allocations_has_no_plan(period):
    burn = value_stream_burn(period=period, value_stream=ValueStreamFactory())
    assert burn.plan == Decimal("0.00")
    assert burn.shares == []
    assert burn.forecast is None


def test_burn_query_counts(period, django_assert_num_queries):
    stream = ValueStreamFactory()
    teams = [staffed_team("1") for _ in range(3)]
    for team in teams:
        AllocationFactory(period=period, team=team, value_stream=stream, percent=Decimal("10"))
        ActualFactory(team=team, month=month(1))
    with django_assert_num_queries(3):  # rates, memberships, actuals
        team_burn(period=period, team=teams[0])
    with django_assert_num_queries(4):  # allocations, rates, memberships, actuals
        value_stream_burn(period=period, value_stream=stream)


def test_actuals_grid_totals_per_team_and_month(period):
    a = TeamFactory(name="Alpha")
    b = TeamFactory(name="Beta")
    gone = TeamFactory(name="Gone", archived_at=datetime.datetime(2029, 1, 1, tzinfo=datetime.UTC))
    TeamFactory(name="Old", archived_at=datetime.datetime(2029, 1, 1, tzinfo=datetime.UTC))
    ActualFactory(team=a, month=month(1), amount=Decimal("100.00"))
    ActualFactory(team=a, month=month(2), amount=Decimal("50.00"))
    ActualFactory(team=b, month=month(1), amount=Decimal("25.25"))
    ActualFactory(team=gone, month=month(3), amount=Decimal("1.00"))
    ActualFactory(team=b, month=datetime.date(2031, 1, 1), amount=Decimal("999"))

    grid = actuals_grid(period=period)

    assert [r.team.name for r in grid.rows] == ["Alpha", "Beta", "Gone"]  # not "Old"
    assert len(grid.months) == 12
    assert grid.row(a.pk).total == Decimal("150.00")
    assert grid.row(b.pk).total == Decimal("25.25")
    assert grid.month_total(month(1)) == Decimal("125.25")
    assert grid.month_total(month(4)) is None  # nothing recorded: no total, not zero
    assert grid.total == Decimal("176.25")
    assert grid.row(a.pk).cells[2] == (month(3), None)
