"""Status and type mappings: the services, what counts as unmapped, and the API."""

import sys
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError

from tests.products.factories import ProductFactory
from tests.valuestreams.factories import ValueStreamFactory
from valuestreams import mappings
from valuestreams.ingest import notify_ingested, work_items_ingest
from valuestreams.models import StatusMapping, TypeMapping, WorkItem

ALL_ROLES = ("executive", "portfolio_manager", "product_owner", "finance")
REFUSED_ROLES = ("executive", "product_owner", "finance")


@pytest.fixture
def world(db, portfolio_manager):
    """Two products in a value stream, one in none; items of each with tracker types."""
    checkout = ProductFactory(slug="checkout")
    search = ProductFactory(slug="search")
    loner = ProductFactory(slug="loner")
    stream = ValueStreamFactory(slug="retail", products=[checkout, search])
    later = ValueStreamFactory(slug="later", products=[search])  # higher id: not search's mapping
    items = []
    transitions = []
    for product, key, tracker_type, statuses in [
        ("checkout", "A-1", "Story", ["To Do", "Doing", "Done"]),
        ("checkout", "A-2", "Spike", ["Doing", "ready  for dev"]),
        ("search", "B-1", "spike ", ["Ready for Dev"]),
        ("loner", "C-1", "Spike", ["Doing"]),
        ("loner", "C-2", "Epic", ["Shipped"]),
    ]:
        items.append(
            {
                "key": key,
                "tracker_type": tracker_type,
                "product": product,
                "created_at": "2024-01-01T00:00:00Z",
            }
        )
        transitions += [
            {"key": key, "to_status": s, "at": f"2024-01-0{i + 2}T00:00:00Z"}
            for i, s in enumerate(statuses)
        ]
    work_items_ingest(actor=portfolio_manager, items=items, transitions=transitions)
    return SimpleNamespace(
        checkout=checkout, search=search, loner=loner, stream=stream, later=later
    )


def test_notify_ingested_queues_the_flow_task(queued):
    import datetime

    notify_ingested([3, 1, 3], datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC))
    notify_ingested([2], None)
    assert queued == [
        {"product_ids": [1, 3], "since": "2024-01-01T00:00:00+00:00"},
        {"product_ids": [2], "since": None},
    ]


def test_notify_ingested_without_the_flow_task_does_nothing(monkeypatch):
    monkeypatch.setitem(sys.modules, "valuestreams.tasks", SimpleNamespace())
    notify_ingested([1], None)  # no task: nothing to queue, no error


def test_ingest_notifies_after_commit_with_products_and_earliest(
    portfolio_manager, queued, django_capture_on_commit_callbacks
):
    product = ProductFactory(slug="checkout")
    with django_capture_on_commit_callbacks(execute=True):
        work_items_ingest(
            actor=portfolio_manager,
            items=[
                {
                    "key": "K",
                    "type": "feature",
                    "product": "checkout",
                    "created_at": "2024-02-01T00:00:00Z",
                }
            ],
            transitions=[{"key": "K", "to_status": "Doing", "at": "2024-01-31T23:00:00+01:00"}],
        )
    assert queued == [{"product_ids": [product.pk], "since": "2024-01-31T22:00:00+00:00"}]
    queued.clear()
    with django_capture_on_commit_callbacks(execute=True):  # nothing new: nothing to recompute
        work_items_ingest(
            actor=portfolio_manager,
            items=[
                {
                    "key": "K",
                    "type": "feature",
                    "product": "checkout",
                    "created_at": "2024-02-01T00:00:00Z",
                }
            ],
        )
    assert queued == []


def test_unmapped_lists_per_value_stream_and_default(world):
    def statuses(vs):
        return {(s["status_key"], s["count"]) for s in mappings.unmapped_statuses(value_stream=vs)}

    def types(vs):
        return {
            (t["tracker_type"].strip(), t["count"])
            for t in mappings.unmapped_types(value_stream=vs)
        }

    # Status names differing in case and spaces group together.
    assert statuses(world.stream) == {("doing", 2), ("ready for dev", 2)}
    assert statuses(world.later) == {("ready for dev", 1)}
    assert statuses(None) == {("doing", 3), ("ready for dev", 2), ("shipped", 1)}
    assert types(world.stream) == {("Spike", 2)}
    assert types(None) == {("Spike", 3), ("Epic", 1)}

    # A value stream's own mapping covers its items (and those of products mapping through it).
    mappings.status_mapping_create(
        actor=None, value_stream=world.stream, status_name="DOING", category="active"
    )
    assert statuses(world.stream) == {("ready for dev", 2)}
    assert statuses(None) == {("doing", 1), ("ready for dev", 2), ("shipped", 1)}


