"""Factories for the funding app. They write rows directly; tests of the rules go through services."""

import datetime
from decimal import Decimal

import factory

from funding.models import Actual, Allocation, Envelope, FiscalPeriod, Rate, Scenario, ScenarioCell
from tests.products.factories import DisciplineFactory, TeamFactory, UserFactory
from tests.valuestreams.factories import ValueStreamFactory


class FiscalPeriodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FiscalPeriod

    name = factory.Sequence(lambda n: f"FY{2030 + n}")
    start = factory.Sequence(lambda n: datetime.date(2030 + n, 1, 1))
    end = factory.LazyAttribute(lambda p: datetime.date(p.start.year, 12, 31))
    status = FiscalPeriod.Status.PLANNING


class RateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Rate

    period = factory.SubFactory(FiscalPeriodFactory)
    discipline = factory.SubFactory(DisciplineFactory, name="Engineer", slug="engineer")
    annual_cost = Decimal("120000.00")


class EnvelopeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Envelope

    period = factory.SubFactory(FiscalPeriodFactory)
    value_stream = factory.SubFactory(ValueStreamFactory)
    amount = Decimal("1000000.00")


class AllocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Allocation

    period = factory.SubFactory(FiscalPeriodFactory)
    team = factory.SubFactory(TeamFactory)
    value_stream = factory.SubFactory(ValueStreamFactory)
    percent = Decimal("50.00")


class ActualFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Actual

    team = factory.SubFactory(TeamFactory)
    month = datetime.date(2030, 1, 1)
    amount = Decimal("10000.00")


class ScenarioFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Scenario

    period = factory.SubFactory(FiscalPeriodFactory)
    name = factory.Sequence(lambda n: f"Scenario {n}")
    created_by = factory.SubFactory(UserFactory)


class ScenarioCellFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ScenarioCell

    scenario = factory.SubFactory(ScenarioFactory)
    team = factory.SubFactory(TeamFactory)
    value_stream = factory.SubFactory(ValueStreamFactory)
    percent = Decimal("50.00")
