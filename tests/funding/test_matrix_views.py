"""The allocation matrix page, its cell edits (htmx and plain posts), the approval workflow
buttons and the allocation timelines: figures, refusals, roles and pinned query counts."""

import datetime
import re
from decimal import Decimal
from html import unescape

import pytest
from django.urls import reverse

from funding import services
from funding.models import Allocation, AllocationChange, AllocationStatus, FiscalPeriod
from tests.conftest import ROLES
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

pytestmark = pytest.mark.django_db

D = datetime.date
P = Decimal
HTMX = {"HX-Request": "true"}
NOT_FINANCE = [r for r in ROLES if r != "finance"]


class Plan:
    """FY2030: Checkout costs 120,000.00 (1 FTE engineer), Platform 60,000.00 (0.5 FTE);
    Payments has an envelope of 100,000.00, Onboarding none."""

    def __init__(self, finance_user):
        self.actor = finance_user
        self.period = FiscalPeriodFactory(name="FY2030", start=D(2030, 1, 1), end=D(2030, 12, 31))
        self.engineer = DisciplineFactory(name="Engineer", slug="engineer")
        RateFactory(period=self.period, discipline=self.engineer, annual_cost=P("120000.00"))
        self.checkout = TeamFactory(name="Checkout", slug="checkout")
        self.platform = TeamFactory(name="Platform", slug="platform")
        TeamMembershipFactory(team=self.checkout, person=PersonFactory(discipline=self.engineer))
        TeamMembershipFactory(
            team=self.platform, person=PersonFactory(discipline=self.engineer), fte=P("0.5")
        )
        self.payments = ValueStreamFactory(name="Payments", slug="payments")
        self.onboarding = ValueStreamFactory(name="Onboarding", slug="onboarding")
        EnvelopeFactory(period=self.period, value_stream=self.payments, amount=P("100000.00"))

    @property
    def url(self) -> str:
        return reverse("funding:matrix", kwargs={"pk": self.period.pk})

    def cell_url(self, team, stream) -> str:
        return reverse(
            "funding:matrix_cell",
            kwargs={"pk": self.period.pk, "team_pk": team.pk, "value_stream_pk": stream.pk},
        )

    def set(self, team, stream, percent, **kw):
        return services.allocation_set_percent(
            actor=kw.pop("actor", self.actor),
            period=self.period,
            team=team,
            value_stream=stream,
            percent=P(percent),
            **kw,
        )

    def post(self, client, team, stream, percent, version, *, htmx=True, **data):
        return client.post(
            self.cell_url(team, stream),
            {"percent": percent, "version": version, **data},
            headers=HTMX if htmx else {},
        )


@pytest.fixture
def plan(finance_user):
    return Plan(finance_user)


def element(html: str, element_id: str) -> str:
    """The opening tag and content of the element with this id, up to its closing tag."""
    match = re.search(rf'<(\w+)[^>]*\bid="{element_id}"[^>]*>.*?</\1>', html, re.S)
    assert match, f"no element #{element_id}"
    return match.group(0)


def squash(html: str) -> str:
    return re.sub(r"\s+", " ", html)


