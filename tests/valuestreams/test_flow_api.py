"""Flow-metric endpoints: snapshots per product and value stream, the recompute request and the
task state."""

import datetime as dt

import pytest

from tests.products.factories import ProductFactory
from tests.valuestreams.factories import ValueStreamFactory
from tests.valuestreams.test_flow_definitions import NOW, at, history
from valuestreams.flow import flow_recompute
from valuestreams.models import FlowSnapshot

pytestmark = pytest.mark.django_db

ROLES = ("executive", "portfolio_manager", "product_owner", "finance")
REFUSED = ("executive", "product_owner", "finance")


def snapshots(product, count: int) -> None:
    """``count`` weekly snapshots of ``product`` from 2024-01-01 on (and one month)."""
    FlowSnapshot.objects.bulk_create(
        FlowSnapshot(
            product=product,
            window="week",
            window_start=dt.date(2024, 1, 1) + dt.timedelta(weeks=n),
            velocity=n,
            computed_at=NOW,
        )
        for n in range(count)
    )


def test_a_products_weekly_metrics_by_slug_or_id(api_as, executive):
    product = ProductFactory(slug="checkout")
    stream = ValueStreamFactory(products=[product])
    for n in (1, 2, 3, 4):
        history(product, f"P-{n}", ("In Progress", at(1)), ("Done", at(1 + n)))
    flow_recompute(now=NOW, rebuild=True)
    client = api_as(executive)

    by_slug = client.get("/api/v1/products/checkout/flow-metrics/")
    by_id = client.get(f"/api/v1/products/{product.pk}/flow-metrics/?window=week")
    by_stream = client.get(f"/api/v1/value-streams/{stream.pk}/flow-metrics/")

    assert by_slug.status_code == 200
    assert by_slug.json() == by_id.json() == by_stream.json()
    first = by_slug.json()[0]
    assert first == {
        "window": "week",
        "window_start": "2024-01-01",
        "velocity": 4,
        "flow_time_median_days": 2.5,
        "flow_time_p85_days": 3.55,
        "flow_efficiency": 100.0,
        "flow_load_end": 0,
        "flow_load_avg": 1.43,
        "distribution": {"feature": 100.0},
        "computed_at": "2024-01-20T12:00:00Z",
    }
    assert [row["window_start"] for row in by_slug.json()] == [
        "2024-01-01",
        "2024-01-08",
        "2024-01-15",
    ]


def test_monthly_rows_and_the_date_range(api_as, executive):
    product = ProductFactory()
    snapshots(product, 6)
    FlowSnapshot.objects.create(
        product=product, window="month", window_start=dt.date(2024, 1, 1), computed_at=NOW
    )
    client = api_as(executive)

    months = client.get(f"/api/v1/products/{product.pk}/flow-metrics/?window=month").json()
    weeks = client.get(
        f"/api/v1/products/{product.pk}/flow-metrics/?from=2024-01-08&to=2024-01-22"
    ).json()

    assert [row["window_start"] for row in months] == ["2024-01-01"]
    assert [row["window_start"] for row in weeks] == ["2024-01-08", "2024-01-15", "2024-01-22"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("window=day", "window"),
        ("from=2024-13-01", "from"),
        ("to=yesterday", "to"),
        ("from=2024-02-01&to=2024-01-01", "to"),
    ],
)
def test_a_bad_window_or_date_answers_400(api_as, executive, query, field):
    product = ProductFactory()

    response = api_as(executive).get(f"/api/v1/products/{product.pk}/flow-metrics/?{query}")

    assert response.status_code == 400
    assert field in response.json()


def test_unknown_scopes_answer_404(api_as, executive):
    client = api_as(executive)
    assert client.get("/api/v1/products/nope/flow-metrics/").status_code == 404
    assert client.get("/api/v1/products/999999/flow-metrics/").status_code == 404
    assert client.get("/api/v1/value-streams/999999/flow-metrics/").status_code == 404


def test_sign_in_is_needed(api_client):
    product = ProductFactory()
    response = api_client.get(f"/api/v1/products/{product.pk}/flow-metrics/")
    assert response.status_code in (401, 403)


@pytest.mark.parametrize("count", [2, 20])
def test_the_query_count_does_not_grow_with_the_rows(
    api_as, executive, django_assert_num_queries, count
):
    product = ProductFactory()
    stream = ValueStreamFactory(products=[product])
    snapshots(product, count)
    FlowSnapshot.objects.bulk_create(
        FlowSnapshot(
            value_stream=stream,
            window="week",
            window_start=dt.date(2024, 1, 1) + dt.timedelta(weeks=n),
            computed_at=NOW,
        )
        for n in range(count)
    )
    client = api_as(executive)

    # Session, user, the scope, its snapshots.
    with django_assert_num_queries(4):
        response = client.get(f"/api/v1/products/{product.slug}/flow-metrics/")
    assert len(response.json()) == count
    with django_assert_num_queries(4):
        response = client.get(f"/api/v1/value-streams/{stream.pk}/flow-metrics/")
    assert len(response.json()) == count


@pytest.mark.parametrize("role_user", ROLES, indirect=True)
def test_every_role_reads_flow_metrics(api_as, role_user):
    product = ProductFactory()
    snapshots(product, 1)

    response = api_as(role_user).get(f"/api/v1/products/{product.pk}/flow-metrics/")

    assert response.status_code == 200
    assert len(response.json()) == 1


def test_a_portfolio_manager_queues_a_recompute_after_the_commit(
    api_as, portfolio_manager, django_capture_on_commit_callbacks, monkeypatch
):
    product = ProductFactory()
    queued = []
    monkeypatch.setattr(
        "valuestreams.tasks.recompute_flow_task.apply_async",
        lambda **options: queued.append(options),
    )
    client = api_as(portfolio_manager)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(f"/api/v1/products/{product.pk}/flow-metrics/recompute/")

    assert response.status_code == 202
    assert len(callbacks) == 1
    assert queued == []  # nothing is sent before the commit
    callbacks[0]()
    assert queued == [
        {
            "kwargs": {"product_ids": [product.pk], "since": None},
            "task_id": response.json()["task_id"],
        }
    ]


@pytest.mark.parametrize("role_user", REFUSED, indirect=True)
def test_other_roles_may_not_request_a_recompute(
    api_as, role_user, django_capture_on_commit_callbacks
):
    product = ProductFactory()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api_as(role_user).post(f"/api/v1/products/{product.pk}/flow-metrics/recompute/")

    assert response.status_code == 403
    assert callbacks == []


def test_a_recompute_of_an_unknown_product_answers_404(api_as, portfolio_manager):
    response = api_as(portfolio_manager).post("/api/v1/products/999999/flow-metrics/recompute/")
    assert response.status_code == 404


def test_an_unknown_task_is_pending(api_as, executive):
    response = api_as(executive).get("/api/v1/flow-tasks/0b7d6d8e-0000-4000-8000-000000000000/")

    assert response.status_code == 200
    assert response.json() == {
        "task_id": "0b7d6d8e-0000-4000-8000-000000000000",
        "state": "PENDING",
        "progress": None,
        "result": None,
    }
