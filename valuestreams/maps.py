"""Writes and reads of value stream maps: the maps, their ordered steps and improvement outcomes.

Services take the acting user as ``actor`` and raise ``ValidationError`` (by field) for bad input;
each runs in one transaction. The steps of a map are numbered 1..n without gaps: every write that
adds, moves or removes a step first locks the map's row, so two people editing the same map at
once queue up instead of giving two steps the same place.
"""

import datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, Count, F, IntegerField, Prefetch, QuerySet, Value, When

from portfolio.common.services import model_update
from valuestreams.models import ImprovementOutcome, MapStep, ValueStream, ValueStreamMap
from valuestreams.models.flow import status_key

User = AbstractBaseUser | AnonymousUser

MAP_FIELDS = ("state", "name", "mapped_on", "notes")
STEP_FIELDS = (
    "name",
    "process_time_minutes",
    "lead_time_minutes",
    "percent_complete_accurate",
    "performed_by",
    "notes",
)
OUTCOME_FIELDS = ("description", "metric", "comparator", "target")
# Orders are parked above this while a map's steps are renumbered, so that no statement ever
# gives two steps the same place (the unique constraint is checked row by row on PostgreSQL).
PARKING = 1_000_000


# Reads ------------------------------------------------------------------------------------------


def map_list(*, user: User) -> QuerySet[ValueStreamMap]:
    """Maps with their value stream and step count (the API list and the value stream's panel)."""
    if not user.is_authenticated:
        return ValueStreamMap.objects.none()
    return (
        ValueStreamMap.objects.select_related("value_stream")
        .annotate(step_count=Count("steps"))
        .order_by("value_stream__name", "-mapped_on", "state", "id")
    )


def maps_for_value_stream(*, user: User, value_stream: ValueStream) -> QuerySet[ValueStreamMap]:
    """A value stream's maps, newest first, current state before future state on a day."""
    return (
        map_list(user=user).filter(value_stream=value_stream).order_by("-mapped_on", "state", "id")
    )


def map_detail_queryset(*, user: User) -> QuerySet[ValueStreamMap]:
    """Maps with their value stream, steps (in order) and improvement outcomes: what the map
    page, the metrics endpoint and the comparison draw from, in three queries."""
    if not user.is_authenticated:
        return ValueStreamMap.objects.none()
    return ValueStreamMap.objects.select_related("value_stream").prefetch_related(
        Prefetch("steps", queryset=MapStep.objects.order_by("order", "id")),
        Prefetch("improvement_outcomes", queryset=ImprovementOutcome.objects.order_by("id")),
    )


def step_list(*, user: User) -> QuerySet[MapStep]:
    """Steps in map order (the steps endpoint)."""
    if not user.is_authenticated:
        return MapStep.objects.none()
    return MapStep.objects.order_by("map_id", "order", "id")


def improvement_outcome_list(*, user: User) -> QuerySet[ImprovementOutcome]:
    """Improvement outcomes with their map."""
    if not user.is_authenticated:
        return ImprovementOutcome.objects.none()
    return ImprovementOutcome.objects.select_related("map").order_by("map_id", "id")


# Maps -------------------------------------------------------------------------------------------


@transaction.atomic
def map_create(
    *,
    actor: AbstractBaseUser,
    value_stream: ValueStream,
    state: str = ValueStreamMap.State.CURRENT,
    name: str = "",
    mapped_on: datetime.date | None = None,
    notes: str = "",
) -> ValueStreamMap:
    """Start a map of a value stream (current or future state), dated the day of the mapping."""
    vsm = ValueStreamMap(value_stream=value_stream, state=state, name=name, notes=notes)
    if mapped_on is not None:
        vsm.mapped_on = mapped_on
    vsm.full_clean()
    vsm.save()
    return vsm


@transaction.atomic
def map_update(*, actor: AbstractBaseUser, vsm: ValueStreamMap, **data: Any) -> ValueStreamMap:
    """Change a map's state, name, date or notes."""
    vsm, _ = model_update(instance=vsm, fields=MAP_FIELDS, data=data)
    return vsm


@transaction.atomic
def map_delete(*, actor: AbstractBaseUser, vsm: ValueStreamMap) -> None:
    """Delete a map with its steps and improvement outcomes."""
    vsm.delete()


# Steps ------------------------------------------------------------------------------------------


def _lock(vsm: ValueStreamMap) -> None:
    ValueStreamMap.objects.select_for_update().filter(pk=vsm.pk).values_list(
        "pk", flat=True
    ).first()


def _step_ids(vsm: ValueStreamMap, *, exclude: int | None = None) -> list[int]:
    qs = MapStep.objects.filter(map=vsm)
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    return list(qs.order_by("order", "id").values_list("pk", flat=True))


def _renumber(vsm: ValueStreamMap, ids: list[int]) -> None:
    """Give the steps ``ids`` the places 1..n in that order (two statements)."""
    if not ids:
        return
    steps = MapStep.objects.filter(map=vsm, pk__in=ids)
    steps.update(order=F("order") + PARKING)
    steps.update(
        order=Case(
            *(When(pk=pk, then=Value(place)) for place, pk in enumerate(ids, start=1)),
            output_field=IntegerField(),
        )
    )


def _place(order: Any, count: int) -> int:
    """Where a step goes among ``count`` others: 1..count+1 (beyond the end means last)."""
    if order is None:
        return count + 1
    if not isinstance(order, int) or isinstance(order, bool) or order < 1:
        raise ValidationError({"order": "A place is a whole number from 1."})
    return min(order, count + 1)


