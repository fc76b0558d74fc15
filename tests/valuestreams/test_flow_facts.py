"""The per-item flow facts (valuestreams.flow.facts): what each ingest keeps in its transaction
is what a derivation from the whole history gives, through each mapping an item is seen by."""

import datetime as dt
import threading

import pytest
from django.db import close_old_connections, connection
from django.urls import reverse

from tests.products.factories import ProductFactory
from tests.valuestreams.factories import ValueStreamFactory
from valuestreams import services
from valuestreams.flow.facts import rebuild_facts, refresh_facts
from valuestreams.ingest import IngestRejected, work_items_ingest
from valuestreams.models import (
    FlowFact,
    FlowSpan,
    StatusChange,
    StatusMapping,
    TypeMapping,
    WorkItem,
)

DAY = 86400


def at(day: int, hour: int = 0) -> str:
    return dt.datetime(2024, 1, day, hour, tzinfo=dt.UTC).isoformat()


def epoch(day: int, hour: int = 0) -> float:
    return dt.datetime(2024, 1, day, hour, tzinfo=dt.UTC).timestamp()


def facts() -> list[tuple]:
    return sorted(
        FlowFact.objects.values_list(
            "item__key",
            "value_stream_id",
            "product_id",
            "for_product",
            "type",
            "stream_type",
            "first_t",
            "start_t",
            "started_at",
            "done_t",
            "done_week",
            "done_month",
            "active_s",
            "category",
            "changes",
        ),
        key=repr,
    )


def spans() -> list[tuple]:
    return sorted(
        FlowSpan.objects.values_list(
            "item__key", "value_stream_id", "product_id", "for_product", "first_day", "last_day"
        ),
        key=repr,
    )


def ingest(**body):
    return work_items_ingest(actor=None, source="tracker", **body)


@pytest.fixture
def world(db):
    """Checkout in two value streams (retail maps "Review" as waiting, its own), search in
    retail, loner in none."""
    checkout, search, loner = (ProductFactory(slug=s) for s in ("checkout", "search", "loner"))
    retail = ValueStreamFactory(slug="retail", products=[checkout, search])
    later = ValueStreamFactory(slug="later", products=[checkout])
    StatusMapping.objects.create(value_stream=retail, status_name="Review", category="waiting")
    StatusMapping.objects.create(value_stream=later, status_name="Review", category="active")
    TypeMapping.objects.create(value_stream=later, tracker_type="Spike", type="debt")
    TypeMapping.objects.create(value_stream=None, tracker_type="Spike", type="feature")
    return checkout, search, loner, retail, later


