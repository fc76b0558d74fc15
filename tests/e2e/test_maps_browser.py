"""Browser test of the value stream map page in headless Chromium: what only a browser proves.

`pm` edits a step's lead time in place and sees the totals, the bottleneck (tile, table and
picture) change without a reload, adds a step, moves it up and cancels an edit. No
Content-Security-Policy error on the way.
"""

import datetime
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import sign_in
from tests.valuestreams.factories import ValueStreamFactory
from valuestreams import maps
from valuestreams.models import MapStep

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def onboarding_map(portfolio_manager):
    vsm = maps.map_create(
        actor=portfolio_manager,
        value_stream=ValueStreamFactory(name="Customer onboarding", slug="customer-onboarding"),
        state="current",
        mapped_on=datetime.date(2026, 3, 12),
    )
    for name, pt, lt, ca in [
        ("Application", "10", "60", "90"),
        ("ID check queue", "0", "1440", "100"),
        ("Credit check", "30", "120", "80"),
        ("Welcome", "5", "10", "100"),
    ]:
        maps.step_add(
            actor=portfolio_manager,
            vsm=vsm,
            name=name,
            process_time_minutes=Decimal(pt),
            lead_time_minutes=Decimal(lt),
            percent_complete_accurate=Decimal(ca),
        )
    return vsm


def test_edit_a_step_and_see_the_bottleneck_and_totals_change(
    page: Page, live_server, portfolio_manager, onboarding_map
):
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, live_server, "pm")
    page.goto(f"{live_server.url}{onboarding_map.get_absolute_url()}")
    lead_time = page.locator('[data-figure="lead-time"]')
    bottleneck = page.locator('[data-figure="bottleneck"]')
    expect(lead_time).to_have_text("1.1 d")
    expect(bottleneck).to_have_text("ID check queue")
    expect(page.locator("svg .vsm-step.is-bottleneck")).to_contain_text("ID check queue")

    # Cancel an edit: the row comes back as it was.
    queue = MapStep.objects.get(map=onboarding_map, name="ID check queue")
    page.get_by_role("link", name="Edit ID check queue").click()
    form = page.locator(f"#step-{queue.pk} form.step-form")
    expect(form).to_be_visible()
    form.get_by_role("link", name="Cancel").click()
    expect(form).to_have_count(0)
    expect(page.get_by_role("link", name="Edit ID check queue")).to_be_visible()

    # Shorten the queue: totals and bottleneck change in place, without a reload.
    page.evaluate("window.__marker = 1")
    page.get_by_role("link", name="Edit ID check queue").click()
    field = page.locator(f"#step-{queue.pk}_lead_time_minutes")
    field.fill("60")
    page.locator(f"#step-{queue.pk} form.step-form").get_by_role("button", name="Save step").click()
    expect(lead_time).to_have_text("4.2 h")
    expect(bottleneck).to_have_text("Credit check")
    expect(page.locator('[data-figure="activity-ratio"]')).to_have_text("18 %")
    expect(page.locator("svg .vsm-step.is-bottleneck")).to_contain_text("Credit check")
    expect(page.locator("tr.is-bottleneck")).to_contain_text("Credit check")
    assert page.evaluate("window.__marker") == 1

    # An invalid time: the error beside the field, nothing saved.
    page.get_by_role("link", name="Edit Welcome").click()
    welcome = MapStep.objects.get(map=onboarding_map, name="Welcome")
    page.locator(f"#step-{welcome.pk}_process_time_minutes").fill("30")
    page.locator(f"#step-{welcome.pk} form.step-form").get_by_role(
        "button", name="Save step"
    ).click()
    expect(page.locator(f"#step-{welcome.pk} .field-error")).to_have_text(
        "Lead time must be at least the process time."
    )
    expect(lead_time).to_have_text("4.2 h")

    # Add a step and move it up one place.
    page.locator("details.add-step summary").first.click()
    page.locator("#new-step_name").fill("Account set-up")
    page.locator("#new-step_process_time_minutes").fill("20")
    page.locator("#new-step_lead_time_minutes").fill("240")
    page.get_by_role("button", name="Add step").click()
    expect(lead_time).to_have_text("8.2 h")
    page.get_by_role("button", name="Move Account set-up up").click()
    expect(page.locator("table.map-steps tbody tr").nth(3)).to_contain_text("Account set-up")
    assert page.evaluate("window.__marker") == 1
    assert not errors, errors
