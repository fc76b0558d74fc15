"""The funding models in the admin: a closed period and its rows are read-only there too."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from funding.models import Actual, Envelope, FiscalPeriod, Rate
from tests.funding.factories import (
    ActualFactory,
    AllocationFactory,
    EnvelopeFactory,
    FiscalPeriodFactory,
    RateFactory,
    ScenarioFactory,
)
from tests.products.factories import DisciplineFactory, PersonFactory, TeamMembershipFactory
from tests.valuestreams.factories import ValueStreamFactory

pytestmark = pytest.mark.django_db

MODELS = (
    "fiscalperiod",
    "rate",
    "envelope",
    "allocation",
    "allocationchange",
    "actual",
    "scenario",
)


def admin_url(model, action="changelist", *args):
    return reverse(f"admin:funding_{model}_{action}", args=args)


@pytest.fixture
def closed():
    return FiscalPeriodFactory(
        name="FY2029",
        start=datetime.date(2029, 1, 1),
        end=datetime.date(2029, 12, 31),
        status=FiscalPeriod.Status.CLOSED,
    )


@pytest.fixture
def open_period():
    return FiscalPeriodFactory(
        name="FY2030", start=datetime.date(2030, 1, 1), end=datetime.date(2030, 12, 31)
    )


@pytest.mark.parametrize("model", MODELS)
def test_every_funding_model_is_listed_without_bulk_actions(admin_client, model, closed):
    response = admin_client.get(admin_url(model))
    assert response.status_code == 200
    assert 'name="action"' not in response.content.decode()


def test_a_closed_period_is_read_only(admin_client, closed):
    page = admin_client.get(admin_url("fiscalperiod", "change", closed.pk))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    response = admin_client.post(
        admin_url("fiscalperiod", "change", closed.pk),
        {"name": "Renamed", "start": "2029-01-01", "end": "2029-12-31"},
    )
    assert response.status_code == 403
    assert admin_client.get(admin_url("fiscalperiod", "delete", closed.pk)).status_code == 403
    assert admin_client.post(admin_url("fiscalperiod", "delete", closed.pk)).status_code == 403
    closed.refresh_from_db()
    assert closed.name == "FY2029"


def test_the_rows_of_a_closed_period_are_read_only(admin_client, closed):
    rate = RateFactory(period=closed)
    envelope = EnvelopeFactory(period=closed)
    scenario = ScenarioFactory(period=closed)
    actual = ActualFactory(month=datetime.date(2029, 3, 1))
    for model, pk in (
        ("rate", rate.pk),
        ("envelope", envelope.pk),
        ("scenario", scenario.pk),
        ("actual", actual.pk),
    ):
        page = admin_client.get(admin_url(model, "change", pk))
        assert page.status_code == 200
        assert 'name="_save"' not in page.content.decode()
        assert admin_client.post(admin_url(model, "change", pk), {}).status_code == 403
        assert admin_client.post(admin_url(model, "delete", pk), {"post": "yes"}).status_code == 403
    assert Rate.objects.count() == Envelope.objects.count() == Actual.objects.count() == 1


def test_rows_of_an_open_period_can_be_changed(admin_client, open_period):
    rate = RateFactory(period=open_period)
    response = admin_client.post(
        admin_url("rate", "change", rate.pk),
        {"period": open_period.pk, "discipline": rate.discipline.pk, "annual_cost": "90000"},
    )
    assert response.status_code == 302
    rate.refresh_from_db()
    assert rate.annual_cost == Decimal("90000.00")


def test_a_new_row_cannot_name_a_closed_period(admin_client, closed):
    discipline = DisciplineFactory()
    response = admin_client.post(
        admin_url("rate", "add"),
        {"period": closed.pk, "discipline": discipline.pk, "annual_cost": "1"},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Rate.objects.exists()


def test_an_actual_in_a_closed_periods_month_is_refused(admin_client, closed):
    membership = TeamMembershipFactory()
    response = admin_client.post(
        admin_url("actual", "add"),
        {"team": membership.team.pk, "month": "2029-06-01", "amount": "10"},
    )
    assert "FY2029 is closed: its actuals are read-only." in response.content.decode()
    assert not Actual.objects.exists()


def test_the_admin_refuses_an_overlapping_period(admin_client, open_period):
    response = admin_client.post(
        admin_url("fiscalperiod", "add"),
        {"name": "Overlap", "start": "2030-06-01", "end": "2031-05-31"},
    )
    assert response.status_code == 200
    assert "The period overlaps FY2030; periods never overlap." in response.content.decode()
    assert FiscalPeriod.objects.count() == 1


def test_the_admin_refuses_an_envelope_below_what_is_allocated(admin_client, open_period):
    engineer = DisciplineFactory(name="Engineer", slug="engineer")
    RateFactory(period=open_period, discipline=engineer, annual_cost=Decimal("100000.00"))
    membership = TeamMembershipFactory(person=PersonFactory(discipline=engineer))
    stream = ValueStreamFactory(name="Checkout")
    AllocationFactory(
        period=open_period, team=membership.team, value_stream=stream, percent=Decimal("40")
    )
    response = admin_client.post(
        admin_url("envelope", "add"),
        {"period": open_period.pk, "value_stream": stream.pk, "amount": "30000"},
    )
    assert "€40,000.00 is already allocated to Checkout in FY2030" in response.content.decode()
    assert not Envelope.objects.exists()


def test_allocations_and_their_trail_are_view_only(admin_client, open_period):
    allocation = AllocationFactory(period=open_period)
    assert admin_client.get(admin_url("allocation", "add")).status_code == 403
    page = admin_client.get(admin_url("allocation", "change", allocation.pk))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert admin_client.post(admin_url("allocation", "delete", allocation.pk)).status_code == 403
    assert admin_client.get(admin_url("allocationchange", "add")).status_code == 403
