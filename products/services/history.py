"""The change history of outcomes, key results, measurements, hypotheses and roadmap items."""

import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db import models

from products.models import ChangeRecord, Product

SUBJECT_TYPES = {
    "outcome": "outcome",
    "keyresult": "key_result",
    "measurement": "measurement",
    "hypothesis": "hypothesis",
    "roadmapitem": "roadmap_item",
}


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    return value


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The named fields of a row as JSON-safe values (foreign keys as ids, decimals as text)."""
    data: dict[str, Any] = {}
    for name in fields:
        field = instance._meta.get_field(name)
        if field.many_to_many:
            data[name] = (
                sorted(obj.pk for obj in getattr(instance, name).all()) if instance.pk else []
            )
        elif field.is_relation:
            data[name] = getattr(instance, f"{name}_id")
        else:
            data[name] = _json_value(getattr(instance, name))
    return data


def record_change(
    *,
    actor: User | None,
    product: Product,
    subject: models.Model,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    label: str | None = None,
    reason: str = "",
) -> ChangeRecord | None:
    """Write one history row; an update or a move that changed nothing writes none."""
    if action in (ChangeRecord.Action.UPDATED, ChangeRecord.Action.MOVED) and before == after:
        return None
    return ChangeRecord.objects.create(
        product=product,
        subject_type=SUBJECT_TYPES[subject._meta.model_name or ""],
        subject_id=subject.pk,
        subject_label=(label or str(subject))[:200],
        action=action,
        actor=actor,
        before=before,
        after=after,
        reason=reason[:500],
    )