@transaction.atomic
def step_add(
    *,
    actor: AbstractBaseUser,
    vsm: ValueStreamMap,
    name: str,
    process_time_minutes: Decimal,
    lead_time_minutes: Decimal,
    percent_complete_accurate: Decimal = Decimal(100),
    performed_by: str = "",
    notes: str = "",
    order: int | None = None,
) -> MapStep:
    """Add a step at place ``order`` (1 = first; None or beyond the end: last); the steps from
    that place on move one down."""
    step = MapStep(
        map=vsm,
        order=0,
        name=name,
        process_time_minutes=process_time_minutes,
        lead_time_minutes=lead_time_minutes,
        percent_complete_accurate=percent_complete_accurate,
        performed_by=performed_by,
        notes=notes,
    )
    step.full_clean(exclude=["order"])
    _lock(vsm)
    ids = _step_ids(vsm)
    place = _place(order, len(ids))
    step.order = PARKING * 2
    step.save()
    ids.insert(place - 1, step.pk)
    _renumber(vsm, ids)
    step.refresh_from_db(fields=["order"])
    return step


@transaction.atomic
def step_update(*, actor: AbstractBaseUser, step: MapStep, **data: Any) -> MapStep:
    """Change a step's name, times, %C&A, who does it or notes; ``order`` moves it."""
    order = data.pop("order", None)
    # The place held in memory may be stale (a move since it was read): validate with the stored one.
    _lock(step.map)
    step.refresh_from_db(fields=["order"])
    step, _ = model_update(instance=step, fields=STEP_FIELDS, data=data)
    if order is not None:
        step = step_move(actor=actor, step=step, order=order)
    return step


@transaction.atomic
def step_move(*, actor: AbstractBaseUser, step: MapStep, order: int) -> MapStep:
    """Move a step to place ``order`` (1 = first; beyond the end: last); the others close up.

    The places are read after the map is locked, so a move made a moment earlier by someone else
    is taken into account rather than overwritten.
    """
    vsm = step.map
    _lock(vsm)
    others = _step_ids(vsm, exclude=step.pk)
    place = _place(order, len(others))
    others.insert(place - 1, step.pk)
    _renumber(vsm, others)
    step.refresh_from_db(fields=["order"])
    return step


def step_shift(*, actor: AbstractBaseUser, step: MapStep, direction: str) -> MapStep:
    """Move a step one place ``up`` (earlier) or ``down`` (later); at either end it stays."""
    if direction not in ("up", "down"):
        raise ValidationError({"direction": "Move a step up or down."})
    with transaction.atomic():
        _lock(step.map)
        step.refresh_from_db(fields=["order"])
        target = step.order - 1 if direction == "up" else step.order + 1
        if target < 1:
            return step
        return step_move(actor=actor, step=step, order=target)


@transaction.atomic
def step_delete(*, actor: AbstractBaseUser, step: MapStep) -> None:
    """Remove a step; the steps after it close the gap."""
    vsm = step.map
    _lock(vsm)
    step.delete()
    _renumber(vsm, _step_ids(vsm))


# Improvement outcomes ---------------------------------------------------------------------------


@transaction.atomic
def improvement_outcome_create(
    *,
    actor: AbstractBaseUser,
    vsm: ValueStreamMap,
    description: str,
    metric: str,
    comparator: str,
    target: Decimal,
) -> ImprovementOutcome:
    """State what the mapping is meant to achieve: a figure of the map below or above a target."""
    outcome = ImprovementOutcome(
        map=vsm, description=description, metric=metric, comparator=comparator, target=target
    )
    _check_target(outcome)
    outcome.full_clean()
    outcome.save()
    return outcome


@transaction.atomic
def improvement_outcome_update(
    *, actor: AbstractBaseUser, outcome: ImprovementOutcome, **data: Any
) -> ImprovementOutcome:
    """Reword an improvement outcome or change its figure, comparator or target."""
    changed = [f for f in OUTCOME_FIELDS if f in data and getattr(outcome, f) != data[f]]
    for field in changed:
        setattr(outcome, field, data[field])
    if changed:
        _check_target(outcome)
        outcome.full_clean()
        outcome.save(update_fields=[*changed, "updated_at"])
    return outcome


@transaction.atomic
def improvement_outcome_delete(*, actor: AbstractBaseUser, outcome: ImprovementOutcome) -> None:
    """Remove an improvement outcome."""
    outcome.delete()


def _check_target(outcome: ImprovementOutcome) -> None:
    """Targets that a map can reach: times above 0, percents within 0..100."""
    target = outcome.target
    if target is None:
        return
    if outcome.metric in ("activity_ratio", "rolled_percent_complete_accurate"):
        if not (0 <= target <= 100):
            raise ValidationError({"target": "A percent target lies between 0 and 100."})
    elif target < 0:
        raise ValidationError({"target": "A time target cannot be negative."})


def step_set_statuses(*, actor: AbstractBaseUser, step: MapStep, statuses: list[Any]) -> MapStep:
    """Set the tracker statuses a step covers (the measured value stream reads the time items
    spend in them). Each must be a non-empty string; surrounding spaces are dropped and a name
    given twice (as ``status_key`` matches it) is kept once, in the order given."""
    names: list[str] = []
    seen: set[str] = set()
    for value in statuses:
        if not isinstance(value, str) or not value.strip():
            raise ValidationError({"statuses": "Each status must be a non-empty name."})
        key = status_key(value)
        if key not in seen:
            seen.add(key)
            names.append(value.strip())
    step.statuses = names
    step.save(update_fields=["statuses", "updated_at"])
    return step