def text(html: str) -> str:
    return squash(unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def input_value(html: str, input_id: str) -> str:
    match = re.search(rf'<input[^>]*id="{input_id}"[^>]*value="([^"]*)"', html)
    assert match, f"no input #{input_id}"
    return match.group(1)


# The page.


def test_finance_sees_the_matrix_with_cells_totals_and_flags(client, plan):
    AllocationFactory(
        period=plan.period, team=plan.checkout, value_stream=plan.payments, percent=P("40.00")
    )
    # A designer without a rate on the card: Platform's capacity is incomplete.
    designer = DisciplineFactory(name="Designer", slug="designer")
    TeamMembershipFactory(team=plan.platform, person=PersonFactory(discipline=designer))
    client.force_login(plan.actor)
    response = client.get(plan.url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html
    checkout, payments = plan.checkout.pk, plan.payments.pk
    cell = element(html, f"cell-{checkout}-{payments}")
    assert input_value(cell, f"pct-{checkout}-{payments}") == "40.00"
    assert 'name="version" value="1"' in cell
    assert text(cell).endswith("€48,000 Draft")
    assert text(element(html, f"row-allocated-{checkout}")) == "40 % €48,000"
    assert text(element(html, f"row-unallocated-{checkout}")) == "60 % €72,000"
    assert text(element(html, f"row-unallocated-{plan.platform.pk}")) == "100 % €60,000"
    assert text(element(html, f"col-allocated-{payments}")) == "€48,000 48 % of envelope"
    assert text(element(html, f"col-unfunded-{payments}")) == "€52,000"
    assert text(element(html, f"col-unfunded-{plan.onboarding.pk}")) == "—"
    assert text(element(html, f"col-envelope-{plan.onboarding.pk}")) == "No envelope"
    assert text(element(html, "grand-allocated")) == "€48,000 26.7 % of capacity"
    assert text(element(html, "grand-unallocated")) == "€132,000"
    assert text(element(html, "grand-unfunded")) == "€52,000"
    assert 'data-flag="incomplete"' in element(html, f"team-{plan.platform.pk}")
    assert "1 member without a rate" in html
    assert 'data-flag="incomplete"' not in element(html, f"team-{checkout}")
    # Headers link to the timelines; finance gets the workflow buttons.
    assert reverse("funding:team_timeline", args=[plan.period.pk, "checkout"]) in html
    assert reverse("funding:value_stream_timeline", args=[plan.period.pk, "payments"]) in html
    assert "Propose all drafts" in html and "Approve all proposed" in html
    assert "Return proposed to draft" in html
    assert text(element(html, "plan-counts")) == "1 draft 0 proposed 0 approved"


def test_a_row_over_100_and_a_column_over_its_envelope_are_red_with_a_label(client, plan):
    # Rows written directly (an envelope lowered by an import, say): the page still tells.
    AllocationFactory(
        period=plan.period, team=plan.checkout, value_stream=plan.payments, percent=P("90")
    )
    AllocationFactory(
        period=plan.period, team=plan.checkout, value_stream=plan.onboarding, percent=P("20")
    )
    client.force_login(plan.actor)
    html = client.get(plan.url).content.decode()
    row = element(html, f"row-allocated-{plan.checkout.pk}")
    assert "is-over" in row.split(">", 1)[0] and 'class="over-limit"' in row
    assert text(row) == "110 % €132,000 Over 100 % by 10 %"
    assert (
        text(element(html, f"row-unallocated-{plan.checkout.pk}")) == "-10 % \N{MINUS SIGN}€12,000"
    )
    unfunded = element(html, f"col-unfunded-{plan.payments.pk}")
    assert "is-over" in unfunded.split(">", 1)[0]
    assert text(unfunded) == "\N{MINUS SIGN}€8,000.00 Over envelope by €8,000.00"


@pytest.mark.parametrize("role_user", NOT_FINANCE, indirect=True)
def test_other_roles_read_the_matrix_without_inputs_or_buttons(client, plan, role_user):
    AllocationFactory(
        period=plan.period, team=plan.checkout, value_stream=plan.payments, percent=P("40.00")
    )
    client.force_login(role_user)
    response = client.get(plan.url)
    assert response.status_code == 200
    html = response.content.decode()
    assert text(element(html, f"cell-{plan.checkout.pk}-{plan.payments.pk}")) == (
        "40 % €48,000 Draft"
    )
    assert 'name="percent"' not in html
    assert "Propose all drafts" not in html
    assert "/allocations/cells/" not in html


def test_approved_cells_offer_a_reason_field_and_drafts_do_not(client, plan):
    AllocationFactory(
        period=plan.period,
        team=plan.checkout,
        value_stream=plan.payments,
        status=AllocationStatus.APPROVED,
    )
    AllocationFactory(period=plan.period, team=plan.checkout, value_stream=plan.onboarding)
    client.force_login(plan.actor)
    html = client.get(plan.url).content.decode()
    approved = element(html, f"cell-{plan.checkout.pk}-{plan.payments.pk}")
    draft = element(html, f"cell-{plan.checkout.pk}-{plan.onboarding.pk}")
    assert 'name="reason"' in approved and 'hx-trigger="submit"' in approved
    assert 'name="reason"' not in draft and 'hx-trigger="submit, change"' in draft


def test_closed_period_is_read_only_for_finance(client, plan):
    AllocationFactory(period=plan.period, team=plan.checkout, value_stream=plan.payments)
    FiscalPeriod.objects.filter(pk=plan.period.pk).update(status=FiscalPeriod.Status.CLOSED)
    client.force_login(plan.actor)
    html = client.get(plan.url).content.decode()
    assert "FY2030 is closed: its allocations are read-only." in html
    assert 'name="percent"' not in html and "Propose all drafts" not in html


def test_empty_states_say_what_to_do(client, finance_user):
    period = FiscalPeriodFactory(name="FY2031")
    client.force_login(finance_user)
    html = client.get(reverse("funding:matrix", args=[period.pk])).content.decode()
    assert "No teams yet" in html and reverse("products:team_list") in html
    TeamFactory(name="Lonely")
    html = client.get(reverse("funding:matrix", args=[period.pk])).content.decode()
    assert "No value streams yet" in html


def test_unknown_period_is_404(client, finance_user):
    client.force_login(finance_user)
    assert client.get(reverse("funding:matrix", args=[999999])).status_code == 404


# Editing a cell.


def test_saving_a_cell_answers_the_cell_and_the_totals_out_of_band(client, plan):
    client.force_login(plan.actor)
    response = plan.post(client, plan.checkout, plan.payments, "40", 0)
    assert response.status_code == 200
    assert "HX-Request" in response["Vary"]
    allocation = Allocation.objects.get(team=plan.checkout, value_stream=plan.payments)
    assert allocation.percent == P("40.00") and allocation.status == AllocationStatus.DRAFT
    html = response.content.decode()
    assert "<html" not in html
    checkout, payments = plan.checkout.pk, plan.payments.pk
    # The cell itself is the swap target, not out of band; it carries the new version.
    cell = element(html, f"cell-{checkout}-{payments}")
    assert html.lstrip().startswith(f'<td id="cell-{checkout}-{payments}"')
    assert "hx-swap-oob" not in cell.split(">", 1)[0]
    assert 'name="version" value="1"' in cell
    assert input_value(cell, f"pct-{checkout}-{payments}") == "40.00"
    oob = {
        f"row-allocated-{checkout}": "40 % €48,000",
        f"row-unallocated-{checkout}": "60 % €72,000",
        f"col-allocated-{payments}": "€48,000 48 % of envelope",
        f"col-unfunded-{payments}": "€52,000",
        "grand-allocated": "€48,000 26.7 % of capacity",
        "grand-unallocated": "€132,000",
        "grand-unfunded": "€52,000",
        "plan-counts": "1 draft 0 proposed 0 approved",
        "matrix-notice": "Checkout → Payments: 40 % saved.",
    }
    for element_id, expected in oob.items():
        fragment = element(html, element_id)
        assert 'hx-swap-oob="true"' in fragment.split(">", 1)[0], element_id
        assert text(fragment) == expected, element_id
    figures = element(html, "matrix-figures")
    assert 'hx-swap-oob="true"' in figures.split(">", 1)[0]
    assert 'data-figure="allocated">€48,000<' in figures
    # Only the edited row and column come back: not the other team's row or stream's column.
    assert f"row-allocated-{plan.platform.pk}" not in html
    assert f"col-allocated-{plan.onboarding.pk}" not in html


def test_a_percent_is_read_as_people_type_it(client, plan):
    client.force_login(plan.actor)
    plan.post(client, plan.checkout, plan.payments, " 12,5 % ", 0)
    assert Allocation.objects.get(team=plan.checkout).percent == P("12.50")


def test_a_blank_percent_removes_the_allocation(client, plan):
    plan.set(plan.checkout, plan.payments, "40")
    client.force_login(plan.actor)
    response = plan.post(client, plan.checkout, plan.payments, "", 1)
    assert not Allocation.objects.exists()
    html = response.content.decode()
    assert text(element(html, "matrix-notice")) == "Checkout → Payments: removed."
    assert input_value(html, f"pct-{plan.checkout.pk}-{plan.payments.pk}") == ""
    assert text(element(html, f"row-allocated-{plan.checkout.pk}")) == "0 % €0.00"
    change = AllocationChange.objects.get(action=AllocationChange.Action.DELETED)
    assert change.percent_before == P("40.00") and change.percent_after is None


def test_a_team_takes_exactly_100_percent(client, plan):
    plan.set(plan.checkout, plan.payments, "60")
    client.force_login(plan.actor)
    response = plan.post(client, plan.checkout, plan.onboarding, "40", 0)
    html = response.content.decode()
    assert "cell-message" not in html
    row = element(html, f"row-allocated-{plan.checkout.pk}")
    assert text(row) == "100 % €120,000"
    assert "Over" not in row
    assert text(element(html, f"row-unallocated-{plan.checkout.pk}")) == "0 % €0.00"


def test_over_100_percent_is_refused_naming_the_limit_and_shows_the_saved_value(client, plan):
    plan.set(plan.checkout, plan.payments, "60")
    plan.set(plan.checkout, plan.onboarding, "30")
    client.force_login(plan.actor)
    response = plan.post(client, plan.checkout, plan.onboarding, "50", 1)
    assert response.status_code == 200
    html = response.content.decode()
    cell = element(html, f"cell-{plan.checkout.pk}-{plan.onboarding.pk}")
    assert text(element(cell, f"msg-{plan.checkout.pk}-{plan.onboarding.pk}")) == (
        "Checkout would be allocated 110.00 % of its capacity in FY2030: "
        "10.00 % over the 100 % limit."
    )
    assert 'role="alert"' in cell and 'aria-invalid="true"' in cell
    assert input_value(cell, f"pct-{plan.checkout.pk}-{plan.onboarding.pk}") == "30.00"
    assert 'name="version" value="1"' in cell
    assert Allocation.objects.get(value_stream=plan.onboarding).percent == P("30.00")
    assert text(element(html, f"row-allocated-{plan.checkout.pk}")) == "90 % €108,000"
    assert text(element(html, "matrix-notice")) == ""


def test_over_the_envelope_is_refused_naming_the_envelope_and_by_how_much(client, plan):
    plan.set(plan.checkout, plan.payments, "80")  # 96,000.00
    client.force_login(plan.actor)
    response = plan.post(client, plan.platform, plan.payments, "20", 0)  # + 12,000.00
    html = response.content.decode()
    cell = element(html, f"cell-{plan.platform.pk}-{plan.payments.pk}")
    assert text(element(cell, f"msg-{plan.platform.pk}-{plan.payments.pk}")) == (
        "Payments would receive €108,000.00 in FY2030: €8,000.00 over its envelope of €100,000.00."
    )
    assert input_value(cell, f"pct-{plan.platform.pk}-{plan.payments.pk}") == ""
    assert not Allocation.objects.filter(team=plan.platform).exists()
    # 6.67 % of 60,000.00 (4,002.00) would still be over; 6.66 % (3,996.00) fits.
    assert (
        "€2.00 over its envelope"
        in plan.post(client, plan.platform, plan.payments, "6.67", 0).content.decode()
    )
    html = plan.post(client, plan.platform, plan.payments, "6.66", 0).content.decode()
    assert "cell-message" not in html
    assert text(element(html, f"col-unfunded-{plan.payments.pk}")) == "€4.00"


def test_a_value_stream_takes_exactly_its_envelope(client, plan):
    client.force_login(plan.actor)
    EnvelopeFactory(period=plan.period, value_stream=plan.onboarding, amount=P("30000.00"))
    plan.set(plan.checkout, plan.onboarding, "20")  # 24,000.00
    response = plan.post(client, plan.platform, plan.onboarding, "10", 0)  # 6,000.00
    html = response.content.decode()
    assert "cell-message" not in html
    assert text(element(html, f"col-unfunded-{plan.onboarding.pk}")) == "€0.00"
    assert text(element(html, f"col-allocated-{plan.onboarding.pk}")) == (
        "€30,000 100 % of envelope"
    )


def test_a_stale_edit_is_refused_and_shows_the_saved_value(client, plan, make_user):
    plan.set(plan.checkout, plan.payments, "40")  # version 1, as the page showed it
    other = make_user("frank", "finance", first_name="Frank", last_name="Other")
    plan.set(plan.checkout, plan.payments, "45", version=1, actor=other)  # version 2
    client.force_login(plan.actor)
    html = plan.post(client, plan.checkout, plan.payments, "50", 1).content.decode()
    cell = element(html, f"cell-{plan.checkout.pk}-{plan.payments.pk}")
    assert text(element(cell, f"msg-{plan.checkout.pk}-{plan.payments.pk}")) == (
        "Checkout -> Payments was changed by Frank Other since this page was loaded; "
        "it now shows the saved value. Check it and try again."
    )
    assert input_value(cell, f"pct-{plan.checkout.pk}-{plan.payments.pk}") == "45.00"
    assert 'name="version" value="2"' in cell
    assert Allocation.objects.get().percent == P("45.00")


def test_a_cell_created_by_someone_else_since_the_page_loaded_is_stale(client, plan):
    plan.set(plan.checkout, plan.payments, "45")
    client.force_login(plan.actor)
    html = plan.post(client, plan.checkout, plan.payments, "50", 0).content.decode()
    assert "since this page was loaded" in html
    assert Allocation.objects.get().percent == P("45.00")


def test_changing_an_approved_allocation_needs_a_reason(client, plan):
    plan.set(plan.checkout, plan.payments, "40")
    services.allocations_move(actor=plan.actor, period=plan.period, step="propose")
    services.allocations_move(actor=plan.actor, period=plan.period, step="approve")
    client.force_login(plan.actor)
    html = plan.post(client, plan.checkout, plan.payments, "50", 3).content.decode()
    cell = element(html, f"cell-{plan.checkout.pk}-{plan.payments.pk}")
    assert "ask-reason" in cell.split(">", 1)[0]
    assert text(element(cell, f"msg-{plan.checkout.pk}-{plan.payments.pk}")) == (
        "This allocation is approved: say why it changes."
    )
    assert f'id="why-{plan.checkout.pk}-{plan.payments.pk}"' in cell
    assert input_value(cell, f"pct-{plan.checkout.pk}-{plan.payments.pk}") == "40.00"
    assert Allocation.objects.get().percent == P("40.00")

    html = plan.post(
        client, plan.checkout, plan.payments, "50", 3, reason="Board moved budget"
    ).content.decode()
    assert "cell-message" not in html
    allocation = Allocation.objects.get()
    assert allocation.percent == P("50.00") and allocation.status == AllocationStatus.APPROVED
    change = AllocationChange.objects.filter(action=AllocationChange.Action.CHANGED).get()
    assert change.reason == "Board moved budget" and change.actor == plan.actor


def test_a_closed_period_refuses_a_cell_edit(client, plan):
    plan.set(plan.checkout, plan.payments, "40")
    FiscalPeriod.objects.filter(pk=plan.period.pk).update(status=FiscalPeriod.Status.CLOSED)
    client.force_login(plan.actor)
    html = plan.post(client, plan.checkout, plan.payments, "50", 1).content.decode()
    cell = element(html, f"cell-{plan.checkout.pk}-{plan.payments.pk}")
    assert text(element(cell, f"msg-{plan.checkout.pk}-{plan.payments.pk}")) == (
        "FY2030 is closed: its figures are read-only."
    )
    assert 'name="percent"' not in cell  # read-only now: the saved value as text
    assert text(cell).startswith("40 % €48,000 Draft")
    assert Allocation.objects.get().percent == P("40.00")


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("abc", "Enter a percent such as 25 or 12.5 (blank removes the allocation)."),
        ("100.5", "A percent is between 0 and 100."),
        ("-1", "A percent is between 0 and 100."),
        ("12.345", "Give the percent with at most two decimals."),
    ],
)
def test_an_invalid_percent_is_refused_beside_the_cell(client, plan, typed, message):
    client.force_login(plan.actor)
    html = plan.post(client, plan.checkout, plan.payments, typed, 0).content.decode()
    cell = element(html, f"cell-{plan.checkout.pk}-{plan.payments.pk}")
    assert text(element(cell, f"msg-{plan.checkout.pk}-{plan.payments.pk}")) == message
    assert not Allocation.objects.exists()


