"""Funding landing page and fiscal periods: list, create, edit, status, rate card and envelopes."""

import datetime
from decimal import Decimal

import pytest

from funding.models import Envelope, FiscalPeriod, Rate
from tests.conftest import ROLES
from tests.funding.factories import (
    ActualFactory,
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

HTMX = {"HX-Request": "true"}
READERS = ("exec_client", "pm_client", "po_client")
Status = FiscalPeriod.Status


def url(name, *args):
    from django.urls import reverse

    return reverse(f"funding:{name}", args=args)


@pytest.fixture
def engineer():
    return DisciplineFactory(name="Engineer", slug="engineer")


@pytest.fixture
def period():
    return FiscalPeriodFactory(
        name="FY2030",
        start=datetime.date(2030, 1, 1),
        end=datetime.date(2030, 12, 31),
        status=Status.ACTIVE,
    )


@pytest.fixture
def funded(period, engineer):
    """A team of one full-time engineer all year at 120,000, half of it to a value stream."""
    team = TeamFactory(name="Payments core", slug="payments-core")
    TeamMembershipFactory(team=team, person=PersonFactory(discipline=engineer))
    RateFactory(period=period, discipline=engineer, annual_cost=Decimal("120000.00"))
    stream = ValueStreamFactory(name="Checkout", slug="checkout")
    EnvelopeFactory(period=period, value_stream=stream, amount=Decimal("1000000.00"))
    AllocationFactory(period=period, team=team, value_stream=stream, percent=Decimal("50.00"))
    ActualFactory(team=team, month=datetime.date(2030, 1, 1), amount=Decimal("10000.00"))
    return {"team": team, "stream": stream}


# --- Landing page ---------------------------------------------------------------------------


def test_index_empty_state_invites_finance_to_open_the_first_period(finance_client):
    html = finance_client.get(url("index")).content.decode()
    assert "No fiscal periods yet" in html
    assert f'href="{url("period_create")}"' in html
    assert "open the first one" in html


@pytest.mark.parametrize("reader", READERS)
def test_index_empty_state_for_readers_offers_no_write(request, reader):
    client = request.getfixturevalue(reader)
    response = client.get(url("index"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "No fiscal periods yet" in html
    assert url("period_create") not in html


@pytest.mark.parametrize("role_user", ROLES, indirect=True)
def test_index_shows_the_current_periods_headline_figures(client, role_user, funded, period):
    client.force_login(role_user)
    response = client.get(url("index"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-figure="capacity">€120,000<' in html
    assert 'data-figure="allocated">€60,000<' in html
    assert 'data-figure="unallocated">€60,000<' in html
    assert "50 % of capacity" in html
    assert 'data-figure="envelopes">€1,000,000<' in html
    assert "€940,000 not yet funded" in html
    assert 'data-figure="actual">€10,000<' in html
    assert '<span class="badge badge-none">Draft</span>' in html
    assert "every member priced" in html
    assert period.get_absolute_url() in html
    assert (url("period_create") in html) == (role_user.username == "user-finance")


def test_index_flags_incomplete_capacity(exec_client, funded, period):
    TeamMembershipFactory(
        team=funded["team"],
        person=PersonFactory(discipline=DisciplineFactory(name="Designer", slug="designer")),
    )
    html = exec_client.get(url("index")).content.decode()
    assert "1 member in 1 team without a rate" in html


def test_index_query_count_is_constant(finance_client, django_assert_num_queries, engineer):
    period = FiscalPeriodFactory(status=Status.ACTIVE)
    RateFactory(period=period, discipline=engineer)

    def grow(n):
        for _ in range(n):
            team = TeamFactory()
            TeamMembershipFactory(team=team, person=PersonFactory(discipline=engineer))
            stream = ValueStreamFactory()
            EnvelopeFactory(period=period, value_stream=stream)
            AllocationFactory(period=period, team=team, value_stream=stream)
            FiscalPeriodFactory()

    grow(2)
    # session, user; current period; allocations, teams, value streams, envelopes, memberships,
    # rates, actuals; the period list; the user's roles and permissions
    with django_assert_num_queries(14):
        finance_client.get(url("index"))
    grow(18)
    with django_assert_num_queries(14):
        finance_client.get(url("index"))


# --- The list -----------------------------------------------------------------------------


@pytest.mark.parametrize("role_user", ROLES, indirect=True)
def test_period_list_for_every_role(client, role_user, period):
    client.force_login(role_user)
    html = client.get(url("period_list")).content.decode()
    assert "FY2030" in html
    assert '<span class="badge badge-ok">Active</span>' in html
    for tab in ("capacity", "matrix", "actuals", "value", "scenario_list"):
        assert f'href="{url(tab, period.pk)}"' in html
    assert (url("period_create") in html) == (role_user.username == "user-finance")


def test_period_list_query_count_is_constant(exec_client, django_assert_num_queries):
    FiscalPeriodFactory.create_batch(2)
    # session, user, periods, the user's roles (top bar), the user's and groups' permissions
    with django_assert_num_queries(6):
        exec_client.get(url("period_list"))
    FiscalPeriodFactory.create_batch(18)
    with django_assert_num_queries(6):
        exec_client.get(url("period_list"))


# --- Create and edit ----------------------------------------------------------------------


def test_finance_opens_a_period_copying_a_rate_card(finance_client, period, engineer):
    RateFactory(period=period, discipline=engineer, annual_cost=Decimal("99000.00"))
    response = finance_client.post(
        url("period_create"),
        {
            "name": "FY2031",
            "start": "2031-01-01",
            "end": "2031-12-31",
            "copy_rates_from": period.pk,
        },
    )
    created = FiscalPeriod.objects.get(name="FY2031")
    assert response.status_code == 302
    assert response["Location"] == created.get_absolute_url()
    assert created.status == Status.PLANNING
    assert list(created.rates.values_list("discipline__slug", "annual_cost")) == [
        ("engineer", Decimal("99000.00"))
    ]


def test_create_form_errors_re_render(finance_client):
    response = finance_client.post(
        url("period_create"), {"name": "", "start": "2031-06-01", "end": "2031-01-01"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "This field is required." in html
    assert "The period must end after it starts." in html
    assert not FiscalPeriod.objects.exists()


def test_overlapping_period_is_refused_with_its_message(finance_client, period):
    response = finance_client.post(
        url("period_create"), {"name": "Late 2030", "start": "2030-12-01", "end": "2031-11-30"}
    )
    assert response.status_code == 200
    assert (
        "The period overlaps FY2030 (01 Jan 2030 to 31 Dec 2030); periods never overlap."
        in response.content.decode()
    )
    assert FiscalPeriod.objects.count() == 1


def test_finance_edits_a_period(finance_client, period):
    page = finance_client.get(url("period_edit", period.pk)).content.decode()
    assert 'value="FY2030"' in page
    response = finance_client.post(
        url("period_edit", period.pk),
        {"name": "Fiscal 2030", "start": "2030-01-01", "end": "2030-12-31"},
    )
    assert response.status_code == 302
    period.refresh_from_db()
    assert period.name == "Fiscal 2030"


def test_edit_refuses_an_overlap_beside_the_start(finance_client, period):
    other = FiscalPeriodFactory(
        name="FY2031", start=datetime.date(2031, 1, 1), end=datetime.date(2031, 12, 31)
    )
    response = finance_client.post(
        url("period_edit", other.pk), {"name": "FY2031", "start": "2030-06-01", "end": "2031-12-31"}
    )
    assert response.status_code == 200
    assert "The period overlaps FY2030" in response.content.decode()
    other.refresh_from_db()
    assert other.start == datetime.date(2031, 1, 1)


def test_a_closed_period_cannot_be_edited(finance_client, period):
    period.status = Status.CLOSED
    period.save()
    response = finance_client.post(
        url("period_edit", period.pk),
        {"name": "Renamed", "start": "2030-01-01", "end": "2030-12-31"},
        follow=True,
    )
    assert "FY2030 is closed: its figures are final and read-only." in response.content.decode()
    period.refresh_from_db()
    assert period.name == "FY2030"


@pytest.mark.parametrize("reader", READERS)
def test_readers_cannot_create_or_edit_periods(request, reader, period):
    client = request.getfixturevalue(reader)
    data = {"name": "X", "start": "2031-01-01", "end": "2031-12-31"}
    assert client.get(url("period_create")).status_code == 403
    assert client.post(url("period_create"), data).status_code == 403
    assert client.get(url("period_edit", period.pk)).status_code == 403
    assert client.post(url("period_edit", period.pk), data).status_code == 403
    assert FiscalPeriod.objects.count() == 1


# --- Status -------------------------------------------------------------------------------


def test_finance_activates_and_moves_back_to_planning(finance_client):
    period = FiscalPeriodFactory(name="FY2031")
    response = finance_client.post(url("period_status", period.pk), {"status": "active"})
    assert response.status_code == 302
    period.refresh_from_db()
    assert period.status == Status.ACTIVE
    finance_client.post(url("period_status", period.pk), {"status": "planning"})
    period.refresh_from_db()
    assert period.status == Status.PLANNING


def test_only_one_period_is_active(finance_client, period):
    other = FiscalPeriodFactory(name="FY2031")
    response = finance_client.post(
        url("period_status", other.pk), {"status": "active"}, follow=True
    )
    assert "FY2030 is active; close it before activating FY2031." in response.content.decode()
    other.refresh_from_db()
    assert other.status == Status.PLANNING


def test_closing_asks_once_and_says_it_is_final(finance_client, period):
    page = finance_client.get(url("period_status", period.pk), {"status": "closed"})
    html = page.content.decode()
    assert "Close FY2030?" in html
    assert "Closing is final" in html
    assert "read-only" in html
    # A post without the confirmation only asks.
    response = finance_client.post(url("period_status", period.pk), {"status": "closed"})
    assert response.status_code == 200
    period.refresh_from_db()
    assert period.status == Status.ACTIVE
    response = finance_client.post(
        url("period_status", period.pk), {"status": "closed", "confirm": "yes"}, follow=True
    )
    assert "FY2030 is closed: its figures are final and read-only." in response.content.decode()
    period.refresh_from_db()
    assert period.status == Status.CLOSED


def test_a_closed_period_stays_closed(finance_client, period):
    period.status = Status.CLOSED
    period.save()
    response = finance_client.post(
        url("period_status", period.pk), {"status": "planning"}, follow=True
    )
    assert "FY2030 is closed; it cannot become planning." in response.content.decode()
    period.refresh_from_db()
    assert period.status == Status.CLOSED


def test_unknown_status_is_refused(finance_client, period):
    response = finance_client.post(url("period_status", period.pk), {"status": "gone"}, follow=True)
    assert "Choose what to do with the period" in response.content.decode()


@pytest.mark.parametrize("reader", READERS)
def test_readers_cannot_change_status(request, reader, period):
    client = request.getfixturevalue(reader)
    assert client.get(url("period_status", period.pk), {"status": "closed"}).status_code == 403
    response = client.post(url("period_status", period.pk), {"status": "closed", "confirm": "yes"})
    assert response.status_code == 403
    period.refresh_from_db()
    assert period.status == Status.ACTIVE


# --- Rate card & envelopes: reading -------------------------------------------------------


def test_finance_sees_the_tab_editable(finance_client, funded, period, engineer):
    designer = DisciplineFactory(name="Designer", slug="designer")
    TeamMembershipFactory(team=funded["team"], person=PersonFactory(discipline=designer))
    TeamMembershipFactory(team=TeamFactory(), person=PersonFactory(discipline=designer))
    html = finance_client.get(url("period_detail", period.pk)).content.decode()
    assert 'aria-current="page">Rate card &amp; envelopes' in html
    assert f'id="rate-{engineer.pk}_id_annual_cost"' not in html  # auto_id names the row
    assert f'id="rate-{engineer.pk}_annual_cost"' in html
    assert 'value="120000.00"' in html
    # The designer has no rate: listed with its two people, and offered a rate.
    assert "Disciplines without a rate" in html
    assert '<span class="badge badge-warn">2 unpriced</span>' in html
    assert f'id="rate-{designer.pk}_annual_cost"' in html
    # The envelope's row: amount, allocated so far (50 % of 120,000), unfunded.
    stream = funded["stream"]
    assert f'id="envelope-{stream.pk}_amount"' in html
    assert "€60,000" in html
    assert "€940,000" in html
    assert url("period_edit", period.pk) in html
    assert url("rate_set", period.pk) in html


@pytest.mark.parametrize("reader", READERS)
def test_readers_see_the_tab_without_controls(request, reader, funded, period, engineer):
    client = request.getfixturevalue(reader)
    response = client.get(url("period_detail", period.pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert "€120,000.00" in html
    assert "€1,000,000" in html
    assert "<input" not in html.split('id="rate-card"')[1]
    for name in ("rate_set", "envelope_set", "period_edit", "period_status"):
        assert url(name, period.pk) not in html


def test_a_closed_period_is_read_only_even_for_finance(finance_client, funded, period):
    period.status = Status.CLOSED
    period.save()
    html = finance_client.get(url("period_detail", period.pk)).content.decode()
    assert "FY2030 is closed: its figures are final and read-only." in html
    assert "<input" not in html.split('id="rate-card"')[1]
    for name in ("rate_set", "envelope_set", "period_edit", "period_status"):
        assert url(name, period.pk) not in html


def test_unknown_period_is_404(exec_client):
    assert exec_client.get(url("period_detail", 999)).status_code == 404


def test_detail_query_count_is_constant(finance_client, django_assert_num_queries, period):
    def grow(n):
        for _ in range(n):
            discipline = DisciplineFactory()
            RateFactory(period=period, discipline=discipline)
            team = TeamFactory()
            TeamMembershipFactory(team=team, person=PersonFactory(discipline=discipline))
            stream = ValueStreamFactory()
            EnvelopeFactory(period=period, value_stream=stream)
            AllocationFactory(period=period, team=team, value_stream=stream)

    grow(2)
    # session, user, period; the user's and groups' permissions; the rate card, the capacity
    # (rates, memberships), disciplines; the matrix (allocations, teams, value streams,
    # envelopes, rates, memberships); archived streams' envelopes; the user's roles
    with django_assert_num_queries(17):
        finance_client.get(url("period_detail", period.pk))
    grow(18)
    with django_assert_num_queries(17):
        finance_client.get(url("period_detail", period.pk))


# --- Rate card: writing -------------------------------------------------------------------


def test_finance_sets_a_rate_in_place(finance_client, funded, period):
    designer = DisciplineFactory(name="Designer", slug="designer")
    response = finance_client.post(
        url("rate_set", period.pk),
        {"discipline": designer.pk, "annual_cost": "95000.50"},
        headers=HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert html.lstrip().startswith('<section id="rate-card"')
    assert "Designer: €95,000.50 a year." in html
    assert 'id="envelopes" class="card envelopes"' in html
    assert 'hx-swap-oob="true"' in html
    assert Rate.objects.get(period=period, discipline=designer).annual_cost == Decimal("95000.50")


def test_changing_a_rate_updates_what_the_envelopes_received(
    finance_client, funded, period, engineer
):
    response = finance_client.post(
        url("rate_set", period.pk),
        {"discipline": engineer.pk, "annual_cost": "100000"},
        headers=HTMX,
    )
    envelopes = response.content.decode().split('id="envelopes"')[1]
    assert "€50,000" in envelopes
    assert "€950,000" in envelopes


def test_a_plain_post_sets_a_rate_and_comes_back(finance_client, period, engineer):
    response = finance_client.post(
        url("rate_set", period.pk), {"discipline": engineer.pk, "annual_cost": "80000"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"{period.get_absolute_url()}#rate-card"
    assert Rate.objects.get(period=period).annual_cost == Decimal("80000.00")


def test_a_refused_rate_shows_its_error_beside_the_field(finance_client, period, engineer):
    response = finance_client.post(
        url("rate_set", period.pk), {"discipline": engineer.pk, "annual_cost": "-5"}, headers=HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="rate-{engineer.pk}_annual_cost_error"' in html
    assert "Ensure this value is greater than or equal to 0." in html
    assert not Rate.objects.exists()
    # Without JavaScript: the whole page with the same error.
    page = finance_client.post(
        url("rate_set", period.pk), {"discipline": engineer.pk, "annual_cost": "-5"}
    )
    assert page.status_code == 200
    assert "<html" in page.content.decode()
    assert f'id="rate-{engineer.pk}_annual_cost_error"' in page.content.decode()


def test_a_closed_period_refuses_rate_writes(finance_client, period, engineer):
    rate = RateFactory(period=period, discipline=engineer)
    period.status = Status.CLOSED
    period.save()
    response = finance_client.post(
        url("rate_set", period.pk), {"discipline": engineer.pk, "annual_cost": "1"}, headers=HTMX
    )
    assert "FY2030 is closed: its figures are read-only." in response.content.decode()
    response = finance_client.post(url("rate_delete", period.pk, rate.pk), headers=HTMX)
    assert "FY2030 is closed: its figures are read-only." in response.content.decode()
    rate.refresh_from_db()
    assert rate.annual_cost == Decimal("120000.00")


def test_finance_removes_a_rate(finance_client, period, engineer):
    rate = RateFactory(period=period, discipline=engineer)
    response = finance_client.post(url("rate_delete", period.pk, rate.pk), headers=HTMX)
    assert response.status_code == 200
    assert "Engineer is off the rate card." in response.content.decode()
    assert not Rate.objects.exists()


def test_a_rate_of_another_period_is_404(finance_client, period, engineer):
    rate = RateFactory(discipline=engineer)
    assert finance_client.post(url("rate_delete", period.pk, rate.pk)).status_code == 404


@pytest.mark.parametrize("reader", READERS)
def test_readers_cannot_write_the_rate_card_or_envelopes(request, reader, period, engineer):
    client = request.getfixturevalue(reader)
    rate = RateFactory(period=period, discipline=engineer)
    envelope = EnvelopeFactory(period=period)
    stream = ValueStreamFactory()
    posts = [
        (url("rate_set", period.pk), {"discipline": engineer.pk, "annual_cost": "1"}),
        (url("rate_delete", period.pk, rate.pk), {}),
        (url("envelope_set", period.pk), {"value_stream": stream.pk, "amount": "1"}),
        (url("envelope_delete", period.pk, envelope.pk), {}),
    ]
    for target, data in posts:
        assert client.post(target, data).status_code == 403
        assert client.post(target, data, headers=HTMX).status_code == 403
    assert Rate.objects.get().annual_cost == Decimal("120000.00")
    assert Envelope.objects.count() == 1


# --- Envelopes: writing -------------------------------------------------------------------


def test_finance_sets_an_envelope_in_place(finance_client, period):
    stream = ValueStreamFactory(name="Onboarding")
    response = finance_client.post(
        url("envelope_set", period.pk),
        {
            "value_stream": stream.pk,
            "amount": "250000",
            "min_debt_risk_percent": "15",
            "notes": "Steady",
        },
        headers=HTMX,
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="envelopes"')
    assert "Onboarding: envelope of €250,000.00." in html
    envelope = Envelope.objects.get(period=period, value_stream=stream)
    assert envelope.amount == Decimal("250000.00")
    assert envelope.min_debt_risk_percent == Decimal("15.00")
    assert envelope.notes == "Steady"


def test_an_envelope_below_what_is_allocated_is_refused_beside_the_amount(
    finance_client, funded, period
):
    stream = funded["stream"]
    response = finance_client.post(
        url("envelope_set", period.pk),
        {"value_stream": stream.pk, "amount": "50000"},
        headers=HTMX,
    )
    html = response.content.decode()
    assert f'id="envelope-{stream.pk}_amount_error"' in html
    assert (
        "€60,000.00 is already allocated to Checkout in FY2030; the envelope cannot be less "
        "(€10,000.00 short)."
    ) in html
    assert Envelope.objects.get().amount == Decimal("1000000.00")


def test_a_plain_post_sets_an_envelope_and_comes_back(finance_client, period):
    stream = ValueStreamFactory()
    response = finance_client.post(
        url("envelope_set", period.pk), {"value_stream": stream.pk, "amount": "10"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"{period.get_absolute_url()}#envelopes"


def test_finance_removes_an_envelope(finance_client, period):
    envelope = EnvelopeFactory(period=period)
    response = finance_client.post(url("envelope_delete", period.pk, envelope.pk), headers=HTMX)
    assert "has no envelope now" in response.content.decode()
    assert not Envelope.objects.exists()


def test_a_closed_period_refuses_envelope_writes(finance_client, period):
    envelope = EnvelopeFactory(period=period)
    period.status = Status.CLOSED
    period.save()
    response = finance_client.post(
        url("envelope_set", period.pk),
        {"value_stream": envelope.value_stream.pk, "amount": "5"},
        headers=HTMX,
    )
    assert "FY2030 is closed: its figures are read-only." in response.content.decode()
    response = finance_client.post(url("envelope_delete", period.pk, envelope.pk))
    assert "FY2030 is closed: its figures are read-only." in response.content.decode()
    assert Envelope.objects.get().amount == Decimal("1000000.00")
