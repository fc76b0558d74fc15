"""The value-streams API under /api/v1/value-streams/."""

from types import SimpleNamespace

import pytest
from django.utils import timezone

from products.models import Product
from tests.products.factories import ProductFactory, UserFactory
from tests.valuestreams.factories import ValueStreamFactory
from valuestreams.models import ValueStream

URL = "/api/v1/value-streams/"
REFUSED_ROLES = ("executive", "product_owner", "finance")
ALL_ROLES = ("executive", "portfolio_manager", "product_owner", "finance")


def db_state() -> dict[str, list[dict]]:
    """Every value stream and product link: equal before and after means nothing changed."""
    return {
        "value_streams": list(ValueStream.objects.order_by("pk").values()),
        "links": list(ValueStream.products.through.objects.order_by("pk").values()),
        "products": list(Product.objects.order_by("pk").values()),
    }


@pytest.fixture
def streams(db):
    owner = UserFactory(username="vso", first_name="Val", last_name="Stream")
    checkout = ProductFactory(name="Checkout", slug="checkout")
    platform = ProductFactory(name="Platform", slug="platform")
    retired = ProductFactory(name="Retired", slug="retired", archived_at=timezone.now())
    retail = ValueStreamFactory(
        name="Retail ordering",
        slug="retail-ordering",
        owner=owner,
        customer="Shoppers",
        products=[checkout, platform, retired],
    )
    support = ValueStreamFactory(
        name="Customer support",
        slug="customer-support",
        kind=ValueStream.Kind.OPERATIONAL,
        products=[platform],
    )
    closed = ValueStreamFactory(name="Catalogue print", slug="catalogue-print")
    closed.archived_at = timezone.now()
    closed.save()
    return SimpleNamespace(
        owner=owner,
        checkout=checkout,
        platform=platform,
        retired=retired,
        retail=retail,
        support=support,
        closed=closed,
    )


@pytest.fixture
def pm_api(api_as, portfolio_manager):
    return api_as(portfolio_manager)


def _ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


