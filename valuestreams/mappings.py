"""Status and type mappings: reads (the mappings in force, what no mapping covers) and writes.

A tracker status maps onto a flow category and a tracker issue type onto an item type. The
organisation's default mapping (``value_stream`` NULL) covers every product; a value stream's own
rows override it for the items of its products. An item's statuses and tracker type map through
the value stream of its product (the one with the lowest id when it serves several), falling back
to the default (issue 4, decided); a value stream's figures use its own mapping for all its
products' items. Names match by ``status_key`` (case and spaces ignored).

A mapping change re-resolves ``WorkItem.type`` of the items it affects (types) and asks the flow
computation to recompute (both), after the commit.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet, Subquery
from django.urls import reverse

from products.models import Product
from valuestreams.models import StatusChange, StatusMapping, TypeMapping, ValueStream, WorkItem
from valuestreams.models.flow import FlowCategory, ItemType, status_key

ValueStreamLink = ValueStream.products.through
# Unmapped keys counted through an IN list up to this many (SQLite takes 999 parameters).
MAX_CANDIDATES = 500


# Reads.


def status_mapping_list(
    *, value_stream_id: int | None = None, default: bool | None = None
) -> QuerySet[StatusMapping]:
    """Status mappings with their value stream: all, one value stream's, or (``default``) the
    organisation default's."""
    qs = StatusMapping.objects.select_related("value_stream").order_by(
        "value_stream_id", "category", "status_name", "id"
    )
    if value_stream_id is not None:
        qs = qs.filter(value_stream_id=value_stream_id)
    if default is not None:
        qs = qs.filter(value_stream__isnull=default)
    return qs


def type_mapping_list(
    *, value_stream_id: int | None = None, default: bool | None = None
) -> QuerySet[TypeMapping]:
    """Type mappings with their value stream, filtered like ``status_mapping_list``."""
    qs = TypeMapping.objects.select_related("value_stream").order_by(
        "value_stream_id", "type", "tracker_type", "id"
    )
    if value_stream_id is not None:
        qs = qs.filter(value_stream_id=value_stream_id)
    if default is not None:
        qs = qs.filter(value_stream__isnull=default)
    return qs


def mapping_value_streams(product_ids: Iterable[int] | None = None) -> dict[int, int]:
    """Each product's mapping value stream: the lowest-id value stream it serves.

    Products serving none are absent (they map through the default only). ``None`` = every product.
    """
    links = ValueStreamLink.objects.all()
    if product_ids is not None:
        links = links.filter(product_id__in=list(product_ids))
    rows = links.values("product_id").annotate(value_stream_id=Min("valuestream_id"))
    return {row["product_id"]: row["value_stream_id"] for row in rows}


def mapping_page_url(value_stream_id: int | None) -> str:
    """The mapping page that governs a product: its value stream's, else the default's."""
    if value_stream_id is None:
        return reverse("valuestreams:mappings_default")
    slug = ValueStream.objects.values_list("slug", flat=True).get(pk=value_stream_id)
    return reverse("valuestreams:mappings", kwargs={"slug": slug})


@dataclass
class TypeResolver:
    """Resolves a tracker type to an item type for a product ('' when no mapping covers it)."""

    value_stream_of: dict[int, int]
    overrides: dict[int, dict[str, str]]
    defaults: dict[str, str]

    def resolve(self, product_id: int, tracker_type: str) -> str:
        key = status_key(tracker_type)
        if not key:
            return ""
        value_stream_id = self.value_stream_of.get(product_id)
        if value_stream_id is not None:
            found = self.overrides.get(value_stream_id, {}).get(key)
            if found:
                return found
        return self.defaults.get(key, "")


def type_resolver(product_ids: Iterable[int]) -> TypeResolver:
    """What ``TypeResolver.resolve`` needs for these products, in two queries."""
    value_stream_of = mapping_value_streams(product_ids)
    overrides: dict[int, dict[str, str]] = {}
    defaults: dict[str, str] = {}
    rows = TypeMapping.objects.filter(
        Q(value_stream__isnull=True) | Q(value_stream_id__in=set(value_stream_of.values()))
    ).values_list("value_stream_id", "tracker_type_key", "type")
    for value_stream_id, key, item_type in rows:
        if value_stream_id is None:
            defaults[key] = item_type
        else:
            overrides.setdefault(value_stream_id, {})[key] = item_type
    return TypeResolver(value_stream_of, overrides, defaults)


