"""The pages: work-item import and the status and type mapping pages."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.conftest import ROLES
from tests.products.factories import ProductFactory
from tests.valuestreams.factories import ValueStreamFactory
from valuestreams.ingest import work_items_ingest
from valuestreams.models import StatusChange, StatusMapping, TypeMapping, WorkItem

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
READ_ONLY_ROLES = [r for r in ROLES if r != "portfolio_manager"]
IMPORT = reverse("valuestreams:work_item_import")
DEFAULT = reverse("valuestreams:mappings_default")

ITEMS = (
    "key,tracker_type,title,created_at\n"
    "K-1,Story,First,2024-01-01T09:00:00Z\n"
    "K-2,Spike,Second,2024-01-02T09:00:00Z\n"
)
CHANGES = (
    "key,from_status,to_status,at\n"
    "K-1,,In Progress,2024-01-03T09:00:00Z\n"
    "K-1,In Progress,Shipped,2024-01-04T09:00:00Z\n"
    "K-2,,Doing,2024-01-05T09:00:00Z\n"
)


def vs_url(slug: str) -> str:
    return reverse("valuestreams:mappings", kwargs={"slug": slug})


def upload(product="checkout", items=ITEMS, changes=CHANGES, source="jira"):
    return {
        "product": product,
        "source": source,
        "items": SimpleUploadedFile("items.csv", items.encode(), "text/csv"),
        "changes": SimpleUploadedFile("status_changes.csv", changes.encode(), "text/csv"),
    }


@pytest.fixture
def stream():
    checkout = ProductFactory(slug="checkout", name="Checkout")
    return ValueStreamFactory(slug="retail", name="Retail", products=[checkout])


# Import page.


def test_import_page_writes_and_lists_unmapped(pm_client, stream):
    assert pm_client.get(IMPORT).status_code == 200

    response = pm_client.post(IMPORT, upload())

    assert response.status_code == 200
    page = response.content.decode()
    assert "2 created, 0 updated, 0 unchanged" in page
    assert "3 created, 0 already stored" in page
    assert "Shipped" in page and "Doing" in page and "Spike" in page
    assert f'href="{vs_url("retail")}"' in page
    assert WorkItem.objects.filter(source__slug="jira").count() == 2

    again = pm_client.post(IMPORT, upload()).content.decode()
    assert "0 created, 0 updated, 2 unchanged" in again
    assert "0 created, 3 already stored" in again


def test_import_page_reports_bad_lines_and_writes_nothing(pm_client, stream):
    bad_changes = CHANGES + "K-9,,Done,2024-01-06T09:00:00Z\nK-1,,Done,not a time\n"
    bad_items = ITEMS + "K-3,,Third,2024-01-02\n"

    response = pm_client.post(IMPORT, upload(items=bad_items, changes=bad_changes))

    page = response.content.decode()
    assert "Nothing was written: 3 problems" in page
    assert '<td>items.csv</td><td class="num">4</td>' in page
    assert '<td>status_changes.csv</td><td class="num">5</td>' in page
    assert '<td>status_changes.csv</td><td class="num">6</td>' in page
    assert WorkItem.objects.count() == 0 and StatusChange.objects.count() == 0


@pytest.mark.parametrize("role_user", READ_ONLY_ROLES, indirect=True)
def test_import_page_refused_for_other_roles(client, role_user, stream):
    client.force_login(role_user)
    assert client.get(IMPORT).status_code == 403
    assert client.post(IMPORT, upload()).status_code == 403
    assert WorkItem.objects.count() == 0


# Mapping pages.


@pytest.fixture
def items(stream, portfolio_manager):
    work_items_ingest(
        actor=portfolio_manager,
        source="jira",
        product=stream.products.get(),
        items=[
            {"key": "K-1", "tracker_type": "Spike", "created_at": "2024-01-01T00:00:00Z"},
            {"key": "K-2", "tracker_type": "Story", "created_at": "2024-01-01T00:00:00Z"},
        ],
        transitions=[
            {"key": "K-1", "to_status": "Doing", "at": "2024-01-02T00:00:00Z"},
            {"key": "K-2", "to_status": "  doing", "at": "2024-01-02T00:00:00Z"},
        ],
    )
    return stream


@pytest.mark.parametrize("role_user", ROLES, indirect=True)
def test_mapping_pages_for_every_role(client, role_user, items):
    client.force_login(role_user)
    for url in (DEFAULT, vs_url("retail")):
        response = client.get(url)
        assert response.status_code == 200
        page = response.content.decode()
        assert "Doing" in page and "2 changes" in page and "Spike" in page
        editable = role_user.groups.filter(name="portfolio_manager").exists()
        assert ('name="op" value="add"' in page) is editable
    assert "In Progress" in client.get(DEFAULT).content.decode()


def test_mapping_page_as_fragment(pm_client, items):
    response = pm_client.get(vs_url("retail"), headers=HTMX)
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="mappings"')
    assert "<html" not in page
    assert response["Vary"] and "HX-Request" in response["Vary"]


def test_map_an_unmapped_status_in_place(pm_client, items):
    response = pm_client.post(
        vs_url("retail"),
        {
            "kind": "status",
            "op": "add",
            "origin": "unmapped",
            "status_name": "Doing",
            "category": "active",
        },
        headers=HTMX,
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "“Doing” is now active." in page
    assert StatusMapping.objects.get(value_stream=items).status_key == "doing"
    assert "0 statuses" in page


def test_map_a_type_edit_and_delete(pm_client, items):
    url = vs_url("retail")
    pm_client.post(
        url, {"kind": "type", "op": "add", "tracker_type": "spike", "type": "debt"}, headers=HTMX
    )
    assert WorkItem.objects.get(key="K-1").type == "debt"
    mapping = TypeMapping.objects.get(value_stream=items)
    pm_client.post(
        url,
        {"kind": "type", "op": "edit", "pk": mapping.pk, "tracker_type": "Spike", "type": "risk"},
        headers=HTMX,
    )
    assert WorkItem.objects.get(key="K-1").type == "risk"
    # Without htmx: a redirect back to the page with a message.
    response = pm_client.post(url, {"kind": "type", "op": "delete", "pk": mapping.pk})
    assert response.status_code == 302 and response["Location"] == url
    assert WorkItem.objects.get(key="K-1").type == ""


def test_refused_change_shows_its_reason_beside_the_form(pm_client, items):
    response = pm_client.post(
        DEFAULT,
        {
            "kind": "status",
            "op": "add",
            "origin": "add",
            "status_name": " in  progress",
            "category": "done",
        },
        headers=HTMX,
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "is already mapped in the default mapping" in page
    assert StatusMapping.objects.filter(value_stream=None).count() == 15
    mapping = StatusMapping.objects.get(value_stream=None, status_key="in progress")
    response = pm_client.post(
        DEFAULT,
        {"kind": "status", "op": "edit", "pk": mapping.pk, "status_name": "", "category": "done"},
    )
    assert "Name the status." in response.content.decode()
    mapping.refresh_from_db()
    assert mapping.category == "active"


def test_a_value_stream_row_is_not_edited_through_the_default_page(pm_client, items):
    mapping = StatusMapping.objects.create(
        value_stream=items, status_name="Doing", category="active"
    )
    response = pm_client.post(DEFAULT, {"kind": "status", "op": "delete", "pk": mapping.pk})
    assert response.status_code == 404
    assert StatusMapping.objects.filter(pk=mapping.pk).exists()


@pytest.mark.parametrize("role_user", READ_ONLY_ROLES, indirect=True)
def test_mapping_changes_refused_for_other_roles(client, role_user, items):
    client.force_login(role_user)
    mapping = StatusMapping.objects.filter(value_stream=None).first()
    for url, data in [
        (DEFAULT, {"kind": "status", "op": "add", "status_name": "Doing", "category": "active"}),
        (DEFAULT, {"kind": "status", "op": "delete", "pk": mapping.pk}),
        (vs_url("retail"), {"kind": "type", "op": "add", "tracker_type": "Spike", "type": "debt"}),
    ]:
        assert client.post(url, data, headers=HTMX).status_code == 403
    assert StatusMapping.objects.filter(value_stream=None).count() == 15
    assert not TypeMapping.objects.filter(value_stream=items).exists()


def test_unknown_value_stream_is_404(pm_client):
    assert pm_client.get(vs_url("nope")).status_code == 404


@pytest.mark.parametrize("n", [2, 20])
def test_mapping_page_query_count(pm_client, portfolio_manager, django_assert_num_queries, n):
    product = ProductFactory(slug="p")
    stream = ValueStreamFactory(slug="retail", products=[product])
    for i in range(n):
        StatusMapping.objects.create(value_stream=stream, status_name=f"S{i}", category="active")
        TypeMapping.objects.create(value_stream=stream, tracker_type=f"T{i}", type="debt")
    work_items_ingest(
        actor=portfolio_manager,
        items=[
            {
                "key": f"K{i}",
                "tracker_type": f"X{i}",
                "product": "p",
                "created_at": "2024-01-01T00:00:00Z",
            }
            for i in range(n)
        ],
        transitions=[
            {"key": f"K{i}", "to_status": f"Z{i}", "at": "2024-01-02T00:00:00Z"} for i in range(n)
        ],
    )
    # session, user, value stream, its status and type mappings, the default's two, mapped
    # status keys, status keys in use, unmapped statuses, the stream's type keys, unmapped
    # types, the user's groups (the top bar), permissions (2)
    with django_assert_num_queries(15):
        response = pm_client.get(vs_url("retail"))
    assert response.content.decode().count('name="op" value="edit"') == 2 * n
    # the default page as a fragment: no value stream, so no defaults listed below nor its
    # own type keys: session, user, the two default mappings, mapped status keys, status keys
    # in use, unmapped statuses and types, groups, permissions (2)
    with django_assert_num_queries(11):
        pm_client.get(DEFAULT, headers=HTMX)


def test_jira_sample_page_import(pm_client, stream):
    from tests.valuestreams.test_jira_sample import SAMPLE

    if not SAMPLE.is_dir():
        pytest.fail(f"The Jira sample is missing at {SAMPLE}.")
    data = {
        "product": "checkout",
        "source": "jira",
        "items": SimpleUploadedFile("items.csv", Path(SAMPLE / "items.csv").read_bytes()),
        "changes": SimpleUploadedFile(
            "status_changes.csv", Path(SAMPLE / "status_changes.csv").read_bytes()
        ),
    }
    page = pm_client.post(IMPORT, data).content.decode()
    assert "32 created, 0 updated, 0 unchanged" in page
    assert "168 created, 0 already stored" in page
    for name in ("已完成", "Ready for Dev", "子任务", "线上事故", "缺陷", "TEST EXECUTION"):
        assert name in page


def test_value_stream_pages_link_to_the_mappings_and_the_import(pm_client, stream):
    detail = pm_client.get(reverse("valuestreams:value_stream_detail", args=["retail"]))
    assert f'href="{vs_url("retail")}"' in detail.content.decode()
    listing = pm_client.get(reverse("valuestreams:value_stream_list")).content.decode()
    assert f'href="{DEFAULT}"' in listing and f'href="{IMPORT}"' in listing
