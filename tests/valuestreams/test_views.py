"""The value stream pages: list, detail, create, edit, archive/restore, and the product page's panel."""

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import ROLES
from tests.products.factories import ProductFactory, TeamFactory, UserFactory
from tests.valuestreams.factories import ValueStreamFactory
from valuestreams import services
from valuestreams.models import ValueStream

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
READ_ONLY_ROLES = [r for r in ROLES if r != "portfolio_manager"]

LIST = reverse("valuestreams:value_stream_list")
CREATE = reverse("valuestreams:value_stream_create")


def url(name: str, slug: str) -> str:
    return reverse(f"valuestreams:{name}", kwargs={"slug": slug})


def form_data(**overrides) -> dict:
    data = {
        "name": "Claims",
        "slug": "",
        "kind": "operational",
        "description": "From first notice of loss to payout.",
        "customer": "Policyholders",
        "value_delivered": "Claims paid within five days.",
        "owner": "",
        "products": [],
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def payments():
    owner = UserFactory(username="lukas", first_name="Lukas", last_name="Meyer")
    hub = ProductFactory(name="Payment hub", slug="payment-hub", owners=[owner])
    cards = ProductFactory(name="Card processing", slug="card-processing")
    TeamFactory(name="Instant Payments", slug="instant-payments", products=[hub])
    return ValueStreamFactory(
        name="Payments",
        slug="payments",
        kind=ValueStream.Kind.OPERATIONAL,
        customer="Retail and business customers",
        value_delivered="Money moves instantly and safely.",
        description="Every payment the bank makes or receives.",
        owner=owner,
        products=[hub, cards],
    )


# --- List ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role_user", ROLES, indirect=True)
def test_list_shows_each_value_stream_to_every_role(client, role_user, payments):
    client.force_login(role_user)
    response = client.get(LIST)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<title>Value streams" in html
    assert f'data-href="{payments.get_absolute_url()}"' in html
    for text in ("Payments", "Operational", "Retail and business customers", "Lukas Meyer"):
        assert text in html
    assert '<td class="num">2</td>' in html
    assert 'class="chip" href="/products/payment-hub/"' in html
    has_button = "New value stream" in html
    assert has_button is (role_user.groups.get().name == "portfolio_manager")


def test_list_filter_form_uses_htmx_and_works_without_it(pm_client, payments):
    html = pm_client.get(LIST).content.decode()
    assert '<form class="filters"' in html
    assert 'method="get"' in html and f'action="{LIST}"' in html  # a plain GET without JS
    assert f'hx-get="{LIST}"' in html
    assert 'hx-target="#value-stream-results"' in html
    assert 'hx-push-url="true"' in html
    assert '<div id="value-stream-results"' in html
    # The product filter offers products by name and sends the slug.
    assert '<option value="payment-hub">Payment hub</option>' in html
    assert '<option value="" selected>Any kind</option>' in html


def test_list_with_an_unknown_kind_says_so_and_still_lists(pm_client, payments):
    response = pm_client.get(LIST, {"kind": "yearly"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert [vs.name for vs in response.context["value_streams"]] == ["Payments"]


def test_list_htmx_request_gets_only_the_results(pm_client, payments):
    full = pm_client.get(LIST, {"q": "pay"})
    fragment = pm_client.get(LIST, {"q": "pay"}, headers=HTMX)
    assert fragment.status_code == 200
    body = fragment.content.decode()
    assert "<html" not in body and '<form class="filters"' not in body
    assert "<table" in body and "Payments" in body
    assert "<html" in full.content.decode()
    assert "HX-Request" in fragment["Vary"] and "HX-Request" in full["Vary"]


def test_list_searches_and_filters(pm_client, payments):
    lending = ValueStreamFactory(name="Lending", slug="lending", customer="Households")
    archived = ValueStreamFactory(name="Old claims", slug="old-claims", archived_at=timezone.now())

    def names(**params):
        response = pm_client.get(LIST, params)
        return [vs.name for vs in response.context["value_streams"]]

    assert names() == ["Lending", "Payments"]
    assert names(q="household") == ["Lending"]
    assert names(q="PAYMENTS") == ["Payments"]
    assert names(kind="operational") == ["Payments"]
    assert names(kind="development") == ["Lending"]
    assert names(product="payment-hub") == ["Payments"]
    assert names(archived="true") == [archived.name]
    assert names(archived="all") == ["Lending", "Old claims", "Payments"]
    assert names(archived="false") == ["Lending", "Payments"]
    assert lending.name in pm_client.get(LIST).content.decode()


def test_list_sorts_by_each_column(pm_client, payments):
    ValueStreamFactory(name="Lending", slug="lending", customer="Households", products=[])
    ValueStreamFactory(
        name="Claims", slug="claims", customer="Policyholders", products=[ProductFactory()]
    )

    def names(ordering):
        response = pm_client.get(LIST, {"ordering": ordering})
        return [vs.name for vs in response.context["value_streams"]]

    assert names("name") == ["Claims", "Lending", "Payments"]
    assert names("-name") == ["Payments", "Lending", "Claims"]
    assert names("-products") == ["Payments", "Claims", "Lending"]
    assert names("products") == ["Lending", "Claims", "Payments"]
    assert names("customer") == ["Lending", "Claims", "Payments"]
    assert names("kind") == ["Claims", "Lending", "Payments"]
    assert names("owner") == ["Payments", "Claims", "Lending"]  # no owner sorts last
    assert names("nonsense") == ["Claims", "Lending", "Payments"]
    html = pm_client.get(LIST, {"ordering": "name"}).content.decode()
    assert 'href="?ordering=-name"' in html  # the header toggles the direction


def test_list_paginates_by_25(pm_client):
    ValueStreamFactory.create_batch(30)
    first = pm_client.get(LIST)
    assert len(first.context["value_streams"]) == 25
    assert "Page 1 of 2 · 30 in all" in first.content.decode()
    second = pm_client.get(LIST, {"page": 2}, headers=HTMX).content.decode()
    assert second.count('<tr class="row-link') == 5
    assert 'rel="prev"' in second and "<html" not in second


def test_list_empty_state_says_what_to_do_next(client, make_user):
    client.force_login(make_user("paula", "portfolio_manager"))
    html = client.get(LIST).content.decode()
    assert "No value streams yet" in html and f'href="{CREATE}">Add the first one' in html
    filtered = client.get(LIST, {"q": "zzz"}, headers=HTMX).content.decode()
    assert "No value streams match these filters" in filtered


@pytest.mark.parametrize("role_user", READ_ONLY_ROLES, indirect=True)
def test_list_empty_state_for_read_only_roles_offers_no_create(client, role_user):
    client.force_login(role_user)
    html = client.get(LIST).content.decode()
    assert "No value streams yet. A portfolio manager adds them" in html
    assert CREATE not in html


def test_list_query_count_does_not_grow(pm_client, django_assert_num_queries):
    def make(n):
        for _ in range(n):
            ValueStreamFactory(owner=UserFactory(), products=ProductFactory.create_batch(2))

    make(2)
    # session, user, count, page, products of the page, product picker, the user's roles,
    # the permission checks (user's and groups' permissions)
    with django_assert_num_queries(9):
        pm_client.get(LIST)
    # the fragment skips the product picker
    with django_assert_num_queries(6):
        pm_client.get(LIST, headers=HTMX)
    make(18)
    with django_assert_num_queries(9):
        pm_client.get(LIST)
    with django_assert_num_queries(6):
        pm_client.get(LIST, headers=HTMX)
    with django_assert_num_queries(6):
        pm_client.get(LIST, {"ordering": "-owner", "page": 1}, headers=HTMX)


# --- Detail -------------------------------------------------------------------------------


@pytest.mark.parametrize("role_user", ROLES, indirect=True)
def test_detail_for_every_role(client, role_user, payments):
    client.force_login(role_user)
    response = client.get(payments.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert "<title>Payments" in html
    for text in (
        "Operational value stream",
        "Retail and business customers",
        "Money moves instantly and safely.",
        "Every payment the bank makes or receives.",
        "Lukas Meyer",
        "Payment hub",
        "Card processing",
        'href="/teams/instant-payments/"',  # the product's team
        "No product owner",  # Card processing has none
    ):
        assert text in html, text
    assert response.context["breadcrumbs"] == [("Value streams", LIST), ("Payments", None)]
    is_pm = role_user.groups.get().name == "portfolio_manager"
    assert (url("value_stream_edit", "payments") in html) is is_pm
    assert (url("value_stream_archive", "payments") in html) is is_pm


def test_detail_of_an_archived_stream_offers_restore(pm_client, payments):
    services.value_stream_archive(actor=None, value_stream=payments)
    html = pm_client.get(payments.get_absolute_url()).content.decode()
    assert "Archived" in html
    assert url("value_stream_restore", "payments") in html
    assert url("value_stream_archive", "payments") not in html


def test_detail_without_products_says_what_to_do(pm_client):
    vs = ValueStreamFactory(slug="empty")
    html = pm_client.get(vs.get_absolute_url()).content.decode()
    assert "No products yet" in html and "edit the value stream" in html


def test_detail_unknown_slug_is_404(exec_client):
    assert exec_client.get(url("value_stream_detail", "nope")).status_code == 404


def test_detail_query_count_does_not_grow(pm_client, django_assert_num_queries):
    vs = ValueStreamFactory(owner=UserFactory())

    def add_products(n):
        for _ in range(n):
            product = ProductFactory(owners=UserFactory.create_batch(2))
            TeamFactory(products=[product])
            vs.products.add(product)

    add_products(2)
    # session, user, value stream + owner, products, their teams, their owners,
    # the user's roles, the permission checks (2)
    with django_assert_num_queries(9):
        pm_client.get(vs.get_absolute_url())
    add_products(18)
    with django_assert_num_queries(9):
        response = pm_client.get(vs.get_absolute_url())
    assert len(response.context["products"]) == 20


# --- Create -------------------------------------------------------------------------------


def test_pm_creates_a_value_stream(pm_client, portfolio_manager):
    hub = ProductFactory(slug="payment-hub")
    page = pm_client.get(CREATE)
    assert page.status_code == 200
    assert page.context["breadcrumbs"][-1] == ("New value stream", None)
    response = pm_client.post(
        CREATE, form_data(owner=portfolio_manager.pk, products=[hub.pk], slug="")
    )
    vs = ValueStream.objects.get()
    assert response.status_code == 302 and response["Location"] == vs.get_absolute_url()
    assert (vs.name, vs.slug, vs.kind, vs.owner) == (
        "Claims",
        "claims",
        "operational",
        portfolio_manager,
    )
    assert list(vs.products.all()) == [hub]
    followed = pm_client.get(response["Location"])
    assert "Value stream “Claims” created." in followed.content.decode()


def test_create_form_offers_active_products_and_owners(pm_client):
    active = ProductFactory(name="Active one")
    ProductFactory(name="Archived one", archived_at=timezone.now())
    UserFactory(username="mei", first_name="Mei", last_name="Lin")
    html = pm_client.get(CREATE).content.decode()
    assert f'value="{active.pk}"' in html and "Active one" in html
    assert "Archived one" not in html
    assert "Mei Lin (mei)" in html
    assert "<legend>Products it serves</legend>" in html
    assert "Leave empty to make one from the name." in html


@pytest.mark.parametrize("role_user", READ_ONLY_ROLES, indirect=True)
def test_create_is_refused_to_other_roles(client, role_user):
    client.force_login(role_user)
    assert client.get(CREATE).status_code == 403
    assert client.post(CREATE, form_data()).status_code == 403
    assert not ValueStream.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"name": "   "}, "name", "This field is required."),
        ({"slug": "payments"}, "slug", "Another value stream already uses this slug"),
        ({"slug": "new"}, "slug", "names a page of its own here"),
        ({"slug": "not a slug"}, "slug", "Enter a valid “slug”"),
        ({"kind": "yearly"}, "kind", "Select a valid choice"),
    ],
)
def test_create_with_bad_input_shows_field_errors_and_writes_nothing(
    pm_client, payments, overrides, field, message
):
    response = pm_client.post(CREATE, form_data(**overrides))
    assert response.status_code == 200
    errors = response.context["form"].errors[field]
    assert any(message in e for e in errors), errors
    assert message.split("“")[0] in response.content.decode().replace("&#x27;", "'")
    assert ValueStream.objects.count() == 1