def _mapping_stream_of(product_ref: Any) -> Subquery:
    """The mapping value stream (lowest id) of the product named by ``product_ref``, in SQL."""
    return Subquery(
        ValueStreamLink.objects.filter(product_id=product_ref)
        .order_by("valuestream_id")
        .values("valuestream_id")[:1]
    )


def unmapped_statuses(*, value_stream: ValueStream | None) -> list[dict[str, Any]]:
    """Statuses (``to_status``) seen in the items that no mapping covers, with how many changes
    carry each, most frequent first.

    For a value stream: the changes of its products' items, not covered by its own mapping nor
    the default. For the default (``None``): every item's changes, not covered by the default nor
    by the mapping of the item's product's value stream.

    The status keys in use are read first by a loose index scan (one index probe per distinct
    key, not a pass over millions of changes); only the changes of keys no mapping in scope
    covers are then counted, so a fully mapped value stream costs three small queries.
    """
    mapped = set(
        StatusMapping.objects.filter(
            Q(value_stream__isnull=True)
            | Q(value_stream_id=value_stream.pk if value_stream else None)
        ).values_list("status_key", flat=True)
    )
    candidates = [key for key in status_keys_in_use() if key not in mapped]
    if not candidates:
        return []
    changes = StatusChange.objects.exclude(
        Exists(
            StatusMapping.objects.filter(
                value_stream__isnull=True, status_key=OuterRef("status_key")
            )
        )
    )
    if value_stream is not None:
        changes = changes.filter(
            item__product__in=ValueStreamLink.objects.filter(valuestream_id=value_stream.pk).values(
                "product_id"
            )
        ).exclude(
            Exists(
                StatusMapping.objects.filter(
                    value_stream_id=value_stream.pk, status_key=OuterRef("status_key")
                )
            )
        )
    else:
        changes = changes.exclude(
            Exists(
                StatusMapping.objects.filter(
                    value_stream_id=_mapping_stream_of(OuterRef(OuterRef("item__product_id"))),
                    status_key=OuterRef("status_key"),
                )
            )
        )
    if len(candidates) <= MAX_CANDIDATES:
        changes = changes.filter(status_key__in=candidates)
    rows = (
        changes.values("status_key")
        .annotate(status=Min("to_status"), count=Count("id"))
        .order_by("-count", "status_key")
    )
    return [dict(row) for row in rows]


