"""``POST /api/v1/work-items/ingest/`` and the read-only ``work-items`` list and detail."""

import pytest

from tests.products.factories import ProductFactory
from valuestreams.models import StatusChange, WorkItem, WorkSource

URL = "/api/v1/work-items/"
INGEST = "/api/v1/work-items/ingest/"
REFUSED_ROLES = ("executive", "product_owner", "finance")
ALL_ROLES = ("executive", "portfolio_manager", "product_owner", "finance")


def payload(product="checkout", n=2, changes_per_item=2, **extra):
    items = [
        {
            "key": f"CK-{i}",
            "type": "feature" if i % 2 else "defect",
            "product": product,
            "title": f"Item {i}",
            "created_at": f"2024-03-{i + 1:02d}T09:00:00Z",
        }
        for i in range(n)
    ]
    transitions = [
        {
            "key": f"CK-{i}",
            "to_status": "In Progress" if c == 0 else "Done",
            "at": f"2024-04-{i + 1:02d}T{10 + c:02d}:00:00Z",
        }
        for i in range(n)
        for c in range(changes_per_item)
    ]
    return {"items": items, "transitions": transitions, **extra}


def db_state():
    return {
        "sources": list(WorkSource.objects.order_by("pk").values("slug")),
        "items": list(WorkItem.objects.order_by("pk").values()),
        "changes": list(StatusChange.objects.order_by("pk").values()),
    }


@pytest.fixture
def checkout(db):
    return ProductFactory(slug="checkout", name="Checkout")


def test_ingest_writes_all_and_counts(api_as, portfolio_manager, checkout):
    response = api_as(portfolio_manager).post(INGEST, payload(n=3), format="json")

    assert response.status_code == 200, response.json()
    assert response.json() == {
        "items": {"created": 3, "updated": 0, "unchanged": 0},
        "transitions": {"created": 6, "duplicates": 0},
    }
    source = WorkSource.objects.get(slug="api")
    item = WorkItem.objects.get(source=source, key="CK-1")
    assert (item.product, item.type, item.title) == (checkout, "feature", "Item 1")
    assert list(item.status_changes.values_list("to_status", "status_key")) == [
        ("In Progress", "in progress"),
        ("Done", "done"),
    ]


def test_same_request_twice_stores_nothing_new(api_as, portfolio_manager, checkout):
    client = api_as(portfolio_manager)
    client.post(INGEST, payload(n=3), format="json")
    before = db_state()

    response = client.post(INGEST, payload(n=3), format="json")

    assert response.json() == {
        "items": {"created": 0, "updated": 0, "unchanged": 3},
        "transitions": {"created": 0, "duplicates": 6},
    }
    after = db_state()
    assert after == before


def test_update_and_transitions_for_stored_items(api_as, portfolio_manager, checkout):
    client = api_as(portfolio_manager)
    client.post(INGEST, payload(n=2, changes_per_item=0), format="json")
    changed = payload(n=2, changes_per_item=0)
    changed["items"][0]["title"] = "Renamed"
    changed["transitions"] = [
        # A key stored by the first request; a status differing only in case and spaces from
        # one stored at the same instant is the same change.
        {"key": "CK-1", "to_status": "In Review", "at": "2024-05-01T10:00:00+02:00"},
        {"key": "CK-1", "to_status": "in  review ", "at": "2024-05-01T08:00:00Z"},
    ]

    response = client.post(INGEST, changed, format="json")

    assert response.json() == {
        "items": {"created": 0, "updated": 1, "unchanged": 1},
        "transitions": {"created": 1, "duplicates": 1},
    }
    assert WorkItem.objects.get(key="CK-0").title == "Renamed"
    assert StatusChange.objects.get().to_status == "In Review"


