"""Hypotheses on the product page: add, edit in place, change status with evidence, delete.

Every write is tried by the product's owner and a portfolio manager (allowed) and by an executive,
finance and the owner of another product (403, nothing written), as htmx and as a plain form.
"""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from products import services
from products.models import Hypothesis, HypothesisStatusChange
from tests.products.factories import (
    HypothesisFactory,
    KeyResultFactory,
    OutcomeFactory,
    ProductFactory,
    outcome_rows,
)

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
WRITERS = ["owner", "portfolio_manager"]
REFUSED = ["executive", "finance", "other_owner"]
EVERYONE = WRITERS + REFUSED


@pytest.fixture
def people(make_user):
    """The product's owner, another product's owner, and one user per other role."""
    return {
        "owner": make_user("owner", "product_owner", first_name="Omar", last_name="Owner"),
        "other_owner": make_user("other-owner", "product_owner"),
        "portfolio_manager": make_user("pm", "portfolio_manager"),
        "executive": make_user("exec", "executive"),
        "finance": make_user("finance", "finance"),
    }


@pytest.fixture
def product(people):
    product = ProductFactory(name="Onboarding", slug="onboarding", owners=[people["owner"]])
    ProductFactory(name="Ledger", slug="ledger", owners=[people["other_owner"]])
    return product


@pytest.fixture
def kr(product):
    outcome = OutcomeFactory(product=product, statement="Customers open an account in one go")
    return KeyResultFactory(outcome=outcome, name="Completion rate", unit="%")


@pytest.fixture
def hypothesis(people, product, kr):
    return services.hypothesis_create(
        actor=people["owner"],
        product=product,
        change="a one-page form",
        expected_outcome="more customers finish opening an account",
        key_result=kr,
        expected_move=Decimal("15"),
    )


@pytest.fixture
def login(client, people):
    def sign_in(who: str):
        client.force_login(people[who])
        return client

    return sign_in


def url(name: str, product, *args) -> str:
    return reverse(f"products:{name}", args=[product.slug, *args])


VALID = {
    "change": "a progress bar",
    "expected_outcome": "fewer customers give up half way",
    "expected_move": "5",
    "evidence": "",
}


# Reading: the sentence, the badge, the status history.


def test_the_product_page_reads_each_hypothesis_as_a_sentence(login, product, hypothesis):
    services.hypothesis_update(
        actor=hypothesis.product.owners.get(),
        hypothesis=hypothesis,
        status=Hypothesis.Status.TESTING,
        status_note="A/B test running on 10 % of sign-ups.",
    )
    html = login("executive").get(product.get_absolute_url()).content.decode()
    section = html[html.index('id="hypotheses"') :]
    assert "We believe <strong>a one-page form</strong> will result in" in section
    assert "<strong>more customers finish opening an account</strong>" in section
    assert "we will know when" in section and "<strong>Completion rate</strong>" in section
    assert "moves by <strong>15 %</strong>" in section
    assert '<span class="badge badge-info">Testing</span>' in section
    today = timezone.localdate()
    assert f"{today:%-d %b %Y}</time>:" in section
    assert "Proposed → <strong>Testing</strong>" in section
    assert "by Omar Owner" in section
    assert "A/B test running on 10 % of sign-ups." in section


def test_a_hypothesis_without_key_result_or_amount_says_what_is_missing(login, people, product):
    services.hypothesis_create(
        actor=people["owner"],
        product=product,
        change="showing delivery dates early",
        expected_outcome="fewer abandoned baskets",
    )
    html = login("finance").get(url("hypothesis_list", product), headers=HTMX).content.decode()
    assert 'we will know when <span class="muted">a key result (not chosen yet)</span>' in html
    assert 'moves by <span class="muted">an amount not set yet</span>.' in html
    assert '<span class="badge badge-none">Proposed</span>' in html


@pytest.mark.parametrize("who", EVERYONE)
def test_edit_controls_only_for_those_who_may_write(login, who, product, hypothesis):
    html = login(who).get(product.get_absolute_url()).content.decode()
    controls = [
        "Add a hypothesis",
        url("hypothesis_edit", product, hypothesis.pk),
        url("hypothesis_status", product, hypothesis.pk),
        url("hypothesis_delete", product, hypothesis.pk),
    ]
    present = [c for c in controls if c in html]
    assert present == (controls if who in WRITERS else [])