def test_a_post_without_a_version_asks_to_reload(client, plan):
    client.force_login(plan.actor)
    response = client.post(
        plan.cell_url(plan.checkout, plan.payments), {"percent": "10"}, headers=HTMX
    )
    assert "This page is out of date: reload it and try again." in response.content.decode()
    assert not Allocation.objects.exists()


def test_without_javascript_a_cell_post_redirects_back_with_a_message(client, plan):
    client.force_login(plan.actor)
    response = plan.post(client, plan.checkout, plan.payments, "40", 0, htmx=False)
    assert response.status_code == 302
    assert response["Location"] == f"{plan.url}#cell-{plan.checkout.pk}-{plan.payments.pk}"
    assert Allocation.objects.get().percent == P("40.00")
    page = client.get(response["Location"]).content.decode()
    assert '<p class="message message-success">Checkout → Payments: 40 % saved.</p>' in page

    response = plan.post(client, plan.checkout, plan.onboarding, "70", 0, htmx=False)
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert (
        '<p class="message message-error">Checkout → Onboarding not saved: Checkout would be '
        "allocated 110.00 % of its capacity in FY2030: 10.00 % over the 100 % limit.</p>"
    ) in page
    assert not Allocation.objects.filter(value_stream=plan.onboarding).exists()
    assert "not saved" not in client.get(plan.url).content.decode()  # shown once


