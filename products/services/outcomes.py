"""Writes of outcomes, key results, measurements and hypotheses.

Every write checks that the actor may change the product's outcomes (products.permissions),
validates the whole row, keeps the key result's derived figures current and records the change
in the product's history, all in one transaction.
"""

import datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from products.models import (
    ChangeRecord,
    Hypothesis,
    HypothesisStatusChange,
    KeyResult,
    Measurement,
    Outcome,
    Product,
)
from products.permissions import ensure_can_edit_outcomes
from products.services.history import record_change, snapshot

# The acting user: always a signed-in account (pages and the API refuse anyone else first).
Actor = User

OUTCOME_FIELDS = ("statement", "period_start", "period_end", "order")
KEY_RESULT_FIELDS = (
    "name",
    "kind",
    "customer_facing",
    "unit",
    "direction",
    "baseline",
    "target",
    "start_date",
    "target_date",
)
MEASUREMENT_FIELDS = ("date", "value", "note")
HYPOTHESIS_FIELDS = (
    "change",
    "expected_outcome",
    "key_result",
    "expected_move",
    "status",
    "evidence",
)
CREATED, UPDATED, DELETED = (
    ChangeRecord.Action.CREATED,
    ChangeRecord.Action.UPDATED,
    ChangeRecord.Action.DELETED,
)


def _set_fields(instance: Any, fields: tuple[str, ...], data: dict[str, Any]) -> None:
    unknown = set(data) - set(fields)
    if unknown:
        raise TypeError(f"Unexpected fields: {', '.join(sorted(unknown))}")
    for name, value in data.items():
        setattr(instance, name, value)


def _save_and_record(
    *,
    actor: Actor,
    product: Product,
    subject: Any,
    action: str,
    before: dict[str, Any] | None,
    fields: tuple[str, ...],
) -> None:
    """Validate and save a row, then record the change in the product's history."""
    subject.full_clean()
    subject.save()
    record_change(
        actor=actor,
        product=product,
        subject=subject,
        action=action,
        before=before,
        after=snapshot(subject, fields),
    )


def _record_and_delete(
    *, actor: Actor, product: Product, subject: Any, fields: tuple[str, ...]
) -> None:
    """Record what a row was in the product's history, then delete it."""
    record_change(
        actor=actor,
        product=product,
        subject=subject,
        action=DELETED,
        before=snapshot(subject, fields),
        after=None,
    )
    subject.delete()


# Outcomes


@transaction.atomic
def outcome_create(
    *,
    actor: Actor,
    product: Product,
    statement: str,
    period_start: datetime.date | None = None,
    period_end: datetime.date | None = None,
    order: int | None = None,
) -> Outcome:
    """Add an objective to a product (last in order unless an order is given)."""
    ensure_can_edit_outcomes(actor, product, model=Outcome, action="add")
    if order is None:
        order = product.outcomes.count()
    outcome = Outcome(
        product=product,
        statement=statement,
        period_start=period_start,
        period_end=period_end,
        order=order,
    )
    _save_and_record(
        actor=actor,
        product=product,
        subject=outcome,
        action=CREATED,
        before=None,
        fields=OUTCOME_FIELDS,
    )
    return outcome


@transaction.atomic
def outcome_update(*, actor: Actor, outcome: Outcome, **data: Any) -> Outcome:
    """Reword an outcome or change its period or order."""
    ensure_can_edit_outcomes(actor, outcome.product, model=Outcome)
    before = snapshot(outcome, OUTCOME_FIELDS)
    _set_fields(outcome, OUTCOME_FIELDS, data)
    _save_and_record(
        actor=actor,
        product=outcome.product,
        subject=outcome,
        action=UPDATED,
        before=before,
        fields=OUTCOME_FIELDS,
    )
    return outcome


@transaction.atomic
def outcome_archive(*, actor: Actor, outcome: Outcome) -> Outcome:
    """Archive an outcome: it and its key results leave the product page; history stays."""
    ensure_can_edit_outcomes(actor, outcome.product, model=Outcome)
    if outcome.archived_at is None:
        outcome.archived_at = timezone.now()
        outcome.save(update_fields=["archived_at", "updated_at"])
        record_change(
            actor=actor,
            product=outcome.product,
            subject=outcome,
            action=UPDATED,
            before={"archived": False},
            after={"archived": True},
        )
    return outcome


@transaction.atomic
def outcome_restore(*, actor: Actor, outcome: Outcome) -> Outcome:
    """Bring an archived outcome back."""
    ensure_can_edit_outcomes(actor, outcome.product, model=Outcome)
    if outcome.archived_at is not None:
        outcome.archived_at = None
        outcome.save(update_fields=["archived_at", "updated_at"])
        record_change(
            actor=actor,
            product=outcome.product,
            subject=outcome,
            action=UPDATED,
            before={"archived": True},
            after={"archived": False},
        )
    return outcome


