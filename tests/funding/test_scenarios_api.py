"""``/api/v1/scenarios/``: CRUD, cells, the comparison and promotion, for every role."""

from decimal import Decimal

import pytest

from funding.models import Allocation, AllocationChange, Scenario, ScenarioCell
from tests.conftest import ROLES
from tests.funding.factories import FiscalPeriodFactory, ScenarioFactory
from tests.funding.test_scenarios import Plan

P = Decimal
URL = "/api/v1/scenarios/"
READERS = ("executive", "portfolio_manager", "product_owner")


@pytest.fixture
def plan(db, finance_user):
    return Plan(finance_user)


@pytest.fixture
def scenario(plan):
    return plan.scenario("Bigger bets")


@pytest.mark.parametrize("role_user", ROLES, indirect=True)
def test_every_role_reads_scenarios_with_their_cells(api_as, role_user, scenario):
    client = api_as(role_user)
    response = client.get(URL, {"period": scenario.period_id})
    assert response.status_code == 200
    [row] = response.json()["results"]
    assert row["name"] == "Bigger bets"
    assert row["period"]["name"] == "FY2030"
    assert row["cell_count"] == 3
    assert row["created_by"]["username"] == "finance"
    assert row["promoted_at"] is None
    first = row["cells"][0]
    assert set(first) == {"team", "value_stream", "percent"}
    assert (first["team"]["name"], first["value_stream"]["name"], first["percent"]) == (
        "Checkout",
        "Growth",
        "30.00",
    )
    detail = client.get(f"{URL}{scenario.pk}/")
    assert detail.status_code == 200 and detail.json()["id"] == scenario.pk


def test_filters(api_as, finance_user, scenario):
    other = ScenarioFactory(period=FiscalPeriodFactory())
    client = api_as(finance_user)
    assert [r["id"] for r in client.get(URL, {"period": other.period_id}).json()["results"]] == [
        other.pk
    ]
    assert client.get(URL, {"promoted": "true"}).json()["count"] == 0
    assert client.get(URL, {"promoted": "false"}).json()["count"] == 2


def test_list_query_count_is_constant(api_as, finance_user, plan, django_assert_num_queries):
    client = api_as(finance_user)
    for n in range(2):
        plan.scenario(f"S{n}")
    # session, user, count, page, cells
    with django_assert_num_queries(5):
        client.get(URL)
    for n in range(2, 20):
        plan.scenario(f"S{n}")
    with django_assert_num_queries(5):
        response = client.get(URL)
    assert response.json()["count"] == 20