def test_archived_team_stays_while_it_holds_an_allocation_and_leaves_with_its_last(client, plan):
    plan.set(plan.checkout, plan.payments, "40")
    TeamFactory._meta.model.objects.filter(pk=plan.checkout.pk).update(
        archived_at=datetime.datetime(2030, 6, 1, tzinfo=datetime.UTC)
    )
    client.force_login(plan.actor)
    html = client.get(plan.url).content.decode()
    assert "Archived" in element(html, f"team-{plan.checkout.pk}")
    # Removing its last allocation takes the row away: htmx reloads the page.
    response = plan.post(client, plan.checkout, plan.payments, "", 1)
    assert response.status_code == 204 and response["HX-Refresh"] == "true"
    assert not Allocation.objects.exists()
    assert f"team-{plan.checkout.pk}" not in client.get(plan.url).content.decode()


def test_finance_gets_405_on_a_get_of_the_cell_endpoint(client, plan):
    client.force_login(plan.actor)
    assert client.get(plan.cell_url(plan.checkout, plan.payments)).status_code == 405


def test_an_unknown_team_or_value_stream_is_404(client, plan):
    client.force_login(plan.actor)
    url = reverse(
        "funding:matrix_cell",
        kwargs={"pk": plan.period.pk, "team_pk": 999999, "value_stream_pk": plan.payments.pk},
    )
    assert client.post(url, {"percent": "1", "version": "0"}).status_code == 404