def test_transitions_only_for_stored_item(api_as, portfolio_manager, checkout):
    client = api_as(portfolio_manager)
    client.post(INGEST, payload(n=1, changes_per_item=0), format="json")

    response = client.post(
        INGEST,
        {"transitions": [{"key": "CK-0", "to_status": "Done", "at": "2024-05-01T10:00:00Z"}]},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["transitions"] == {"created": 1, "duplicates": 0}


def test_bad_entries_answer_400_with_indices_and_write_nothing(api_as, portfolio_manager, checkout):
    ProductFactory(slug="old", archived_at="2024-01-01T00:00:00Z")
    client = api_as(portfolio_manager)
    client.post(INGEST, payload(n=1), format="json")
    before = db_state()
    body = payload(n=2)
    body["items"] += [
        {"key": "X-1", "type": "epic", "product": "nope", "created_at": "yesterday"},
        {
            "key": "X-2",
            "type": "feature",
            "tracker_type": "Story",
            "product": "old",
            "created_at": "2024-01-01T00:00:00",
        },
        {
            "key": "CK-0",
            "type": "feature",
            "product": "checkout",
            "created_at": "2024-01-01T00:00:00Z",
        },
        "not an object",
    ]
    body["transitions"] += [
        {"key": "GHOST-1", "to_status": "Done", "at": "2024-01-01T00:00:00Z"},
        {"key": "CK-0", "to_status": "", "at": "2024-13-01T00:00:00Z"},
    ]

    response = client.post(INGEST, body, format="json")

    assert response.status_code == 400
    errors = response.json()
    assert set(errors["items"]) == {"2", "3", "4", "5"}
    assert errors["items"]["2"] == [
        "There is no product “nope”.",
        "type must be one of feature, defect, risk, debt, not “epic”.",
        "created_at “yesterday” is not an ISO 8601 time with an offset (2024-05-01T09:30:00Z).",
    ]
    assert "The product “old” is archived." in errors["items"]["3"]
    assert "Give type or tracker_type, not both." in errors["items"]["3"]
    assert any("offset" in reason for reason in errors["items"]["3"])
    assert errors["items"]["4"] == ["The key CK-0 is already item 0 of this request."]
    assert errors["items"]["5"] == ["An item must be an object."]
    assert set(errors["transitions"]) == {"4", "5"}
    assert errors["transitions"]["4"] == [
        "No item GHOST-1 in this request or stored for the source api."
    ]
    assert errors["transitions"]["5"][0] == "to_status is missing."
    assert db_state() == before


def test_more_than_10000_transitions_is_refused(api_as, portfolio_manager, checkout):
    body = payload(n=1, changes_per_item=0)
    body["transitions"] = [
        {"key": "CK-0", "to_status": "Done", "at": "2024-01-01T00:00:00Z"}
    ] * 10_001

    response = api_as(portfolio_manager).post(INGEST, body, format="json")

    assert response.status_code == 400
    assert "transitions" in response.json()
    assert WorkItem.objects.count() == 0


def test_unknown_source_slug_is_created_and_bad_slug_refused(api_as, portfolio_manager, checkout):
    client = api_as(portfolio_manager)
    assert client.post(INGEST, payload(n=1, source="jira"), format="json").status_code == 200
    assert WorkSource.objects.filter(slug="jira").exists()
    response = client.post(INGEST, payload(n=1, source="not a slug"), format="json")
    assert response.status_code == 400
    assert "source" in response.json()


def test_tracker_type_resolves_through_the_mapping(api_as, portfolio_manager, checkout):
    body = payload(n=2, changes_per_item=0)
    for entry, tracker_type in zip(body["items"], ["Bug", "Spike"], strict=True):
        del entry["type"]
        entry["tracker_type"] = tracker_type

    assert api_as(portfolio_manager).post(INGEST, body, format="json").status_code == 200

    assert dict(WorkItem.objects.values_list("tracker_type", "type")) == {
        "Bug": "defect",
        "Spike": "",
    }


@pytest.mark.parametrize("role_user", REFUSED_ROLES, indirect=True)
def test_only_portfolio_managers_ingest(api_as, role_user, checkout):
    response = api_as(role_user).post(INGEST, payload(), format="json")
    assert response.status_code == 403
    assert WorkItem.objects.count() == 0


def test_anonymous_is_refused(api_client, checkout):
    assert api_client.post(INGEST, payload(), format="json").status_code in (401, 403)
    assert api_client.get(URL).status_code in (401, 403)


@pytest.mark.parametrize("role_user", ALL_ROLES, indirect=True)
def test_everyone_reads_work_items(api_as, role_user, checkout, portfolio_manager):
    api_as(portfolio_manager).post(INGEST, payload(n=2), format="json")
    client = api_as(role_user)

    response = client.get(URL)

    assert response.status_code == 200
    rows = response.json()["results"]
    assert [r["key"] for r in rows] == ["CK-0", "CK-1"]
    assert rows[0]["source"] == "api"
    assert rows[0]["product"]["slug"] == "checkout"
    assert [c["to_status"] for c in rows[0]["status_changes"]] == ["In Progress", "Done"]
    detail = client.get(f"{URL}{rows[1]['id']}/").json()
    assert detail["type"] == "feature"


def test_list_filters(api_as, portfolio_manager, checkout):
    ProductFactory(slug="search")
    client = api_as(portfolio_manager)
    client.post(INGEST, payload(n=3), format="json")
    client.post(INGEST, payload(product="search", n=1, source="jira"), format="json")

    def keys(query):
        return [(r["source"], r["key"]) for r in client.get(URL + query).json()["results"]]

    assert keys("?product=search") == [("jira", "CK-0")]
    assert keys("?source=api&type=feature") == [("api", "CK-1")]
    assert keys("?type=defect&product=checkout") == [("api", "CK-0"), ("api", "CK-2")]
    assert keys("?type=unmapped") == []


@pytest.mark.parametrize("n", [2, 20])
def test_list_query_count(api_as, portfolio_manager, checkout, django_assert_num_queries, n):
    client = api_as(portfolio_manager)
    client.post(INGEST, payload(n=n), format="json")
    # session, user, count, page, status changes (one prefetch)
    with django_assert_num_queries(5):
        response = client.get(URL)
    assert len(response.json()["results"]) == n


@pytest.mark.parametrize("n", [2, 20])
def test_ingest_query_count_is_n_invariant(
    api_as, portfolio_manager, checkout, django_assert_num_queries, n
):
    client = api_as(portfolio_manager)
    client.post(INGEST, payload(n=1, changes_per_item=0), format="json")  # the source exists
    # session, user, perms (2), products, source, stored items, savepoint, type resolver (2),
    # upsert (answering the items' ids), stored changes, insert changes; the flow facts: tracker
    # types, delete facts and spans (2), derive them (PostgreSQL: locks, then one statement for
    # both tables; SQLite: one statement each); release
    with django_assert_num_queries(19):
        response = client.post(INGEST, payload(n=n), format="json")
    assert response.json()["items"]["created"] == n - 1


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"items": {"key": "CK-0"}}, "items", "Expected a list of items, not dict."),
        ({"transitions": "CK-0 Done"}, "transitions", "Expected a list of transitions, not str."),
        (
            {"source": 7},
            "source",
            "Give the source as a slug (text).",
        ),
        (
            {"source": "x" * 61},
            "source",
            "The source must be a slug of at most 60 letters, digits, hyphens or underscores.",
        ),
        (["not", "an", "object"], "non_field_errors", "Send a JSON object."),
    ],
)
def test_a_malformed_request_answers_400_by_field(
    api_as, portfolio_manager, checkout, body, field, message
):
    response = api_as(portfolio_manager).post(INGEST, body, format="json")

    assert response.status_code == 400
    assert response.json() == {field: [message]}
    assert WorkItem.objects.count() == 0
    assert not WorkSource.objects.exists()


def test_more_than_10000_items_is_refused_by_field(api_as, portfolio_manager, checkout):
    body = payload(n=1, changes_per_item=0)
    body["items"] = body["items"] * 10_001

    response = api_as(portfolio_manager).post(INGEST, body, format="json")

    assert response.status_code == 400
    assert response.json() == {"items": ["At most 10,000 items a request, not 10,001; split it."]}