def test_an_ingest_keeps_the_facts_a_full_derivation_gives(world):
    _checkout, search, _loner, retail, later = world
    items = [
        {"key": "A-1", "tracker_type": "Spike", "product": "checkout", "created_at": at(1)},
        {"key": "A-2", "type": "defect", "product": "checkout", "created_at": at(1)},
        {"key": "B-1", "type": "risk", "product": "search", "created_at": at(1)},
        {"key": "C-1", "type": "debt", "product": "loner", "created_at": at(1)},
    ]
    ingest(
        items=items,
        transitions=[
            {"key": "A-1", "to_status": "To Do", "at": at(1)},
            {"key": "A-1", "to_status": "In Progress", "at": at(2, 6)},
            {"key": "A-1", "to_status": "Review", "at": at(3, 12)},
            {"key": "A-1", "to_status": "Done", "at": at(5)},
            {"key": "A-2", "to_status": "In Progress", "at": at(2)},
            {"key": "B-1", "to_status": "Review", "at": at(4)},
            {"key": "C-1", "to_status": "Shipped", "at": at(2)},  # unmapped
        ],
    )
    # Later: A-1 reopened and done again, A-2 done and moved to search, C-1 started.
    ingest(
        items=[{**items[1], "product": "search"}],
        transitions=[
            {"key": "A-1", "to_status": "In Progress", "at": at(8)},
            {"key": "A-1", "to_status": "Closed", "at": at(9)},
            {"key": "A-2", "to_status": "Done", "at": at(6)},
            {"key": "C-1", "to_status": "In Progress", "at": at(7)},
        ],
    )
    kept_facts, kept_spans = facts(), spans()

    refresh_facts()

    assert facts() == kept_facts
    assert spans() == kept_spans
    a1 = {row[1]: row for row in kept_facts if row[0] == "A-1"}
    assert set(a1) == {retail.pk, later.pk}  # seen through both of checkout's value streams
    own = a1[retail.pk]  # the lowest id: checkout's own mapping
    assert own[3] is True and a1[later.pk][3] is False
    assert own[4:6] == ("feature", "feature")  # Spike: the default type mapping
    assert a1[later.pk][5] == "debt"  # later maps Spike itself
    assert own[7] == epoch(2, 6) and own[9] == epoch(9)  # started; completed by the last done
    # Active: In Progress 2nd 06:00 -> Review (waiting here) 3rd 12:00, 8th -> 9th.
    assert own[12] == (30 * 3600) + DAY
    assert a1[later.pk][12] == (30 + 36) * 3600 + DAY  # Review is active there
    assert own[13:] == ("done", 6)
    # In progress at the midnights of the 3rd to the 5th (done at 00:00 on the 5th: not before
    # that midnight), then of the 9th (closed at its 00:00).
    a1_spans = [row[4:] for row in kept_spans if row[0] == "A-1" and row[1] == retail.pk]
    day = lambda n: int(epoch(n) // DAY)  # noqa: E731
    assert a1_spans == [(day(3), day(5)), (day(9), day(9))]
    moved = [row for row in kept_facts if row[0] == "A-2"]
    assert [(row[1], row[2], row[3]) for row in moved] == [(retail.pk, search.pk, True)]
    loner_fact = next(row for row in kept_facts if row[0] == "C-1")
    assert loner_fact[1] is None and loner_fact[3] is True  # the default mapping
    assert loner_fact[7] == epoch(7) and loner_fact[13] == "active"


def test_a_rebuild_in_batches_of_products_gives_the_same_facts_and_drops_orphans(
    world, monkeypatch
):
    checkout, search, _loner, _retail, _later = world
    for n, product in enumerate(("checkout", "search", "loner")):
        ingest(
            items=[{"key": f"R-{n}", "type": "feature", "product": product, "created_at": at(1)}],
            transitions=[
                {"key": f"R-{n}", "to_status": "In Progress", "at": at(2)},
                {"key": f"R-{n}", "to_status": "Done", "at": at(4 + n)},
            ],
        )
    kept_facts, kept_spans = facts(), spans()
    gone = WorkItem.objects.get(key="R-2")
    with connection.cursor() as cursor:  # an item removed behind Django's back
        cursor.execute(f"DELETE FROM {StatusChange._meta.db_table} WHERE item_id = %s", [gone.pk])
        cursor.execute(f"DELETE FROM {WorkItem._meta.db_table} WHERE id = %s", [gone.pk])
    monkeypatch.setattr("valuestreams.flow.facts.REBUILD_BATCH", 2)

    assert rebuild_facts() == 2  # three products, two a batch

    assert facts() == [row for row in kept_facts if row[0] != "R-2"]
    assert spans() == [row for row in kept_spans if row[0] != "R-2"]
    assert rebuild_facts([search.pk, checkout.pk]) == 1
    assert facts() == [row for row in kept_facts if row[0] != "R-2"]


def test_the_replaced_completion_is_answered_so_the_recomputation_reaches_back(world):
    ingest(
        items=[{"key": "A-1", "type": "feature", "product": "search", "created_at": at(1)}],
        transitions=[
            {"key": "A-1", "to_status": "In Progress", "at": at(2)},
            {"key": "A-1", "to_status": "Done", "at": at(3)},
        ],
    )
    reopened = ingest(transitions=[{"key": "A-1", "to_status": "In Progress", "at": at(20)}])
    assert reopened.earliest_at == dt.datetime(2024, 1, 3, tzinfo=dt.UTC)
    assert FlowFact.objects.get(item__key="A-1").done_t is None


def test_an_item_without_changes_has_no_facts_and_a_bad_ingest_writes_none(world):
    ingest(items=[{"key": "N-1", "type": "feature", "product": "loner", "created_at": at(1)}])
    assert not FlowFact.objects.exists()
    with pytest.raises(IngestRejected):  # an unknown key
        ingest(
            items=[{"key": "N-2", "type": "feature", "product": "loner", "created_at": at(1)}],
            transitions=[
                {"key": "N-2", "to_status": "In Progress", "at": at(2)},
                {"key": "NOPE", "to_status": "Done", "at": at(3)},
            ],
        )
    assert not FlowFact.objects.exists() and not WorkItem.objects.filter(key="N-2").exists()


def test_relinking_a_value_stream_recomputes_the_products_that_moved(
    world, django_capture_on_commit_callbacks, queued
):
    checkout, _search, loner, _retail, later = world
    with django_capture_on_commit_callbacks(execute=True):
        services.value_stream_update(actor=None, value_stream=later, products=[loner, checkout])
    assert queued == [{"product_ids": [loner.pk], "since": None}]
    queued.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.value_stream_update(actor=None, value_stream=later, name="Later")
    assert queued == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_ingests_of_one_item_keep_both_changes_in_its_facts():
    """Each ingest derives the item's facts after taking its product's lock, so the second
    sees the first's committed change; without the lock each would see only its own."""
    from importlib import import_module

    from django.apps import apps as django_apps

    import_module("valuestreams.migrations.0003_default_mappings").add_defaults(django_apps, None)
    ProductFactory(slug="shared")
    ingest(
        items=[{"key": "S-1", "type": "feature", "product": "shared", "created_at": at(1)}],
        transitions=[{"key": "S-1", "to_status": "To Do", "at": at(1)}],
    )
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def send(status: str, day: int) -> None:
        try:
            barrier.wait(timeout=10)
            ingest(transitions=[{"key": "S-1", "to_status": status, "at": at(day)}])
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            close_old_connections()
            connection.close()

    threads = [
        threading.Thread(target=send, args=("In Progress", 2)),
        threading.Thread(target=send, args=("Done", 4)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    fact = FlowFact.objects.get(item__key="S-1")
    assert (fact.changes, fact.category, fact.start_t, fact.done_t) == (
        3,
        "done",
        epoch(2),
        epoch(4),
    )


@pytest.mark.postgres
def test_an_ingest_during_a_rebuild_waits_briefly_then_answers_503_writing_nothing(
    world, api_as, portfolio_manager, monkeypatch
):
    """The weekly rebuild holds every product's facts; an ingest gives up after a bounded wait
    (well inside a web worker's timeout) so the sender can retry."""
    import psycopg2

    from valuestreams.flow import facts as facts_module

    monkeypatch.setattr(facts_module, "INGEST_LOCK_WAIT", "200ms")
    db = connection.settings_dict
    holder = psycopg2.connect(
        dbname=db["NAME"], user=db["USER"], host=db["HOST"], port=db["PORT"] or 5432
    )
    holder.autocommit = True
    try:
        with holder.cursor() as cursor:  # what the rebuild holds
            cursor.execute("SELECT pg_advisory_lock(%s)", [facts_module.LOCK_KEY])
        response = api_as(portfolio_manager).post(
            "/api/v1/work-items/ingest/",
            {
                "items": [
                    {"key": "Z-1", "type": "feature", "product": "loner", "created_at": at(1)}
                ],
                "transitions": [{"key": "Z-1", "to_status": "In Progress", "at": at(2)}],
            },
            format="json",
        )
    finally:
        holder.close()

    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    assert "being rebuilt" in response.json()["non_field_errors"][0]
    assert not WorkItem.objects.filter(key="Z-1").exists()
    assert not FlowFact.objects.exists()


def test_relinking_or_deleting_a_value_stream_in_the_admin_recomputes_its_products(
    world, admin_client, django_capture_on_commit_callbacks, queued
):
    checkout, search, loner, retail, _later = world
    change = reverse("admin:valuestreams_valuestream_change", args=[retail.pk])
    form = admin_client.get(change).context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if value is not None and name != "products"
    }
    data["products"] = [checkout.pk, loner.pk]  # search leaves, loner joins
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(change, data)
    assert response.status_code == 302, response.content[:500]
    assert queued == [{"product_ids": sorted([search.pk, loner.pk]), "since": None}]
    queued.clear()

    delete = reverse("admin:valuestreams_valuestream_delete", args=[retail.pk])
    with django_capture_on_commit_callbacks(execute=True):
        assert admin_client.post(delete, {"post": "yes"}).status_code == 302
    assert queued == [{"product_ids": sorted([checkout.pk, loner.pk]), "since": None}]