@pytest.mark.parametrize("role_user", NOT_FINANCE, indirect=True)
def test_other_roles_get_403_on_every_write(client, plan, role_user):
    plan.set(plan.checkout, plan.payments, "40")
    client.force_login(role_user)
    assert plan.post(client, plan.checkout, plan.payments, "50", 1).status_code == 403
    assert plan.post(client, plan.checkout, plan.payments, "50", 1, htmx=False).status_code == 403
    move = reverse("funding:matrix_move", args=[plan.period.pk])
    assert client.post(move, {"step": "propose"}).status_code == 403
    allocation = Allocation.objects.get()
    assert allocation.percent == P("40.00") and allocation.status == AllocationStatus.DRAFT


# The workflow buttons.


def test_finance_proposes_approves_and_returns_with_a_note(client, plan):
    plan.set(plan.checkout, plan.payments, "40")
    plan.set(plan.platform, plan.onboarding, "50")
    client.force_login(plan.actor)
    move = reverse("funding:matrix_move", args=[plan.period.pk])

    response = client.post(move, {"step": "propose", "note": "Ready for the board"}, follow=True)
    assert response.redirect_chain == [(plan.url, 302)]
    html = response.content.decode()
    assert "Proposed 2 draft allocations for approval." in html
    assert text(element(html, "plan-counts")) == "0 draft 2 proposed 0 approved"
    assert set(Allocation.objects.values_list("status", flat=True)) == {"proposed"}
    assert set(
        AllocationChange.objects.filter(action="proposed").values_list("reason", flat=True)
    ) == {"Ready for the board"}

    html = client.post(move, {"step": "return"}, follow=True).content.decode()
    assert "Returned 2 proposed allocations to draft." in html
    client.post(move, {"step": "propose"})
    html = client.post(move, {"step": "approve", "note": "Board 12 Mar"}, follow=True)
    html = html.content.decode()
    assert "Approved 2 proposed allocations." in html
    assert text(element(html, "plan-counts")) == "0 draft 0 proposed 2 approved"
    assert 'data-figure="plan-status"><span class="badge badge-ok' in html
    assert set(Allocation.objects.values_list("status", flat=True)) == {"approved"}


