"""What the outcomes section and the history panel of the product page show, beyond the rows.

The rows come from the selectors (outcomes with key results and measurements prefetched, the
latest changes with their actor); this adds what the templates draw from them without another
query: each key result's chart and stale flag, the forms an editor may open, the status counts
of the section header, and each change's fields before and after in words.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from products import forms
from products.charts import key_result_chart, number_text
from products.models import ChangeRecord, Hypothesis, KeyResult, Outcome, RoadmapItem

STATUS_BADGES: dict[str, str] = {
    KeyResult.Status.ON_TRACK: "badge-ok",
    KeyResult.Status.AT_RISK: "badge-warn",
    KeyResult.Status.OFF_TRACK: "badge-bad",
    KeyResult.Status.NO_DATA: "badge-none",
}


@dataclass(frozen=True)
class StatusCount:
    status: str
    label: str
    badge: str
    count: int


@dataclass(frozen=True)
class OutcomeSummary:
    """The section header's figures: key results by status, and how many are stale."""

    total: int
    counts: list[StatusCount]
    stale: int


def measurement_form(key_result: KeyResult, data: Any = None) -> forms.MeasurementForm:
    return forms.MeasurementForm(data, auto_id=f"m{key_result.pk}_%s")


def key_result_edit_form(key_result: KeyResult, data: Any = None) -> forms.KeyResultForm:
    return forms.KeyResultForm(data, instance=key_result, auto_id=f"kr{key_result.pk}_%s")


def key_result_add_form(outcome: Outcome, data: Any = None) -> forms.KeyResultCreateForm:
    return forms.KeyResultCreateForm(data, auto_id=f"o{outcome.pk}-kr_%s")


def outcome_edit_form(outcome: Outcome, data: Any = None) -> forms.OutcomeForm:
    return forms.OutcomeForm(data, instance=outcome, auto_id=f"o{outcome.pk}_%s")


def outcome_add_form(data: Any = None) -> forms.OutcomeForm:
    return forms.OutcomeForm(data, auto_id="new-outcome_%s")


def decorate_outcomes(
    outcomes: Iterable[Outcome], *, can_edit: bool, today: datetime.date
) -> list[KeyResult]:
    """Give each key result its chart and stale flag and, for an editor, the closed forms the
    page offers (record a measurement; add a key result to each outcome). Returns the key
    results in page order."""
    key_results: list[KeyResult] = []
    for outcome in outcomes:
        outcome.editing = False  # type: ignore[attr-defined]
        outcome.edit_form = None  # type: ignore[attr-defined]
        outcome.add_form_open = False  # type: ignore[attr-defined]
        outcome.key_result_form = key_result_add_form(outcome) if can_edit else None  # type: ignore[attr-defined]
        for kr in outcome.key_results.all():
            kr.chart = key_result_chart(kr, list(kr.measurements.all()), today)  # type: ignore[attr-defined]
            kr.stale = kr.is_stale(today)  # type: ignore[attr-defined]
            kr.badge = STATUS_BADGES[kr.status]  # type: ignore[attr-defined]
            kr.editing = False  # type: ignore[attr-defined]
            kr.edit_form = None  # type: ignore[attr-defined]
            kr.measure_open = False  # type: ignore[attr-defined]
            kr.measurement_form = measurement_form(kr) if can_edit else None  # type: ignore[attr-defined]
            key_results.append(kr)
    return key_results


def outcome_summary(key_results: list[KeyResult]) -> OutcomeSummary:
    """Key results by status (every status, zeros included) and the stale ones, from the rows
    the page already holds."""
    counts = [
        StatusCount(
            status=status.value,
            label=status.label,
            badge=STATUS_BADGES[status],
            count=sum(1 for kr in key_results if kr.status == status),
        )
        for status in KeyResult.Status
    ]
    stale = sum(1 for kr in key_results if getattr(kr, "stale", False))
    return OutcomeSummary(total=len(key_results), counts=counts, stale=stale)


# History: each change's fields in words.

SUBJECT_LABELS = {
    "outcome": "Outcome",
    "key_result": "Key result",
    "measurement": "Measurement",
    "hypothesis": "Hypothesis",
    "roadmap_item": "Roadmap item",
}
ACTION_WORDS: dict[str, str] = {
    ChangeRecord.Action.CREATED: "added",
    ChangeRecord.Action.UPDATED: "changed",
    ChangeRecord.Action.DELETED: "deleted",
    ChangeRecord.Action.MOVED: "moved",
    ChangeRecord.Action.IMPORTED: "imported",
}
FIELD_LABELS = {
    "statement": "outcome",
    "period_start": "period from",
    "period_end": "period to",
    "customer_facing": "customer-facing",
    "start_date": "start date",
    "target_date": "target date",
    "expected_outcome": "expected outcome",
    "key_result": "key result",
    "key_results": "key results",
    "expected_move": "expected move",
}
CHOICES: dict[str, dict[str, str]] = {
    "kind": dict(KeyResult.Kind.choices),
    "direction": dict(KeyResult.Direction.choices),
    "status": dict(Hypothesis.Status.choices),
    "horizon": dict(RoadmapItem.Horizon.choices),
}
NUMBER_FIELDS = {"baseline", "target", "value", "expected_move"}
# Bookkeeping a person does not set: left out of the history's field list.
QUIET_FIELDS = {"order"}


@dataclass(frozen=True)
class FieldChange:
    label: str
    before: str
    after: str


def _value_text(field: str, value: Any, key_result_names: dict[int, str]) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if field in CHOICES:
        return CHOICES[field].get(str(value), str(value))
    if field == "key_result":
        return key_result_names.get(value, f"key result #{value}")
    if field == "key_results" and isinstance(value, list):
        return ", ".join(key_result_names.get(pk, f"#{pk}") for pk in value)
    if field in NUMBER_FIELDS:
        try:
            return number_text(value)
        except ArithmeticError:
            return str(value)
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            day = datetime.date.fromisoformat(value)
        except ValueError:
            return value
        return f"{day.day} {day:%b %Y}"
    return str(value)


def decorate_history(records: list[ChangeRecord], key_results: list[KeyResult]) -> None:
    """Give each change its subject and action in words and its changed fields as text (for a
    creation the values set, for a deletion the values it had)."""
    names = {kr.pk: kr.name for kr in key_results}
    for record in records:
        changes = []
        for field, before, after in record.changed_fields():
            if field in QUIET_FIELDS:
                continue
            created = record.action in (ChangeRecord.Action.CREATED, ChangeRecord.Action.IMPORTED)
            if created and (after in (None, "", []) or after is False):
                continue  # a new row's empty fields say nothing
            label = FIELD_LABELS.get(field, field.replace("_", " "))
            changes.append(
                FieldChange(
                    label=label,
                    before=_value_text(field, before, names),
                    after=_value_text(field, after, names),
                )
            )
        record.subject_text = SUBJECT_LABELS.get(record.subject_type, record.subject_type)  # type: ignore[attr-defined]
        record.action_text = ACTION_WORDS.get(record.action, record.action)  # type: ignore[attr-defined]
        record.changes = changes  # type: ignore[attr-defined]
