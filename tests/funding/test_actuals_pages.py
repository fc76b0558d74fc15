"""Pages of actual spend: the grid (finance edits a cell in place; others read), the CSV import
page, the example file and the burn charts of a team and of a value stream."""

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from funding.models import Actual, FiscalPeriod
from tests.conftest import ROLES
from tests.funding.factories import (
    ActualFactory,
    AllocationFactory,
    FiscalPeriodFactory,
    RateFactory,
)
from tests.products.factories import TeamFactory, TeamMembershipFactory
from tests.valuestreams.factories import ValueStreamFactory

pytestmark = pytest.mark.django_db

NOT_FINANCE = [r for r in ROLES if r != "finance"]
HTMX = {"HX-Request": "true"}
JAN = datetime.date(2030, 1, 1)


@pytest.fixture
def period():
    period = FiscalPeriodFactory(
        name="FY2030",
        start=datetime.date(2030, 1, 1),
        end=datetime.date(2030, 12, 31),
        status=FiscalPeriod.Status.ACTIVE,
    )
    RateFactory(period=period, annual_cost=Decimal("120000.00"))
    return period


@pytest.fixture
def team():
    team = TeamFactory(name="Payments core", slug="payments-core")
    TeamMembershipFactory(team=team, fte=Decimal("1"))
    return team


def grid_url(period) -> str:
    return f"/funding/periods/{period.pk}/actuals/"


def cell_url(period, team, month="2030-01") -> str:
    return f"/funding/periods/{period.pk}/actuals/{team.slug}/{month}/"


# The grid.


@pytest.mark.parametrize("role_user", ROLES, indirect=True)
def test_every_role_reads_the_grid(client, role_user, period, team):
    client.force_login(role_user)
    ActualFactory(team=team, month=JAN, amount=Decimal("12345.67"))
    ActualFactory(team=team, month=datetime.date(2030, 2, 1), amount=Decimal("100.00"))
    response = client.get(grid_url(period))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Payments core" in html
    assert f'id="actual-total-team-{team.pk}" class="num total">€12,446</td>' in html
    assert 'id="actual-total-month-2030-01" class="num total">€12,346</td>' in html
    assert f'href="/funding/periods/{period.pk}/teams/payments-core/burn/"' in html
    editable = cell_url(period, team) in html
    assert editable == (role_user.username == "user-finance")
    assert ("Import a CSV" in html) == editable


def test_grid_links_the_burn_of_each_funded_value_stream(exec_client, period, team):
    stream = ValueStreamFactory(name="Payments", slug="payments")
    AllocationFactory(period=period, team=team, value_stream=stream)
    html = exec_client.get(grid_url(period)).content.decode()
    assert f'href="/funding/periods/{period.pk}/value-streams/payments/burn/"' in html


def test_a_closed_periods_grid_offers_no_edit(finance_client, period, team):
    period.status = FiscalPeriod.Status.CLOSED
    period.save()
    html = finance_client.get(grid_url(period)).content.decode()
    assert cell_url(period, team) not in html
    assert "Import a CSV" not in html


def test_grid_query_count_is_constant(finance_client, period, django_assert_num_queries):
    url = grid_url(period)
    for _ in range(2):
        ActualFactory(team=TeamFactory(), month=JAN)
    finance_client.get(url)
    # session, user, period, actuals, teams, value streams funded, user perms x2, groups
    with django_assert_num_queries(9) as first:
        finance_client.get(url)
    for _ in range(18):
        ActualFactory(team=TeamFactory(), month=datetime.date(2030, 3, 1))
    with django_assert_num_queries(len(first.captured_queries)):
        response = finance_client.get(url)
    assert response.content.decode().count('id="actuals-row-') == 20


def test_unknown_period_is_404(finance_client):
    assert finance_client.get("/funding/periods/999999/actuals/").status_code == 404


# Editing a cell.


def test_finance_opens_a_cell_in_place_and_as_a_page(finance_client, period, team):
    ActualFactory(team=team, month=JAN, amount=Decimal("12.50"))
    fragment = finance_client.get(cell_url(period, team), headers=HTMX)
    assert fragment.status_code == 200
    html = fragment.content.decode()
    assert html.startswith(f'<td id="actual-{team.pk}-2030-01"')
    assert 'value="12.50"' in html
    assert "<html" not in html
    page = finance_client.get(cell_url(period, team))
    assert page.status_code == 200
    assert "<html" in page.content.decode()
    assert 'value="12.50"' in page.content.decode()
    shown = finance_client.get(cell_url(period, team) + "?show=1", headers=HTMX)
    assert "€12.50" in shown.content.decode()
    assert "<form" not in shown.content.decode()