def test_a_workflow_step_with_nothing_to_move_says_so(client, plan):
    client.force_login(plan.actor)
    move = reverse("funding:matrix_move", args=[plan.period.pk])
    html = client.post(move, {"step": "approve"}, follow=True).content.decode()
    assert "No proposed allocations to approve in FY2030." in html
    html = client.post(move, {"step": "launch"}, follow=True).content.decode()
    assert "Choose propose, approve or return." in html


def test_a_closed_period_refuses_a_workflow_step(client, plan):
    plan.set(plan.checkout, plan.payments, "40")
    FiscalPeriod.objects.filter(pk=plan.period.pk).update(status=FiscalPeriod.Status.CLOSED)
    client.force_login(plan.actor)
    move = reverse("funding:matrix_move", args=[plan.period.pk])
    html = client.post(move, {"step": "propose"}, follow=True).content.decode()
    assert "FY2030 is closed: its figures are read-only." in html
    assert Allocation.objects.get().status == AllocationStatus.DRAFT


# Query counts: the page costs the same whatever the number of teams and value streams.


def grow(plan: Plan, teams: int, streams: int) -> None:
    """Make the matrix ``teams`` x ``streams``: priced members, envelopes, two cells a team."""
    Team, ValueStream = TeamFactory._meta.model, ValueStreamFactory._meta.model
    plan.period.envelopes.update(amount=P("9000000.00"))
    for _ in range(teams - Team.objects.count()):
        team = TeamFactory()
        TeamMembershipFactory(team=team, person=PersonFactory(discipline=plan.engineer))
    for _ in range(streams - ValueStream.objects.count()):
        stream = ValueStreamFactory()
        EnvelopeFactory(period=plan.period, value_stream=stream, amount=P("900000.00"))
    first_two = list(ValueStream.objects.order_by("pk")[:2])
    for team in Team.objects.order_by("pk"):
        for stream in first_two:
            Allocation.objects.get_or_create(
                period=plan.period, team=team, value_stream=stream, defaults={"percent": P("10")}
            )