def test_value_stream_round_trip(pm_api, streams):
    created = pm_api.post(
        URL,
        {
            "name": "Wholesale",
            "kind": "development",
            "description": "Orders from shops.",
            "customer": "Independent shops",
            "value_delivered": "Stock on shelves in two days.",
            "owner": streams.owner.id,
            "products": [streams.checkout.id, streams.platform.id],
        },
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    vs_id = body["id"]
    assert isinstance(vs_id, int)
    assert body["slug"] == "wholesale"
    assert body["owner"] == {"id": streams.owner.id, "username": "vso", "name": "Val Stream"}
    assert body["products"] == [
        {"id": streams.checkout.id, "slug": "checkout", "name": "Checkout"},
        {"id": streams.platform.id, "slug": "platform", "name": "Platform"},
    ]
    assert body["product_count"] == 2
    assert body["archived_at"] is None
    assert body["web_url"] == ValueStream.objects.get(pk=vs_id).get_absolute_url()
    assert pm_api.get(f"{URL}{vs_id}/").json() == body

    updated = pm_api.patch(
        f"{URL}{vs_id}/", {"kind": "operational", "owner": None, "products": [streams.platform.id]}
    )
    assert updated.status_code == 200, updated.json()
    assert updated.json()["kind"] == "operational"
    assert updated.json()["owner"] is None
    assert updated.json()["product_count"] == 1
    stream = ValueStream.objects.get(pk=vs_id)
    assert stream.owner is None
    assert list(stream.products.all()) == [streams.platform]

    replaced = pm_api.put(
        f"{URL}{vs_id}/", {"name": "Wholesale orders", "slug": "wholesale-orders"}
    )
    assert replaced.status_code == 200, replaced.json()
    assert replaced.json()["slug"] == "wholesale-orders"

    archived = pm_api.post(f"{URL}{vs_id}/archive/")
    assert archived.status_code == 200
    assert archived.json()["archived_at"] is not None
    assert vs_id not in _ids(pm_api.get(URL))
    assert pm_api.get(f"{URL}{vs_id}/").json()["archived_at"] is not None

    restored = pm_api.post(f"{URL}{vs_id}/restore/")
    assert restored.status_code == 200
    assert restored.json()["archived_at"] is None
    assert ValueStream.objects.get(pk=vs_id).archived_at is None


def test_archived_products_are_not_listed_or_counted(pm_api, streams):
    body = pm_api.get(f"{URL}{streams.retail.id}/").json()
    assert [p["slug"] for p in body["products"]] == ["checkout", "platform"]
    assert body["product_count"] == 2


def test_no_delete(pm_api, streams):
    assert pm_api.delete(f"{URL}{streams.retail.id}/").status_code == 405
    assert ValueStream.objects.filter(pk=streams.retail.id).exists()


WRITES = {
    "create": lambda s: ("post", URL, {"name": "New stream"}),
    "put": lambda s: ("put", f"{URL}{s.retail.id}/", {"name": "Renamed"}),
    "patch": lambda s: ("patch", f"{URL}{s.retail.id}/", {"products": []}),
    "archive": lambda s: ("post", f"{URL}{s.retail.id}/archive/", None),
    "restore": lambda s: ("post", f"{URL}{s.closed.id}/restore/", None),
}


@pytest.mark.parametrize("role_user", REFUSED_ROLES, indirect=True)
@pytest.mark.parametrize("write", WRITES.keys())
def test_writes_are_refused_for_roles_without_permission(api_as, role_user, streams, write):
    method, url, data = WRITES[write](streams)
    before = db_state()
    response = getattr(api_as(role_user), method)(url, data)
    assert response.status_code == 403
    assert db_state() == before


@pytest.mark.parametrize("write", WRITES.keys())
def test_writes_are_allowed_for_the_portfolio_manager(pm_api, streams, write):
    method, url, data = WRITES[write](streams)
    before = db_state()
    response = getattr(pm_api, method)(url, data)
    assert response.status_code in (200, 201), response.json()
    assert db_state() != before


@pytest.mark.parametrize("role_user", ALL_ROLES, indirect=True)
def test_every_role_reads(api_as, role_user, streams):
    client = api_as(role_user)
    assert client.get(URL).status_code == 200
    assert client.get(f"{URL}{streams.retail.id}/").status_code == 200


def test_anonymous_is_refused(api_client, streams):
    before = db_state()
    assert api_client.get(URL).status_code == 403
    assert api_client.post(URL, {"name": "x"}).status_code == 403
    assert db_state() == before


@pytest.mark.parametrize(
    "method,path", [("get", ""), ("patch", ""), ("post", "archive/"), ("post", "restore/")]
)
def test_unknown_id_answers_404(pm_api, streams, method, path):
    assert getattr(pm_api, method)(f"{URL}999999/{path}", {}).status_code == 404


BAD_INPUT = {
    "empty-name": (lambda s: ("post", URL, {"name": ""}), "name"),
    "empty-name-on-update": (lambda s: ("patch", f"{URL}{s.retail.id}/", {"name": ""}), "name"),
    "duplicate-slug": (
        lambda s: ("post", URL, {"name": "Retail 2", "slug": "retail-ordering"}),
        "slug",
    ),
    "duplicate-slug-on-update": (
        lambda s: ("patch", f"{URL}{s.support.id}/", {"slug": "retail-ordering"}),
        "slug",
    ),
    "bad-kind": (lambda s: ("post", URL, {"name": "X", "kind": "sideways"}), "kind"),
    "unknown-owner": (lambda s: ("post", URL, {"name": "X", "owner": 999999}), "owner"),
    "unknown-product": (
        lambda s: ("post", URL, {"name": "X", "products": [s.checkout.id, 999999]}),
        "products",
    ),
}


@pytest.mark.parametrize("case", BAD_INPUT.keys())
def test_bad_input_answers_400_with_field_errors_and_writes_nothing(pm_api, streams, case):
    build, field = BAD_INPUT[case]
    method, url, data = build(streams)
    before = db_state()
    response = getattr(pm_api, method)(url, data)
    assert response.status_code == 400
    errors = response.json()
    assert list(errors) == [field], errors
    assert all(isinstance(message, str) and message for message in errors[field])
    assert db_state() == before


def test_filters_ordering_and_pagination(pm_api, streams):
    retail, support, closed = streams.retail.id, streams.support.id, streams.closed.id
    assert _ids(pm_api.get(URL)) == [support, retail]
    assert _ids(pm_api.get(f"{URL}?q=shopper")) == [retail]
    assert _ids(pm_api.get(f"{URL}?kind=operational")) == [support]
    assert _ids(pm_api.get(f"{URL}?product=platform")) == [support, retail]
    assert _ids(pm_api.get(f"{URL}?product=checkout")) == [retail]
    assert _ids(pm_api.get(f"{URL}?slug=retail-ordering")) == [retail]
    assert _ids(pm_api.get(f"{URL}?archived=true")) == [closed]
    assert _ids(pm_api.get(f"{URL}?archived=all")) == [closed, support, retail]
    assert _ids(pm_api.get(f"{URL}?ordering=-name")) == [retail, support]
    assert _ids(pm_api.get(f"{URL}?ordering=-product_count")) == [retail, support]
    page = pm_api.get(f"{URL}?page_size=1&page=2").json()
    assert page["count"] == 2
    assert [row["id"] for row in page["results"]] == [retail]
    assert page["next"] is None
    assert pm_api.get(f"{URL}?kind=sideways").status_code == 400


# Session and user (2), page count, rows with owner joined and product count, products prefetch.
LIST_QUERIES = 5
DETAIL_QUERIES = 4


@pytest.mark.parametrize("n", [2, 20])
def test_list_query_count_does_not_grow(pm_api, django_assert_num_queries, n):
    for _ in range(n):
        ValueStreamFactory(owner=UserFactory(), products=[ProductFactory(), ProductFactory()])
    with django_assert_num_queries(LIST_QUERIES):
        response = pm_api.get(URL)
    assert response.status_code == 200
    assert response.json()["count"] == n
    assert all(len(row["products"]) == 2 for row in response.json()["results"])


def test_detail_query_count(pm_api, streams, django_assert_num_queries):
    with django_assert_num_queries(DETAIL_QUERIES):
        response = pm_api.get(f"{URL}{streams.retail.id}/")
    assert response.status_code == 200
