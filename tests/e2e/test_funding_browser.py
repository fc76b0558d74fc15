"""Browser test of the allocation matrix in headless Chromium: what only a browser proves.

`finance` opens a period's matrix, allocates a cell with Enter and another with Tab and sees the
row, column and grand totals change in place (no reload), types a percent that would take a team
over 100 % and sees the refusal beside the cell with the saved value back in it, then proposes
and approves the plan and sees the cells' status change. No Content-Security-Policy error on the
way.
"""

import datetime
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from funding.models import Allocation, AllocationStatus
from tests.e2e.browser import settled, sign_in, watch_console
from tests.funding.factories import EnvelopeFactory, FiscalPeriodFactory, RateFactory
from tests.products.factories import (
    DisciplineFactory,
    PersonFactory,
    TeamFactory,
    TeamMembershipFactory,
)
from tests.valuestreams.factories import ValueStreamFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def percent_input(page: Page, team: str, value_stream: str):
    return page.get_by_label(f"{team} → {value_stream}: percent of capacity", exact=True)


@pytest.fixture
def plan(finance_user):
    """FY2030: Checkout costs 120,000.00 and Platform 60,000.00; Payments has an envelope of
    100,000.00, Onboarding none."""
    period = FiscalPeriodFactory(
        name="FY2030", start=datetime.date(2030, 1, 1), end=datetime.date(2030, 12, 31)
    )
    engineer = DisciplineFactory(name="Engineer", slug="engineer")
    RateFactory(period=period, discipline=engineer, annual_cost=Decimal("120000.00"))
    checkout = TeamFactory(name="Checkout", slug="checkout")
    platform = TeamFactory(name="Platform", slug="platform")
    TeamMembershipFactory(team=checkout, person=PersonFactory(discipline=engineer))
    TeamMembershipFactory(
        team=platform, person=PersonFactory(discipline=engineer), fte=Decimal("0.5")
    )
    payments = ValueStreamFactory(name="Payments", slug="payments")
    onboarding = ValueStreamFactory(name="Onboarding", slug="onboarding")
    EnvelopeFactory(period=period, value_stream=payments, amount=Decimal("100000.00"))
    return {
        "period": period,
        "checkout": checkout,
        "platform": platform,
        "payments": payments,
        "onboarding": onboarding,
    }


def test_finance_allocates_is_refused_over_100_percent_proposes_and_approves(
    page: Page, live_server, plan
):
    errors = watch_console(page)
    period, checkout, platform = plan["period"], plan["checkout"], plan["platform"]
    payments, onboarding = plan["payments"], plan["onboarding"]
    sign_in(page, live_server, "finance")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/funding/periods/{period.pk}/allocations/")
    expect(page.get_by_role("heading", name="Allocations · FY2030")).to_be_visible()
    page.evaluate("window.__marker = 1")

    row_total = page.locator(f"#row-allocated-{checkout.pk} [data-figure='allocated-percent']")
    unallocated = page.locator(f"#row-unallocated-{checkout.pk}")
    column_total = page.locator(f"#col-allocated-{payments.pk} [data-figure='column-allocated']")
    unfunded = page.locator(f"#col-unfunded-{payments.pk}")
    allocated_tile = page.locator("[data-figure='allocated']")
    expect(row_total).to_have_text("0 %")
    expect(allocated_tile).to_have_text("€0.00")

    # Enter saves a cell: the totals change in place and the cursor stays in the cell.
    cell = percent_input(page, "Checkout", "Payments")
    cell.fill("40")
    cell.press("Enter")
    settled(page)
    expect(row_total).to_have_text("40 %")
    expect(unallocated).to_contain_text("60 %")
    expect(unallocated).to_contain_text("€72,000")
    expect(column_total).to_have_text("€48,000")
    expect(unfunded).to_have_text("€52,000")
    expect(allocated_tile).to_have_text("€48,000")
    expect(page.locator("#matrix-notice")).to_have_text("Checkout → Payments: 40 % saved.")
    expect(page.locator(f"#cell-{checkout.pk}-{payments.pk} .allocation-status")).to_have_text(
        "Draft"
    )
    expect(page.locator(f"#pct-{checkout.pk}-{payments.pk}")).to_be_focused()

    # Tab saves and moves on.
    other = percent_input(page, "Checkout", "Onboarding")
    other.fill("50")
    other.press("Tab")
    settled(page)
    expect(row_total).to_have_text("90 %")
    expect(page.locator("#plan-counts [data-count='draft']")).to_have_text("2 draft")
    expect(percent_input(page, "Checkout", "Payments")).to_be_focused()

    # Over 100 %: refused beside the cell, which shows the saved value again.
    other = percent_input(page, "Checkout", "Onboarding")
    other.fill("70")
    other.press("Enter")
    settled(page)
    message = page.locator(f"#msg-{checkout.pk}-{onboarding.pk}")
    expect(message).to_have_text(
        "Checkout would be allocated 110.00 % of its capacity in FY2030: "
        "10.00 % over the 100 % limit."
    )
    expect(percent_input(page, "Checkout", "Onboarding")).to_have_value("50.00")
    expect(row_total).to_have_text("90 %")
    expect(page.locator("#matrix-notice")).to_have_text("")
    assert Allocation.objects.get(team=checkout, value_stream=onboarding).percent == 50

    # Platform gives a tenth to Payments: the column and the grand totals move.
    platform_cell = percent_input(page, "Platform", "Payments")
    platform_cell.fill("10")
    platform_cell.press("Enter")
    settled(page)
    expect(column_total).to_have_text("€54,000")
    expect(allocated_tile).to_have_text("€114,000")
    expect(page.locator("#grand-unallocated")).to_have_text("€66,000")
    assert page.evaluate("window.__marker") == 1  # all of it without a reload

    # Propose, then approve: the cells' status follows.
    page.get_by_label("Note").fill("Ready for the board")
    page.get_by_role("button", name="Propose all drafts").click()
    expect(page.locator(".message-success")).to_have_text(
        "Proposed 3 draft allocations for approval."
    )
    expect(page.locator(f"#cell-{checkout.pk}-{payments.pk} .allocation-status")).to_have_text(
        "Proposed"
    )
    expect(page.locator("[data-figure='plan-status']")).to_have_text("Proposed")
    page.get_by_role("button", name="Approve all proposed").click()
    expect(page.locator(".message-success")).to_have_text("Approved 3 proposed allocations.")
    for team, stream in [(checkout, payments), (checkout, onboarding), (platform, payments)]:
        expect(page.locator(f"#cell-{team.pk}-{stream.pk} .allocation-status")).to_have_text(
            "Approved"
        )
    expect(page.locator("[data-figure='plan-status']")).to_have_text("Approved")
    expect(page.locator("#plan-counts [data-count='approved']")).to_have_text("3 approved")
    assert set(Allocation.objects.values_list("status", flat=True)) == {AllocationStatus.APPROVED}

    # An approved cell asks why it changes before it saves.
    approved = percent_input(page, "Checkout", "Payments")
    approved.fill("30")
    approved.press("Enter")
    settled(page)
    expect(page.locator(f"#msg-{checkout.pk}-{payments.pk}")).to_have_text(
        "This allocation is approved: say why it changes."
    )
    reason = page.get_by_label("Why Checkout → Payments changes")
    expect(reason).to_be_focused()
    percent_input(page, "Checkout", "Payments").fill("30")
    reason.fill("Moved to Onboarding next quarter")
    reason.press("Enter")
    settled(page)
    expect(row_total).to_have_text("80 %")
    assert Allocation.objects.get(team=checkout, value_stream=payments).percent == 30
    assert not errors, errors