# Session, user, the user's groups (the top bar), the user's and groups' permissions, the
# period; then the matrix: allocations, teams, value streams, envelopes, rates, memberships.
MATRIX_QUERIES = 12


def test_matrix_page_query_count_is_the_same_for_2x2_and_10x6(
    client, plan, django_assert_num_queries
):
    client.force_login(plan.actor)
    grow(plan, 2, 2)
    with django_assert_num_queries(MATRIX_QUERIES):
        html = client.get(plan.url).content.decode()
    assert html.count('class="cell-input"') == 4
    grow(plan, 10, 6)
    with django_assert_num_queries(MATRIX_QUERIES):
        html = client.get(plan.url).content.decode()
    assert html.count('class="cell-input"') == 60
    assert "without a rate" not in html


def test_matrix_page_query_count_for_a_reader(client, plan, executive, django_assert_num_queries):
    client.force_login(executive)
    grow(plan, 10, 6)
    with django_assert_num_queries(MATRIX_QUERIES):
        client.get(plan.url)


def test_cell_edit_query_count_is_the_same_for_2x2_and_10x6(
    client, plan, django_assert_num_queries
):
    client.force_login(plan.actor)
    grow(plan, 2, 2)
    with django_assert_num_queries(CELL_QUERIES):
        plan.post(client, plan.checkout, plan.payments, "20", 1)
    assert Allocation.objects.get(team=plan.checkout, value_stream=plan.payments).percent == 20
    grow(plan, 10, 6)
    with django_assert_num_queries(CELL_QUERIES):
        plan.post(client, plan.checkout, plan.payments, "30", 2)
    assert Allocation.objects.get(team=plan.checkout, value_stream=plan.payments).percent == 30


# Session, user, permissions (2), period, team, value stream; the service's write (locks,
# limits, capacity, full_clean's checks, the trail row, savepoints): 19; the matrix read
# afresh (6) and the user's groups.
CELL_QUERIES = 36


# Timelines.


