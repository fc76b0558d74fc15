"""The value stream map API: maps, steps, metrics and improvement outcomes."""

import datetime
from decimal import Decimal

import pytest

from tests.conftest import ROLES
from tests.valuestreams.factories import ValueStreamFactory
from valuestreams import maps
from valuestreams.models import ImprovementOutcome, MapStep, ValueStreamMap

pytestmark = pytest.mark.django_db

MAPS = "/api/v1/value-stream-maps/"
STEPS = "/api/v1/map-steps/"
OUTCOMES = "/api/v1/improvement-outcomes/"
READ_ONLY_ROLES = [r for r in ROLES if r != "portfolio_manager"]


def build_map(actor, rows, *, value_stream=None, state="current") -> ValueStreamMap:
    vsm = maps.map_create(
        actor=actor,
        value_stream=value_stream or ValueStreamFactory(),
        state=state,
        mapped_on=datetime.date(2026, 3, 12),
    )
    for i, (pt, lt, ca) in enumerate(rows, start=1):
        maps.step_add(
            actor=actor,
            vsm=vsm,
            name=f"Step {i}",
            process_time_minutes=Decimal(pt),
            lead_time_minutes=Decimal(lt),
            percent_complete_accurate=Decimal(ca),
        )
    return vsm


HAND = [("10", "60", "90"), ("0", "1440", "100"), ("30", "120", "80"), ("5", "10", "100")]


@pytest.fixture
def pm_api(api_as, portfolio_manager):
    return api_as(portfolio_manager)


@pytest.fixture
def hand_map(portfolio_manager):
    return build_map(portfolio_manager, HAND)


def test_metrics_equal_the_hand_computed_values(pm_api, hand_map):
    response = pm_api.get(f"{MAPS}{hand_map.pk}/metrics/")
    assert response.status_code == 200
    body = response.json()
    queue = MapStep.objects.get(map=hand_map, order=2)
    assert body["total_lead_time_minutes"] == 1630
    assert body["total_process_time_minutes"] == 45
    assert body["total_wait_minutes"] == 1585
    assert body["activity_ratio"] == pytest.approx(45 / 1630 * 100)
    assert body["activity_ratio"] == pytest.approx(2.7607361963)
    assert body["rolled_percent_complete_accurate"] == pytest.approx(72)
    assert body["bottleneck_step"] == {"id": queue.pk, "name": "Step 2"}
    assert [(s["order"], s["wait_minutes"]) for s in body["steps"]] == [
        (1, 50),
        (2, 1440),
        (3, 90),
        (4, 5),
    ]
    assert set(body["steps"][0]) == {"id", "name", "order", "wait_minutes"}


def test_metrics_of_an_empty_map(pm_api, portfolio_manager):
    vsm = build_map(portfolio_manager, [])
    body = pm_api.get(f"{MAPS}{vsm.pk}/metrics/").json()
    assert body["total_lead_time_minutes"] == 0
    assert body["activity_ratio"] is None
    assert body["rolled_percent_complete_accurate"] is None
    assert body["bottleneck_step"] is None
    assert body["steps"] == []


def test_unknown_map_is_404(pm_api):
    assert pm_api.get(f"{MAPS}999/metrics/").status_code == 404
    assert pm_api.get(f"{MAPS}999/steps/").status_code == 404


@pytest.mark.parametrize("role_user", ROLES, indirect=True)
def test_everyone_reads(api_as, role_user, hand_map):
    api = api_as(role_user)
    assert api.get(MAPS).status_code == 200
    assert api.get(f"{MAPS}{hand_map.pk}/").status_code == 200
    assert api.get(f"{MAPS}{hand_map.pk}/metrics/").status_code == 200
    assert api.get(f"{MAPS}{hand_map.pk}/steps/").status_code == 200
    assert api.get(STEPS).status_code == 200
    assert api.get(OUTCOMES).status_code == 200


def test_anonymous_is_refused(api_client, hand_map):
    assert api_client.get(f"{MAPS}{hand_map.pk}/metrics/").status_code in (401, 403)


