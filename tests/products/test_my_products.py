"""My products (the product owner's home), where product owners land after sign-in, and the
measurements import page that hangs off it."""

import datetime
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from products import services
from products.models import ChangeRecord, KeyResult, Measurement, RoadmapItem
from tests.products.factories import (
    KeyResultFactory,
    MeasurementFactory,
    OutcomeFactory,
    ProductFactory,
    RoadmapItemFactory,
    outcome_rows,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
MY_PRODUCTS = reverse("products:my_products")
IMPORT = reverse("products:measurement_import")


def days(n: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=n)


def key_result(outcome, *, values=(), **fields) -> KeyResult:
    """Running from 100 days ago to 100 days ahead, 0 -> 100, with measurements (date, value)."""
    fields.setdefault("start_date", days(-100))
    fields.setdefault("target_date", days(100))
    kr = KeyResultFactory(outcome=outcome, **fields)
    for day, value in values:
        MeasurementFactory(key_result=kr, date=day, value=Decimal(value))
    return services.key_result_refresh(kr)


@pytest.fixture
def people(make_user):
    return {
        "owner": make_user("owner", "product_owner", first_name="Omar", last_name="Owner"),
        "other_owner": make_user("other-owner", "product_owner"),
        "portfolio_manager": make_user("pm", "portfolio_manager"),
        "executive": make_user("exec", "executive"),
        "finance": make_user("finance", "finance"),
    }


@pytest.fixture
def as_role(client, people):
    def sign_in(role: str):
        client.force_login(people[role])
        return client

    return sign_in


@pytest.fixture
def portfolio(people):
    """The owner's two products (one with a key result of every status, a stale one and an
    unlinked roadmap item), an archived one, and another owner's product."""
    owner = people["owner"]
    onboarding = ProductFactory(name="Onboarding", slug="onboarding", owners=[owner])
    outcome = OutcomeFactory(product=onboarding)
    on_track = key_result(outcome, name="On track", values=[(days(-3), "50")])
    key_result(outcome, name="At risk", values=[(days(-3), "35")])
    key_result(outcome, name="Off track", values=[(days(-3), "5")])
    key_result(outcome, name="Stale", values=[(days(-45), "30")])
    key_result(outcome, name="New", start_date=days(-5))
    archived_outcome = OutcomeFactory(product=onboarding, archived_at=timezone.now())
    key_result(archived_outcome, name="Of an archived outcome", values=[(days(-3), "5")])
    RoadmapItemFactory(product=onboarding, title="Linked", key_results=[on_track])
    RoadmapItemFactory(product=onboarding, title="Unlinked")
    RoadmapItemFactory(product=onboarding, title="Done, unlinked", horizon=RoadmapItem.Horizon.DONE)
    cards = ProductFactory(name="Cards", slug="cards", owners=[owner])
    ProductFactory(name="Old", slug="old", owners=[owner], archived_at=timezone.now())
    ProductFactory(name="Ledger", slug="ledger", owners=[people["other_owner"]])
    return {"onboarding": onboarding, "cards": cards, "outcome": outcome}


def row(html: str, product) -> str:
    match = re.search(rf'<tr [^>]*id="product-{product.pk}">.*?</tr>', html, re.S)
    assert match, f"no row for {product}"
    return match.group(0)


def test_lists_the_products_i_own_with_key_results_by_status(as_role, portfolio):
    response = as_role("owner").get(MY_PRODUCTS)
    assert response.status_code == 200
    html = response.content.decode()
    assert [p.name for p in response.context["products"]] == ["Cards", "Onboarding"]
    assert "Ledger" not in html and ">Old<" not in html
    onboarding = row(html, portfolio["onboarding"])
    assert f'data-href="{portfolio["onboarding"].get_absolute_url()}"' in onboarding
    assert f'<a href="{portfolio["onboarding"].get_absolute_url()}">Onboarding</a>' in onboarding
    assert '<td class="num" data-figure="kr_total">5</td>' in onboarding
    # Stale: 30 at 45 days ago is on track for its date, but has not been measured since.
    assert 'data-status="on_track">2 on track</span>' in onboarding
    assert 'class="badge badge-warn" data-status="at_risk">1 at risk</span>' in onboarding
    assert 'class="badge badge-bad" data-status="off_track">1 off track</span>' in onboarding
    assert 'class="badge badge-none" data-status="no_data">1 no data</span>' in onboarding
    assert (
        'data-figure="kr_stale" href="/products/onboarding/#outcomes">1 stale key result</a>'
        in onboarding
    )
    assert ">1 roadmap item without an outcome</a>" in onboarding
    cards = row(html, portfolio["cards"])
    assert "No key results yet: add the first one" in cards
    assert "Nothing" in cards


def test_empty_state_for_someone_who_owns_nothing(as_role, portfolio):
    html = as_role("portfolio_manager").get(MY_PRODUCTS).content.decode()
    assert "You own no products yet." in html
    assert reverse("products:product_list") in html


@pytest.mark.parametrize("role", ["executive", "finance", "portfolio_manager", "other_owner"])
def test_everyone_signed_in_may_open_it(as_role, role, portfolio):
    assert as_role(role).get(MY_PRODUCTS).status_code == 200


def test_import_link_only_for_those_who_may_record_measurements(as_role, portfolio):
    assert IMPORT in as_role("owner").get(MY_PRODUCTS).content.decode()
    assert IMPORT not in as_role("executive").get(MY_PRODUCTS).content.decode()


# Product owners land here.


def test_product_owners_land_on_my_products_after_sign_in(client, people):
    response = client.post(
        "/accounts/login/", {"username": "owner", "password": "pass-for-tests-1"}, follow=True
    )
    assert response.redirect_chain[-1][0] == MY_PRODUCTS
    assert response.status_code == 200


def test_product_owners_can_still_open_the_portfolio_overview(as_role):
    client = as_role("owner")
    assert client.get("/")["Location"] == MY_PRODUCTS
    response = client.get("/", {"overview": "1"})
    assert response.status_code == 200
    assert b"<h1>Portfolio</h1>" in response.content


@pytest.mark.parametrize("role", ["executive", "finance", "portfolio_manager"])
def test_other_roles_keep_the_portfolio_home(as_role, role):
    response = as_role(role).get("/")
    assert response.status_code == 200
    assert f'href="{MY_PRODUCTS}"' not in response.content.decode()


def test_top_bar_links_my_products_for_product_owners(as_role):
    assert (
        f'<a href="{MY_PRODUCTS}">My products</a>'
        in as_role("owner").get("/?overview=1").content.decode()
    )


# Query count: one query for the products and their figures, however many.

# session, user, role labels (3); the user's permissions for the import link (2); the products
# with their counts (1).
MY_PRODUCTS_QUERIES = 6


@pytest.mark.parametrize("n", [2, 20])
def test_my_products_query_count_is_constant(as_role, people, django_assert_num_queries, n):
    owner = people["owner"]
    for _ in range(n):
        product = ProductFactory(owners=[owner])
        outcome = OutcomeFactory(product=product)
        for j in range(3):
            key_result(outcome, values=[(days(-j * 20), str(10 * j))])
        RoadmapItemFactory(product=product)
        RoadmapItemFactory(product=product, key_results=[product.key_results.first()])
    client = as_role("owner")
    with django_assert_num_queries(MY_PRODUCTS_QUERIES):
        response = client.get(MY_PRODUCTS)
    assert len(response.context["products"]) == n
    assert all(
        p.kr_total == 3 and p.items_without_outcome == 1 for p in response.context["products"]
    )


# The measurements import page.


def csv_file(text: str, name: str = "measurements.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


@pytest.fixture
def kr(portfolio):
    return KeyResult.objects.get(name="On track")


@pytest.mark.parametrize("role", ["owner", "portfolio_manager"])
def test_import_writes_a_good_file(as_role, role, kr):
    text = (
        "product,key_result,date,value,note\n"
        f"onboarding,On track,{days(-2).isoformat()},52,Week 1\n"
        f"onboarding,On track,{days(-1).isoformat()},55,\n"
    )
    response = as_role(role).post(IMPORT, {"file": csv_file(text)})
    assert response.status_code == 200
    html = response.content.decode()
    assert "2 measurements written." in html
    assert "Nothing was written" not in html
    assert list(kr.measurements.order_by("date").values_list("value", flat=True))[-2:] == [
        Decimal("52"),
        Decimal("55"),
    ]
    kr.refresh_from_db()
    assert kr.latest_value == Decimal("55")
    imported = ChangeRecord.objects.filter(action=ChangeRecord.Action.IMPORTED)
    assert imported.count() == 2


def test_import_with_a_bad_row_writes_nothing_and_says_where(as_role, kr):
    text = (
        "product,key_result,date,value,note\n"
        f"onboarding,On track,{days(-2).isoformat()},52,fine\n"
        "onboarding,No such result,2026-01-05,1,\n"
        f"ledger,Anything,{days(-1).isoformat()},12,\n"
        "onboarding,On track,05/01/2026,lots,\n"
    )
    before = outcome_rows()
    response = as_role("owner").post(IMPORT, {"file": csv_file(text)})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Nothing was written: 3 problems in the file" in html
    lines = re.findall(r'<tr><td class="num">(\d+)</td><td>(.*?)</td></tr>', html)
    assert [int(line) for line, _ in lines] == [3, 4, 5]
    assert "has no key result named" in lines[0][1]
    assert "You may not change the outcomes of" in lines[1][1]
    assert "is not a date" in lines[2][1] and "is not a number" in lines[2][1]
    assert outcome_rows() == before


def test_import_without_a_file_is_a_field_error(as_role, portfolio):
    response = as_role("owner").post(IMPORT, {})
    assert response.status_code == 200
    assert 'id="id_file_error">This field is required.' in response.content.decode()
    assert not Measurement.objects.filter(date__gt=days(-2)).exists()


def test_import_page_explains_the_file_and_offers_an_example(as_role, kr):
    client = as_role("owner")
    html = client.get(IMPORT).content.decode()
    assert 'enctype="multipart/form-data"' in html
    assert reverse("products:measurement_import_example") in html
    example = client.get(reverse("products:measurement_import_example"))
    assert example["Content-Type"].startswith("text/csv")
    assert "attachment" in example["Content-Disposition"]
    lines = example.content.decode().splitlines()
    assert lines[0] == "product,key_result,date,value,note"
    # Rows naming the user's own key results, ready to edit and import.
    assert lines[1].startswith("onboarding,")
    assert not any(line.startswith("ledger,") for line in lines)


@pytest.mark.parametrize("role", ["executive", "finance"])
def test_import_is_403_for_executives_and_finance(as_role, role, kr):
    client = as_role(role)
    before = outcome_rows()
    text = f"product,key_result,date,value\nonboarding,On track,{days(-1).isoformat()},60\n"
    assert client.get(IMPORT).status_code == 403
    assert client.post(IMPORT, {"file": csv_file(text)}).status_code == 403
    assert client.get(reverse("products:measurement_import_example")).status_code == 403
    assert outcome_rows() == before


def test_import_refuses_rows_of_a_product_the_owner_does_not_own(as_role, people, portfolio):
    ledger = ProductFactory._meta.model.objects.get(slug="ledger")
    KeyResultFactory(outcome=OutcomeFactory(product=ledger), name="Balance checks")
    before = outcome_rows()
    text = f"product,key_result,date,value\nledger,Balance checks,{days(-1).isoformat()},3\n"
    html = as_role("owner").post(IMPORT, {"file": csv_file(text)}).content.decode()
    assert "Nothing was written" in html
    assert "You may not change the outcomes of" in html
    assert outcome_rows() == before
