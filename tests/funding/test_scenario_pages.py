"""Scenario pages: list and create, the scenario's matrix edited in place, the comparison,
promotion and deletion, for every role, as full pages and htmx fragments."""

from decimal import Decimal

import pytest

from funding import services
from funding.models import Allocation, AllocationChange, Scenario, ScenarioCell
from tests.conftest import ROLES
from tests.funding.factories import ScenarioFactory
from tests.funding.test_scenarios import Plan
from tests.products.factories import TeamFactory, TeamMembershipFactory
from tests.valuestreams.factories import ValueStreamFactory

P = Decimal
HTMX = {"HX-Request": "true"}
READERS = ("executive", "portfolio_manager", "product_owner")


@pytest.fixture
def plan(db, finance_user):
    return Plan(finance_user)


@pytest.fixture
def scenario(plan):
    return plan.scenario("Bigger bets")


def cell_url(scenario):
    return f"/funding/scenarios/{scenario.pk}/cells/"


def post_cell(client, scenario, team, stream, percent, **headers):
    return client.post(
        cell_url(scenario),
        {"team": team.pk, "value_stream": stream.pk, "percent": percent},
        headers=headers,
    )


# The list and the create form.


@pytest.mark.parametrize("role_user", ROLES, indirect=True)
def test_every_role_reads_the_list_only_finance_gets_the_form(client, role_user, scenario):
    client.force_login(role_user)
    response = client.get(f"/funding/periods/{scenario.period_id}/scenarios/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Bigger bets" in html
    assert ("Copy the plan" in html) == (role_user.username == "user-finance")


def test_finance_copies_the_plan_into_a_new_scenario(finance_client, plan):
    response = finance_client.post(
        f"/funding/periods/{plan.period.pk}/scenarios/",
        {"name": "Lean year", "description": "Less growth"},
    )
    scenario = Scenario.objects.get(name="Lean year")
    assert response.status_code == 302 and response["Location"] == scenario.get_absolute_url()
    assert scenario.cells.count() == 3
    # A name already used comes back beside the field.
    response = finance_client.post(
        f"/funding/periods/{plan.period.pk}/scenarios/", {"name": "Lean year"}
    )
    assert response.status_code == 200
    assert "already has a scenario of this name" in response.content.decode()


@pytest.mark.parametrize("role_user", READERS, indirect=True)
def test_other_roles_cannot_create(client, role_user, plan):
    client.force_login(role_user)
    response = client.post(f"/funding/periods/{plan.period.pk}/scenarios/", {"name": "Mine"})
    assert response.status_code == 403
    assert not Scenario.objects.exists()


def test_the_list_is_empty_with_a_next_step(finance_client, plan):
    html = finance_client.get(f"/funding/periods/{plan.period.pk}/scenarios/").content.decode()
    assert "No scenarios yet: copy the plan into the first one" in html


def test_list_query_count_is_constant(exec_client, plan, django_assert_num_queries):
    url = f"/funding/periods/{plan.period.pk}/scenarios/"
    for _ in range(2):
        ScenarioFactory(period=plan.period)
    # session, user, period, permissions (2), scenarios, the role shown in the top bar
    with django_assert_num_queries(7):
        exec_client.get(url)
    for _ in range(18):
        ScenarioFactory(period=plan.period)
    with django_assert_num_queries(7):
        response = exec_client.get(url)
    assert response.content.decode().count('data-href="/funding/scenarios/') == 20


# The scenario page.


@pytest.mark.parametrize("role_user", ROLES, indirect=True)
def test_every_role_reads_the_scenario_only_finance_edits(client, role_user, plan, scenario):
    plan.set(scenario, plan.checkout, plan.payments, "80.00")
    client.force_login(role_user)
    response = client.get(scenario.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    finance = role_user.username == "user-finance"
    assert ('name="percent"' in html) == finance
    assert ("Promote to the plan</button>" in html) == finance
    assert ("/delete/" in html) == finance
    # Over the limit: shown red with a label, in the matrix and the limits.
    assert "Over by 10 %" in html
    assert "Checkout would be allocated 110.00 %" in html
    assert "Over a limit" in html
    # The comparison: the changed cell with its plan figure and the difference.
    assert "plan 50 %" in html
    assert "+€36,000" in html


def test_the_page_as_an_htmx_fragment(exec_client, scenario):
    response = exec_client.get(scenario.get_absolute_url(), headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="scenario-matrix"' in html and 'id="scenario-compare"' in html
    assert "<html" not in html
    assert response["Vary"] == "HX-Request" or "HX-Request" in response["Vary"]


def test_detail_query_count_is_constant(exec_client, plan, scenario, django_assert_num_queries):
    url = scenario.get_absolute_url()
    # session, user, scenario, the comparison (7), permissions (2), the role in the top bar
    with django_assert_num_queries(13):
        exec_client.get(url)
    engineer = plan.checkout.memberships.first().person.discipline
    for n in range(18):
        team = TeamFactory(name=f"Team {n:02}")
        TeamMembershipFactory(team=team, person__discipline=engineer)
        ValueStreamFactory(name=f"Stream {n:02}")
        ScenarioCell.objects.create(
            scenario=scenario, team=team, value_stream=plan.growth, percent=P("10")
        )
    with django_assert_num_queries(13):
        response = exec_client.get(url)
    assert response.content.decode().count('id="scenario-row-') == 20


def test_finance_edits_a_cell_in_place_beyond_the_limit(finance_client, plan, scenario):
    response = post_cell(finance_client, scenario, plan.checkout, plan.payments, "80", **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert ScenarioCell.objects.get(
        scenario=scenario, team=plan.checkout, value_stream=plan.payments
    ).percent == P("80.00")
    assert html.lstrip().startswith('<section id="scenario-matrix"')
    assert 'id="scenario-limits" class="card scenario-limits"' in html
    assert html.count('hx-swap-oob="true"') == 2
    assert "Over by 10 %" in html  # Checkout at 110 %
    assert "Over by €30,000" in html  # Payments: 96,000 + 24,000 against 90,000
    assert "Plan allocates" in html


def test_a_bad_percent_comes_back_beside_the_cell(finance_client, plan, scenario):
    response = post_cell(finance_client, scenario, plan.search, plan.growth, "150", **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "A percent is between 0 and 100." in html
    assert 'role="alert"' in html
    assert not ScenarioCell.objects.filter(team=plan.search, value_stream=plan.growth).exists()
    response = post_cell(finance_client, scenario, plan.search, plan.growth, "abc", **HTMX)
    assert "Enter a percent such as 25" in response.content.decode()


def test_without_javascript_a_cell_post_redirects(finance_client, plan, scenario):
    response = post_cell(finance_client, scenario, plan.search, plan.growth, "12.5")
    assert response.status_code == 302 and response["Location"] == scenario.get_absolute_url()
    assert ScenarioCell.objects.get(team=plan.search, value_stream=plan.growth).percent == P(
        "12.50"
    )
    # Blank empties the cell.
    post_cell(finance_client, scenario, plan.search, plan.growth, "")
    assert not ScenarioCell.objects.filter(team=plan.search, value_stream=plan.growth).exists()


@pytest.mark.parametrize("role_user", READERS, indirect=True)
def test_other_roles_cannot_write_to_a_scenario(client, role_user, plan, scenario):
    client.force_login(role_user)
    before = sorted(ScenarioCell.objects.values_list("percent", flat=True))
    assert post_cell(client, scenario, plan.search, plan.growth, "10", **HTMX).status_code == 403
    promote = client.post(f"/funding/scenarios/{scenario.pk}/promote/", {"reason": "x"})
    assert promote.status_code == 403
    assert client.get(f"/funding/scenarios/{scenario.pk}/delete/").status_code == 403
    assert client.post(f"/funding/scenarios/{scenario.pk}/delete/").status_code == 403
    assert client.get(f"/funding/scenarios/{scenario.pk}/edit/").status_code == 403
    assert sorted(ScenarioCell.objects.values_list("percent", flat=True)) == before
    assert Scenario.objects.filter(pk=scenario.pk, promoted_at=None).exists()


def test_promotion_over_a_limit_is_refused_on_the_page(finance_client, plan, scenario):
    plan.set(scenario, plan.checkout, plan.payments, "80.00")
    response = finance_client.post(
        f"/funding/scenarios/{scenario.pk}/promote/", {"reason": "Bigger bets"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="form-errors"' in html
    assert "Checkout would be allocated 110.00 %" in html
    assert "€30,000.00 over its envelope of €90,000.00" in html
    assert Allocation.objects.get(team=plan.checkout, value_stream=plan.payments).percent == P(
        "50.00"
    )
    # Without a reason: the field says so.
    response = finance_client.post(f"/funding/scenarios/{scenario.pk}/promote/", {"reason": ""})
    assert "Say why this scenario becomes the plan." in response.content.decode()


def test_finance_promotes_a_scenario_within_the_limits(finance_client, plan, scenario):
    plan.set(scenario, plan.checkout, plan.payments, "55.00")  # Payments at exactly 90,000.00
    response = finance_client.post(
        f"/funding/scenarios/{scenario.pk}/promote/", {"reason": "Agreed with the CIO"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/funding/periods/{plan.period.pk}/allocations/"
    changed = Allocation.objects.get(team=plan.checkout, value_stream=plan.payments)
    assert (changed.percent, changed.status) == (P("55.00"), "draft")
    assert AllocationChange.objects.get().reason == "Agreed with the CIO"
    html = finance_client.get(scenario.get_absolute_url()).content.decode()
    assert "Promoted to the plan" in html and "read-only" in html
    assert 'name="percent"' not in html and "Promote to the plan</button>" not in html


def test_finance_renames_and_deletes(finance_client, plan, scenario):
    response = finance_client.post(
        f"/funding/scenarios/{scenario.pk}/edit/", {"name": "Renamed", "description": ""}
    )
    assert response.status_code == 302
    assert Scenario.objects.get(pk=scenario.pk).name == "Renamed"
    confirm = finance_client.get(f"/funding/scenarios/{scenario.pk}/delete/")
    assert "the plan of FY2030 is not touched" in confirm.content.decode()
    response = finance_client.post(f"/funding/scenarios/{scenario.pk}/delete/")
    assert response["Location"] == f"/funding/periods/{plan.period.pk}/scenarios/"
    assert not Scenario.objects.exists()
    assert Allocation.objects.count() == 3


def test_unknown_scenario_is_404(exec_client, db):
    assert exec_client.get("/funding/scenarios/999999/").status_code == 404
    assert exec_client.get("/funding/periods/999999/scenarios/").status_code == 404


def test_a_promoted_scenario_refuses_cell_edits_on_the_page(finance_client, plan, scenario):
    services.scenario_promote(actor=plan.actor, scenario=scenario, reason="Done")
    response = post_cell(finance_client, scenario, plan.search, plan.growth, "10", **HTMX)
    assert "read-only" in response.content.decode()
    assert not ScenarioCell.objects.filter(team=plan.search, value_stream=plan.growth).exists()


def test_a_closed_period_shows_its_scenarios_read_only(finance_client, plan, scenario):
    plan.period.status = "closed"
    plan.period.save(update_fields=["status"])
    html = finance_client.get(scenario.get_absolute_url()).content.decode()
    assert "is closed: this scenario is read-only" in html
    assert 'name="percent"' not in html and "Promote to the plan</button>" not in html
    listing = finance_client.get(f"/funding/periods/{plan.period.pk}/scenarios/")
    assert "Copy the plan" not in listing.content.decode()
    refused = finance_client.post(f"/funding/periods/{plan.period.pk}/scenarios/", {"name": "Late"})
    assert refused.status_code == 403
    response = post_cell(finance_client, scenario, plan.search, plan.growth, "10", **HTMX)
    assert "is closed" in response.content.decode()
    assert not ScenarioCell.objects.filter(team=plan.search, value_stream=plan.growth).exists()
