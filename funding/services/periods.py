"""Writes of fiscal periods, their rate cards and value-stream envelopes.

A closed period is read-only: every service here that touches one refuses with a message.
Periods never overlap; the check runs under a lock so two people opening periods at once cannot
both succeed.
"""

from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from funding.models import Envelope, FiscalPeriod, Rate
from funding.services.allocations import lock_cells, money_text, value_stream_allocated
from portfolio.common.services import model_update
from products.models import Discipline
from valuestreams.models import ValueStream

PERIOD_FIELDS = ("name", "start", "end")
STATUS_MOVES: dict[str, set[str]] = {
    FiscalPeriod.Status.PLANNING: {FiscalPeriod.Status.ACTIVE},
    FiscalPeriod.Status.ACTIVE: {FiscalPeriod.Status.CLOSED, FiscalPeriod.Status.PLANNING},
    FiscalPeriod.Status.CLOSED: set(),
}


def _lock_periods() -> None:
    """Serialise period writes: a table lock on PostgreSQL; SQLite already writes one at a time."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {FiscalPeriod._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")


def _check_no_overlap(*, start: date, end: date, exclude_pk: int | None = None) -> None:
    others = FiscalPeriod.objects.overlapping(start, end)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    clash = others.order_by("start").first()
    if clash is not None:
        raise ValidationError(
            {
                "start": f"The period overlaps {clash.name} ({clash.start:%d %b %Y} to "
                f"{clash.end:%d %b %Y}); periods never overlap."
            }
        )


@transaction.atomic
def fiscal_period_create(
    *,
    actor: AbstractBaseUser,
    name: str,
    start: date,
    end: date,
    copy_rates_from: FiscalPeriod | None = None,
) -> FiscalPeriod:
    """Open a period in planning; optionally start its rate card from another period's rates."""
    _lock_periods()
    period = FiscalPeriod(name=name, start=start, end=end)
    period.full_clean()
    _check_no_overlap(start=start, end=end)
    period.save()
    if copy_rates_from is not None:
        Rate.objects.bulk_create(
            Rate(period=period, discipline_id=rate.discipline_id, annual_cost=rate.annual_cost)
            for rate in copy_rates_from.rates.all()
        )
    return period


@transaction.atomic
def fiscal_period_update(
    *, actor: AbstractBaseUser, period: FiscalPeriod, **data: Any
) -> FiscalPeriod:
    """Rename or re-date a period that is not closed; it still may not overlap another."""
    _lock_periods()
    period = FiscalPeriod.objects.select_for_update().get(pk=period.pk)
    period.ensure_open()
    start, end = data.get("start", period.start), data.get("end", period.end)
    if start and end and end > start:
        _check_no_overlap(start=start, end=end, exclude_pk=period.pk)
    period, _ = model_update(instance=period, fields=PERIOD_FIELDS, data=data)
    return period


@transaction.atomic
def fiscal_period_set_status(
    *, actor: AbstractBaseUser, period: FiscalPeriod, status: str
) -> FiscalPeriod:
    """Move a period planning -> active -> closed (active may go back to planning).

    Closing is final. Only one period is active at a time.
    """
    period = FiscalPeriod.objects.select_for_update().get(pk=period.pk)
    if status == period.status:
        return period
    if status not in STATUS_MOVES.get(period.status, set()):
        raise ValidationError(
            {
                "status": f"{period.name} is {period.get_status_display().lower()}; it cannot "
                f"become {FiscalPeriod.Status(status).label.lower() if status in FiscalPeriod.Status.values else status}."
            }
        )
    if status == FiscalPeriod.Status.ACTIVE:
        other = (
            FiscalPeriod.objects.filter(status=FiscalPeriod.Status.ACTIVE)
            .exclude(pk=period.pk)
            .first()
        )
        if other is not None:
            raise ValidationError(
                {"status": f"{other.name} is active; close it before activating {period.name}."}
            )
    period.status = status
    period.save(update_fields=["status", "updated_at"])
    return period


def _open_period(period: FiscalPeriod) -> FiscalPeriod:
    locked = FiscalPeriod.objects.select_for_update().get(pk=period.pk)
    locked.ensure_open()
    return locked


@transaction.atomic
def rate_set(
    *, actor: AbstractBaseUser, period: FiscalPeriod, discipline: Discipline, annual_cost: Decimal
) -> Rate:
    """Set a discipline's annual fully-loaded cost on the period's rate card (create or change)."""
    _open_period(period)
    rate = Rate.objects.filter(period=period, discipline=discipline).first()
    if rate is None:
        rate = Rate(period=period, discipline=discipline, annual_cost=annual_cost)
        rate.full_clean()
        rate.save()
        return rate
    rate, _ = model_update(instance=rate, fields=["annual_cost"], data={"annual_cost": annual_cost})
    return rate


@transaction.atomic
def rate_delete(*, actor: AbstractBaseUser, rate: Rate) -> None:
    """Take a discipline off the period's rate card (its members become unpriced)."""
    _open_period(rate.period)
    rate.delete()


@transaction.atomic
def envelope_set(
    *,
    actor: AbstractBaseUser,
    period: FiscalPeriod,
    value_stream: ValueStream,
    amount: Decimal,
    min_debt_risk_percent: Decimal | None = None,
    notes: str = "",
) -> Envelope:
    """Set a value stream's envelope for the period (create or change).

    An envelope cannot drop below what is already allocated into the value stream: the
    allocations hold, so the envelope must be raised or the allocations lowered first.
    """
    period = _open_period(period)
    lock_cells(team_ids=[], value_stream_ids=[value_stream.pk])
    allocated = value_stream_allocated(period=period, value_stream_id=value_stream.pk)
    if amount < allocated:
        raise ValidationError(
            {
                "amount": f"{money_text(allocated)} is already allocated to {value_stream.name} in "
                f"{period.name}; the envelope cannot be less ({money_text(allocated - amount)} short)."
            }
        )
    envelope = Envelope.objects.filter(period=period, value_stream=value_stream).first()
    data = {"amount": amount, "min_debt_risk_percent": min_debt_risk_percent, "notes": notes}
    if envelope is None:
        envelope = Envelope(period=period, value_stream=value_stream, **data)
        envelope.full_clean()
        envelope.save()
        return envelope
    envelope, _ = model_update(instance=envelope, fields=list(data), data=data)
    return envelope


@transaction.atomic
def envelope_delete(*, actor: AbstractBaseUser, envelope: Envelope) -> None:
    """Remove an envelope: the value stream is then funded without one (a pitfall the dashboard shows)."""
    _open_period(envelope.period)
    envelope.delete()