def test_steps_list_and_create(pm_api, hand_map):
    response = pm_api.get(f"{MAPS}{hand_map.pk}/steps/")
    assert response.status_code == 200
    rows = response.json()
    assert [r["order"] for r in rows] == [1, 2, 3, 4]
    assert rows[0] == {
        "id": rows[0]["id"],
        "map": hand_map.pk,
        "order": 1,
        "name": "Step 1",
        "process_time_minutes": 10.0,
        "lead_time_minutes": 60.0,
        "wait_minutes": 50.0,
        "percent_complete_accurate": 90.0,
        "performed_by": "",
        "notes": "",
    }
    response = pm_api.post(
        f"{MAPS}{hand_map.pk}/steps/",
        {
            "name": "Triage",
            "process_time_minutes": 0.5,
            "lead_time_minutes": 30,
            "percent_complete_accurate": 95,
            "performed_by": "Service desk",
            "notes": "A quick look",
            "order": 2,
        },
    )
    assert response.status_code == 201, response.json()
    assert response.json()["order"] == 2
    assert response.json()["wait_minutes"] == 29.5
    orders = list(
        MapStep.objects.filter(map=hand_map).order_by("order").values_list("name", flat=True)
    )
    assert orders == ["Step 1", "Triage", "Step 2", "Step 3", "Step 4"]
    # without an order: last
    response = pm_api.post(
        f"{MAPS}{hand_map.pk}/steps/",
        {"name": "Close", "process_time_minutes": 1, "lead_time_minutes": 1},
    )
    assert response.status_code == 201
    assert response.json()["order"] == 6
    assert response.json()["percent_complete_accurate"] == 100


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "X", "process_time_minutes": 30, "lead_time_minutes": 20}, "lead_time_minutes"),
        ({"name": "X", "process_time_minutes": 0, "lead_time_minutes": 0}, "lead_time_minutes"),
        (
            {"name": "X", "process_time_minutes": -1, "lead_time_minutes": 20},
            "process_time_minutes",
        ),
        (
            {
                "name": "X",
                "process_time_minutes": 1,
                "lead_time_minutes": 2,
                "percent_complete_accurate": 0,
            },
            "percent_complete_accurate",
        ),
        ({"process_time_minutes": 1, "lead_time_minutes": 2}, "name"),
        ({"name": "X", "process_time_minutes": 1, "lead_time_minutes": 2, "order": 0}, "order"),
        (
            {"name": "X", "process_time_minutes": "soon", "lead_time_minutes": 2},
            "process_time_minutes",
        ),
    ],
)
def test_bad_steps_answer_400_by_field(pm_api, hand_map, payload, field):
    response = pm_api.post(f"{MAPS}{hand_map.pk}/steps/", payload)
    assert response.status_code == 400
    body = response.json()
    assert list(body) == [field]
    assert isinstance(body[field], list) and body[field]
    assert MapStep.objects.filter(map=hand_map).count() == 4


def test_step_update_move_delete(pm_api, hand_map):
    first = MapStep.objects.get(map=hand_map, order=1)
    response = pm_api.patch(f"{STEPS}{first.pk}/", {"lead_time_minutes": 5})
    assert response.status_code == 400
    assert response.json() == {
        "lead_time_minutes": ["Lead time must be at least the process time."]
    }
    response = pm_api.patch(f"{STEPS}{first.pk}/", {"lead_time_minutes": 15, "name": "Apply"})
    assert response.status_code == 200
    assert response.json()["wait_minutes"] == 5
    metrics = pm_api.get(f"{MAPS}{hand_map.pk}/metrics/").json()
    assert metrics["total_lead_time_minutes"] == 1585
    response = pm_api.post(f"{STEPS}{first.pk}/move/", {"order": 3})
    assert response.status_code == 200
    assert response.json()["order"] == 3
    assert pm_api.post(f"{STEPS}{first.pk}/move/", {"order": 0}).status_code == 400
    assert pm_api.delete(f"{STEPS}{first.pk}/").status_code == 204
    orders = list(
        MapStep.objects.filter(map=hand_map).order_by("order").values_list("order", "name")
    )
    assert orders == [(1, "Step 2"), (2, "Step 3"), (3, "Step 4")]


def test_map_crud_and_filters(pm_api, hand_map):
    vs = hand_map.value_stream
    response = pm_api.post(
        MAPS, {"value_stream": vs.pk, "state": "future", "mapped_on": "2026-04-01"}
    )
    assert response.status_code == 201, response.json()
    future_id = response.json()["id"]
    assert response.json()["value_stream"] == {"id": vs.pk, "slug": vs.slug, "name": vs.name}
    assert response.json()["step_count"] == 0
    response = pm_api.get(MAPS, {"value_stream": vs.pk, "state": "future"})
    assert [r["id"] for r in response.json()["results"]] == [future_id]
    response = pm_api.get(MAPS, {"value_stream": vs.pk})
    assert {r["id"] for r in response.json()["results"]} == {future_id, hand_map.pk}
    assert pm_api.get(MAPS, {"state": "past"}).status_code == 400
    response = pm_api.patch(f"{MAPS}{future_id}/", {"name": "Target 2027"})
    assert response.status_code == 200 and response.json()["name"] == "Target 2027"
    assert pm_api.patch(f"{MAPS}{future_id}/", {"state": "past"}).status_code == 400
    assert pm_api.post(MAPS, {"state": "current"}).json() == {
        "value_stream": ["This field is required."]
    }
    assert pm_api.delete(f"{MAPS}{future_id}/").status_code == 204
    assert not ValueStreamMap.objects.filter(pk=future_id).exists()


