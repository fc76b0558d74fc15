"""Flow recomputation: idempotent, incremental per product and window, swapped in one
transaction, and run by Celery (a real worker on Redis for the last test)."""

import datetime as dt
from importlib import import_module

import pytest
from celery.contrib.testing.worker import start_worker
from django.apps import apps as django_apps
from django.conf import settings
from django.db import DatabaseError

from portfolio.celery import app
from tests.products.factories import ProductFactory
from tests.valuestreams.factories import ValueStreamFactory
from tests.valuestreams.test_flow_definitions import NOW, W1, W2, W3, at, history
from valuestreams.flow import FlowScope, flow_recompute, flow_scope_replace
from valuestreams.ingest import work_items_ingest
from valuestreams.models import FlowSnapshot
from valuestreams.tasks import recompute_all_flow_task, recompute_flow_task

FIELDS = (
    "product_id",
    "value_stream_id",
    "window",
    "window_start",
    "velocity",
    "flow_time_median_days",
    "flow_time_p85_days",
    "flow_efficiency",
    "flow_load_end",
    "flow_load_avg",
    "distribution",
)
LATER = NOW + dt.timedelta(hours=1)


def rows(**scope):
    return list(
        FlowSnapshot.objects.filter(**scope)
        .order_by("product_id", "value_stream_id", "window", "window_start")
        .values_list(*FIELDS, "computed_at")
    )


def figures(**scope):
    return [row[:-1] for row in rows(**scope)]


def two_products():
    one, two = ProductFactory(), ProductFactory()
    ValueStreamFactory(products=[one])
    history(one, "A-1", ("In Progress", at(1)), ("Done", at(3)))
    history(one, "A-2", ("In Progress", at(2)), ("Blocked", at(9)), ("Done", at(11)))
    history(two, "B-1", ("In Progress", at(1)), ("Done", at(16)), type="defect")
    return one, two


@pytest.mark.django_db
def test_recomputing_twice_gives_identical_rows():
    two_products()
    flow_recompute(now=NOW, rebuild=True)
    first = rows()

    flow_recompute(now=NOW, rebuild=True)

    assert rows() == first
    assert len(first) == 2 * (3 + 1) + (3 + 1)  # two products and a value stream: 3 weeks, 1 month


@pytest.mark.django_db
def test_incremental_recompute_touches_only_the_given_product_and_later_windows():
    one, two = two_products()
    flow_recompute(now=NOW, rebuild=True)
    ingested = work_items_ingest(  # one new item; the ingest keeps its flow facts
        actor=None,
        source="tests",
        items=[{"key": "A-3", "type": "feature", "product": one.slug, "created_at": at(16)}],
        transitions=[{"key": "A-3", "to_status": "In Progress", "at": at(16)}],
    )
    assert ingested.earliest_at == at(16)

    result = flow_recompute(product_ids=[one.pk], since=at(16), now=LATER)

    assert result.as_dict() == {"products": 1, "value_streams": 1, "snapshots": 4}
    assert {row[-1] for row in rows(product=two)} == {NOW}
    computed = {(r[2], r[3]): r[-1] for r in rows(product=one)}
    assert computed == {
        ("week", W1): NOW,
        ("week", W2): NOW,
        ("week", W3): LATER,
        ("month", W1): LATER,
    }
    incremental = figures()
    flow_recompute(now=LATER)  # the nightly run: from the facts the ingest kept
    assert figures() == incremental
    flow_recompute(now=LATER, rebuild=True)  # the weekly one: from the whole history
    assert figures() == incremental


@pytest.mark.django_db
def test_incremental_recompute_reaches_back_to_the_completion_a_reopen_undoes():
    one, _ = two_products()
    flow_recompute(now=NOW, rebuild=True)
    ingested = work_items_ingest(  # A-1, done on the 3rd, reopened on the 16th
        actor=None,
        source="tests",
        transitions=[{"key": "A-1", "to_status": "In Progress", "at": at(16)}],
    )
    assert ingested.earliest_at == at(3)  # the completion the reopen takes away

    flow_recompute(product_ids=[one.pk], since=ingested.earliest_at, now=LATER)

    week1 = FlowSnapshot.objects.get(product=one, window="week", window_start=W1)
    assert week1.velocity == 0
    assert week1.computed_at == LATER
    incremental = figures()
    flow_recompute(now=LATER)  # the nightly run: from the facts the ingest kept
    assert figures() == incremental
    flow_recompute(now=LATER, rebuild=True)  # the weekly one: from the whole history
    assert figures() == incremental


