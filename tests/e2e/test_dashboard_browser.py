"""Browser test of the CIO dashboard in headless Chromium: what only a browser proves.

`exec` signs in and lands on the dashboard, sees its three charts drawn (Chart.js from the app's
own static files, CSP-clean), the pitfall list arrive lazily, follows a pitfall badge of a value
stream to the offending product, and comes back.
"""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from funding.models import FiscalPeriod
from products.models import Product
from tests.funding.factories import FiscalPeriodFactory
from tests.portfolio.test_dashboard import build, month

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "pass-for-tests-1"


def test_exec_lands_on_the_dashboard_and_follows_a_badge(page: Page, live_server, executive):
    period = FiscalPeriodFactory(
        name="This year",
        start=month(3),
        end=timezone.localdate() + datetime.timedelta(days=200),
        status=FiscalPeriod.Status.ACTIVE,
    )
    build(3, period)  # the products have no product owner: a pitfall signal fires
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("exec")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="Portfolio", exact=True)).to_be_visible()

    # The three charts are drawn on their canvases.
    expect(page.locator('canvas[data-dashboard-chart][data-drawn="1"]')).to_have_count(3)
    for name in ("funding", "distribution", "outcomes"):
        assert page.evaluate(
            "n => !!Chart.getChart(document.querySelector(`canvas[data-dashboard-chart=${n}]`))",
            name,
        )
    # The pitfall list arrives lazily.
    expect(page.locator('[data-widget="pitfalls"]')).to_be_visible()
    expect(page.locator('[data-widget="warnings"]')).to_be_visible()

    # The print stylesheet drops the navigation, filters and popovers, and keeps the table.
    page.emulate_media(media="print")
    expect(page.locator(".topbar")).to_be_hidden()
    expect(page.locator("details.explain").first).to_be_hidden()
    expect(page.locator("table.dashboard-table")).to_be_visible()
    page.emulate_media(media="screen")

    # A figure explains itself, one click away.
    tile = page.locator('[data-tile="products"]')
    tile.locator("details.explain summary").click()
    tile.get_by_role("link", name="What it counts").click()
    expect(tile.locator('[data-explain="products"] li')).to_have_count(6)

    # Follow a value stream's pitfall badge to the offending product, and back.
    badge = page.locator('.pitfall-badge[data-signal="pm.no_owner"][href^="/products/"]').first
    expect(badge).to_be_visible()
    href = badge.get_attribute("href")
    product = Product.objects.get(slug=href.split("#")[0].rstrip("/").rsplit("/", 1)[-1])
    badge.click()
    expect(page).to_have_url(f"{live_server.url}{href}")
    expect(page.get_by_role("heading", name=product.name)).to_be_visible()
    page.go_back()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.locator('canvas[data-dashboard-chart][data-drawn="1"]')).to_have_count(3)
    assert not errors, errors
