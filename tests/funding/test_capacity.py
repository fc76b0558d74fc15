"""Team capacity cost to the cent on hand-computed cases (DESIGN.md, "Funding")."""

import datetime
from decimal import Decimal

import pytest

from funding.capacity import line_cost, overlap_days, team_capacities, team_capacity, to_cents
from tests.funding.factories import FiscalPeriodFactory, RateFactory
from tests.products.factories import (
    DisciplineFactory,
    PersonFactory,
    TeamFactory,
    TeamMembershipFactory,
)

D = datetime.date


def test_rounding_is_half_up_not_bankers():
    assert to_cents(Decimal("1234.565")) == Decimal("1234.57")
    assert to_cents(Decimal("1234.575")) == Decimal("1234.58")
    assert to_cents(Decimal("1234.5649")) == Decimal("1234.56")


def test_overlap_days_counts_both_ends():
    assert overlap_days(D(2030, 1, 1), None, D(2030, 1, 1), D(2030, 12, 31)) == 365
    assert overlap_days(D(2030, 7, 1), None, D(2030, 1, 1), D(2030, 12, 31)) == 184
    assert overlap_days(D(2029, 6, 1), D(2030, 1, 1), D(2030, 1, 1), D(2030, 12, 31)) == 1
    assert overlap_days(D(2029, 6, 1), D(2029, 12, 31), D(2030, 1, 1), D(2030, 12, 31)) == 0


@pytest.mark.django_db
class TestTeamCapacity:
    def setup_period(self):
        period = FiscalPeriodFactory(name="FY", start=D(2030, 1, 1), end=D(2030, 12, 31))
        engineer = DisciplineFactory(name="Engineer", slug="engineer")
        RateFactory(period=period, discipline=engineer, annual_cost=Decimal("120000.00"))
        return period, engineer

    def test_full_year_full_time_costs_the_annual_rate(self):
        period, engineer = self.setup_period()
        team = TeamFactory()
        TeamMembershipFactory(team=team, person=PersonFactory(discipline=engineer), fte=1)
        assert team_capacity(period=period, team_id=team.pk).cost == Decimal("120000.00")

    def test_leap_year_has_366_days_over_365(self):
        period = FiscalPeriodFactory(name="FY28", start=D(2028, 1, 1), end=D(2028, 12, 31))
        designer = DisciplineFactory(name="Designer", slug="designer")
        RateFactory(period=period, discipline=designer, annual_cost=Decimal("100000.00"))
        team = TeamFactory()
        TeamMembershipFactory(team=team, person=PersonFactory(discipline=designer), fte=1)
        capacity = team_capacity(period=period, team_id=team.pk)
        # 100000 x 366 / 365 = 100273.9726...
        assert capacity.lines[0].days == 366
        assert capacity.cost == Decimal("100273.97")

    def test_pro_rated_part_time_membership(self):
        period, engineer = self.setup_period()
        team = TeamFactory()
        TeamMembershipFactory(
            team=team,
            person=PersonFactory(discipline=engineer),
            fte=Decimal("0.50"),
            start_date=D(2030, 7, 1),
        )
        # 0.5 x 120000 x 184 / 365 = 30246.5753...
        line = team_capacity(period=period, team_id=team.pk).lines[0]
        assert line.days == 184
        assert line.cost == Decimal("30246.58")

    def test_line_rounds_half_up_at_the_cent(self):
        # 0.5 x 12345.65 x 73 / 365 = 1234.565 exactly: half-up gives .57, half-even .56.
        assert line_cost(fte=Decimal("0.5"), annual_rate=Decimal("12345.65"), days=73) == Decimal(
            "1234.57"
        )
        period = FiscalPeriodFactory(name="FYR", start=D(2030, 1, 1), end=D(2030, 12, 31))
        analyst = DisciplineFactory(name="Analyst", slug="analyst")
        RateFactory(period=period, discipline=analyst, annual_cost=Decimal("12345.65"))
        team = TeamFactory()
        TeamMembershipFactory(
            team=team,
            person=PersonFactory(discipline=analyst),
            fte=Decimal("0.50"),
            start_date=D(2030, 1, 1),
            end_date=D(2030, 3, 14),
        )
        capacity = team_capacity(period=period, team_id=team.pk)
        assert capacity.lines[0].days == 73
        assert capacity.cost == Decimal("1234.57")

    def test_lines_are_rounded_before_they_are_summed(self):
        # Two lines of 1234.565 each: 2469.14 (rounded lines), not 2469.13 from the raw sum.
        period = FiscalPeriodFactory(name="FYS", start=D(2030, 1, 1), end=D(2030, 12, 31))
        analyst = DisciplineFactory(name="Analyst", slug="analyst")
        RateFactory(period=period, discipline=analyst, annual_cost=Decimal("12345.65"))
        team = TeamFactory()
        for _ in range(2):
            TeamMembershipFactory(
                team=team,
                person=PersonFactory(discipline=analyst),
                fte=Decimal("0.50"),
                start_date=D(2030, 1, 1),
                end_date=D(2030, 3, 14),
            )
        assert team_capacity(period=period, team_id=team.pk).cost == Decimal("2469.14")

    def test_member_without_rate_is_reported_not_priced_as_zero(self):
        period, engineer = self.setup_period()
        coach = DisciplineFactory(name="Agile coach", slug="coach")
        team = TeamFactory()
        TeamMembershipFactory(team=team, person=PersonFactory(discipline=engineer), fte=1)
        TeamMembershipFactory(
            team=team, person=PersonFactory(name="Cora Coach", discipline=coach), fte=1
        )
        capacity = team_capacity(period=period, team_id=team.pk)
        assert capacity.cost == Decimal("120000.00")
        assert not capacity.complete
        assert [line.person_name for line in capacity.unpriced] == ["Cora Coach"]
        assert capacity.unpriced[0].cost is None

    def test_memberships_outside_the_period_do_not_count(self):
        period, engineer = self.setup_period()
        team = TeamFactory()
        TeamMembershipFactory(
            team=team,
            person=PersonFactory(discipline=engineer),
            start_date=D(2029, 1, 1),
            end_date=D(2029, 12, 31),
        )
        TeamMembershipFactory(
            team=team, person=PersonFactory(discipline=engineer), start_date=D(2031, 1, 1)
        )
        capacity = team_capacity(period=period, team_id=team.pk)
        assert capacity.lines == []
        assert capacity.cost == Decimal("0.00")

    def test_many_teams_in_two_queries(self, django_assert_num_queries):
        period, engineer = self.setup_period()
        teams = [TeamFactory() for _ in range(5)]
        for team in teams:
            TeamMembershipFactory(team=team, person=PersonFactory(discipline=engineer))
        with django_assert_num_queries(2):
            capacities = team_capacities(period=period, team_ids=[t.pk for t in teams])
        assert {c.cost for c in capacities.values()} == {Decimal("120000.00")}
        assert capacities[teams[0].pk].average_fte == Decimal("1.00")
