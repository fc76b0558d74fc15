"""Write helpers shared by every app's services."""

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from django.db import models
from django.utils import timezone
from django.utils.text import slugify

M = TypeVar("M", bound=models.Model)


def model_update(*, instance: M, fields: Iterable[str], data: Mapping[str, Any]) -> tuple[M, bool]:
    """Set the given fields from ``data``, validate the whole row and save only what changed.

    Returns the instance and whether anything changed. Many-to-many fields are set after the
    row is saved.
    """
    changed: list[str] = []
    m2m: dict[str, Any] = {}
    for field in fields:
        if field not in data:
            continue
        model_field = instance._meta.get_field(field)
        if model_field.many_to_many:
            m2m[field] = data[field]
            continue
        if getattr(instance, field) != data[field]:
            setattr(instance, field, data[field])
            changed.append(field)
    if changed:
        instance.full_clean()
        if "updated_at" in {f.name for f in instance._meta.get_fields()}:
            changed.append("updated_at")
        instance.save(update_fields=changed)
    for field, value in m2m.items():
        manager = getattr(instance, field)
        before = set(manager.values_list("pk", flat=True))
        after = {obj.pk for obj in value}
        if before != after:
            manager.set(value)
            changed.append(field)
    return instance, bool(changed)


def unique_slug(model: type[models.Model], text: str, *, exclude_pk: int | None = None) -> str:
    """A slug made from ``text`` that no other row of ``model`` uses (``name``, ``name-2``, ...)."""
    base = slugify(text)[:60] or "item"
    candidate, n = base, 1
    qs = model._default_manager.all()
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    taken = set(qs.filter(slug__startswith=base).values_list("slug", flat=True))
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def archive(*, instance: M) -> M:
    """Mark an archivable row as archived now (idempotent)."""
    if getattr(instance, "archived_at", None) is None:
        instance.archived_at = timezone.now()  # type: ignore[attr-defined]
        instance.save(update_fields=["archived_at", "updated_at"])
    return instance


def restore(*, instance: M) -> M:
    """Bring an archived row back (idempotent)."""
    if getattr(instance, "archived_at", None) is not None:
        instance.archived_at = None  # type: ignore[attr-defined]
        instance.save(update_fields=["archived_at", "updated_at"])
    return instance
