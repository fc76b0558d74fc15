"""Browser tests in Debian's headless Chromium: what only a browser proves."""

import re

import pytest
from playwright.sync_api import Page, expect

from products.models import Product
from tests.e2e.browser import sign_in
from tests.products.factories import ProductFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_portfolio_manager_creates_a_product_and_finds_it_in_the_list(
    page: Page, live_server, portfolio_manager
):
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    sign_in(page, live_server, "pm")
    page.goto(f"{live_server.url}/products/")
    page.get_by_role("link", name=re.compile(r"New product", re.I)).click()
    page.get_by_label("Name").fill("Mortgage calculator")
    page.get_by_label("Description").fill("Helps customers see what they can borrow.")
    page.get_by_role("button", name=re.compile(r"Create|Save", re.I)).click()
    expect(page.get_by_role("heading", name="Mortgage calculator")).to_be_visible()
    assert Product.objects.filter(name="Mortgage calculator", slug="mortgage-calculator").exists()

    page.goto(f"{live_server.url}/products/")
    search = page.locator("form.filters input[name=q]")
    search.fill("mortgage")
    search.press("Enter")
    expect(page.locator("table.data")).to_contain_text("Mortgage calculator")
    expect(page).to_have_url(re.compile(r"q=mortgage"))
    assert not [e for e in errors if "Content Security Policy" in e], errors


def test_product_owner_sees_no_edit_controls(page: Page, live_server, product_owner):
    product = ProductFactory(name="Card controls", slug="card-controls", owners=[product_owner])
    sign_in(page, live_server, "po")
    page.goto(f"{live_server.url}{product.get_absolute_url()}")
    expect(page.get_by_role("heading", name="Card controls")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile(r"^Edit", re.I))).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile(r"Archive", re.I))).to_have_count(0)
    page.goto(f"{live_server.url}/products/")
    expect(page.get_by_role("link", name=re.compile(r"New product", re.I))).to_have_count(0)
    response = page.goto(f"{live_server.url}/products/new/")
    assert response is not None and response.status == 403
