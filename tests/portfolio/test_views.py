"""Sign-in, sign-out, the home page and the API token page."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from portfolio import pitfalls
from tests.conftest import ROLES
from tests.products.factories import ProductFactory, TeamFactory, TeamMembershipFactory

pytestmark = pytest.mark.django_db


def test_sign_in_with_the_form_lands_on_home(client, portfolio_manager):
    response = client.post(
        "/accounts/login/", {"username": "pm", "password": "pass-for-tests-1"}, follow=True
    )
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == "/"
    assert b"Paula Manager" in response.content
    assert b"Portfolio manager" in response.content  # the role beside the name


def test_wrong_password_says_so_and_signs_nobody_in(client, portfolio_manager):
    response = client.post("/accounts/login/", {"username": "pm", "password": "nope"})
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content
    assert "_auth_user_id" not in client.session


def test_sign_in_is_throttled_after_repeated_failures(client, portfolio_manager, settings):
    settings.AXES_ENABLED = True
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "pm", "password": "wrong"})
    response = client.post("/accounts/login/", {"username": "pm", "password": "pass-for-tests-1"})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_sign_out_needs_post_and_ends_the_session(pm_client):
    assert pm_client.get("/accounts/logout/").status_code == 405
    response = pm_client.post("/accounts/logout/")
    assert response.status_code == 302
    assert pm_client.get("/").status_code == 302


@pytest.mark.parametrize("role_user", ROLES, indirect=True)
def test_home_for_every_role(client, role_user):
    client.force_login(role_user)
    ProductFactory.create_batch(3)
    team = TeamFactory()
    TeamMembershipFactory(team=team)
    # A product owner lands on My products; ?overview=1 shows them this page.
    is_owner = role_user.groups.filter(name="product_owner").exists()
    response = client.get("/", {"overview": "1"} if is_owner else {})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-figure="products">3<' in html
    assert 'data-figure="teams">1<' in html
    assert "1 FTE in teams today" in html


def test_home_query_count_does_not_grow(client, portfolio_manager, django_assert_num_queries):
    # The home page is the CIO dashboard (tests/portfolio/test_dashboard.py pins it with a fiscal
    # period). Without one: session, user, groups, periods, 4 registry counts, value streams, key
    # results per value stream and in total, flow snapshots, organisation unit; plus the pitfall
    # signals' own constant count.
    client.force_login(portfolio_manager)
    ProductFactory.create_batch(2)
    with CaptureQueriesContext(connection) as pitfall_queries:
        pitfalls.pitfall_signals()
    expected = 13 + len(pitfall_queries)
    with django_assert_num_queries(expected):
        client.get("/")
    ProductFactory.create_batch(20)
    TeamMembershipFactory.create_batch(5)
    with django_assert_num_queries(expected):
        client.get("/")


def test_token_page_creates_and_replaces_a_token(exec_client, executive):
    response = exec_client.get("/accounts/token/")
    assert b"You have no API token yet" in response.content
    exec_client.post("/accounts/token/")
    first = Token.objects.get(user=executive).key
    assert first in exec_client.get("/accounts/token/").content.decode()
    exec_client.post("/accounts/token/")
    second = Token.objects.get(user=executive).key
    assert second != first
    assert Token.objects.filter(user=executive).count() == 1


def test_token_page_needs_sign_in(client):
    response = client.get("/accounts/token/")
    assert response.status_code == 302
    assert Token.objects.count() == 0
