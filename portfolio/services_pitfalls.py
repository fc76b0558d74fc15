"""Writes of the pitfall signals: thresholds the organisation tunes, and the daily record of each
signal's value that the trend shows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from portfolio.models import PitfallRecord, PitfallThreshold
from portfolio.pitfalls import SPEC_BY_KEY, early_warnings, pitfall_signals


@transaction.atomic
def pitfall_threshold_set(
    *, actor: AbstractBaseUser, key: str, threshold: Decimal | int | str
) -> PitfallThreshold:
    """Set a signal's threshold (the signal fires when its value is above it).

    A percent threshold is at most 100; every threshold is at least 0. Who may call this (executives
    and portfolio managers, ``portfolio.change_pitfallthreshold``) is checked by the caller.
    """
    spec = SPEC_BY_KEY.get(key)
    if spec is None:
        raise ValidationError({"key": f"Unknown signal “{key}”."})
    try:
        value = Decimal(str(threshold).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError({"threshold": "Enter a number."}) from None
    if not value.is_finite():
        raise ValidationError({"threshold": "Enter a number."})
    if value < 0:
        raise ValidationError({"threshold": "A threshold cannot be negative."})
    if spec.unit == "%" and value > 100:
        raise ValidationError({"threshold": "A percent threshold is at most 100."})
    if spec.is_count and value != value.to_integral_value():
        raise ValidationError({"threshold": f"Count {spec.unit} in whole numbers."})
    row = PitfallThreshold.objects.select_for_update().filter(key=key).first()
    if row is None:
        row = PitfallThreshold(key=key)
    row.threshold = value.quantize(Decimal("0.01"))
    row.updated_by = actor  # type: ignore[assignment]
    row.full_clean()
    row.save()
    return row


@transaction.atomic
def pitfall_records_write(*, day: date | None = None, warnings: bool = True) -> int:
    """Record every signal's value for the day (upsert per key and day, so running it twice
    writes the same rows). Signals without enough data record nothing. Returns the rows written."""
    day = day or timezone.localdate()
    signals = pitfall_signals(today=day)
    if warnings:
        signals += early_warnings(today=day)
    rows = [
        PitfallRecord(key=s.key, day=day, value=Decimal(s.value))
        for s in signals
        if s.value is not None
    ]
    PitfallRecord.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["key", "day"], update_fields=["value"]
    )
    return len(rows)