@pytest.mark.django_db
def test_one_scope_alone_gives_the_rows_of_the_batch():
    one, two = two_products()
    stream = one.value_streams.get()
    flow_recompute(now=NOW, rebuild=True)
    batch = figures()
    FlowSnapshot.objects.all().delete()

    for scope in (FlowScope(product_id=one.pk), FlowScope(product_id=two.pk)):
        flow_scope_replace(scope=scope, now=NOW)
    flow_scope_replace(scope=FlowScope(value_stream_id=stream.pk), now=NOW)

    assert figures() == batch


@pytest.mark.django_db
def test_a_failed_recompute_leaves_the_previous_snapshots(monkeypatch):
    one, _ = two_products()
    flow_recompute(now=NOW, rebuild=True)
    before = rows(product=one)

    def broken(*args, **kwargs):
        raise DatabaseError("connection lost")

    monkeypatch.setattr(FlowSnapshot.objects, "bulk_create", broken)
    with pytest.raises(DatabaseError):
        flow_scope_replace(scope=FlowScope(product_id=one.pk), now=LATER)

    assert rows(product=one) == before


@pytest.mark.django_db
def test_a_scope_without_history_loses_its_old_snapshots():
    one, _ = two_products()
    flow_recompute(now=NOW, rebuild=True)
    one.work_items.all().delete()

    flow_recompute(product_ids=[one.pk], now=LATER)

    assert not FlowSnapshot.objects.filter(product=one).exists()


@pytest.mark.django_db
def test_the_incremental_task_takes_json_arguments():
    one, two = two_products()

    result = recompute_flow_task(product_ids=[two.pk], since="2024-01-01T00:00:00+00:00")

    assert result == {"products": 1, "value_streams": 0, "snapshots": rows_count(two)}
    assert not FlowSnapshot.objects.filter(product=one).exists()


def rows_count(product) -> int:
    return FlowSnapshot.objects.filter(product=product).count()


@pytest.mark.django_db
def test_the_weekly_and_nightly_tasks_recompute_everything():
    one, two = two_products()  # written without an ingest: no facts yet

    assert recompute_all_flow_task()["snapshots"] == 0  # the nightly run reads only facts
    result = recompute_all_flow_task(rebuild=True)

    assert result["products"] == 2
    assert result["value_streams"] == 1
    assert rows_count(one) > 0
    assert rows_count(two) > 0
    weekly = figures()
    assert recompute_all_flow_task() == result
    assert figures() == weekly


def test_the_tasks_are_registered_with_retries_and_time_limits():
    for task in (recompute_flow_task, recompute_all_flow_task):
        assert app.tasks[task.name].app is app
        assert task.max_retries
        assert task.soft_time_limit < task.time_limit
    assert recompute_flow_task.name == "valuestreams.tasks.recompute_flow_task"


def test_beat_recomputes_every_night():
    nightly = settings.CELERY_BEAT_SCHEDULE["flow-recompute-nightly"]
    weekly = settings.CELERY_BEAT_SCHEDULE["flow-rebuild-weekly"]
    assert nightly["task"] == weekly["task"] == recompute_all_flow_task.name
    assert nightly["schedule"].hour == weekly["schedule"].hour == {2}
    assert nightly["schedule"].day_of_week | weekly["schedule"].day_of_week == set(range(7))
    assert weekly["kwargs"] == {"rebuild": True} and "kwargs" not in nightly


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_computes_the_snapshots(api_as, executive):
    # An earlier transactional test's flush removes the default mappings that migrate wrote.
    import_module("valuestreams.migrations.0003_default_mappings").add_defaults(django_apps, None)
    one, two = two_products()
    app.control.purge()

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20):
        queued = recompute_flow_task.delay(product_ids=[one.pk], since=None)
        result = queued.get(timeout=30)

    state = api_as(executive).get(f"/api/v1/flow-tasks/{queued.id}/").json()
    assert state == {"task_id": queued.id, "state": "SUCCESS", "progress": None, "result": result}
    assert result["products"] == 1
    assert result["value_streams"] == 1
    week = FlowSnapshot.objects.get(product=one, window="week", window_start=W1)
    assert week.velocity == 1
    assert not FlowSnapshot.objects.filter(product=two).exists()
