"""Browser test of the pitfalls page: the early warnings arrive lazily, a portfolio manager sets a
threshold in place (the card re-renders with its new status, no page load) and follows an
offender to its page. No Content-Security-Policy error on the way."""

import pytest
from playwright.sync_api import Page, expect

from portfolio.models import PitfallThreshold
from tests.e2e.browser import settled, sign_in, watch_console
from tests.products.factories import ProductFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_pm_tunes_a_threshold_in_place_and_follows_an_offender(
    page: Page, live_server, portfolio_manager
):
    product = ProductFactory(name="Orphan product")
    errors = watch_console(page)
    sign_in(page, live_server, "pm")
    page.goto(f"{live_server.url}/pitfalls/")
    settled(page)
    expect(page.locator("#signal-warning-ageing")).to_be_visible()

    card = page.locator("#signal-pm-no_owner")
    expect(card.locator("[data-status]")).to_have_text("Firing")
    marker = page.evaluate("() => (window.__notReloaded = true)")
    assert marker is True
    card.get_by_label("Threshold (products)").fill("1")
    card.get_by_role("button", name="Save threshold").click()
    settled(page)
    card = page.locator("#signal-pm-no_owner")
    expect(card.locator("[data-status]")).to_have_text("Within threshold")
    expect(card).to_contain_text("above 1 product fires")
    assert page.evaluate("() => window.__notReloaded") is True
    assert PitfallThreshold.objects.get(key="pm.no_owner").threshold == 1

    card.get_by_text("1 offender").click()  # folded now that the signal no longer fires
    card.get_by_role("link", name="Orphan product").click()
    expect(page).to_have_url(f"{live_server.url}{product.get_absolute_url()}")
    assert errors == []
