"""The funding area's first page: the capacity of durable teams today."""

import datetime
from decimal import Decimal

import pytest

from tests.conftest import ROLES
from tests.products.factories import PersonFactory, TeamFactory, TeamMembershipFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role_user", ROLES, indirect=True)
def test_funding_index_shows_each_teams_capacity_today(client, role_user):
    client.force_login(role_user)
    team = TeamFactory(name="Payments core")
    TeamMembershipFactory(team=team, fte=Decimal("1"))
    TeamMembershipFactory(team=team, fte=Decimal("0.5"))
    # Ended last year: not capacity today.
    TeamMembershipFactory(
        team=team,
        fte=Decimal("1"),
        start_date=datetime.date(2020, 1, 1),
        end_date=datetime.date(2021, 1, 1),
    )
    response = client.get("/funding/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Payments core" in html
    assert '<td class="num">2</td><td class="num">1.5</td>' in html


def test_funding_index_query_count_is_constant(client, finance_user, django_assert_num_queries):
    client.force_login(finance_user)
    person = PersonFactory()
    for _ in range(2):
        TeamMembershipFactory(
            team=TeamFactory(), person=PersonFactory(discipline=person.discipline)
        )
    with django_assert_num_queries(5):
        client.get("/funding/")
    for _ in range(18):
        TeamMembershipFactory(
            team=TeamFactory(), person=PersonFactory(discipline=person.discipline)
        )
    with django_assert_num_queries(5):
        client.get("/funding/")
