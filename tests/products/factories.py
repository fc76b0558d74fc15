"""Factories for the products app."""

import datetime
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from products.models import (
    ChangeRecord,
    Discipline,
    Hypothesis,
    HypothesisStatusChange,
    KeyResult,
    Measurement,
    Outcome,
    Person,
    Product,
    RoadmapItem,
    Team,
    TeamMembership,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")


class DisciplineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Discipline
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Discipline {n}")
    slug = factory.Sequence(lambda n: f"discipline-{n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Product {n}")
    slug = factory.Sequence(lambda n: f"product-{n}")
    description = "A product for tests."
    lifecycle_stage = Product.Stage.GROWTH

    @factory.post_generation
    def owners(self, create, extracted, **kwargs):
        if create and extracted:
            self.owners.set(extracted)


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.Sequence(lambda n: f"team-{n}")
    mission = "Keep the product healthy."
    formed_on = datetime.date(2024, 1, 1)

    @factory.post_generation
    def products(self, create, extracted, **kwargs):
        if create and extracted:
            self.products.set(extracted)


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"person{n}@example.com")
    discipline = factory.SubFactory(DisciplineFactory, name="Engineer", slug="engineer")


class TeamMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TeamMembership

    person = factory.SubFactory(PersonFactory)
    team = factory.SubFactory(TeamFactory)
    fte = Decimal("1.00")
    start_date = datetime.date(2024, 1, 1)
    end_date = None


# Outcomes. These write rows directly (no history, no derived figures): call
# services.key_result_refresh(key_result) where a test needs the stored progress and status.


class OutcomeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Outcome

    product = factory.SubFactory(ProductFactory)
    statement = factory.Sequence(lambda n: f"Customers reach goal {n} without help")
    order = factory.Sequence(lambda n: n)


class KeyResultFactory(factory.django.DjangoModelFactory):
    """An increasing key result from 0 to 100 over 2026-01-01 .. 2026-12-27 (360 days)."""

    class Meta:
        model = KeyResult

    outcome = factory.SubFactory(OutcomeFactory)
    product = factory.LazyAttribute(lambda kr: kr.outcome.product)
    name = factory.Sequence(lambda n: f"Key result {n}")
    kind = KeyResult.Kind.ADOPTION
    customer_facing = True
    unit = "%"
    direction = KeyResult.Direction.INCREASE
    baseline = Decimal("0")
    target = Decimal("100")
    start_date = datetime.date(2026, 1, 1)
    target_date = datetime.date(2026, 12, 27)


class MeasurementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Measurement

    key_result = factory.SubFactory(KeyResultFactory)
    date = datetime.date(2026, 6, 30)
    value = Decimal("50")
    note = ""


class HypothesisFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Hypothesis

    product = factory.SubFactory(ProductFactory)
    change = factory.Sequence(lambda n: f"a shorter form (variant {n})")
    expected_outcome = "more customers finish opening an account"
    status = Hypothesis.Status.PROPOSED


class RoadmapItemFactory(factory.django.DjangoModelFactory):
    """An item placed last in its horizon unless a position is given."""

    class Meta:
        model = RoadmapItem
        skip_postgeneration_save = True

    product = factory.SubFactory(ProductFactory)
    title = factory.Sequence(lambda n: f"Roadmap item {n}")
    horizon = RoadmapItem.Horizon.NOW
    position = factory.LazyAttribute(
        lambda item: RoadmapItem.objects.filter(product=item.product, horizon=item.horizon).count()
    )

    @factory.post_generation
    def key_results(self, create, extracted, **kwargs):
        if create and extracted:
            self.key_results.set(extracted)


OUTCOME_TABLES = (
    Outcome,
    KeyResult,
    Measurement,
    Hypothesis,
    HypothesisStatusChange,
    RoadmapItem,
    RoadmapItem.key_results.through,
)


def outcome_rows() -> list[list[dict]]:
    """Every row of the outcome tables and the change history, to show a refused write wrote nothing."""
    return [
        list(model.objects.order_by("pk").values()) for model in (*OUTCOME_TABLES, ChangeRecord)
    ]
