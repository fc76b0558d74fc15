"""Browser test of a scenario in headless Chromium: `finance` copies the plan into a scenario,
takes a team over 100 % in place (saved, shown red with the limit it breaks, the comparison
updated without a reload), sees promotion refused, puts the cell back within the limits and
promotes the scenario. No Content-Security-Policy error on the way."""

import datetime
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from funding.models import Allocation
from tests.e2e.browser import PASSWORD, settled
from tests.funding.factories import (
    AllocationFactory,
    EnvelopeFactory,
    FiscalPeriodFactory,
    RateFactory,
)
from tests.products.factories import (
    DisciplineFactory,
    PersonFactory,
    TeamFactory,
    TeamMembershipFactory,
)
from tests.valuestreams.factories import ValueStreamFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

GROWTH_CELL = "Percent of Checkout\u2019s capacity to Growth"


@pytest.fixture
def period(finance_user):
    """FY2030: Checkout costs 120,000.00 and gives Payments 50 %."""
    period = FiscalPeriodFactory(
        name="FY2030", start=datetime.date(2030, 1, 1), end=datetime.date(2030, 12, 31)
    )
    engineer = DisciplineFactory(name="Engineer", slug="engineer")
    RateFactory(period=period, discipline=engineer, annual_cost=Decimal("120000.00"))
    checkout = TeamFactory(name="Checkout", slug="checkout")
    TeamMembershipFactory(team=checkout, person=PersonFactory(discipline=engineer))
    payments = ValueStreamFactory(name="Payments", slug="payments")
    ValueStreamFactory(name="Growth", slug="growth")
    EnvelopeFactory(period=period, value_stream=payments, amount=Decimal("200000.00"))
    AllocationFactory(
        period=period,
        team=checkout,
        value_stream=payments,
        percent=Decimal("50"),
        status="approved",
    )
    return period


def test_finance_tries_a_scenario_and_promotes_it(page: Page, live_server, period):
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("finance")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.goto(f"{live_server.url}/funding/periods/{period.pk}/scenarios/")
    page.get_by_label("Name").fill("More growth")
    page.get_by_role("button", name="Copy the plan").click()
    expect(page.get_by_role("heading", name="More growth")).to_be_visible()
    url = page.url

    growth = page.get_by_label(GROWTH_CELL)
    growth.fill("60")
    growth.press("Tab")
    settled(page)
    assert page.url == url  # edited in place
    expect(page.locator("#scenario-matrix")).to_contain_text("Over by 10 %")
    expect(page.locator("#scenario-limits")).to_contain_text("Checkout would be allocated 110.00 %")
    expect(page.locator("#scenario-compare")).to_contain_text("1 cell differs")

    page.get_by_label("Reason").fill("Growth first")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Promote to the plan").click()
    expect(page.locator(".form-errors")).to_contain_text("10.00 % over the 100 % limit")
    assert Allocation.objects.count() == 1

    growth = page.get_by_label(GROWTH_CELL)
    growth.fill("50")
    growth.press("Enter")
    settled(page)
    expect(page.locator("#scenario-limits")).to_contain_text("Within limits")
    page.get_by_label("Reason").fill("Growth first")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Promote to the plan").click()
    expect(page).to_have_url(f"{live_server.url}/funding/periods/{period.pk}/allocations/")
    expect(page.locator(".messages")).to_contain_text("is now the plan of FY2030")
    assert sorted(Allocation.objects.values_list("value_stream__slug", "status")) == [
        ("growth", "draft"),
        ("payments", "approved"),
    ]
    assert not errors, errors
