"""The capacity tab: every team's capacity in a period, and one team's person by person."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from funding.models import FiscalPeriod
from tests.conftest import ROLES
from tests.funding.factories import FiscalPeriodFactory, RateFactory
from tests.products.factories import (
    DisciplineFactory,
    PersonFactory,
    TeamFactory,
    TeamMembershipFactory,
)

pytestmark = pytest.mark.django_db


def capacity_url(period):
    return reverse("funding:capacity", args=[period.pk])


def team_url(period, team):
    return reverse("funding:team_capacity", args=[period.pk, team.slug])


@pytest.fixture
def period():
    return FiscalPeriodFactory(
        name="FY2030", start=datetime.date(2030, 1, 1), end=datetime.date(2030, 12, 31)
    )


@pytest.fixture
def team(period):
    """Alice full time all year and Bob half time from July (engineers at 120,000 a year);
    Carol, a designer, has no rate on the card."""
    engineer = DisciplineFactory(name="Engineer", slug="engineer")
    designer = DisciplineFactory(name="Designer", slug="designer")
    RateFactory(period=period, discipline=engineer, annual_cost=Decimal("120000.00"))
    team = TeamFactory(name="Payments core", slug="payments-core")
    TeamMembershipFactory(team=team, person=PersonFactory(name="Alice Ames", discipline=engineer))
    TeamMembershipFactory(
        team=team,
        person=PersonFactory(name="Bob Brown", discipline=engineer),
        fte=Decimal("0.50"),
        start_date=datetime.date(2030, 7, 1),
    )
    TeamMembershipFactory(team=team, person=PersonFactory(name="Carol Cole", discipline=designer))
    return team


@pytest.mark.parametrize("role_user", ROLES, indirect=True)
def test_capacity_page_for_every_role(client, role_user, period, team):
    client.force_login(role_user)
    response = client.get(capacity_url(period))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'aria-current="page">Capacity' in html
    row = html.split('id="capacity-payments-core"')[1].split("</tr>")[0]
    # 120,000.00 + 0.5 x 120,000 x 184 / 365 = 30,246.58; Carol is left out, not priced as zero.
    assert "€150,247" in row
    assert '<span class="badge badge-warn">Incomplete</span>' in row
    assert 'Carol Cole <span class="muted">(Designer)</span>' in row
    # FTE averaged over the period: (365 + 0.5 x 184 + 365) / 365 = 2.25
    assert '<td class="num">2.25</td>' in row
    assert "1 team with incomplete capacity:" in html
    assert "1 member without a rate" in html
    assert team_url(period, team) in html
    # Finance is pointed at the missing rates; the others are not offered that write.
    assert ("Set the missing rates" in html) == (role_user.username == "user-finance")


def test_a_team_with_every_member_priced_is_not_flagged(exec_client, period):
    engineer = DisciplineFactory(name="Engineer", slug="engineer")
    RateFactory(period=period, discipline=engineer, annual_cost=Decimal("73000.00"))
    TeamMembershipFactory(team=TeamFactory(slug="solo"), person=PersonFactory(discipline=engineer))
    html = exec_client.get(capacity_url(period)).content.decode()
    assert "incomplete capacity" not in html
    assert "€73,000" in html


def test_capacity_lists_teams_without_members_in_the_period(exec_client, period):
    TeamFactory(name="Newcomers", slug="newcomers")
    html = exec_client.get(capacity_url(period)).content.decode()
    assert "Newcomers" in html
    assert "No members in the period" in html


def test_capacity_sorts_by_any_figure_both_ways(exec_client, period, team):
    TeamFactory(name="Newcomers", slug="newcomers")  # no members: cost 0
    TeamFactory(name="Archivists", slug="archivists")  # no members either: ties by name

    def order(ordering: str) -> list[str]:
        response = exec_client.get(capacity_url(period), {"ordering": ordering})
        return [row.team.name for row in response.context["rows"]]

    assert order("") == ["Archivists", "Newcomers", "Payments core"]
    assert order("-cost") == ["Payments core", "Archivists", "Newcomers"]
    assert order("cost") == ["Archivists", "Newcomers", "Payments core"]
    assert order("-members") == ["Payments core", "Archivists", "Newcomers"]
    assert order("-unpriced")[0] == "Payments core"
    assert order("-name") == ["Payments core", "Newcomers", "Archivists"]
    assert order("nonsense") == order("")
    html = exec_client.get(capacity_url(period), {"ordering": "-cost"}).content.decode()
    assert 'href="?ordering=cost" class="sort" data-sort="descending"' in html


def test_capacity_empty_state(exec_client, period):
    html = exec_client.get(capacity_url(period)).content.decode()
    assert "No teams yet" in html


def test_a_closed_periods_capacity_is_read_only(finance_client, period, team):
    period.status = FiscalPeriod.Status.CLOSED
    period.save()
    html = finance_client.get(capacity_url(period)).content.decode()
    assert "FY2030 is closed: its figures are final and read-only." in html
    assert "Set the missing rates" not in html
    assert reverse("funding:period_edit", args=[period.pk]) not in html
    html = finance_client.get(team_url(period, team)).content.decode()
    assert "FY2030 is closed: its figures are final and read-only." in html
    assert "Set the missing rates" not in html


def test_capacity_query_count_is_constant(exec_client, django_assert_num_queries, period):
    engineer = DisciplineFactory(name="Engineer", slug="engineer")
    designer = DisciplineFactory(name="Designer", slug="designer")
    RateFactory(period=period, discipline=engineer)

    def grow(n):
        for _ in range(n):
            team = TeamFactory()
            TeamMembershipFactory(team=team, person=PersonFactory(discipline=engineer))
            TeamMembershipFactory(team=team, person=PersonFactory(discipline=designer))

    grow(2)
    # session, user, period; rates, memberships, teams; the user's roles, the user's and
    # groups' permissions
    with django_assert_num_queries(9):
        exec_client.get(capacity_url(period))
    grow(18)
    with django_assert_num_queries(9):
        exec_client.get(capacity_url(period))


# --- One team -----------------------------------------------------------------------------


@pytest.mark.parametrize("role_user", ROLES, indirect=True)
def test_team_capacity_person_by_person(client, role_user, period, team):
    client.force_login(role_user)
    response = client.get(team_url(period, team))
    assert response.status_code == 200
    html = response.content.decode()
    bob = html.split("Bob Brown</a>")[1].split("</tr>")[0]
    assert "<td>Engineer</td>" in bob
    assert '<td class="num">0.5</td>' in bob
    assert '<td class="num">€120,000.00</td>' in bob
    assert '<td class="num">184</td>' in bob
    assert '<td class="num">€30,246.58</td>' in bob
    assert '1 Jul 2030 to <span class="muted">open</span>' in bob
    carol = html.split("Carol Cole</a>")[1].split("</tr>")[0]
    assert '<span class="badge badge-warn">No rate</span>' in carol
    assert "Not priced" in carol
    assert 'data-figure="cost">€150,246.58' in html
    assert 'data-figure="fte">2.25<' in html
    assert "Carol Cole (Designer) has no rate" in html
    assert "3 (2 priced, 1 without a rate)" in html


def test_team_capacity_of_an_unknown_team_is_404(exec_client, period):
    assert (
        exec_client.get(reverse("funding:team_capacity", args=[period.pk, "nope"])).status_code
        == 404
    )
    assert exec_client.get(reverse("funding:team_capacity", args=[999, "nope"])).status_code == 404


def test_team_capacity_without_members(exec_client, period):
    team = TeamFactory(name="Newcomers", slug="newcomers")
    html = exec_client.get(team_url(period, team)).content.decode()
    assert "Newcomers has no members in FY2030" in html


def test_team_capacity_query_count_is_constant(exec_client, django_assert_num_queries, period):
    engineer = DisciplineFactory(name="Engineer", slug="engineer")
    RateFactory(period=period, discipline=engineer)
    team = TeamFactory(slug="big")

    def grow(n):
        for _ in range(n):
            TeamMembershipFactory(team=team, person=PersonFactory(discipline=engineer))

    grow(2)
    # session, user, period, team; rates, memberships; the user's roles and permissions
    with django_assert_num_queries(9):
        exec_client.get(team_url(period, team))
    grow(18)
    with django_assert_num_queries(9):
        exec_client.get(team_url(period, team))