def test_finance_creates_renames_and_deletes(api_as, finance_user, plan):
    client = api_as(finance_user)
    response = client.post(URL, {"period": plan.period.pk, "name": "Lean", "description": "Less"})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["cell_count"] == 3 and body["description"] == "Less"
    again = client.post(URL, {"period": plan.period.pk, "name": "Lean"})
    assert again.status_code == 400
    assert "already has a scenario of this name" in str(again.json())
    renamed = client.patch(f"{URL}{body['id']}/", {"name": "Leaner"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Leaner"
    assert renamed.json()["description"] == "Less"
    assert client.delete(f"{URL}{body['id']}/").status_code == 204
    assert not Scenario.objects.exists()


def test_finance_sets_cells_beyond_the_limits(api_as, finance_user, plan, scenario):
    client = api_as(finance_user)
    url = f"{URL}{scenario.pk}/cells/"
    response = client.post(
        url, {"team": plan.checkout.slug, "value_stream": plan.payments.pk, "percent": "80"}
    )
    assert response.status_code == 200, response.json()
    assert ScenarioCell.objects.get(team=plan.checkout, value_stream=plan.payments).percent == P(
        "80.00"
    )
    bad = client.post(
        url, {"team": plan.search.pk, "value_stream": plan.growth.pk, "percent": "101"}
    )
    assert bad.status_code == 400
    assert bad.json() == {"percent": ["A percent is between 0 and 100."]}
    emptied = client.post(
        url, {"team": plan.search.pk, "value_stream": plan.payments.pk, "percent": None}
    )
    assert emptied.status_code == 200
    assert emptied.json()["cell_count"] == 2


def test_compare_figures(api_as, exec_client, executive, plan, scenario):
    plan.set(scenario, plan.checkout, plan.payments, "80.00")
    plan.set(scenario, plan.search, plan.payments, None)
    response = api_as(executive).get(f"{URL}{scenario.pk}/compare/")
    assert response.status_code == 200
    body = response.json()
    assert body["changed_cells"] == 2
    cell = next(
        c
        for c in body["cells"]
        if c["team"]["name"] == "Checkout" and c["value_stream"]["name"] == "Payments"
    )
    assert cell == cell | {
        "plan_percent": "50.00",
        "plan_amount": "60000.00",
        "scenario_percent": "80.00",
        "scenario_amount": "96000.00",
        "delta_percent": "30.00",
        "delta_amount": "36000.00",
    }
    checkout = next(t for t in body["teams"] if t["team"]["name"] == "Checkout")
    assert (checkout["scenario_percent"], checkout["over"], checkout["over_by"]) == (
        "110.00",
        True,
        "10.00",
    )
    payments = next(v for v in body["value_streams"] if v["value_stream"]["name"] == "Payments")
    assert (payments["plan_amount"], payments["scenario_amount"], payments["over"]) == (
        "84000.00",
        "96000.00",
        True,
    )
    assert payments["over_by"] == "6000.00" and payments["unfunded"] == "-6000.00"
    assert body["totals"] == {
        "capacity": "180000.00",
        "envelope": "210000.00",
        "plan_amount": "120000.00",
        "scenario_amount": "132000.00",
        "delta_amount": "12000.00",
    }
    assert [(b["kind"], b["name"], b["over_by"]) for b in body["breaches"]] == [
        ("team", "Checkout", "10.00"),
        ("value_stream", "Payments", "6000.00"),
    ]


def test_promotion_refused_then_accepted(api_as, finance_user, plan, scenario):
    client = api_as(finance_user)
    plan.set(scenario, plan.checkout, plan.payments, "80.00")
    refused = client.post(f"{URL}{scenario.pk}/promote/", {"reason": "Bigger bets"})
    assert refused.status_code == 400
    messages = refused.json()["non_field_errors"]
    assert len(messages) == 2 and "Checkout would be allocated 110.00 %" in messages[0]
    assert not AllocationChange.objects.exists()
    no_reason = client.post(f"{URL}{scenario.pk}/promote/", {"reason": ""})
    assert no_reason.json() == {"reason": ["Say why this scenario becomes the plan."]}

    plan.set(scenario, plan.checkout, plan.payments, "55.00")
    promoted = client.post(f"{URL}{scenario.pk}/promote/", {"reason": "Board said so"})
    assert promoted.status_code == 200
    assert promoted.json()["promotion_reason"] == "Board said so"
    assert promoted.json()["promoted_by"]["username"] == "finance"
    assert Allocation.objects.get(team=plan.checkout, value_stream=plan.payments).status == "draft"
    assert client.post(f"{URL}{scenario.pk}/promote/", {"reason": "Again"}).status_code == 400


@pytest.mark.parametrize("role_user", READERS, indirect=True)
def test_other_roles_get_403_on_every_write(api_as, role_user, plan, scenario):
    client = api_as(role_user)
    assert client.post(URL, {"period": plan.period.pk, "name": "Mine"}).status_code == 403
    assert client.patch(f"{URL}{scenario.pk}/", {"name": "Mine"}).status_code == 403
    assert client.delete(f"{URL}{scenario.pk}/").status_code == 403
    cell = {"team": plan.search.pk, "value_stream": plan.growth.pk, "percent": "10"}
    assert client.post(f"{URL}{scenario.pk}/cells/", cell).status_code == 403
    assert client.post(f"{URL}{scenario.pk}/promote/", {"reason": "x"}).status_code == 403
    assert client.get(f"{URL}{scenario.pk}/compare/").status_code == 200
    assert Scenario.objects.get().name == "Bigger bets"
    assert ScenarioCell.objects.count() == 3


def test_anonymous_and_unknown(api_client, api_as, finance_user, db):
    assert api_client.get(URL).status_code in (401, 403)
    assert api_as(finance_user).get(f"{URL}999999/").status_code == 404