# Key results


def key_result_refresh(key_result: KeyResult) -> KeyResult:
    """Recompute the latest measurement, progress, expected progress and status and store them.

    Call inside the transaction that changed the key result or its measurements.
    """
    latest = key_result.measurements.order_by("-date", "-id").values("value", "date").first()
    key_result.latest_value = latest["value"] if latest else None
    key_result.latest_date = latest["date"] if latest else None
    standing = key_result.standing()
    two_places = Decimal("0.01")
    key_result.progress = (
        None if standing.progress is None else standing.progress.quantize(two_places)
    )
    key_result.expected_progress = (
        None
        if standing.expected_progress is None
        else standing.expected_progress.quantize(two_places)
    )
    key_result.status = standing.status
    if key_result.pk:
        key_result.save(
            update_fields=[
                "latest_value",
                "latest_date",
                "progress",
                "expected_progress",
                "status",
                "updated_at",
            ]
        )
    return key_result


@transaction.atomic
def key_result_create(
    *,
    actor: Actor,
    outcome: Outcome,
    name: str,
    baseline: Decimal,
    target: Decimal,
    start_date: datetime.date,
    target_date: datetime.date,
    kind: str = KeyResult.Kind.OTHER,
    direction: str | None = None,
    customer_facing: bool | None = None,
    unit: str = "",
) -> KeyResult:
    """Add a key result to an outcome.

    ``customer_facing`` defaults to true for adoption, NPS and satisfaction; ``direction`` defaults
    to the way the target lies from the baseline (and, when given, must agree with it).
    """
    ensure_can_edit_outcomes(actor, outcome.product, model=KeyResult, action="add")
    if customer_facing is None:
        customer_facing = kind in KeyResult.CUSTOMER_FACING_KINDS
    if direction is None:
        direction = (
            KeyResult.Direction.DECREASE if target < baseline else KeyResult.Direction.INCREASE
        )
    key_result = KeyResult(
        outcome=outcome,
        product=outcome.product,
        name=name,
        kind=kind,
        customer_facing=customer_facing,
        unit=unit,
        direction=direction,
        baseline=baseline,
        target=target,
        start_date=start_date,
        target_date=target_date,
    )
    key_result.full_clean()
    key_result.save()  # no measurements yet: status no_data, the model's default
    record_change(
        actor=actor,
        product=outcome.product,
        subject=key_result,
        action=CREATED,
        before=None,
        after=snapshot(key_result, KEY_RESULT_FIELDS),
    )
    return key_result


@transaction.atomic
def key_result_update(*, actor: Actor, key_result: KeyResult, **data: Any) -> KeyResult:
    """Change a key result's definition; its progress and status follow at once."""
    ensure_can_edit_outcomes(actor, key_result.product, model=KeyResult)
    before = snapshot(key_result, KEY_RESULT_FIELDS)
    _set_fields(key_result, KEY_RESULT_FIELDS, data)
    key_result.full_clean()
    key_result.save()
    key_result_refresh(key_result)
    record_change(
        actor=actor,
        product=key_result.product,
        subject=key_result,
        action=UPDATED,
        before=before,
        after=snapshot(key_result, KEY_RESULT_FIELDS),
    )
    return key_result


@transaction.atomic
def key_result_delete(*, actor: Actor, key_result: KeyResult) -> None:
    """Delete a key result and its measurements (the history keeps what it was)."""
    ensure_can_edit_outcomes(actor, key_result.product, model=KeyResult, action="delete")
    _record_and_delete(
        actor=actor, product=key_result.product, subject=key_result, fields=KEY_RESULT_FIELDS
    )


# Measurements


def _measurement_label(measurement: Measurement) -> str:
    return f"{measurement.key_result.name} on {measurement.date:%d %b %Y}"


@transaction.atomic
def measurement_record(
    *,
    actor: Actor,
    key_result: KeyResult,
    date: datetime.date,
    value: Decimal,
    note: str = "",
    imported: bool = False,
) -> Measurement:
    """Record a dated value of a key result; the key result's status follows at once.

    ``imported`` marks it in the history as brought in by a CSV import rather than typed in.
    """
    ensure_can_edit_outcomes(actor, key_result.product, model=Measurement, action="add")
    measurement = Measurement(
        key_result=key_result,
        date=date,
        value=value,
        note=note,
        recorded_by=actor,
    )
    measurement.full_clean()
    measurement.save()
    key_result_refresh(key_result)
    record_change(
        actor=actor,
        product=key_result.product,
        subject=measurement,
        action=ChangeRecord.Action.IMPORTED if imported else CREATED,
        before=None,
        after=snapshot(measurement, MEASUREMENT_FIELDS),
        label=_measurement_label(measurement),
    )
    return measurement


