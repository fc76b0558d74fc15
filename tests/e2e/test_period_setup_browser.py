"""Browser test of a period's rate card & envelopes tab: in-place edits with htmx."""

import datetime
import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from funding.models import Envelope, FiscalPeriod, Rate
from tests.e2e.browser import sign_in
from tests.funding.factories import AllocationFactory, FiscalPeriodFactory, RateFactory
from tests.products.factories import DisciplineFactory, PersonFactory, TeamMembershipFactory
from tests.valuestreams.factories import ValueStreamFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_finance_prices_a_discipline_and_sees_an_envelope_refused_in_place(
    page: Page, live_server, finance_user
):
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    period = FiscalPeriodFactory(
        name="FY2030",
        start=datetime.date(2030, 1, 1),
        end=datetime.date(2030, 12, 31),
        status=FiscalPeriod.Status.ACTIVE,
    )
    engineer = DisciplineFactory(name="Engineer", slug="engineer")
    designer = DisciplineFactory(name="Designer", slug="designer")
    RateFactory(period=period, discipline=engineer, annual_cost=Decimal("100000.00"))
    membership = TeamMembershipFactory(person=PersonFactory(discipline=engineer))
    TeamMembershipFactory(team=membership.team, person=PersonFactory(discipline=designer))
    stream = ValueStreamFactory(name="Checkout")
    AllocationFactory(
        period=period, team=membership.team, value_stream=stream, percent=Decimal("50")
    )

    sign_in(page, live_server, "finance")
    page.goto(f"{live_server.url}{period.get_absolute_url()}")
    expect(page.locator("#rate-card")).to_contain_text("1 unpriced")

    # Price the designer in place: the rate card and the envelopes re-render without a reload.
    page.get_by_label("Annual rate of Designer").fill("80000")
    page.get_by_role("button", name="Set rate of Designer").click()
    expect(page.locator("#rate-card")).to_contain_text("Designer: €80,000.00 a year.")
    expect(page.locator("#rate-card")).not_to_contain_text("unpriced")
    assert Rate.objects.get(period=period, discipline=designer).annual_cost == Decimal("80000")
    # Half of (100,000 + 80,000) is now allocated to Checkout.
    expect(page.locator(f"#envelope-row-{stream.pk}")).to_contain_text("€90,000")

    # An envelope below what is allocated is refused beside its field.
    page.get_by_label("Envelope of Checkout").fill("50000")
    page.get_by_role("button", name="Set envelope of Checkout").click()
    expect(page.locator(f"#envelope-row-{stream.pk} .field-error")).to_contain_text(
        re.compile(r"already allocated to Checkout.*€40,000\.00 short")
    )
    assert not Envelope.objects.exists()
    page.get_by_label("Envelope of Checkout").fill("120000")
    page.get_by_role("button", name="Set envelope of Checkout").click()
    expect(page.locator("#envelopes")).to_contain_text("Checkout: envelope of €120,000.00.")
    expect(page.locator(f"#envelope-row-{stream.pk}")).to_contain_text("€30,000")
    assert Envelope.objects.get().amount == Decimal("120000.00")
    assert not [e for e in errors if "Content Security Policy" in e], errors
