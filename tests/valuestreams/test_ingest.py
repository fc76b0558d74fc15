"""The ingestion services: the checks, the bulk write, idempotency, the CSV import and command."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.products.factories import ProductFactory
from tests.valuestreams.factories import ValueStreamFactory
from valuestreams import mappings
from valuestreams.ingest import (
    IngestRejected,
    parse_timestamp,
    work_items_import_csv,
    work_items_ingest,
)
from valuestreams.models import StatusChange, WorkItem, WorkSource

pytestmark = pytest.mark.django_db

UTC = datetime.UTC


def state():
    return (
        list(WorkSource.objects.order_by("pk").values("slug")),
        list(WorkItem.objects.order_by("pk").values()),
        list(StatusChange.objects.order_by("pk").values()),
    )


@pytest.fixture
def product():
    return ProductFactory(slug="checkout")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020-06-12T00:13:13.360Z", datetime.datetime(2020, 6, 12, 0, 13, 13, 360000, tzinfo=UTC)),
        ("2024-05-01T12:00:00+02:00", datetime.datetime(2024, 5, 1, 10, tzinfo=UTC)),
        ("2024-05-01T12:00:00", None),  # no offset: which instant is meant is unknown
        ("2024-05-01", None),
        ("01/05/2024 12:00", None),
        ("", None),
        (20240501, None),
    ],
)
def test_parse_timestamp(text, expected):
    assert parse_timestamp(text) == expected


def test_many_items_and_changes_in_chunks(product):
    """More keys than SQLite takes parameters in one statement; the second run adds nothing."""
    items = [
        {
            "key": f"K-{i}",
            "type": "feature",
            "product": "checkout",
            "created_at": "2024-01-01T00:00:00Z",
        }
        for i in range(1_200)
    ]
    transitions = [
        {"key": f"K-{i}", "to_status": status, "at": at}
        for i in range(1_200)
        for status, at in (
            ("In Progress", "2024-01-02T00:00:00Z"),
            ("Done", "2024-01-03T00:00:00Z"),
        )
    ]
    first = work_items_ingest(actor=None, items=items, transitions=transitions)
    assert (first.items_created, first.transitions_created) == (1_200, 2_400)
    second = work_items_ingest(actor=None, items=items, transitions=transitions)
    assert (second.items_unchanged, second.transitions_duplicates) == (1_200, 2_400)
    assert StatusChange.objects.count() == 2_400


def test_same_change_twice_in_one_request_is_stored_once(product):
    result = work_items_ingest(
        actor=None,
        items=[
            {
                "key": "K",
                "type": "risk",
                "product": "checkout",
                "created_at": "2024-01-01T00:00:00Z",
            }
        ],
        transitions=[
            {"key": "K", "to_status": "Done", "at": "2024-01-02T00:00:00Z"},
            {"key": "K", "to_status": "DONE ", "at": "2024-01-02T01:00:00+01:00"},
            {"key": "K", "to_status": "Done", "at": "2024-01-02T00:00:01Z"},
        ],
    )
    assert (result.transitions_created, result.transitions_duplicates) == (2, 1)


def test_an_item_moved_to_another_product_is_updated(product):
    ProductFactory(slug="search")
    base = {"key": "K", "type": "risk", "created_at": "2024-01-01T00:00:00Z"}
    work_items_ingest(actor=None, items=[{**base, "product": "checkout"}])
    result = work_items_ingest(actor=None, items=[{**base, "product": "search"}])
    assert (result.items_updated, sorted(result.product_ids)) == (
        1,
        sorted([product.pk, WorkItem.objects.get().product_id]),
    )
    assert WorkItem.objects.get().product.slug == "search"


def test_rejected_request_writes_nothing_not_even_the_source(product):
    with pytest.raises(IngestRejected) as rejected:
        work_items_ingest(
            actor=None,
            source="new-tracker",
            items=[
                {
                    "key": "K",
                    "type": "feature",
                    "product": "checkout",
                    "created_at": "2024-01-01T00:00:00Z",
                }
            ],
            transitions=[{"key": "K", "to_status": "Done", "at": "tomorrow"}],
        )
    assert rejected.value.items == {}
    assert list(rejected.value.transitions) == [0]
    assert state() == ([], [], [])


def test_same_key_in_two_sources_is_two_items(product):
    item = {
        "key": "K",
        "type": "feature",
        "product": "checkout",
        "created_at": "2024-01-01T00:00:00Z",
    }
    work_items_ingest(actor=None, source="jira", items=[item])
    work_items_ingest(actor=None, source="gitlab", items=[item])
    assert WorkItem.objects.filter(key="K").count() == 2
    # A transition names an item of its own source only.
    with pytest.raises(IngestRejected):
        work_items_ingest(
            actor=None,
            source="other",
            transitions=[{"key": "K", "to_status": "Done", "at": "2024-01-02T00:00:00Z"}],
        )


def test_long_values_are_refused(product):
    with pytest.raises(IngestRejected) as rejected:
        work_items_ingest(
            actor=None,
            items=[
                {
                    "key": "K" * 101,
                    "tracker_type": "T" * 101,
                    "product": "checkout",
                    "title": "x" * 501,
                    "created_at": "2024-01-01T00:00:00Z",
                }
            ],
        )
    assert rejected.value.items[0] == [
        "key is longer than 100 characters.",
        "tracker_type is longer than 100 characters.",
        "title is longer than 500 characters.",
    ]


# CSV import.

ITEMS = "key,tracker_type,title,created_at\nK-1,Bug,One,2024-01-01T00:00:00Z\nK-2,Epic,Two,2024-01-02T00:00:00Z\n"
CHANGES = (
    "key,from_status,to_status,at\n"
    "K-1,,In Progress,2024-01-03T00:00:00Z\n"
    "K-1,In Progress,Shipped,2024-01-04T00:00:00Z\n"
)


def csv_import(product, items=ITEMS, changes=CHANGES, **kwargs):
    return work_items_import_csv(
        actor=None,
        product=product,
        items_file=io.BytesIO(items.encode()),
        changes_file=io.BytesIO(changes.encode()),
        **kwargs,
    )


def test_csv_import_resolves_types_through_the_value_stream_then_default(product):
    stream = ValueStreamFactory(products=[product])
    mappings.type_mapping_create(
        actor=None, value_stream=stream, tracker_type="epic", type="feature"
    )

    result = csv_import(product, source="jira")

    assert result.ok
    assert dict(WorkItem.objects.values_list("key", "type")) == {"K-1": "defect", "K-2": "feature"}
    assert result.unmapped_types == []
    assert [(s["status"], s["count"]) for s in result.unmapped_statuses] == [("Shipped", 1)]
    assert WorkItem.objects.filter(source__slug="jira").count() == 2


def test_csv_import_is_idempotent_and_ignores_extra_columns(product):
    items = "Key,Tracker_Type,Title,Created_At,Assignee\n" + "\n".join(
        line + ",someone" for line in ITEMS.splitlines()[1:]
    )
    first = csv_import(product, items=items)
    again = csv_import(product, items=items)
    assert first.written.items_created == 2 and first.written.transitions_created == 2
    assert again.written.items_unchanged == 2 and again.written.transitions_duplicates == 2


@pytest.mark.parametrize(
    ("items", "changes", "expected"),
    [
        (
            ITEMS + "K-3,Bug,Three,yesterday\n",
            CHANGES,
            [
                (
                    "items.csv",
                    4,
                    "created_at “yesterday” is not an ISO 8601 time with an offset "
                    "(2024-05-01T09:30:00Z).",
                )
            ],
        ),
        (
            ITEMS + "\nK-1,Bug,Again,2024-01-01T00:00:00Z\n",
            CHANGES + "K-7,,Done,2024-01-05T00:00:00Z\nK-1,,Done\n",
            [
                ("items.csv", 5, "The key K-1 is already item 0 of this request."),
                (
                    "status_changes.csv",
                    4,
                    "No item K-7 in this request or stored for the source csv.",
                ),
                ("status_changes.csv", 5, "Expected 4 values, found 3."),
            ],
        ),
        (
            "key,title\nK-1,One\n",
            "key,status,at\n",
            [
                (
                    "items.csv",
                    1,
                    "The first line must name the columns key, tracker_type, title, "
                    "created_at: missing tracker_type, created_at.",
                ),
                (
                    "status_changes.csv",
                    1,
                    "The first line must name the columns key, from_status, "
                    "to_status, at: missing to_status.",
                ),
            ],
        ),
        (
            "",
            CHANGES,
            [
                (
                    "items.csv",
                    1,
                    "The first line must name the columns key, tracker_type, "
                    "title, created_at; the file is empty.",
                )
            ],
        ),
    ],
)
def test_csv_bad_lines_are_reported_and_nothing_written(product, items, changes, expected):
    result = csv_import(product, items=items, changes=changes)
    assert not result.ok
    assert [tuple(e) for e in result.errors] == expected
    assert state() == ([], [], [])


def test_csv_not_utf8(product):
    result = work_items_import_csv(
        actor=None,
        product=product,
        items_file=io.BytesIO(
            ITEMS.encode() + "K-9,Bug,Café,2024-01-01T00:00:00Z\n".encode("latin-1")
        ),
        changes_file=io.BytesIO(CHANGES.encode()),
    )
    assert [tuple(e) for e in result.errors] == [
        ("items.csv", 4, "The file is not UTF-8 text (save it as CSV UTF-8).")
    ]


def test_csv_into_archived_product(product):
    archived = ProductFactory(slug="old", archived_at=datetime.datetime(2024, 1, 1, tzinfo=UTC))
    result = csv_import(archived)
    assert [tuple(e) for e in result.errors] == [("items.csv", 1, "The product “old” is archived.")]


# The command.


def files(tmp_path, items=ITEMS, changes=CHANGES):
    (tmp_path / "items.csv").write_text(items, encoding="utf-8")
    (tmp_path / "changes.csv").write_text(changes, encoding="utf-8")
    return {"items": str(tmp_path / "items.csv"), "changes": str(tmp_path / "changes.csv")}


def test_command_imports_and_lists_unmapped(tmp_path, product, portfolio_manager):
    out = io.StringIO()
    call_command("import_work_items", product="checkout", user="pm", stdout=out, **files(tmp_path))
    text = out.getvalue()
    assert "Items: 2 created, 0 updated, 0 unchanged." in text
    assert "Status changes: 2 created, 0 already stored." in text
    assert "Unmapped status: Shipped (1 change)" in text
    assert "Unmapped tracker type: Epic (1 item)" in text
    assert "Map them on /value-streams/mappings/" in text


def test_command_reports_bad_lines_on_stderr(tmp_path, product):
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 bad line; nothing was imported"):
        call_command(
            "import_work_items",
            product="checkout",
            stderr=err,
            **files(tmp_path, changes=CHANGES + "K-1,,Done,2024-13-01T00:00:00Z\n"),
        )
    assert (
        "status_changes.csv, line 4: at “2024-13-01T00:00:00Z” is not an ISO 8601" in err.getvalue()
    )
    assert WorkItem.objects.count() == 0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"product": "nope"}, "There is no product “nope”."),
        ({"product": "checkout", "user": "ghost"}, "There is no active user “ghost”."),
        ({"product": "checkout", "user": "po"}, "“po” may not import work items."),
    ],
)
def test_command_refusals(tmp_path, product, product_owner, options, message):
    with pytest.raises(CommandError, match=message):
        call_command("import_work_items", **options, **files(tmp_path))


def test_command_missing_file(tmp_path, product):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command(
            "import_work_items",
            product="checkout",
            items=str(tmp_path / "no.csv"),
            changes=str(tmp_path / "no.csv"),
        )


def test_text_with_quotes_braces_and_backslashes_is_stored_as_sent(product):
    """PostgreSQL receives each column as one array literal: every character must survive."""
    titles = [
        'Say "hi", {then} leave',
        'back\\slash \\" and a trailing space ',
        "NULL",
        "",
        "  ünïcödé ✓ ",
    ]
    items = [
        {
            "key": f'Q"{i}\\',
            "type": "feature",
            "product": "checkout",
            "title": title,
            "created_at": "2024-01-01T00:00:00Z",
        }
        for i, title in enumerate(titles)
    ]
    transitions = [
        {
            "key": f'Q"{i}\\',
            "from_status": "NULL",
            "to_status": 'In "Progress" {x}\\',
            "at": f"2024-01-0{i + 2}T00:00:00Z",
        }
        for i in range(len(titles))
    ]

    result = work_items_ingest(actor=None, items=items, transitions=transitions)

    assert (result.items_created, result.transitions_created) == (5, 5)
    stored = dict(WorkItem.objects.values_list("key", "title"))
    assert stored == {f'Q"{i}\\': title for i, title in enumerate(titles)}
    assert set(StatusChange.objects.values_list("from_status", "to_status", "status_key")) == {
        ("NULL", 'In "Progress" {x}\\', 'in "progress" {x}\\')
    }
    again = work_items_ingest(actor=None, items=items, transitions=transitions)
    assert (again.items_unchanged, again.transitions_duplicates) == (5, 5)


def test_padded_values_and_repeated_changes_in_one_request(product):
    """Spaces around keys, statuses and instants are ignored as before; a change sent twice in
    one request is stored once; entries of any mapping type are read."""
    from types import MappingProxyType

    items = [
        MappingProxyType(
            {
                "key": " P-1 ",
                "tracker_type": " Bug ",
                "product": " checkout ",
                "created_at": " 2024-01-01T00:00:00+01:00 ",
            }
        )
    ]
    change = {"key": "P-1", "to_status": " In  Progress ", "at": "2024-01-02T00:00:00Z"}
    transitions = [change, dict(change, to_status="in progress"), {**change, "from_status": None}]

    result = work_items_ingest(actor=None, items=items, transitions=transitions)

    assert (result.items_created, result.transitions_created) == (1, 1)
    assert result.transitions_duplicates == 2
    item = WorkItem.objects.get()
    assert (item.key, item.type, item.tracker_type) == ("P-1", "defect", "Bug")
    assert item.created_at == datetime.datetime(2023, 12, 31, 23, tzinfo=UTC)
    assert list(item.status_changes.values_list("to_status", "status_key")) == [
        ("In  Progress", "in progress")
    ]
    assert result.earliest_at == datetime.datetime(2023, 12, 31, 23, tzinfo=UTC)
