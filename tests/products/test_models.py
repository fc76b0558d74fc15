"""Model rules of the products app, checked twice: by full_clean() and by the database itself."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from products.models import Discipline, Person, Product, Team, TeamMembership
from tests.products.factories import (
    DisciplineFactory,
    PersonFactory,
    ProductFactory,
    TeamFactory,
    TeamMembershipFactory,
)

pytestmark = pytest.mark.django_db

JAN_1 = datetime.date(2025, 1, 1)


def _refused_by_database(create) -> None:
    """The write raises IntegrityError and leaves the surrounding transaction usable."""
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


@pytest.mark.parametrize("fte", ["1.5", "0", "-0.5"])
def test_fte_outside_0_to_1_is_refused_by_full_clean(fte):
    membership = TeamMembershipFactory.build(
        person=PersonFactory(), team=TeamFactory(), fte=Decimal(fte)
    )

    with pytest.raises(ValidationError) as error:
        membership.full_clean()

    assert "fte" in error.value.message_dict


@pytest.mark.parametrize("fte", ["1.5", "0", "-0.5"])
def test_fte_outside_0_to_1_is_refused_by_the_database(fte):
    person, team = PersonFactory(), TeamFactory()

    _refused_by_database(
        lambda: TeamMembership.objects.create(
            person=person, team=team, fte=Decimal(fte), start_date=JAN_1
        )
    )

    assert not TeamMembership.objects.exists()


@pytest.mark.parametrize("fte", ["0.01", "0.5", "1"])
def test_fte_from_just_above_0_up_to_1_is_accepted(fte):
    membership = TeamMembershipFactory(fte=Decimal(fte))

    membership.full_clean()

    membership.refresh_from_db()
    assert membership.fte == Decimal(fte)


def test_a_membership_cannot_end_before_it_starts():
    membership = TeamMembershipFactory.build(
        person=PersonFactory(),
        team=TeamFactory(),
        start_date=JAN_1,
        end_date=JAN_1 - datetime.timedelta(days=1),
    )

    with pytest.raises(ValidationError) as error:
        membership.full_clean()
    assert "end_date" in error.value.message_dict

    _refused_by_database(membership.save)
    assert not TeamMembership.objects.exists()


def test_a_membership_may_end_on_the_day_it_starts():
    membership = TeamMembershipFactory(start_date=JAN_1, end_date=JAN_1)

    membership.full_clean()

    assert membership.is_active_on(JAN_1)
    assert not membership.is_active_on(JAN_1 + datetime.timedelta(days=1))
    assert not membership.is_active_on(JAN_1 - datetime.timedelta(days=1))


def test_an_open_membership_is_active_from_its_start_on():
    membership = TeamMembershipFactory.build(start_date=JAN_1, end_date=None)

    assert membership.is_active_on(datetime.date(2030, 6, 1))
    assert not membership.is_active_on(datetime.date(2024, 12, 31))


@pytest.mark.parametrize(
    ("factory", "model"),
    [(ProductFactory, Product), (TeamFactory, Team), (DisciplineFactory, Discipline)],
)
def test_slugs_are_unique(factory, model):
    factory(slug="checkout")
    duplicate = factory.build(slug="checkout")

    with pytest.raises(ValidationError) as error:
        duplicate.full_clean()
    assert "slug" in error.value.message_dict

    _refused_by_database(duplicate.save)
    assert model.objects.filter(slug="checkout").count() == 1


def test_person_emails_are_unique():
    PersonFactory(email="ada@example.com")
    duplicate = PersonFactory.build(email="ada@example.com", discipline=DisciplineFactory())

    with pytest.raises(ValidationError) as error:
        duplicate.full_clean()
    assert "email" in error.value.message_dict

    _refused_by_database(duplicate.save)
    assert Person.objects.filter(email="ada@example.com").count() == 1


@pytest.mark.parametrize(
    "build",
    [
        lambda: ProductFactory.build(name=""),
        lambda: TeamFactory.build(name=""),
        lambda: DisciplineFactory.build(name=""),
        lambda: PersonFactory.build(name="", discipline=DisciplineFactory()),
    ],
    ids=["product", "team", "discipline", "person"],
)
def test_an_empty_name_is_refused_by_full_clean_and_the_database(build):
    row = build()
    model = type(row)

    with pytest.raises(ValidationError) as error:
        row.full_clean()
    assert "name" in error.value.message_dict

    _refused_by_database(row.save)
    assert not model.objects.filter(name="").exists()


def test_the_database_checks_carry_a_readable_message():
    constraints = {c.name: c for c in TeamMembership._meta.constraints}

    fte = constraints["membership_fte_between_0_and_1"]
    assert fte.violation_error_message == "FTE must be more than 0 and at most 1."
    with pytest.raises(ValidationError, match="FTE must be more than 0"):
        fte.validate(TeamMembership, TeamMembershipFactory.build(fte=Decimal("1.5")))


def test_a_product_links_to_its_page_by_slug():
    product = ProductFactory(name="Checkout", slug="checkout")

    assert str(product) == "Checkout"
    assert product.get_absolute_url() == "/products/checkout/"


def test_teams_and_products_are_linked_both_ways():
    checkout, search = ProductFactory(), ProductFactory()
    payments = TeamFactory(products=[checkout, search])
    platform = TeamFactory(products=[checkout])

    assert set(payments.products.all()) == {checkout, search}
    assert set(checkout.teams.all()) == {payments, platform}


def test_archived_rows_leave_the_active_queryset():
    kept, archived = ProductFactory(), ProductFactory()
    archived.archived_at = archived.created_at
    archived.save()

    assert list(Product.objects.active()) == [kept]
    assert list(Product.objects.archived()) == [archived]
    assert archived.is_archived and not kept.is_archived