# --- Edit ---------------------------------------------------------------------------------


def test_pm_edits_a_value_stream(pm_client, payments):
    lending = ProductFactory(slug="personal-loans")
    hub = payments.products.get(slug="payment-hub")
    page = pm_client.get(url("value_stream_edit", "payments"))
    assert page.status_code == 200
    assert page.context["form"]["name"].value() == "Payments"
    response = pm_client.post(
        url("value_stream_edit", "payments"),
        form_data(
            name="Payments & cards",
            slug="payments",
            kind="development",
            owner="",
            products=[hub.pk, lending.pk],
        ),
    )
    assert response.status_code == 302
    payments.refresh_from_db()
    assert (payments.name, payments.kind, payments.owner) == (
        "Payments & cards",
        "development",
        None,
    )
    assert set(payments.products.values_list("slug", flat=True)) == {
        "payment-hub",
        "personal-loans",
    }


def test_edit_keeps_an_archived_product_that_stays_ticked(pm_client, payments):
    cards = payments.products.get(slug="card-processing")
    cards.archived_at = timezone.now()
    cards.save()
    page = pm_client.get(url("value_stream_edit", "payments")).content.decode()
    assert 'Card processing <span class="muted">(archived)</span>' in page
    pm_client.post(
        url("value_stream_edit", "payments"),
        form_data(
            name="Payments",
            slug="payments",
            products=list(payments.products.values_list("pk", flat=True)),
        ),
    )
    assert payments.products.count() == 2


