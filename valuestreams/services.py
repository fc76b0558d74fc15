"""Writes of the valuestreams app."""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from portfolio.common.services import archive, model_update, restore, unique_slug
from valuestreams.models import ValueStream


def products_relinked(before: set[int], after: set[int]) -> None:
    """The flow facts of products that joined or left a value stream are seen through other
    mappings now: recompute them (and the value streams they serve) after the commit."""
    from valuestreams.ingest import notify_ingested

    moved = sorted(before ^ after)
    if moved:
        transaction.on_commit(lambda: notify_ingested(moved, None))


VALUE_STREAM_FIELDS = (
    "name",
    "slug",
    "kind",
    "description",
    "customer",
    "value_delivered",
    "owner",
    "products",
)


@transaction.atomic
def value_stream_create(*, actor: AbstractBaseUser, **data: Any) -> ValueStream:
    """Register a value stream and the products it serves; slug made from the name unless given."""
    products = data.pop("products", None)
    values = {f: data[f] for f in VALUE_STREAM_FIELDS if f in data and f != "products"}
    value_stream = ValueStream(**values)
    if not value_stream.slug:
        value_stream.slug = unique_slug(ValueStream, value_stream.name)
    value_stream.full_clean()
    value_stream.save()
    if products is not None:
        value_stream.products.set(products)
        products_relinked(set(), {p.pk for p in products})
    return value_stream


@transaction.atomic
def value_stream_update(
    *, actor: AbstractBaseUser, value_stream: ValueStream, **data: Any
) -> ValueStream:
    """Change a value stream's registry fields or the products it serves."""
    before = set(value_stream.products.values_list("pk", flat=True))
    value_stream, _ = model_update(instance=value_stream, fields=VALUE_STREAM_FIELDS, data=data)
    if "products" in data:
        products_relinked(before, {p.pk for p in data["products"]})
    return value_stream


@transaction.atomic
def value_stream_archive(*, actor: AbstractBaseUser, value_stream: ValueStream) -> ValueStream:
    """Archive a value stream: out of default lists, history kept."""
    return archive(instance=value_stream)


@transaction.atomic
def value_stream_restore(*, actor: AbstractBaseUser, value_stream: ValueStream) -> ValueStream:
    """Bring an archived value stream back."""
    return restore(instance=value_stream)
