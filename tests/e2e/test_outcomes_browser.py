"""Browser test of a product owner's day in headless Chromium: what only a browser proves.

`po` records a measurement in place and sees the key result's badge change, moves a roadmap item
from Next to Now with the keyboard (the focus comes back to it), finds it there after a reload,
and finds no edit controls on a product they do not own, whose write URLs answer 403. No
Content-Security-Policy error on the way.
"""

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from products import services
from products.models import KeyResult, RoadmapItem
from tests.e2e.browser import settled, sign_in, watch_console
from tests.products.factories import ProductFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def checkout(product_owner, portfolio_manager):
    """A product `po` owns: a key result off track, and a roadmap with one item in Now and one
    in Next."""
    product = ProductFactory(name="Checkout", slug="checkout", owners=[product_owner])
    today = timezone.localdate()
    outcome = services.outcome_create(
        actor=product_owner, product=product, statement="Customers pay without friction"
    )
    kr = services.key_result_create(
        actor=product_owner,
        outcome=outcome,
        name="Conversion",
        unit="%",
        baseline=Decimal("0"),
        target=Decimal("100"),
        start_date=today - datetime.timedelta(days=180),
        target_date=today + datetime.timedelta(days=180),
    )
    # About half the time has gone and only a tenth of the way is done: off track.
    services.measurement_record(
        actor=product_owner,
        key_result=kr,
        date=today - datetime.timedelta(days=1),
        value=Decimal("10"),
    )
    assert KeyResult.objects.get(pk=kr.pk).status == "off_track"
    services.roadmap_item_create(
        actor=product_owner, product=product, title="Wallet pay", horizon="now", key_results=[kr]
    )
    saved_cards = services.roadmap_item_create(
        actor=product_owner, product=product, title="Saved cards", horizon="next"
    )
    return {"product": product, "kr": kr, "saved_cards": saved_cards}


def test_po_records_a_measurement_and_moves_an_item_to_now(page: Page, live_server, checkout):
    errors = watch_console(page)
    kr, saved_cards = checkout["kr"], checkout["saved_cards"]
    sign_in(page, live_server, "po")
    product_url = f"{live_server.url}{checkout['product'].get_absolute_url()}"
    page.goto(product_url)

    # Record a measurement in place: the badge goes from off track to on track.
    card = page.locator(f"#kr-{kr.pk}")
    expect(card.locator(".badge[data-status]")).to_have_text("Off track")
    card.get_by_text("Record a measurement", exact=True).click()
    card.get_by_label("Value").fill("60")
    card.get_by_role("button", name=re.compile(r"^Record")).click()
    card = page.locator(f"#kr-{kr.pk}")
    expect(card.locator(".badge[data-status]")).to_have_text("On track")
    assert KeyResult.objects.get(pk=kr.pk).status == "on_track"

    # Move "Saved cards" from Next to Now with the keyboard; the focus comes back to the item.
    now, next_ = page.locator('[data-horizon="now"]'), page.locator('[data-horizon="next"]')
    expect(next_).to_contain_text("Saved cards")
    expect(now).not_to_contain_text("Saved cards")
    expect(next_).to_contain_text("Output without outcome")
    button = page.get_by_role("button", name="Move “Saved cards” to Now")
    settled(page)
    button.focus()
    page.keyboard.press("Enter")
    expect(now).to_contain_text("Saved cards")
    expect(next_).not_to_contain_text("Saved cards")
    expect(page.locator(f"#roadmap-item-{saved_cards.pk}")).to_be_focused()
    expect(page.locator("#roadmap [role=status]")).to_have_text(
        "“Saved cards” moved to place 2 in Now."
    )
    # The item below "Wallet pay" can go up; the same button keeps the focus after the swap.
    settled(page)
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Move up: Saved cards")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(f"#roadmap-item-{saved_cards.pk}")).to_be_focused()
    expect(now.locator("h4")).to_have_text(["Saved cards", "Wallet pay"])

    page.reload()
    expect(page.locator('[data-horizon="now"] h4')).to_have_text(["Saved cards", "Wallet pay"])
    expect(page.locator('[data-horizon="next"]')).to_contain_text("Nothing in Next yet.")
    assert list(
        RoadmapItem.objects.filter(product=checkout["product"], horizon="now")
        .order_by("position")
        .values_list("title", flat=True)
    ) == ["Saved cards", "Wallet pay"]

    # Drag and drop does the same: "Wallet pay" dropped on Later, then back above "Saved cards".
    wallet = page.locator(".roadmap-item", has_text="Wallet pay")
    wallet.drag_to(page.locator('[data-horizon="later"]'))
    expect(page.locator('[data-horizon="later"] h4')).to_have_text(["Wallet pay"])
    expect(page.locator('[data-horizon="now"] h4')).to_have_text(["Saved cards"])
    assert RoadmapItem.objects.get(title="Wallet pay").horizon == "later"
    wallet.drag_to(
        page.locator(f"#roadmap-item-{saved_cards.pk}"), target_position={"x": 20, "y": 4}
    )
    expect(page.locator('[data-horizon="now"] h4')).to_have_text(["Wallet pay", "Saved cards"])
    assert RoadmapItem.objects.get(title="Wallet pay").position == 0
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors


def test_po_cannot_change_a_product_they_do_not_own(
    page: Page, live_server, checkout, portfolio_manager
):
    errors = watch_console(page)
    ledger = ProductFactory(name="Ledger", slug="ledger", owners=[portfolio_manager])
    item = services.roadmap_item_create(
        actor=portfolio_manager, product=ledger, title="Faster statements", horizon="next"
    )
    services.hypothesis_create(
        actor=portfolio_manager,
        product=ledger,
        change="monthly statements by e-mail",
        expected_outcome="fewer calls to the help desk",
    )
    sign_in(page, live_server, "po")
    page.goto(f"{live_server.url}{ledger.get_absolute_url()}")
    expect(page.get_by_role("heading", name="Ledger", exact=True)).to_be_visible()
    expect(page.locator("#roadmap")).to_contain_text("Faster statements")
    expect(page.locator("#hypotheses")).to_contain_text("monthly statements by e-mail")
    for name in [
        "Add a hypothesis",
        "Add an item",
        "Record a measurement",
        "Change status",
        re.compile(r"^Edit"),
        re.compile(r"^Delete"),
    ]:
        expect(page.get_by_role("link", name=name)).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile(r"Move"))).to_have_count(0)

    # The same request that moves an item on po's own product is refused on this one.
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    headers = {"X-CSRFToken": csrf, "HX-Request": "true"}
    own = checkout["saved_cards"]
    allowed = page.request.post(
        f"{live_server.url}{reverse('products:roadmap_item_move', args=['checkout', own.pk])}",
        form={"horizon": "later"},
        headers=headers,
    )
    assert allowed.status == 200
    refused = page.request.post(
        f"{live_server.url}{reverse('products:roadmap_item_move', args=['ledger', item.pk])}",
        form={"horizon": "now"},
        headers=headers,
    )
    assert refused.status == 403
    edit = page.goto(
        f"{live_server.url}{reverse('products:roadmap_item_edit', args=['ledger', item.pk])}"
    )
    assert edit is not None and edit.status == 403
    item.refresh_from_db()
    assert (item.horizon, item.position) == ("next", 0)
    assert not [e for e in errors if "Content Security Policy" in e], errors