def test_edit_with_an_empty_name_changes_nothing(pm_client, payments):
    response = pm_client.post(
        url("value_stream_edit", "payments"), form_data(name="", slug="payments")
    )
    assert response.status_code == 200
    assert response.context["form"].errors["name"] == ["This field is required."]
    payments.refresh_from_db()
    assert payments.name == "Payments" and payments.products.count() == 2


def test_edit_to_a_taken_slug_is_a_field_error(pm_client, payments):
    ValueStreamFactory(slug="lending")
    response = pm_client.post(
        url("value_stream_edit", "payments"), form_data(name="Payments", slug="lending")
    )
    assert (
        "Another value stream already uses this slug" in response.context["form"].errors["slug"][0]
    )
    payments.refresh_from_db()
    assert payments.slug == "payments"


@pytest.mark.parametrize("role_user", READ_ONLY_ROLES, indirect=True)
def test_edit_is_refused_to_other_roles(client, role_user, payments):
    client.force_login(role_user)
    edit = url("value_stream_edit", "payments")
    assert client.get(edit).status_code == 403
    assert client.post(edit, form_data(name="Hijacked", slug="payments")).status_code == 403
    payments.refresh_from_db()
    assert payments.name == "Payments"


# --- Archive and restore ------------------------------------------------------------------