@transaction.atomic
def measurement_update(*, actor: Actor, measurement: Measurement, **data: Any) -> Measurement:
    """Correct a measurement's date, value or note."""
    key_result = measurement.key_result
    ensure_can_edit_outcomes(actor, key_result.product, model=Measurement)
    before = snapshot(measurement, MEASUREMENT_FIELDS)
    _set_fields(measurement, MEASUREMENT_FIELDS, data)
    measurement.full_clean()
    measurement.save()
    key_result_refresh(key_result)
    record_change(
        actor=actor,
        product=key_result.product,
        subject=measurement,
        action=UPDATED,
        before=before,
        after=snapshot(measurement, MEASUREMENT_FIELDS),
        label=_measurement_label(measurement),
    )
    return measurement


@transaction.atomic
def measurement_delete(*, actor: Actor, measurement: Measurement) -> None:
    """Remove a measurement recorded in error."""
    key_result = measurement.key_result
    ensure_can_edit_outcomes(actor, key_result.product, model=Measurement, action="delete")
    record_change(
        actor=actor,
        product=key_result.product,
        subject=measurement,
        action=DELETED,
        before=snapshot(measurement, MEASUREMENT_FIELDS),
        after=None,
        label=_measurement_label(measurement),
    )
    measurement.delete()
    key_result_refresh(key_result)


# Hypotheses


def _status_change(actor: Actor, hypothesis: Hypothesis, from_status: str, note: str = "") -> None:
    HypothesisStatusChange.objects.create(
        hypothesis=hypothesis,
        from_status=from_status,
        to_status=hypothesis.status,
        changed_at=hypothesis.status_changed_at,
        changed_by=actor,
        note=note,
    )


@transaction.atomic
def hypothesis_create(
    *,
    actor: Actor,
    product: Product,
    change: str,
    expected_outcome: str,
    key_result: KeyResult | None = None,
    expected_move: Decimal | None = None,
    status: str = Hypothesis.Status.PROPOSED,
    evidence: str = "",
) -> Hypothesis:
    """State a hypothesis: we believe <change> will result in <outcome>; we will know when
    <key result> moves by <amount>."""
    ensure_can_edit_outcomes(actor, product, model=Hypothesis, action="add")
    hypothesis = Hypothesis(
        product=product,
        change=change,
        expected_outcome=expected_outcome,
        key_result=key_result,
        expected_move=expected_move,
        status=status,
        evidence=evidence,
        status_changed_at=timezone.now(),
    )
    hypothesis.full_clean()
    hypothesis.save()
    _status_change(actor, hypothesis, "")
    record_change(
        actor=actor,
        product=product,
        subject=hypothesis,
        action=CREATED,
        before=None,
        after=snapshot(hypothesis, HYPOTHESIS_FIELDS),
    )
    return hypothesis


@transaction.atomic
def hypothesis_update(
    *, actor: Actor, hypothesis: Hypothesis, status_note: str = "", **data: Any
) -> Hypothesis:
    """Edit a hypothesis; a change of status is dated and kept with its evidence note."""
    ensure_can_edit_outcomes(actor, hypothesis.product, model=Hypothesis)
    before = snapshot(hypothesis, HYPOTHESIS_FIELDS)
    previous_status = hypothesis.status
    _set_fields(hypothesis, HYPOTHESIS_FIELDS, data)
    status_moved = hypothesis.status != previous_status
    if status_moved:
        hypothesis.status_changed_at = timezone.now()
    hypothesis.full_clean()
    hypothesis.save()
    if status_moved:
        _status_change(actor, hypothesis, previous_status, status_note)
    record_change(
        actor=actor,
        product=hypothesis.product,
        subject=hypothesis,
        action=UPDATED,
        before=before,
        after=snapshot(hypothesis, HYPOTHESIS_FIELDS),
        reason=status_note,
    )
    return hypothesis


@transaction.atomic
def hypothesis_delete(*, actor: Actor, hypothesis: Hypothesis) -> None:
    """Delete a hypothesis (the history keeps what it said)."""
    ensure_can_edit_outcomes(actor, hypothesis.product, model=Hypothesis, action="delete")
    _record_and_delete(
        actor=actor, product=hypothesis.product, subject=hypothesis, fields=HYPOTHESIS_FIELDS
    )
