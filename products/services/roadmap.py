"""Writes of the outcome-based roadmap: items in now / next / later / done, in order.

Positions in each horizon of a product are 0..n-1. Every write that moves positions locks the
product's row first (PostgreSQL row lock; SQLite serialises writers), reads the current order and
writes it back renumbered, so concurrent moves never leave duplicate or missing places.
"""

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from products.models import ChangeRecord, KeyResult, Product, RoadmapItem
from products.permissions import ensure_can_edit_outcomes
from products.services.history import record_change, snapshot

# The acting user: always a signed-in account (pages and the API refuse anyone else first).
Actor = User

ITEM_FIELDS = ("title", "description", "horizon", "position", "key_results")
EDIT_FIELDS = ("title", "description")
# Above any real position: rows are parked here while a horizon is renumbered.
PARKING_OFFSET = 1_000_000


def _lock(product: Product) -> None:
    Product.objects.select_for_update().filter(pk=product.pk).values_list("pk", flat=True).first()


def _ordered_ids(product: Product, horizon: str, *, exclude: int | None = None) -> list[int]:
    qs = RoadmapItem.objects.filter(product=product, horizon=horizon)
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    return list(qs.order_by("position", "id").values_list("pk", flat=True))


def _renumber(product: Product, orders: dict[str, list[int]]) -> None:
    """Write each horizon's order as positions 0..n-1 (parking rows first so the unique
    constraint holds at every step)."""
    ids = [pk for order in orders.values() for pk in order]
    RoadmapItem.objects.filter(pk__in=ids).update(position=F("position") + PARKING_OFFSET)
    for horizon, order in orders.items():
        for position, pk in enumerate(order):
            RoadmapItem.objects.filter(pk=pk).update(horizon=horizon, position=position)


def _check_key_results(product: Product, key_results: Iterable[KeyResult]) -> list[KeyResult]:
    chosen = list(key_results)
    if any(kr.product_id != product.pk for kr in chosen):
        raise ValidationError({"key_results": "Link only key results of this product."})
    return chosen


@transaction.atomic
def roadmap_item_create(
    *,
    actor: Actor,
    product: Product,
    title: str,
    description: str = "",
    horizon: str = RoadmapItem.Horizon.LATER,
    key_results: Iterable[KeyResult] = (),
) -> RoadmapItem:
    """Add an item at the end of a horizon, linked to the key results it should move."""
    ensure_can_edit_outcomes(actor, product, model=RoadmapItem, action="add")
    chosen = _check_key_results(product, key_results)
    _lock(product)
    item = RoadmapItem(
        product=product,
        title=title,
        description=description,
        horizon=horizon,
        position=len(_ordered_ids(product, horizon)),
    )
    item.full_clean()
    item.save()
    item.key_results.set(chosen)
    record_change(
        actor=actor,
        product=product,
        subject=item,
        action=ChangeRecord.Action.CREATED,
        before=None,
        after=snapshot(item, ITEM_FIELDS),
    )
    return item


@transaction.atomic
def roadmap_item_update(
    *, actor: Actor, item: RoadmapItem, key_results: Iterable[KeyResult] | None = None, **data: Any
) -> RoadmapItem:
    """Change an item's title, description or linked key results (moves go through roadmap_item_move)."""
    ensure_can_edit_outcomes(actor, item.product, model=RoadmapItem)
    unknown = set(data) - set(EDIT_FIELDS)
    if unknown:
        raise TypeError(f"Unexpected fields: {', '.join(sorted(unknown))}")
    before = snapshot(item, ITEM_FIELDS)
    for name, value in data.items():
        setattr(item, name, value)
    item.full_clean()
    item.save()
    if key_results is not None:
        item.key_results.set(_check_key_results(item.product, key_results))
    record_change(
        actor=actor,
        product=item.product,
        subject=item,
        action=ChangeRecord.Action.UPDATED,
        before=before,
        after=snapshot(item, ITEM_FIELDS),
    )
    return item


@transaction.atomic
def roadmap_item_move(
    *, actor: Actor, item: RoadmapItem, horizon: str, position: int | None = None
) -> RoadmapItem:
    """Move an item to a place in a horizon (its own or another); ``None`` puts it last.

    The places are read after the product's row is locked, so a move made by someone else a moment
    earlier is taken into account rather than overwritten.
    """
    product = item.product
    ensure_can_edit_outcomes(actor, product, model=RoadmapItem)
    if horizon not in RoadmapItem.Horizon.values:
        raise ValidationError(
            {"horizon": f"Choose one of: {', '.join(RoadmapItem.Horizon.values)}."}
        )
    if position is not None and position < 0:
        raise ValidationError({"position": "A position is 0 or more."})
    _lock(product)
    item.refresh_from_db(fields=["horizon", "position"])
    before = snapshot(item, ("horizon", "position"))
    source = _ordered_ids(product, item.horizon, exclude=item.pk)
    target = source if horizon == item.horizon else _ordered_ids(product, horizon, exclude=item.pk)
    place = len(target) if position is None else min(position, len(target))
    target.insert(place, item.pk)
    orders = {horizon: target}
    if horizon != item.horizon:
        orders[item.horizon] = source
    _renumber(product, orders)
    item.refresh_from_db(fields=["horizon", "position"])
    record_change(
        actor=actor,
        product=product,
        subject=item,
        action=ChangeRecord.Action.MOVED,
        before=before,
        after=snapshot(item, ("horizon", "position")),
    )
    return item


@transaction.atomic
def roadmap_item_delete(*, actor: Actor, item: RoadmapItem) -> None:
    """Remove an item; the items after it close the gap."""
    product = item.product
    ensure_can_edit_outcomes(actor, product, model=RoadmapItem, action="delete")
    _lock(product)
    record_change(
        actor=actor,
        product=product,
        subject=item,
        action=ChangeRecord.Action.DELETED,
        before=snapshot(item, ITEM_FIELDS),
        after=None,
    )
    horizon = item.horizon
    item.delete()
    _renumber(product, {horizon: _ordered_ids(product, horizon)})