def history(plan: Plan, finance_user) -> None:
    plan.set(plan.checkout, plan.payments, "40")
    plan.set(plan.checkout, plan.payments, "45", version=1)
    plan.set(plan.platform, plan.payments, "10")
    plan.set(plan.checkout, plan.onboarding, "20")
    services.allocations_move(
        actor=finance_user, period=plan.period, step="propose", reason="For the board"
    )


@pytest.mark.parametrize("role_user", ROLES, indirect=True)
def test_team_timeline_lists_who_when_what_and_why(client, plan, role_user):
    history(plan, plan.actor)
    client.force_login(role_user)
    response = client.get(reverse("funding:team_timeline", args=[plan.period.pk, "checkout"]))
    assert response.status_code == 200
    html = response.content.decode()
    items = re.findall(
        r'<li class="timeline-item.*?</li>\s*(?=<li class="timeline|</ol>)', html, re.S
    )
    assert len(items) == 5  # created, changed, created, proposed x2 (Platform's are not Checkout's)
    texts = [text(i) for i in items]
    assert texts[-1].startswith("Fiona Finance created Checkout → Payments · just now")
    assert "Percent : 40 %" in texts[-1] and "Status : Draft" in texts[-1]
    assert "Percent : 40 % → changed to 45 %" in texts[-2]
    proposed = [t for t in texts if " proposed " in t]
    assert len(proposed) == 2
    assert all("Status : Draft → changed to Proposed" in t for t in proposed)
    assert all("Why: For the board" in t for t in proposed)
    assert "Platform" not in " ".join(texts)
    assert reverse("funding:value_stream_timeline", args=[plan.period.pk, "onboarding"]) in html


def test_value_stream_timeline_lists_the_changes_into_it(client, plan):
    history(plan, plan.actor)
    services.allocation_set_percent(
        actor=plan.actor,
        period=plan.period,
        team=plan.platform,
        value_stream=plan.payments,
        percent=None,
        version=2,
    )
    client.force_login(plan.actor)
    url = reverse("funding:value_stream_timeline", args=[plan.period.pk, "payments"])
    html = client.get(url).content.decode()
    assert "Payments: allocation history" in html
    assert "Onboarding" not in text(element(html, "timeline"))
    assert "removed Platform → Payments" in text(html)
    assert "Percent : 10 % → removed" in text(html)
    assert "Status : Proposed → changed to removed" in text(html)
    assert reverse("funding:team_timeline", args=[plan.period.pk, "platform"]) in html


def test_timeline_without_changes_says_where_they_come_from(client, plan):
    client.force_login(plan.actor)
    html = client.get(
        reverse("funding:team_timeline", args=[plan.period.pk, "checkout"])
    ).content.decode()
    assert "No allocation of Checkout has changed in FY2030 yet" in html


def test_timeline_htmx_gets_only_the_timeline(client, plan):
    history(plan, plan.actor)
    client.force_login(plan.actor)
    response = client.get(
        reverse("funding:team_timeline", args=[plan.period.pk, "checkout"]), headers=HTMX
    )
    html = response.content.decode()
    assert "<html" not in html and html.lstrip().startswith('<section id="timeline"')


def test_timeline_of_an_unknown_team_is_404(client, plan):
    client.force_login(plan.actor)
    url = reverse("funding:team_timeline", args=[plan.period.pk, "nobody"])
    assert client.get(url).status_code == 404


TIMELINE_QUERIES = 7


@pytest.mark.parametrize("name", ["team_timeline", "value_stream_timeline"])
def test_timeline_query_count_is_the_same_for_2_and_20_changes(
    client, plan, name, django_assert_num_queries
):
    slug = "checkout" if name == "team_timeline" else "payments"
    url = reverse(f"funding:{name}", args=[plan.period.pk, slug])
    plan.set(plan.checkout, plan.payments, "1")
    plan.set(plan.checkout, plan.payments, "2", version=1)
    client.force_login(plan.actor)
    with django_assert_num_queries(TIMELINE_QUERIES):
        html = client.get(url).content.decode()
    assert html.count('class="timeline-item') == 2
    for version in range(2, 20):
        plan.set(plan.checkout, plan.payments, str(version + 1), version=version)
    with django_assert_num_queries(TIMELINE_QUERIES):
        html = client.get(url).content.decode()
    assert html.count('class="timeline-item') == 20
