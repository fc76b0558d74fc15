"""The pitfalls page, its lazy early-warnings fragment, the in-place threshold edit, and the
pitfalls API: every role reads; executives and portfolio managers set thresholds (others 403)."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from portfolio.models import PitfallRecord, PitfallThreshold
from tests.conftest import ROLES
from tests.funding.factories import AllocationFactory, FiscalPeriodFactory
from tests.products.factories import ProductFactory, TeamFactory
from tests.valuestreams.factories import ValueStreamFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
TUNERS = ["executive", "portfolio_manager"]
NOT_TUNERS = ["product_owner", "finance"]
PAGE = "/pitfalls/"
WARNINGS = "/pitfalls/warnings/"
API = "/api/v1/portfolio/pitfalls/"
THRESHOLDS = "/api/v1/portfolio/pitfall-thresholds/"


def threshold_url(key: str) -> str:
    return f"/pitfalls/thresholds/{key}/"


@pytest.fixture
def orphan():
    return ProductFactory(name="Orphan product")


# The page.


@pytest.mark.parametrize("role_user", ROLES, indirect=True)
def test_every_role_reads_the_page(client, role_user, orphan):
    client.force_login(role_user)
    response = client.get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    for name in (
        "Treating the transformation as a project",
        "Legacy funding and governance",
        "Weak product-management capability",
        "Losing sight of the customer",
        "Early warnings from flow",
    ):
        assert name in html
    assert 'id="signal-pm-no_owner"' in html
    assert f'href="{orphan.get_absolute_url()}" data-offender>Orphan product</a>' in html
    assert "no history yet" in html
    assert f'hx-get="{WARNINGS}' in html
    can_tune = role_user.groups.filter(name__in=TUNERS).exists()
    assert ('action="/pitfalls/thresholds/pm.no_owner/' in html) is can_tune


def test_page_shows_status_value_threshold_and_sparkline(exec_client, orphan):
    today = timezone.localdate()
    for days_ago, value in ((14, 3), (7, 2), (0, 1)):
        PitfallRecord.objects.create(
            key="pm.no_owner", day=today - dt.timedelta(days=days_ago), value=value
        )
    html = exec_client.get(PAGE).content.decode()
    card = html.split('id="signal-pm-no_owner"')[1].split("</article>")[0]
    assert 'data-status="firing">Firing</span>' in card
    assert '<dd class="num" data-figure="value">1 product</dd>' in card
    assert "above 0 products fires" in card
    assert '<svg class="sparkline" role="img"' in card
    assert "<polyline" in card and "3 records" in card
    assert "Active products with no named product owner" in card


def test_page_without_data_says_too_little(exec_client):
    html = exec_client.get(PAGE).content.decode()
    card = html.split('id="signal-funding-unallocated_budget"')[1].split("</article>")[0]
    assert 'data-status="no_data">Too little data</span>' in card
    assert "too little data to say" in card


def test_page_filters_by_period(exec_client):
    period = FiscalPeriodFactory(name="FY2040")
    team = TeamFactory()
    vs = ValueStreamFactory(name="Reporting")
    AllocationFactory(period=period, team=team, value_stream=vs, percent=Decimal("10"))
    FiscalPeriodFactory(name="FY2041", status="active")
    html = exec_client.get(PAGE, {"period": period.pk}).content.decode()
    card = html.split('id="signal-funding-no_envelope"')[1].split("</article>")[0]
    assert "Reporting" in card
    assert f'<option value="{period.pk}" selected>FY2040</option>' in html
    other = exec_client.get(PAGE).content.decode()
    assert (
        "Reporting" not in other.split('id="signal-funding-no_envelope"')[1].split("</article>")[0]
    )
    assert exec_client.get(PAGE, {"period": 99999}).status_code == 404
    assert exec_client.get(PAGE, {"period": "x"}).status_code == 404


def test_page_refuses_anonymous(client):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def _page_queries(n, client, django_assert_num_queries, expected):
    period = FiscalPeriodFactory(status="active")
    for _ in range(n):
        team = TeamFactory(planned_end=timezone.localdate())
        product = ProductFactory(planned_end=timezone.localdate())
        team.products.add(product)
        AllocationFactory(period=period, team=team)
    with django_assert_num_queries(expected):
        response = client.get(PAGE)
    assert response.status_code == 200
    card = response.content.decode().split('id="signal-project-end_dates"')[1]
    assert card.split("</article>")[0].count("data-offender") == 2 * n


PAGE_QUERIES = 25


@pytest.mark.parametrize("n", [2, 20])
def test_page_query_count_is_constant(n, exec_client, django_assert_num_queries):
    _page_queries(n, exec_client, django_assert_num_queries, PAGE_QUERIES)


# The early warnings fragment.


@pytest.mark.parametrize("role_user", ROLES, indirect=True)
def test_warnings_fragment_for_every_role(client, role_user):
    client.force_login(role_user)
    fragment = client.get(WARNINGS, headers=HTMX)
    assert fragment.status_code == 200
    html = fragment.content.decode()
    assert "<html" not in html
    assert 'id="signal-warning-ageing"' in html
    assert 'id="signal-warning-spread_teams"' in html
    assert fragment["Vary"] and "HX-Request" in fragment["Vary"]
    page = client.get(WARNINGS)
    assert page.status_code == 200
    assert "<html" in page.content.decode() and "Early warnings from flow" in page.content.decode()


def test_warnings_list_a_team_spread_thin(exec_client):
    period = FiscalPeriodFactory(status="active")
    team = TeamFactory(name="Spread")
    for n in range(3):
        AllocationFactory(period=period, team=team, value_stream=ValueStreamFactory(name=f"S{n}"))
    html = exec_client.get(WARNINGS, headers=HTMX).content.decode()
    card = html.split('id="signal-warning-spread_teams"')[1].split("</article>")[0]
    assert "Team Spread" in card and 'data-status="firing"' in card


WARNING_QUERIES = 12


@pytest.mark.parametrize("n", [2, 20])
def test_warnings_query_count_is_constant(n, exec_client, django_assert_num_queries):
    period = FiscalPeriodFactory(status="active")
    for _ in range(n):
        team = TeamFactory()
        for _ in range(3):
            AllocationFactory(period=period, team=team)
    with django_assert_num_queries(WARNING_QUERIES):
        response = exec_client.get(WARNINGS, headers=HTMX)
    assert response.content.decode().count("data-offender") == n


# Editing a threshold in place.


@pytest.mark.parametrize("role", TUNERS)
def test_tuners_set_a_threshold_in_place(client, make_user, role, orphan):
    client.force_login(make_user(f"t-{role}", role))
    response = client.post(
        threshold_url("pm.no_owner"), {"pm-no_owner-threshold": "1"}, headers=HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith("{#") is False
    assert 'id="signal-pm-no_owner"' in html and "<html" not in html
    assert 'data-status="ok">Within threshold</span>' in html
    assert "Saved." in html
    assert PitfallThreshold.objects.get(key="pm.no_owner").threshold == Decimal("1.00")


def test_threshold_without_htmx_redirects_to_the_signal(pm_client):
    response = pm_client.post(
        threshold_url("pm.feature_factory"), {"pm-feature_factory-threshold": "40"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/pitfalls/#signal-pm-feature_factory"
    assert PitfallThreshold.objects.get(key="pm.feature_factory").threshold == Decimal("40.00")


def test_threshold_errors_show_beside_the_field(exec_client):
    response = exec_client.post(
        threshold_url("pm.no_owner"), {"pm-no_owner-threshold": "1.5"}, headers=HTMX
    )
    assert response.status_code == 200
    assert re.search(
        r'class="field-error" role="alert">Count products in whole numbers',
        response.content.decode(),
    )
    response = exec_client.post(
        threshold_url("pm.feature_factory"), {"pm-feature_factory-threshold": "-3"}
    )
    assert response.status_code == 200
    assert "field-error" in response.content.decode()
    assert not PitfallThreshold.objects.exists()


def test_threshold_of_an_early_warning(exec_client):
    response = exec_client.post(
        threshold_url("warning.ageing"), {"warning-ageing-threshold": "5"}, headers=HTMX
    )
    assert response.status_code == 200
    assert 'id="signal-warning-ageing"' in response.content.decode()


@pytest.mark.parametrize("role", NOT_TUNERS)
def test_other_roles_may_not_set_thresholds(client, make_user, role):
    client.force_login(make_user(f"n-{role}", role))
    for headers in ({}, HTMX):
        response = client.post(
            threshold_url("pm.no_owner"), {"pm-no_owner-threshold": "3"}, headers=headers
        )
        assert response.status_code == 403
    assert not PitfallThreshold.objects.exists()


def test_threshold_of_an_unknown_signal_is_404_and_get_is_refused(exec_client):
    assert exec_client.post(threshold_url("nope"), {"nope-threshold": "1"}).status_code == 404
    assert exec_client.get(threshold_url("pm.no_owner")).status_code == 405


# The API.


@pytest.mark.parametrize("role_user", ROLES, indirect=True)
def test_api_lists_every_signal_for_every_role(api_as, role_user, orphan):
    response = api_as(role_user).get(API)
    assert response.status_code == 200
    data = response.json()
    assert data["period"] is None
    assert [p["key"] for p in data["pitfalls"]] == [
        "project",
        "funding",
        "product_management",
        "customer",
        "warning",
    ]
    assert data["warnings"] is None
    owner = next(s for s in data["signals"] if s["key"] == "pm.no_owner")
    assert owner["value"] == 1
    assert owner["threshold"] == 0
    assert owner["firing"] is True and owner["status"] == "firing"
    assert owner["trend"] == []
    assert owner["offenders"] == [
        {
            "label": "Orphan product",
            "url": orphan.get_absolute_url(),
            "detail": "no product owner",
            "value_stream_ids": [],
        }
    ]
    budget = next(s for s in data["signals"] if s["key"] == "funding.unallocated_budget")
    assert budget["value"] is None and budget["status"] == "no_data"


def test_api_with_warnings_and_a_period(api_as, executive):
    period = FiscalPeriodFactory(name="FY2040")
    PitfallRecord.objects.create(key="pm.no_owner", day=timezone.localdate(), value=2)
    data = api_as(executive).get(API, {"period": period.pk, "warnings": "1"}).json()
    assert data["period"] == {"id": period.pk, "name": "FY2040"}
    assert [w["key"] for w in data["warnings"]] == [
        "warning.ageing",
        "warning.flow_load",
        "warning.spread_teams",
    ]
    owner = next(s for s in data["signals"] if s["key"] == "pm.no_owner")
    assert owner["trend"] == [{"day": timezone.localdate().isoformat(), "value": 2.0}]


def test_api_refuses_anonymous_and_unknown_periods(api_client, api_as, executive):
    assert api_client.get(API).status_code in (401, 403)
    client = api_as(executive)
    assert client.get(API, {"period": 99999}).status_code == 404
    assert client.get(API, {"period": "x"}).status_code == 400


API_QUERIES = 19


@pytest.mark.parametrize("n", [2, 20])
def test_api_query_count_is_constant(n, api_as, executive, django_assert_num_queries):
    client = api_as(executive)
    for _ in range(n):
        ProductFactory()
    with django_assert_num_queries(API_QUERIES):
        assert client.get(API).status_code == 200


@pytest.mark.parametrize("role_user", ROLES, indirect=True)
def test_api_thresholds_read_by_every_role(api_as, role_user):
    data = api_as(role_user).get(THRESHOLDS).json()
    row = next(r for r in data if r["key"] == "funding.unallocated_budget")
    assert row["threshold"] == 20 and row["default"] == 20 and row["unit"] == "%"
    assert row["updated_by"] is None
    one = api_as(role_user).get(f"{THRESHOLDS}pm.no_owner/")
    assert one.status_code == 200 and one.json()["threshold"] == 0


@pytest.mark.parametrize("role", TUNERS)
def test_api_tuners_patch_a_threshold(api_as, make_user, role):
    user = make_user(f"a-{role}", role)
    response = api_as(user).patch(f"{THRESHOLDS}pm.no_owner/", {"threshold": 2}, format="json")
    assert response.status_code == 200
    assert response.json()["threshold"] == 2
    assert response.json()["updated_by"]["username"] == user.username
    assert PitfallThreshold.objects.get(key="pm.no_owner").updated_by == user


@pytest.mark.parametrize("role", NOT_TUNERS)
def test_api_other_roles_may_not_patch(api_as, make_user, role):
    client = api_as(make_user(f"b-{role}", role))
    response = client.patch(f"{THRESHOLDS}pm.no_owner/", {"threshold": 2}, format="json")
    assert response.status_code == 403
    assert not PitfallThreshold.objects.exists()


def test_api_patch_validation(api_as, executive):
    client = api_as(executive)
    response = client.patch(f"{THRESHOLDS}pm.no_owner/", {"threshold": "1.5"}, format="json")
    assert response.status_code == 400
    assert "whole numbers" in response.json()["threshold"][0]
    response = client.patch(f"{THRESHOLDS}pm.no_owner/", {"threshold": -1}, format="json")
    assert response.status_code == 400 and "threshold" in response.json()
    assert client.patch(f"{THRESHOLDS}nope/", {"threshold": 1}, format="json").status_code == 404
    assert not PitfallThreshold.objects.exists()


# The planned end of teams and products (a sign of project thinking), in the registry's forms and API.


def test_team_form_sets_a_planned_end_and_the_signal_counts_it(pm_client):
    team = TeamFactory(name="Tiger", slug="tiger")
    end = timezone.localdate() + dt.timedelta(days=90)
    form = pm_client.get(f"/teams/{team.slug}/edit/").content.decode()
    assert 'name="planned_end"' in form and "sign of project thinking" in form
    response = pm_client.post(
        f"/teams/{team.slug}/edit/",
        {
            "name": "Tiger",
            "slug": "tiger",
            "formed_on": "2024-01-01",
            "planned_end": end.isoformat(),
        },
    )
    assert response.status_code == 302
    team.refresh_from_db()
    assert team.planned_end == end
    html = pm_client.get(PAGE).content.decode()
    card = html.split('id="signal-project-end_dates"')[1].split("</article>")[0]
    assert f'href="{team.get_absolute_url()}" data-offender>Team Tiger</a>' in card


def test_api_reads_and_writes_planned_end(api_as, portfolio_manager):
    client = api_as(portfolio_manager)
    product = ProductFactory()
    response = client.patch(
        f"/api/v1/products/{product.pk}/", {"planned_end": "2027-03-31"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["planned_end"] == "2027-03-31"
    team = TeamFactory()
    response = client.patch(f"/api/v1/teams/{team.pk}/", {"planned_end": None}, format="json")
    assert response.status_code == 200 and response.json()["planned_end"] is None