def test_pm_archives_after_a_confirmation_and_restores(pm_client, payments):
    archive = url("value_stream_archive", "payments")
    page = pm_client.get(archive)
    assert page.status_code == 200
    assert "Archive Payments?" in page.content.decode()
    payments.refresh_from_db()
    assert not payments.is_archived  # asking changes nothing
    response = pm_client.post(archive)
    assert response.status_code == 302
    payments.refresh_from_db()
    assert payments.is_archived
    assert payments.products.count() == 2  # links kept
    assert "Payments" not in pm_client.get(LIST, headers=HTMX).content.decode()
    response = pm_client.post(url("value_stream_restore", "payments"))
    assert response.status_code == 302
    payments.refresh_from_db()
    assert not payments.is_archived


def test_restore_needs_post(pm_client, payments):
    assert pm_client.get(url("value_stream_restore", "payments")).status_code == 405


@pytest.mark.parametrize("role_user", READ_ONLY_ROLES, indirect=True)
def test_archive_and_restore_are_refused_to_other_roles(client, role_user, payments):
    client.force_login(role_user)
    archive, restore = (
        url("value_stream_archive", "payments"),
        url("value_stream_restore", "payments"),
    )
    assert client.get(archive).status_code == 403
    assert client.post(archive).status_code == 403
    payments.refresh_from_db()
    assert not payments.is_archived
    services.value_stream_archive(actor=None, value_stream=payments)
    assert client.get(restore).status_code == 403
    assert client.post(restore).status_code == 403
    payments.refresh_from_db()
    assert payments.is_archived