def test_improvement_outcomes(pm_api, hand_map):
    response = pm_api.post(
        OUTCOMES,
        {
            "map": hand_map.pk,
            "description": "Open an account within a day",
            "metric": "total_lead_time_minutes",
            "comparator": "below",
            "target": 1440,
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["value"], body["met"]) == (1630, False)
    response = pm_api.patch(f"{OUTCOMES}{body['id']}/", {"target": 2000})
    assert response.json()["met"] is True
    response = pm_api.patch(f"{OUTCOMES}{body['id']}/", {"metric": "activity_ratio", "target": 150})
    assert response.status_code == 400
    assert list(response.json()) == ["target"]
    assert pm_api.get(OUTCOMES, {"map": hand_map.pk}).json()["count"] == 1
    assert pm_api.delete(f"{OUTCOMES}{body['id']}/").status_code == 204


@pytest.mark.parametrize("role_user", READ_ONLY_ROLES, indirect=True)
def test_other_roles_cannot_write(api_as, role_user, portfolio_manager, hand_map):
    outcome = maps.improvement_outcome_create(
        actor=portfolio_manager,
        vsm=hand_map,
        description="Faster",
        metric="total_lead_time_minutes",
        comparator="below",
        target=Decimal(1000),
    )
    step = MapStep.objects.get(map=hand_map, order=1)
    api = api_as(role_user)
    step_data = {"name": "X", "process_time_minutes": 1, "lead_time_minutes": 2}
    attempts = [
        api.post(MAPS, {"value_stream": hand_map.value_stream_id, "state": "future"}),
        api.patch(f"{MAPS}{hand_map.pk}/", {"name": "Renamed"}),
        api.delete(f"{MAPS}{hand_map.pk}/"),
        api.post(f"{MAPS}{hand_map.pk}/steps/", step_data),
        api.patch(f"{STEPS}{step.pk}/", {"name": "Renamed"}),
        api.post(f"{STEPS}{step.pk}/move/", {"order": 3}),
        api.delete(f"{STEPS}{step.pk}/"),
        api.post(
            OUTCOMES,
            {
                "map": hand_map.pk,
                "description": "x",
                "metric": "activity_ratio",
                "comparator": "above",
                "target": 10,
            },
        ),
        api.patch(f"{OUTCOMES}{outcome.pk}/", {"target": 5}),
        api.delete(f"{OUTCOMES}{outcome.pk}/"),
    ]
    assert [r.status_code for r in attempts] == [403] * len(attempts)
    assert ValueStreamMap.objects.count() == 1
    hand_map.refresh_from_db()
    assert hand_map.name == ""
    assert list(
        MapStep.objects.filter(map=hand_map).order_by("order").values_list("name", flat=True)
    ) == ["Step 1", "Step 2", "Step 3", "Step 4"]
    outcome.refresh_from_db()
    assert outcome.target == 1000
    assert ImprovementOutcome.objects.count() == 1


# Query counts: session, user, then the rows.
MAP_LIST_QUERIES = 4  # session, user, count, page
STEPS_QUERIES = 5  # session, user, map + value stream, steps, outcomes
METRICS_QUERIES = 5
OUTCOME_LIST_QUERIES = 5  # session, user, count, page + map, steps of the maps


@pytest.mark.parametrize("n", [2, 20])
def test_query_counts_do_not_grow(pm_api, portfolio_manager, django_assert_num_queries, n):
    vs = ValueStreamFactory()
    vsms = [
        build_map(portfolio_manager, HAND * (n // 4) + HAND[: n % 4], value_stream=vs)
        for _ in range(n)
    ]
    for vsm in vsms:
        maps.improvement_outcome_create(
            actor=portfolio_manager,
            vsm=vsm,
            description="Faster",
            metric="total_lead_time_minutes",
            comparator="below",
            target=Decimal(1000),
        )
    with django_assert_num_queries(MAP_LIST_QUERIES):
        response = pm_api.get(MAPS)
    assert response.json()["count"] == n
    assert {r["step_count"] for r in response.json()["results"]} == {n}
    with django_assert_num_queries(STEPS_QUERIES):
        response = pm_api.get(f"{MAPS}{vsms[0].pk}/steps/")
    assert len(response.json()) == n
    with django_assert_num_queries(METRICS_QUERIES):
        response = pm_api.get(f"{MAPS}{vsms[0].pk}/metrics/")
    assert len(response.json()["steps"]) == n
    with django_assert_num_queries(OUTCOME_LIST_QUERIES):
        response = pm_api.get(OUTCOMES)
    assert response.json()["count"] == n
    with django_assert_num_queries(MAP_LIST_QUERIES):
        response = pm_api.get(STEPS, {"map": vsms[0].pk})
    assert response.json()["count"] == n


def test_schema_documents_the_map_endpoints(pm_api):
    response = pm_api.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/value-stream-maps/{id}/metrics/" in paths
    assert "/api/v1/value-stream-maps/{id}/steps/" in paths
    assert "post" in paths["/api/v1/value-stream-maps/{id}/steps/"]
    assert "/api/v1/map-steps/{id}/move/" in paths
