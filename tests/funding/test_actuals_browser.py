"""Browser test of actuals in headless Chromium: what only a browser proves.

`finance` opens a period's actuals, turns a cell into its form in place, saves an amount with
Enter and sees the cell, the team's total and the month's total change without a reload; a bad
amount is refused beside the field. The team's burn page draws its Chart.js chart from the
data attribute (no inline script). No Content-Security-Policy error on the way.
"""

import datetime
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from funding.models import Actual
from tests.e2e.browser import settled, sign_in
from tests.funding.factories import ActualFactory, FiscalPeriodFactory, RateFactory
from tests.products.factories import TeamFactory, TeamMembershipFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WAIT = 15_000


def test_finance_edits_an_actual_in_place_and_sees_the_burn(page: Page, live_server, finance_user):
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    period = FiscalPeriodFactory(
        name="FY2030", start=datetime.date(2030, 1, 1), end=datetime.date(2030, 12, 31)
    )
    RateFactory(period=period, annual_cost=Decimal("120000.00"))
    team = TeamFactory(name="Payments core", slug="payments-core")
    TeamMembershipFactory(team=team, fte=Decimal("1"))
    other = TeamFactory(name="Lending")
    ActualFactory(team=other, month=datetime.date(2030, 1, 1), amount=Decimal("100.00"))
    ActualFactory(team=team, month=datetime.date(2030, 2, 1), amount=Decimal("9000.00"))

    sign_in(page, live_server, finance_user.username)
    page.goto(f"{live_server.url}/funding/periods/{period.pk}/actuals/")
    page.evaluate("window.notReloaded = true")
    cell = page.locator(f"#actual-{team.pk}-2030-01")
    cell.get_by_role("link").click()
    settled(page)
    field = page.get_by_label("Actual of Payments core, Jan 2030")
    expect(field).to_be_focused(timeout=WAIT)
    field.fill("12,34")
    field.press("Enter")
    settled(page)
    expect(page.locator(f"#actual-{team.pk}-2030-01 .field-error")).to_contain_text(
        "Give an amount such as 12345.67", timeout=WAIT
    )
    field = page.get_by_label("Actual of Payments core, Jan 2030")
    field.fill("1,000.50")
    field.press("Enter")
    settled(page)
    expect(cell).to_have_text("€1,000.50 Payments core, Jan 2030", timeout=WAIT)
    # Above 10,000 tables show no cents.
    expect(page.locator(f"#actual-total-team-{team.pk}")).to_have_text("€10,001")
    expect(page.locator("#actual-total-month-2030-01")).to_have_text("€1,100.50")
    expect(page.locator("#actual-total")).to_have_text("€10,101")
    assert page.evaluate("window.notReloaded") is True
    assert Actual.objects.get(team=team, month=datetime.date(2030, 1, 1)).amount == Decimal(
        "1000.50"
    )

    page.locator(f"#actuals-row-{team.pk} th a").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("FY2030", timeout=WAIT)
    page.wait_for_function(
        "() => { const c = document.querySelector('canvas[data-burn-chart]');"
        " return c && window.Chart && window.Chart.getChart(c) &&"
        " window.Chart.getChart(c).data.datasets.length === 3; }",
        timeout=WAIT,
    )
    expect(page.locator('[data-figure="actual"]')).to_have_text("€10,001")
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors
    assert errors == []