def status_keys_in_use() -> list[str]:
    """Every distinct ``status_key`` of the stored changes, by a loose index scan: a recursive
    query that jumps from one key to the next through the ``status_key`` index (PostgreSQL and
    SQLite alike), so its cost grows with the number of distinct statuses, not of changes."""
    table = connection.ops.quote_name(StatusChange._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH RECURSIVE status_keys(k) AS (
                SELECT MIN(status_key) FROM {table}
                UNION ALL
                SELECT (SELECT MIN(status_key) FROM {table} WHERE status_key > status_keys.k)
                FROM status_keys WHERE status_keys.k IS NOT NULL
            )
            SELECT k FROM status_keys WHERE k IS NOT NULL
            """
        )
        return [row[0] for row in cursor.fetchall()]


def unmapped_types(*, value_stream: ValueStream | None) -> list[dict[str, Any]]:
    """Tracker types seen in the items that no mapping covers, with how many items carry each,
    most frequent first (the same scopes as ``unmapped_statuses``).

    The items without a type are counted per tracker type as sent in SQL and grouped here by
    matching form (``WorkItem`` keeps only the sent form). For a value stream, a second query
    drops the types its own mapping covers (an item may map through another value stream).
    """
    items = WorkItem.objects.filter(type="").exclude(tracker_type="")
    if value_stream is not None:
        items = items.filter(
            product__in=ValueStreamLink.objects.filter(valuestream_id=value_stream.pk).values(
                "product_id"
            )
        )
    rows = items.values("tracker_type").annotate(count=Count("id")).order_by("tracker_type")
    covered: set[str] = set()
    if value_stream is not None:
        covered = set(
            TypeMapping.objects.filter(value_stream_id=value_stream.pk).values_list(
                "tracker_type_key", flat=True
            )
        )
    return _group_types(rows, covered)


def _group_types(rows: Iterable[Mapping[str, Any]], covered: set[str]) -> list[dict[str, Any]]:
    """Counts per tracker type as sent, grouped by matching form, most frequent first."""
    grouped: dict[str, dict[str, Any]] = {}
    for row in rows:
        key = status_key(row["tracker_type"])
        if key in covered:
            continue
        entry = grouped.setdefault(key, {"tracker_type": row["tracker_type"], "count": 0})
        entry["count"] += row["count"]
    return sorted(grouped.values(), key=lambda e: (-e["count"], status_key(e["tracker_type"])))


def unmapped_for_product(product: Product) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The statuses and tracker types of one product's items that no mapping covers (its value
    stream's, then the default): what an import into the product shows. Two queries."""
    changes = (
        StatusChange.objects.filter(item__product_id=product.pk)
        .exclude(
            Exists(
                StatusMapping.objects.filter(
                    value_stream__isnull=True, status_key=OuterRef("status_key")
                )
            )
        )
        .exclude(
            Exists(
                StatusMapping.objects.filter(
                    value_stream_id=_mapping_stream_of(product.pk),
                    status_key=OuterRef("status_key"),
                )
            )
        )
    )
    statuses = [
        dict(row)
        for row in changes.values("status_key")
        .annotate(status=Min("to_status"), count=Count("id"))
        .order_by("-count", "status_key")
    ]
    rows = (
        WorkItem.objects.filter(product_id=product.pk, type="")
        .exclude(tracker_type="")
        .values("tracker_type")
        .annotate(count=Count("id"))
        .order_by("tracker_type")
    )
    return statuses, _group_types(rows, covered=set())


# Writes.


def notify_mappings_changed(value_stream: ValueStream | None) -> None:
    """After the commit, ask the flow computation to recompute the products the mapping covers:
    the value stream's products, or every product for a default-mapping change."""
    from valuestreams.ingest import notify_ingested

    if value_stream is None:
        product_ids = list(Product.objects.order_by("id").values_list("id", flat=True))
    else:
        product_ids = list(
            ValueStreamLink.objects.filter(valuestream_id=value_stream.pk)
            .order_by("product_id")
            .values_list("product_id", flat=True)
        )
    if product_ids:
        transaction.on_commit(lambda: notify_ingested(product_ids, None))


def _check_status(value_stream: ValueStream | None, name: str, category: str, pk=None) -> str:
    key = status_key(name)
    errors: dict[str, list[str]] = {}
    if not key:
        errors["status_name"] = ["Name the status."]
    elif len(name.strip()) > 100:
        errors["status_name"] = ["At most 100 characters."]
    elif (
        StatusMapping.objects.filter(value_stream=value_stream, status_key=key)
        .exclude(pk=pk)
        .exists()
    ):
        where = "this value stream" if value_stream else "the default mapping"
        errors["status_name"] = [f"“{name.strip()}” is already mapped in {where}."]
    if category not in FlowCategory.values:
        errors["category"] = [f"Choose one of {', '.join(FlowCategory.values)}."]
    if errors:
        raise ValidationError(errors)
    return key


def _check_type(value_stream: ValueStream | None, name: str, item_type: str, pk=None) -> str:
    key = status_key(name)
    errors: dict[str, list[str]] = {}
    if not key:
        errors["tracker_type"] = ["Name the tracker type."]
    elif len(name.strip()) > 100:
        errors["tracker_type"] = ["At most 100 characters."]
    elif (
        TypeMapping.objects.filter(value_stream=value_stream, tracker_type_key=key)
        .exclude(pk=pk)
        .exists()
    ):
        where = "this value stream" if value_stream else "the default mapping"
        errors["tracker_type"] = [f"“{name.strip()}” is already mapped in {where}."]
    if item_type not in ItemType.values:
        errors["type"] = [f"Choose one of {', '.join(ItemType.values)}."]
    if errors:
        raise ValidationError(errors)
    return key


@transaction.atomic
def status_mapping_create(
    *, actor: AbstractBaseUser, value_stream: ValueStream | None, status_name: str, category: str
) -> StatusMapping:
    """Map a status onto a category, in a value stream's mapping or (``None``) the default."""
    _check_status(value_stream, status_name, category)
    mapping = StatusMapping(
        value_stream=value_stream, status_name=status_name.strip(), category=category
    )
    mapping.save()
    notify_mappings_changed(value_stream)
    return mapping


@transaction.atomic
def status_mapping_update(
    *,
    actor: AbstractBaseUser,
    mapping: StatusMapping,
    status_name: str | None = None,
    category: str | None = None,
) -> StatusMapping:
    """Rename a mapped status or move it to another category."""
    name = mapping.status_name if status_name is None else status_name.strip()
    new_category = mapping.category if category is None else category
    _check_status(mapping.value_stream, name, new_category, pk=mapping.pk)
    mapping.status_name, mapping.category = name, new_category
    mapping.save(update_fields=["status_name", "status_key", "category", "updated_at"])
    notify_mappings_changed(mapping.value_stream)
    return mapping


@transaction.atomic
def status_mapping_delete(*, actor: AbstractBaseUser, mapping: StatusMapping) -> None:
    """Remove a status mapping: the status falls back to the default (or becomes unmapped)."""
    value_stream = mapping.value_stream
    mapping.delete()
    notify_mappings_changed(value_stream)


def _resolve_types(value_stream: ValueStream | None, keys: set[str]) -> None:
    """Re-resolve ``WorkItem.type`` of the items whose tracker type has one of ``keys``, for the
    products the changed mapping governs: one UPDATE per resulting type."""
    keys.discard("")
    if not keys:
        return
    value_stream_of = mapping_value_streams()
    if value_stream is not None:
        products = {p for p, vs in value_stream_of.items() if vs == value_stream.pk}
        overriding: dict[int, set[str]] = {}
    else:
        products = None  # every product, less those whose own mapping overrides the key
        overriding = {}
        for vs_id, key in TypeMapping.objects.filter(
            value_stream__isnull=False, tracker_type_key__in=keys
        ).values_list("value_stream_id", "tracker_type_key"):
            overriding.setdefault(vs_id, set()).add(key)
    resolver = type_resolver(value_stream_of.keys())
    # The tracker types as sent that match the keys (WorkItem keeps only the sent form).
    items = WorkItem.objects.exclude(tracker_type="")
    if products is not None:
        items = items.filter(product_id__in=products)
    sent = {
        name
        for name in items.values_list("tracker_type", flat=True).distinct()
        if status_key(name) in keys
    }
    by_type: dict[str, list[str]] = {}
    excluded: dict[str, set[int]] = {}
    for name in sent:
        key = status_key(name)
        if value_stream is not None:
            resolved = resolver.overrides.get(value_stream.pk, {}).get(
                key
            ) or resolver.defaults.get(key, "")
        else:
            resolved = resolver.defaults.get(key, "")
            excluded[name] = {
                p for p, vs in value_stream_of.items() if key in overriding.get(vs, ())
            }
        by_type.setdefault(resolved, []).append(name)
    for item_type, names in by_type.items():
        update = WorkItem.objects.filter(tracker_type__in=names).exclude(type=item_type)
        if products is not None:
            update = update.filter(product_id__in=products)
        skip = set().union(*(excluded.get(n, set()) for n in names))
        if skip:
            update = update.exclude(product_id__in=skip)
        update.update(type=item_type)


@transaction.atomic
def type_mapping_create(
    *, actor: AbstractBaseUser, value_stream: ValueStream | None, tracker_type: str, type: str
) -> TypeMapping:
    """Map a tracker's issue type onto an item type; the items carrying it get the type."""
    key = _check_type(value_stream, tracker_type, type)
    mapping = TypeMapping(value_stream=value_stream, tracker_type=tracker_type.strip(), type=type)
    mapping.save()
    _resolve_types(value_stream, {key})
    notify_mappings_changed(value_stream)
    return mapping


@transaction.atomic
def type_mapping_update(
    *,
    actor: AbstractBaseUser,
    mapping: TypeMapping,
    tracker_type: str | None = None,
    type: str | None = None,
) -> TypeMapping:
    """Rename a mapped tracker type or map it onto another item type; items follow."""
    old_key = mapping.tracker_type_key
    name = mapping.tracker_type if tracker_type is None else tracker_type.strip()
    new_type = mapping.type if type is None else type
    key = _check_type(mapping.value_stream, name, new_type, pk=mapping.pk)
    mapping.tracker_type, mapping.type = name, new_type
    mapping.save(update_fields=["tracker_type", "tracker_type_key", "type", "updated_at"])
    _resolve_types(mapping.value_stream, {old_key, key})
    notify_mappings_changed(mapping.value_stream)
    return mapping


@transaction.atomic
def type_mapping_delete(*, actor: AbstractBaseUser, mapping: TypeMapping) -> None:
    """Remove a type mapping: its items fall back to the default mapping, or lose their type
    and are listed as unmapped."""
    value_stream, key = mapping.value_stream, mapping.tracker_type_key
    mapping.delete()
    _resolve_types(value_stream, {key})
    notify_mappings_changed(value_stream)