def test_type_mapping_re_resolves_items_in_its_scope(world):
    def typed():
        return dict(WorkItem.objects.values_list("key", "type"))

    assert typed() == {"A-1": "feature", "A-2": "", "B-1": "", "C-1": "", "C-2": ""}
    mapping = mappings.type_mapping_create(
        actor=None, value_stream=world.stream, tracker_type="SPIKE", type="debt"
    )
    # checkout and search map through "retail"; loner does not.
    assert typed() == {"A-1": "feature", "A-2": "debt", "B-1": "debt", "C-1": "", "C-2": ""}

    default = mappings.type_mapping_create(
        actor=None, value_stream=None, tracker_type="Spike", type="risk"
    )
    # The default reaches loner only: retail's own mapping wins for its products.
    assert typed() == {"A-1": "feature", "A-2": "debt", "B-1": "debt", "C-1": "risk", "C-2": ""}

    mappings.type_mapping_update(actor=None, mapping=mapping, type="feature")
    assert typed()["A-2"] == "feature"
    mappings.type_mapping_delete(actor=None, mapping=mapping)
    assert typed() == {"A-1": "feature", "A-2": "risk", "B-1": "risk", "C-1": "risk", "C-2": ""}
    mappings.type_mapping_update(actor=None, mapping=default, tracker_type="Epic")
    assert typed() == {"A-1": "feature", "A-2": "", "B-1": "", "C-1": "", "C-2": "risk"}