def test_finance_saves_a_cell_in_place_and_the_totals_follow(finance_client, period, team):
    other = TeamFactory(name="Other")
    ActualFactory(team=other, month=JAN, amount=Decimal("100.00"))
    response = finance_client.post(cell_url(period, team), {"amount": "1,000.50"}, headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert Actual.objects.get(team=team).amount == Decimal("1000.50")
    assert html.startswith(f'<td id="actual-{team.pk}-2030-01"')
    assert (
        f'<td id="actual-total-team-{team.pk}" class="num total" hx-swap-oob="true">€1,000.50'
        in html
    )
    # The month's and the period's totals count the other team too.
    assert (
        '<td id="actual-total-month-2030-01" class="num total" hx-swap-oob="true">€1,100.50' in html
    )
    assert '<td id="actual-total" class="num total" hx-swap-oob="true">€1,100.50' in html
    assert "Payments core, Jan 2030: actual saved." in html


def test_a_plain_post_saves_and_goes_back_to_the_grid(finance_client, period, team):
    response = finance_client.post(cell_url(period, team), {"amount": "250"}, follow=True)
    assert response.redirect_chain[-1][0] == grid_url(period)
    assert "Payments core, Jan 2030: actual saved." in response.content.decode()
    assert Actual.objects.get().amount == Decimal("250.00")


def test_an_empty_amount_removes_the_month(finance_client, period, team):
    ActualFactory(team=team, month=JAN, amount=Decimal("12.50"), note="kept?")
    response = finance_client.post(cell_url(period, team), {"amount": ""}, headers=HTMX)
    assert response.status_code == 200
    assert "actual removed" in response.content.decode()
    assert not Actual.objects.exists()


def test_a_bad_amount_shows_the_error_beside_the_field(finance_client, period, team):
    response = finance_client.post(cell_url(period, team), {"amount": "12,34"}, headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="field-error"' in html
    assert "Give an amount such as 12345.67" in html
    assert not Actual.objects.exists()


def test_a_closed_month_is_refused_beside_the_field(finance_client, period, team):
    period.status = FiscalPeriod.Status.CLOSED
    period.save()
    response = finance_client.post(cell_url(period, team), {"amount": "10"}, headers=HTMX)
    assert "FY2030, which is closed" in response.content.decode()
    assert not Actual.objects.exists()


def test_a_month_outside_the_period_is_404(finance_client, period, team):
    assert finance_client.get(cell_url(period, team, "2031-01")).status_code == 404
    assert finance_client.get(cell_url(period, team, "January")).status_code == 404


@pytest.mark.parametrize("role_user", NOT_FINANCE, indirect=True)
def test_other_roles_may_not_edit_a_cell(client, role_user, period, team):
    client.force_login(role_user)
    assert client.get(cell_url(period, team), headers=HTMX).status_code == 403
    assert client.post(cell_url(period, team), {"amount": "1"}, headers=HTMX).status_code == 403
    assert client.post(cell_url(period, team), {"amount": "1"}).status_code == 403
    assert not Actual.objects.exists()


# The import page.


def upload(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("actuals.csv", text.encode(), content_type="text/csv")


def import_url(period) -> str:
    return f"/funding/periods/{period.pk}/actuals/import/"


def test_finance_imports_a_file_and_sees_the_counts(finance_client, period, team):
    ActualFactory(team=team, month=JAN, amount=Decimal("1.00"))
    text = "team,month,amount\npayments-core,2030-01,1\nPayments core,2030-02,2\n"
    response = finance_client.post(import_url(period), {"file": upload(text)}, follow=True)
    assert response.redirect_chain[-1][0] == grid_url(period)
    assert "Imported 2 rows: 1 created, 0 updated, 1 unchanged." in response.content.decode()
    assert Actual.objects.count() == 2


def test_an_import_with_a_bad_row_shows_it_and_writes_nothing(finance_client, period, team):
    text = "team,month,amount\npayments-core,2030-01,1\npayments-core,2031-02,2\n"
    response = finance_client.post(import_url(period), {"file": upload(text)})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Nothing was written: 1 problem in the file" in html
    assert '<tr data-line="3"><td class="num">3</td><td>Feb 2031 is outside FY2030' in html
    assert not Actual.objects.exists()


def test_the_import_page_asks_for_a_file(finance_client, period):
    assert finance_client.get(import_url(period)).status_code == 200
    response = finance_client.post(import_url(period), {})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()


def test_a_closed_period_takes_no_import(finance_client, period, team):
    period.status = FiscalPeriod.Status.CLOSED
    period.save()
    html = finance_client.get(import_url(period)).content.decode()
    assert "is closed: its actuals are read-only" in html
    finance_client.post(
        import_url(period), {"file": upload("team,month,amount\npayments-core,2030-01,1\n")}
    )
    assert not Actual.objects.exists()


@pytest.mark.parametrize("role_user", NOT_FINANCE, indirect=True)
def test_other_roles_may_not_import(client, role_user, period, team):
    client.force_login(role_user)
    assert client.get(import_url(period)).status_code == 403
    text = "team,month,amount\npayments-core,2030-01,1\n"
    assert client.post(import_url(period), {"file": upload(text)}).status_code == 403
    assert not Actual.objects.exists()


@pytest.mark.parametrize("role_user", ROLES, indirect=True)
def test_the_example_file_imports_as_is(client, role_user, period, team, finance_user):
    client.force_login(role_user)
    TeamFactory(name="Lending", slug="lending")
    response = client.get(f"/funding/periods/{period.pk}/actuals/example.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode()
    assert text.splitlines()[0] == "team,month,amount,note"
    client.force_login(finance_user)
    imported = client.post(import_url(period), {"file": upload(text)}, follow=True)
    assert "Imported 4 rows: 4 created" in imported.content.decode()


# Burn pages.


@pytest.mark.parametrize("role_user", ROLES, indirect=True)
def test_team_burn_shows_plan_actual_forecast_and_variance(client, role_user, period, team):
    client.force_login(role_user)
    for n, amount in ((1, "9000"), (2, "11000"), (3, "13000")):
        ActualFactory(team=team, month=datetime.date(2030, n, 1), amount=Decimal(amount))
    response = client.get(f"/funding/periods/{period.pk}/teams/{team.slug}/burn/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-figure="plan">€120,000<' in html
    assert 'data-figure="actual">€33,000<' in html
    assert 'data-figure="forecast">€132,000<' in html
    assert "+€12,000" in html and "Over plan" in html
    assert "data-burn-data=" in html and "<canvas data-burn-chart" in html
    assert "js/burn-charts.js" in html
    assert "<script>" not in html  # data rides on an attribute (CSP)
    assert html.count('<tr data-month="') == 12


def test_burn_without_actuals_says_so(exec_client, period, team):
    html = exec_client.get(f"/funding/periods/{period.pk}/teams/{team.slug}/burn/").content.decode()
    assert "No actuals yet" in html
    assert "No run rate yet" in html


@pytest.mark.parametrize("role_user", ROLES, indirect=True)
def test_value_stream_burn_shows_the_teams_shares(client, role_user, period, team):
    client.force_login(role_user)
    stream = ValueStreamFactory(name="Payments", slug="payments")
    AllocationFactory(period=period, team=team, value_stream=stream, percent=Decimal("50"))
    ActualFactory(team=team, month=JAN, amount=Decimal("10000.00"))
    response = client.get(f"/funding/periods/{period.pk}/value-streams/payments/burn/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-figure="plan">€60,000<' in html
    assert 'data-figure="actual">€5,000.00<' in html
    assert 'data-figure="forecast">€60,000<' in html  # 5,000 a month for 12 months
    assert "Teams funding Payments" in html and "50 %" in html


def test_burn_of_an_unknown_team_or_stream_is_404(exec_client, period):
    assert exec_client.get(f"/funding/periods/{period.pk}/teams/nobody/burn/").status_code == 404
    assert (
        exec_client.get(f"/funding/periods/{period.pk}/value-streams/nothing/burn/").status_code
        == 404
    )


def test_burn_page_query_counts_are_constant(exec_client, period, django_assert_num_queries):
    stream = ValueStreamFactory(slug="payments")
    team = TeamFactory(slug="t0")
    AllocationFactory(period=period, team=team, value_stream=stream)
    ActualFactory(team=team, month=JAN)
    team_url = f"/funding/periods/{period.pk}/teams/t0/burn/"
    stream_url = f"/funding/periods/{period.pk}/value-streams/payments/burn/"
    exec_client.get(team_url)
    with django_assert_num_queries(10) as team_first:
        exec_client.get(team_url)
    with django_assert_num_queries(11) as stream_first:
        exec_client.get(stream_url)
    for n in range(1, 12):
        ActualFactory(team=team, month=datetime.date(2030, n + 1, 1))
        other = TeamFactory()
        AllocationFactory(period=period, team=other, value_stream=stream, percent=Decimal("10"))
        ActualFactory(team=other, month=JAN)
        TeamMembershipFactory(team=other)
    with django_assert_num_queries(len(team_first.captured_queries)):
        exec_client.get(team_url)
    with django_assert_num_queries(len(stream_first.captured_queries)):
        exec_client.get(stream_url)