@pytest.mark.parametrize(
    "name", ["value_stream_edit", "value_stream_archive", "value_stream_restore"]
)
def test_write_pages_of_an_unknown_slug_are_404(pm_client, name):
    assert pm_client.post(url(name, "nope")).status_code == 404


def test_pages_need_sign_in(client, payments):
    for page in (LIST, payments.get_absolute_url(), url("product_value_streams", "payment-hub")):
        response = client.get(page)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


# --- The product page's panel -------------------------------------------------------------


@pytest.mark.parametrize("role_user", ROLES, indirect=True)
def test_product_panel_lists_the_value_streams_it_serves(client, role_user, payments):
    client.force_login(role_user)
    hub = payments.products.get(slug="payment-hub")
    ValueStreamFactory(name="Claims", slug="claims", products=[hub])
    ValueStreamFactory(name="Retired", slug="retired", products=[hub], archived_at=timezone.now())
    response = client.get(url("product_value_streams", "payment-hub"), headers=HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body
    assert 'href="/value-streams/claims/">Claims</a>' in body
    assert 'href="/value-streams/payments/">Payments</a>' in body
    assert "Retired" not in body
    assert "HX-Request" in response["Vary"]


@pytest.mark.parametrize("role_user", ROLES, indirect=True)
def test_product_panel_for_a_product_in_no_stream(client, role_user):
    client.force_login(role_user)
    ProductFactory(slug="lonely")
    body = client.get(url("product_value_streams", "lonely"), headers=HTMX).content.decode()
    assert "Not part of any value stream yet." in body
    has_hint = "Link it from a value stream\u2019s edit page" in body
    assert has_hint is (role_user.groups.get().name == "portfolio_manager")


def test_product_panel_as_a_page_of_its_own(exec_client, payments):
    response = exec_client.get(url("product_value_streams", "payment-hub"))
    html = response.content.decode()
    assert response.status_code == 200 and "<html" in html
    assert "Value streams of Payment hub" in html
    assert response.context["breadcrumbs"][-1] == ("Value streams", None)


def test_product_panel_of_an_unknown_product_is_404(exec_client):
    assert exec_client.get(url("product_value_streams", "nope"), headers=HTMX).status_code == 404


def test_product_panel_query_count_does_not_grow(pm_client, django_assert_num_queries):
    product = ProductFactory(slug="shared")
    ValueStreamFactory.create_batch(2, products=[product])
    panel = url("product_value_streams", "shared")
    # session, user, product, its value streams, the user's roles
    with django_assert_num_queries(5):
        pm_client.get(panel, headers=HTMX)
    ValueStreamFactory.create_batch(18, products=[product])
    with django_assert_num_queries(5):
        response = pm_client.get(panel, headers=HTMX)
    assert response.content.decode().count('<li><a href="/value-streams/') == 20
