"""Writes of the valuestreams app: create, update, archive, restore, the products served."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.products.factories import ProductFactory, UserFactory
from tests.valuestreams.factories import ValueStreamFactory
from valuestreams.models import ValueStream
from valuestreams.services import (
    value_stream_archive,
    value_stream_create,
    value_stream_restore,
    value_stream_update,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def actor():
    return UserFactory(username="actor")


def test_create_registers_the_stream_and_the_products_it_serves(actor):
    checkout, payments = ProductFactory(), ProductFactory()
    owner = UserFactory()

    stream = value_stream_create(
        actor=actor,
        name="Order to cash",
        kind=ValueStream.Kind.OPERATIONAL,
        description="From a customer's order to money in the bank.",
        customer="Retail customers",
        value_delivered="Orders fulfilled and paid.",
        owner=owner,
        products=[checkout, payments],
    )

    stream.refresh_from_db()
    assert stream.slug == "order-to-cash"
    assert stream.kind == ValueStream.Kind.OPERATIONAL
    assert stream.owner == owner
    assert set(stream.products.all()) == {checkout, payments}
    assert set(checkout.value_streams.all()) == {stream}


def test_a_product_may_serve_several_streams(actor):
    platform = ProductFactory(name="Identity platform")

    first = value_stream_create(actor=actor, name="Onboarding", products=[platform])
    second = value_stream_create(actor=actor, name="Support", products=[platform])

    assert set(platform.value_streams.all()) == {first, second}


def test_slugs_come_from_the_name_and_stay_unique(actor):
    first = value_stream_create(actor=actor, name="Order to cash")
    second = value_stream_create(actor=actor, name="Order to cash")
    explicit = value_stream_create(actor=actor, name="Hire to retire", slug="people")

    assert (first.slug, second.slug, explicit.slug) == (
        "order-to-cash",
        "order-to-cash-2",
        "people",
    )


def test_a_duplicate_explicit_slug_is_refused(actor):
    ValueStreamFactory(slug="onboarding")

    with pytest.raises(ValidationError) as excinfo:
        value_stream_create(actor=actor, name="Onboarding again", slug="onboarding")

    assert "slug" in excinfo.value.message_dict
    assert ValueStream.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "Odd", "kind": "project"}, "kind"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(actor, data, field):
    product = ProductFactory()

    with pytest.raises(ValidationError) as excinfo:
        value_stream_create(actor=actor, products=[product], **data)

    assert field in excinfo.value.message_dict
    assert not ValueStream.objects.exists()
    assert not product.value_streams.exists()


def test_update_changes_fields_and_the_products_served(actor):
    kept, dropped, added = ProductFactory(), ProductFactory(), ProductFactory()
    stream = ValueStreamFactory(name="Onboarding", slug="onboarding", products=[kept, dropped])

    value_stream_update(
        actor=actor,
        value_stream=stream,
        name="Customer onboarding",
        customer="New customers",
        products=[kept, added],
    )

    stream.refresh_from_db()
    assert stream.name == "Customer onboarding"
    assert stream.slug == "onboarding"  # renaming keeps the address people bookmarked
    assert stream.customer == "New customers"
    assert set(stream.products.all()) == {kept, added}


def test_update_can_clear_the_products(actor):
    stream = ValueStreamFactory(products=[ProductFactory(), ProductFactory()])

    value_stream_update(actor=actor, value_stream=stream, products=[])

    assert not stream.products.exists()


def test_update_without_changes_writes_nothing(actor):
    product = ProductFactory()
    stream = ValueStreamFactory(name="Onboarding", products=[product])
    before = stream.updated_at

    with CaptureQueriesContext(connection) as queries:
        value_stream_update(actor=actor, value_stream=stream, name="Onboarding", products=[product])

    writes = [q["sql"] for q in queries if q["sql"].startswith(("INSERT", "UPDATE", "DELETE"))]
    assert writes == []
    stream.refresh_from_db()
    assert stream.updated_at == before


def test_an_invalid_update_leaves_the_stream_as_it_was(actor):
    stream = ValueStreamFactory(name="Onboarding")

    with pytest.raises(ValidationError) as excinfo:
        value_stream_update(actor=actor, value_stream=stream, name="")

    assert "name" in excinfo.value.message_dict
    stream.refresh_from_db()
    assert stream.name == "Onboarding"


def test_archive_hides_the_stream_and_restore_brings_it_back(actor):
    product = ProductFactory()
    stream = ValueStreamFactory(products=[product])
    other = ValueStreamFactory()

    value_stream_archive(actor=actor, value_stream=stream)
    archived_at = ValueStream.objects.get(pk=stream.pk).archived_at
    value_stream_archive(actor=actor, value_stream=stream)  # a second archive changes nothing

    stream.refresh_from_db()
    assert stream.archived_at == archived_at is not None
    assert list(ValueStream.objects.active()) == [other]
    assert list(stream.products.all()) == [product]  # links are kept

    value_stream_restore(actor=actor, value_stream=stream)

    stream.refresh_from_db()
    assert stream.archived_at is None
    assert set(ValueStream.objects.active()) == {stream, other}