@pytest.mark.parametrize("who", EVERYONE)
def test_everyone_reads_the_section_and_a_card_as_fragments(login, who, product, hypothesis):
    client = login(who)
    section = client.get(url("hypothesis_list", product), headers=HTMX)
    assert section.status_code == 200
    assert section.content.decode().lstrip().startswith('<section id="hypotheses"')
    card = client.get(url("hypothesis_detail", product, hypothesis.pk), headers=HTMX)
    assert card.content.decode().lstrip().startswith(f'<article id="hypothesis-{hypothesis.pk}"')
    assert "Vary" in card and "HX-Request" in card["Vary"]
    # Without htmx they lead to the product page, at the section or the card.
    plain = client.get(url("hypothesis_detail", product, hypothesis.pk))
    assert plain.status_code == 302
    assert plain["Location"] == f"/products/onboarding/#hypothesis-{hypothesis.pk}"
    assert client.get(url("hypothesis_list", product))["Location"].endswith("#hypotheses")


# Add


@pytest.mark.parametrize("who", WRITERS)
def test_writers_add_a_hypothesis_in_place(login, who, people, product, kr):
    client = login(who)
    opened = client.get(url("hypothesis_create", product), headers=HTMX)
    assert opened.status_code == 200
    body = opened.content.decode()
    assert "<html" not in body and "New hypothesis" in body
    assert f'<option value="{kr.pk}">Completion rate (%)</option>' in body
    response = client.post(
        url("hypothesis_create", product), {**VALID, "key_result": kr.pk}, headers=HTMX
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="hypotheses"')
    assert "Hypothesis added." in body and "a progress bar" in body
    hypothesis = Hypothesis.objects.get(change="a progress bar")
    assert hypothesis.product == product and hypothesis.key_result == kr
    assert hypothesis.expected_move == Decimal("5")
    assert hypothesis.status == Hypothesis.Status.PROPOSED
    change = hypothesis.status_changes.get()
    assert change.to_status == "proposed" and change.changed_by == people[who]


def test_without_javascript_adding_redirects_to_the_section(login, product):
    client = login("owner")
    page = client.get(url("hypothesis_create", product))
    assert (
        page.status_code == 200 and b"<html" in page.content and b"New hypothesis" in page.content
    )
    response = client.post(url("hypothesis_create", product), VALID)
    assert response.status_code == 302
    assert response["Location"] == "/products/onboarding/#hypotheses"
    assert Hypothesis.objects.filter(product=product, change="a progress bar").exists()
    assert "Hypothesis added." in client.get(response["Location"]).content.decode()


@pytest.mark.parametrize("htmx", [True, False])
def test_an_invalid_hypothesis_shows_errors_beside_the_fields(login, product, htmx):
    before = outcome_rows()
    response = login("owner").post(
        url("hypothesis_create", product),
        {"change": "", "expected_outcome": "", "expected_move": "lots"},
        headers=HTMX if htmx else {},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert ("<html" in body) is not htmx
    assert 'id="hypothesis-new_change_error">This field is required.' in body
    assert 'id="hypothesis-new_expected_outcome_error">This field is required.' in body
    assert 'id="hypothesis-new_expected_move_error">Enter a number.' in body
    assert outcome_rows() == before


def test_a_key_result_of_another_product_cannot_be_chosen(login, product):
    foreign = KeyResultFactory(outcome=OutcomeFactory(product=ProductFactory()))
    before = outcome_rows()
    response = login("owner").post(
        url("hypothesis_create", product), {**VALID, "key_result": foreign.pk}, headers=HTMX
    )
    assert (
        'id="hypothesis-new_key_result_error">Select a valid choice.' in response.content.decode()
    )
    assert outcome_rows() == before


# Edit in place


@pytest.mark.parametrize("who", WRITERS)
def test_writers_edit_a_hypothesis_in_place(login, who, product, hypothesis):
    client = login(who)
    edit_url = url("hypothesis_edit", product, hypothesis.pk)
    opened = client.get(edit_url, headers=HTMX)
    body = opened.content.decode()
    assert body.lstrip().startswith(f'<article id="hypothesis-{hypothesis.pk}"')
    assert "Save hypothesis" in body and "a one-page form</textarea>" in body
    response = client.post(
        edit_url,
        {
            "change": "a one-page form with saved progress",
            "expected_outcome": "more customers finish opening an account",
            "key_result": hypothesis.key_result_id,
            "expected_move": "20",
            "evidence": "Interviews: people leave to find documents.",
        },
        headers=HTMX,
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith(f'<article id="hypothesis-{hypothesis.pk}"')
    assert "Hypothesis saved." in body and " autofocus>" in body
    assert "<strong>a one-page form with saved progress</strong>" in body
    assert "moves by <strong>20 %</strong>" in body
    assert "Interviews: people leave to find documents." in body
    hypothesis.refresh_from_db()
    assert hypothesis.expected_move == Decimal("20")
    assert hypothesis.status == Hypothesis.Status.PROPOSED


def test_without_javascript_editing_opens_the_card_on_the_page_and_redirects(
    login, product, hypothesis
):
    client = login("owner")
    edit_url = url("hypothesis_edit", product, hypothesis.pk)
    page = client.get(edit_url)
    assert b"<html" in page.content and b"Save hypothesis" in page.content
    invalid = client.post(edit_url, {"change": "", "expected_outcome": "x"})
    assert invalid.status_code == 200 and b"<html" in invalid.content
    assert f'id="hypothesis-{hypothesis.pk}_change_error"'.encode() in invalid.content
    response = client.post(edit_url, {"change": "a wizard", "expected_outcome": "x"})
    assert response.status_code == 302
    assert response["Location"] == f"/products/onboarding/#hypothesis-{hypothesis.pk}"
    hypothesis.refresh_from_db()
    assert hypothesis.change == "a wizard" and hypothesis.key_result is None


def test_an_invalid_edit_changes_nothing(login, product, hypothesis):
    before = outcome_rows()
    response = login("owner").post(
        url("hypothesis_edit", product, hypothesis.pk),
        {"change": "", "expected_outcome": "x"},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert outcome_rows() == before


# Status with evidence


@pytest.mark.parametrize("who", WRITERS)
def test_writers_change_the_status_with_an_evidence_note(login, who, people, product, hypothesis):
    client = login(who)
    status_url = url("hypothesis_status", product, hypothesis.pk)
    opened = client.get(status_url, headers=HTMX)
    assert "New status" in opened.content.decode()
    response = client.post(
        status_url,
        {"status": "validated", "note": "Completion up 18 points in four weeks."},
        headers=HTMX,
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Status changed to validated." in body
    assert '<span class="badge badge-ok">Validated</span>' in body
    assert "Completion up 18 points in four weeks." in body
    change = HypothesisStatusChange.objects.filter(hypothesis=hypothesis).latest("id")
    assert (change.from_status, change.to_status) == ("proposed", "validated")
    assert change.changed_by == people[who]
    assert timezone.localdate(change.changed_at) == timezone.localdate()
    hypothesis.refresh_from_db()
    assert hypothesis.status == "validated"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"status": "proposed", "note": ""}, "status", "It is already proposed"),
        ({"status": "validated", "note": "  "}, "note", "Say what evidence shows it is validated."),
        ({"status": "invalidated", "note": ""}, "note", "shows it is invalidated."),
        ({"status": "maybe", "note": ""}, "status", "Select a valid choice."),
    ],
)
@pytest.mark.parametrize("htmx", [True, False])
def test_a_status_change_needs_a_new_status_and_evidence_to_decide(
    login, product, hypothesis, data, field, message, htmx
):
    before = outcome_rows()
    response = login("owner").post(
        url("hypothesis_status", product, hypothesis.pk), data, headers=HTMX if htmx else {}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert ("<html" in body) is not htmx
    assert f'id="hypothesis-{hypothesis.pk}-status_{field}_error">' in body
    assert message in body
    assert outcome_rows() == before


def test_testing_needs_no_note_and_a_plain_post_redirects(login, product, hypothesis):
    response = login("owner").post(
        url("hypothesis_status", product, hypothesis.pk), {"status": "testing", "note": ""}
    )
    assert response.status_code == 302
    assert response["Location"].endswith(f"#hypothesis-{hypothesis.pk}")
    hypothesis.refresh_from_db()
    assert hypothesis.status == "testing"


# Delete


@pytest.mark.parametrize("who", WRITERS)
def test_writers_delete_a_hypothesis(login, who, product, hypothesis):
    client = login(who)
    response = client.post(url("hypothesis_delete", product, hypothesis.pk), headers=HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="hypotheses"')
    section, history = body.split('<section id="history"')
    assert "Hypothesis deleted." in section and "a one-page form" not in section
    # The history panel comes along out of band and shows what was deleted.
    assert 'hx-swap-oob="true"' in history and "a one-page form" in history
    assert not Hypothesis.objects.exists()


def test_without_javascript_deleting_asks_once_then_redirects(login, product, hypothesis):
    client = login("owner")
    delete_url = url("hypothesis_delete", product, hypothesis.pk)
    page = client.get(delete_url)
    assert page.status_code == 200
    assert b"Delete this hypothesis and its status history?" in page.content
    assert Hypothesis.objects.exists()
    response = client.post(delete_url)
    assert response.status_code == 302 and response["Location"].endswith("#hypotheses")
    assert not Hypothesis.objects.exists()


# Refusals: every write view, GET and POST, htmx or not.


def write_requests(product, hypothesis) -> list[tuple[str, str, dict]]:
    pk = hypothesis.pk
    return [
        ("get", url("hypothesis_create", product), {}),
        ("post", url("hypothesis_create", product), VALID),
        ("get", url("hypothesis_edit", product, pk), {}),
        ("post", url("hypothesis_edit", product, pk), VALID),
        ("get", url("hypothesis_status", product, pk), {}),
        ("post", url("hypothesis_status", product, pk), {"status": "testing", "note": "x"}),
        ("get", url("hypothesis_delete", product, pk), {}),
        ("post", url("hypothesis_delete", product, pk), {}),
    ]


@pytest.mark.parametrize("htmx", [True, False])
@pytest.mark.parametrize("who", REFUSED)
def test_others_are_refused_every_write_and_nothing_changes(login, who, product, hypothesis, htmx):
    client = login(who)
    before = outcome_rows()
    for method, target, data in write_requests(product, hypothesis):
        response = getattr(client, method)(target, data, headers=HTMX if htmx else {})
        assert response.status_code == 403, (method, target)
    assert outcome_rows() == before


def test_an_archived_product_refuses_writes_even_to_a_portfolio_manager(
    login, people, product, hypothesis
):
    services.product_archive(actor=people["portfolio_manager"], product=product)
    client = login("portfolio_manager")
    before = outcome_rows()
    for method, target, data in write_requests(product, hypothesis):
        assert getattr(client, method)(target, data).status_code == 403, (method, target)
    assert outcome_rows() == before


def test_a_hypothesis_of_another_product_is_not_found(login, people, product, hypothesis):
    ledger = ProductFactory(owners=[people["owner"]])
    client = login("owner")
    assert client.get(url("hypothesis_edit", ledger, hypothesis.pk)).status_code == 404
    assert client.post(url("hypothesis_delete", ledger, hypothesis.pk)).status_code == 404
    assert Hypothesis.objects.filter(pk=hypothesis.pk).exists()


# Query counts: the fragments cost the same with 2 hypotheses or 20.


def many_hypotheses(product, kr, owner, n: int) -> None:
    for i in range(n):
        h = HypothesisFactory(product=product, key_result=kr, expected_move=Decimal(i))
        HypothesisStatusChange.objects.create(hypothesis=h, to_status="proposed", changed_by=owner)
        HypothesisStatusChange.objects.create(
            hypothesis=h, from_status="proposed", to_status="testing", changed_by=owner, note="x"
        )


# session, user; product (+ owners); permissions (user, groups); the page context: outcomes
# (+ key results, measurements), history, hypotheses (+ status changes), roadmap items; the role
# labels of the top bar's context processor.
SECTION_QUERIES = 14
# session, user; product (+ owners); permissions x2; the hypothesis (+ status changes); the
# key-result choices; the service: savepoint, full_clean's product and key-result checks and the
# check constraint (savepoint pair), the update, the change record, release; then the page context
# (8) and the role labels.
EDIT_QUERIES = 26


@pytest.mark.parametrize("n", [2, 20])
def test_fragment_query_counts_do_not_grow_with_hypotheses(
    login, people, product, kr, django_assert_num_queries, n
):
    many_hypotheses(product, kr, people["owner"], n)
    client = login("owner")
    with django_assert_num_queries(SECTION_QUERIES):
        response = client.get(url("hypothesis_list", product), headers=HTMX)
    assert response.content.decode().count('<article id="hypothesis-') == n
    target = Hypothesis.objects.filter(product=product).first()
    assert target is not None
    with django_assert_num_queries(EDIT_QUERIES):
        response = client.post(
            url("hypothesis_edit", product, target.pk),
            {"change": "changed", "expected_outcome": "y", "key_result": kr.pk},
            headers=HTMX,
        )
    assert "Hypothesis saved." in response.content.decode()