def test_mapping_change_notifies_the_value_streams_products(
    world, queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        mappings.status_mapping_create(
            actor=None, value_stream=world.stream, status_name="Doing", category="active"
        )
    assert queued == [{"product_ids": sorted([world.checkout.pk, world.search.pk]), "since": None}]
    queued.clear()
    with django_capture_on_commit_callbacks(execute=True):
        mappings.type_mapping_create(
            actor=None, value_stream=None, tracker_type="Epic", type="feature"
        )
    assert queued == [
        {
            "product_ids": sorted([world.checkout.pk, world.search.pk, world.loner.pk]),
            "since": None,
        }
    ]


def test_names_differing_in_case_or_spaces_are_the_same_mapping(world):
    with pytest.raises(ValidationError) as error:
        mappings.status_mapping_create(
            actor=None, value_stream=None, status_name="  in   PROGRESS ", category="done"
        )
    assert "status_name" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        mappings.type_mapping_create(actor=None, value_stream=None, tracker_type="BUG", type="risk")
    assert "tracker_type" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        mappings.status_mapping_create(
            actor=None, value_stream=world.stream, status_name="", category="nope"
        )
    assert set(error.value.message_dict) == {"status_name", "category"}
    # The same name in a value stream's own mapping is an override, not a clash.
    override = mappings.status_mapping_create(
        actor=None, value_stream=world.stream, status_name="in progress", category="waiting"
    )
    assert override.status_key == "in progress"


# API.

STATUS = "/api/v1/status-mappings/"
TYPES = "/api/v1/type-mappings/"


@pytest.mark.parametrize("role_user", ALL_ROLES, indirect=True)
def test_everyone_reads_mappings_and_unmapped(api_as, role_user, world):
    client = api_as(role_user)
    rows = client.get(STATUS + "?default=true&page_size=100").json()["results"]
    assert {r["status_name"] for r in rows} >= {"To Do", "In Progress", "Ready for QA", "Released"}
    assert all(r["value_stream"] is None for r in rows)
    assert client.get(TYPES + "?default=true").json()["count"] == 15
    unmapped = client.get(f"/api/v1/value-streams/{world.stream.pk}/unmapped/").json()
    assert unmapped == {
        "statuses": [
            {"status_key": "doing", "status": "Doing", "count": 2},
            {"status_key": "ready for dev", "status": "Ready for Dev", "count": 2},
        ],
        "tracker_types": [{"tracker_type": "Spike", "count": 2}],
    }


def test_api_crud_by_portfolio_manager(api_as, portfolio_manager, world):
    client = api_as(portfolio_manager)
    created = client.post(
        STATUS, {"value_stream": world.stream.pk, "status_name": "Doing", "category": "active"}
    )
    assert created.status_code == 201, created.json()
    row = created.json()
    assert row["value_stream"]["slug"] == "retail" and row["status_key"] == "doing"
    assert client.get(STATUS + f"?value_stream={world.stream.pk}").json()["count"] == 1

    clash = client.post(
        STATUS, {"value_stream": world.stream.pk, "status_name": " doing", "category": "done"}
    )
    assert clash.status_code == 400 and "status_name" in clash.json()

    patched = client.patch(f"{STATUS}{row['id']}/", {"category": "waiting"})
    assert patched.json()["category"] == "waiting"
    assert client.delete(f"{STATUS}{row['id']}/").status_code == 204
    assert not StatusMapping.objects.filter(value_stream=world.stream).exists()

    typed = client.post(TYPES, {"tracker_type": "Spike", "type": "debt"})
    assert typed.status_code == 201 and typed.json()["value_stream"] is None
    assert WorkItem.objects.get(key="C-1").type == "debt"
    assert client.patch(f"{TYPES}{typed.json()['id']}/", {"type": "nope"}).status_code == 400
    assert client.delete(f"{TYPES}{typed.json()['id']}/").status_code == 204
    assert WorkItem.objects.get(key="C-1").type == ""


@pytest.mark.parametrize("role_user", REFUSED_ROLES, indirect=True)
def test_api_writes_refused_for_other_roles(api_as, role_user, world):
    client = api_as(role_user)
    mapping = StatusMapping.objects.filter(value_stream=None).first()
    kind = TypeMapping.objects.filter(value_stream=None).first()
    assert client.post(STATUS, {"status_name": "Doing", "category": "active"}).status_code == 403
    assert client.patch(f"{STATUS}{mapping.pk}/", {"category": "done"}).status_code == 403
    assert client.delete(f"{STATUS}{mapping.pk}/").status_code == 403
    assert client.post(TYPES, {"tracker_type": "Spike", "type": "debt"}).status_code == 403
    assert client.delete(f"{TYPES}{kind.pk}/").status_code == 403
    assert StatusMapping.objects.filter(value_stream=None).count() == 15


@pytest.mark.parametrize("n", [2, 20])
def test_mapping_list_query_counts(api_as, portfolio_manager, django_assert_num_queries, n, db):
    streams = [ValueStreamFactory() for _ in range(n)]
    for vs in streams:
        StatusMapping.objects.create(value_stream=vs, status_name="Doing", category="active")
        TypeMapping.objects.create(value_stream=vs, tracker_type="Spike", type="debt")
    client = api_as(portfolio_manager)
    with django_assert_num_queries(4):  # session, user, count, page (value streams joined)
        client.get(STATUS + "?default=false")
    with django_assert_num_queries(4):
        response = client.get(TYPES + "?default=false")
    assert response.json()["count"] == n


@pytest.mark.parametrize("n", [2, 20])
def test_unmapped_query_count(api_as, portfolio_manager, django_assert_num_queries, n):
    product = ProductFactory(slug="p")
    stream = ValueStreamFactory(products=[product])
    work_items_ingest(
        actor=portfolio_manager,
        items=[
            {
                "key": f"K{i}",
                "tracker_type": f"T{i}",
                "product": "p",
                "created_at": "2024-01-01T00:00:00Z",
            }
            for i in range(n)
        ],
        transitions=[
            {"key": f"K{i}", "to_status": f"S{i}", "at": "2024-01-02T00:00:00Z"} for i in range(n)
        ],
    )
    client = api_as(portfolio_manager)
    # session, user, value stream, mapped status keys, status keys in use, unmapped statuses,
    # tracker types, the stream's own type mappings
    with django_assert_num_queries(8):
        response = client.get(f"/api/v1/value-streams/{stream.pk}/unmapped/")
    assert len(response.json()["statuses"]) == n
    assert len(response.json()["tracker_types"]) == n


def test_a_broker_failure_is_logged_not_raised(monkeypatch, caplog):
    def refuse(**kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setitem(
        sys.modules,
        "valuestreams.tasks",
        SimpleNamespace(recompute_flow_task=SimpleNamespace(delay=refuse)),
    )
    notify_ingested([1], None)
    assert "Could not queue the flow recomputation" in caplog.text


def test_status_keys_in_use_and_a_fully_mapped_stream(world, django_assert_num_queries):
    assert mappings.status_keys_in_use() == ["doing", "done", "ready for dev", "shipped", "to do"]
    for name, category in [("Doing", "active"), ("Ready for dev", "backlog")]:
        mappings.status_mapping_create(
            actor=None, value_stream=world.stream, status_name=name, category=category
        )
    # "Shipped" (an item outside the stream) is still a candidate: its changes are counted.
    with django_assert_num_queries(3):
        assert mappings.unmapped_statuses(value_stream=world.stream) == []
    mappings.status_mapping_create(
        actor=None, value_stream=None, status_name="Shipped", category="done"
    )
    # mapped keys, keys in use; nothing left to count
    with django_assert_num_queries(2):
        assert mappings.unmapped_statuses(value_stream=world.stream) == []
