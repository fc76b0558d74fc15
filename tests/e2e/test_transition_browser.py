"""Browser test of an executive's assessment in headless Chromium: what only a browser proves.

`exec` opens the organisation's transition page: the override reason is hidden until it is needed
(advancing with a criterion not met), a refused advance comes back in place with the message
beside the field, and an override with a reason moves the ladder to stage 2 and shows the reason
in the history, all without a page load. No Content-Security-Policy error on the way.
"""

import pytest
from playwright.sync_api import Page, expect

from portfolio.models import TransitionCriterion, TransitionUnit
from tests.e2e.browser import settled, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_exec_overrides_the_stage_in_place(page: Page, live_server, executive):
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, live_server, "exec")
    page.goto(f"{live_server.url}/transition/")
    page.get_by_role("link", name="Checklist, evidence and history").click()
    expect(page.get_by_role("heading", name="Stage 1 checklist: Starting Out")).to_be_visible()

    override = page.get_by_label("Override reason")
    expect(override).to_be_hidden()
    criteria = list(TransitionCriterion.objects.filter(stage=1).order_by("order"))
    for criterion in criteria:
        group = page.get_by_role("group", name=criterion.text)
        group.get_by_label("Met", exact=True).check()
    page.get_by_label("Advance to stage 2, Experimentation").check()
    expect(override).to_be_hidden()  # every criterion met: no reason needed
    page.get_by_role("group", name=criteria[3].text).get_by_label("Partly met").check()
    expect(override).to_be_visible()

    marker = page.evaluate("() => (window.__notReloaded = true)")
    assert marker is True
    page.get_by_role("button", name="Record assessment").click()
    settled(page)
    expect(page.locator("#assess_override_reason_error")).to_contain_text(
        "give a reason to advance anyway"
    )
    assert not TransitionUnit.objects.exists()

    page.get_by_label("Override reason").fill("Board mandate")
    page.get_by_role("button", name="Record assessment").click()
    settled(page)
    expect(page.get_by_role("status")).to_contain_text("advanced by override to stage 2")
    expect(page.locator(".stage-rung.is-current")).to_contain_text("Experimentation")
    expect(page.locator("#history")).to_contain_text("Override reason: Board mandate")
    assert page.evaluate("() => window.__notReloaded") is True
    assert TransitionUnit.objects.get(value_stream=None).stage == 2
    page.screenshot(path="/tmp/helperg-unit.png", full_page=True)
    page.goto(f"{live_server.url}/transition/")
    page.screenshot(path="/tmp/helperg-overview.png", full_page=True)
    assert errors == []
