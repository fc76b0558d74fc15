"""Writes of allocations: the two limits, stale edits, the approval workflow and its trail.

Limits (DESIGN.md, "Funding"): a team's allocations in a period never exceed 100 % of its capacity
cost; the allocations into a value stream never exceed its envelope for the period. Both are
checked inside the transaction that writes, after locking the team's and the value stream's rows
(``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite writes one transaction at a time), so two finance
users saving at once cannot both take the last of a team or an envelope. Locks are always taken
teams first, then value streams, each in id order, so writers never deadlock.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from funding.capacity import allocation_amount, team_capacities
from funding.models import Allocation, AllocationChange, AllocationStatus, Envelope, FiscalPeriod
from products.models import Team
from valuestreams.models import ValueStream

HUNDRED = Decimal("100")
ZERO = Decimal("0.00")


def money_text(value: Decimal) -> str:
    """Money for a message: symbol, thousands separators, cents."""
    sign = "-" if value < 0 else ""
    return f"{sign}{settings.CURRENCY_SYMBOL}{abs(value):,.2f}"


def percent_text(value: Decimal) -> str:
    return f"{value:.2f} %"


def lock_cells(*, team_ids: Iterable[int], value_stream_ids: Iterable[int]) -> None:
    """Lock the rows whose allocations (or actuals) are about to be checked or written: teams,
    then value streams, each in id order, until the transaction ends."""
    teams = sorted(set(team_ids))
    streams = sorted(set(value_stream_ids))
    if teams:
        list(Team.objects.select_for_update().filter(pk__in=teams).order_by("pk").values_list("pk"))
    if streams:
        list(
            ValueStream.objects.select_for_update()
            .filter(pk__in=streams)
            .order_by("pk")
            .values_list("pk")
        )


def team_allocated_percent(
    *, period: FiscalPeriod, team_id: int, exclude_value_stream_id: int | None = None
) -> Decimal:
    """Sum of a team's allocation percents in the period (optionally without one cell)."""
    qs = Allocation.objects.filter(period=period, team_id=team_id)
    if exclude_value_stream_id is not None:
        qs = qs.exclude(value_stream_id=exclude_value_stream_id)
    return qs.aggregate(total=Sum("percent"))["total"] or ZERO


def value_stream_allocated(
    *, period: FiscalPeriod, value_stream_id: int, exclude_team_id: int | None = None
) -> Decimal:
    """Money allocated into a value stream in the period: each cell's amount to the cent, summed."""
    qs = Allocation.objects.filter(period=period, value_stream_id=value_stream_id)
    if exclude_team_id is not None:
        qs = qs.exclude(team_id=exclude_team_id)
    cells = list(qs.values_list("team_id", "percent"))
    if not cells:
        return ZERO
    capacities = team_capacities(period=period, team_ids={team_id for team_id, _ in cells})
    return sum(
        (
            allocation_amount(percent=percent, capacity_cost=capacities[team_id].cost)
            for team_id, percent in cells
        ),
        ZERO,
    )


@dataclass(frozen=True)
class LimitBreach:
    """A limit that a set of cells would break, with a message naming it and by how much."""

    field: str
    message: str


def check_team_limit(*, period: FiscalPeriod, team: Team, total: Decimal) -> LimitBreach | None:
    if total <= HUNDRED:
        return None
    return LimitBreach(
        "percent",
        f"{team.name} would be allocated {percent_text(total)} of its capacity in {period.name}: "
        f"{percent_text(total - HUNDRED)} over the 100 % limit.",
    )


def check_envelope_limit(
    *, period: FiscalPeriod, value_stream: ValueStream, total: Decimal
) -> LimitBreach | None:
    envelope = Envelope.objects.filter(period=period, value_stream=value_stream).first()
    if envelope is None or total <= envelope.amount:
        return None
    return LimitBreach(
        "percent",
        f"{value_stream.name} would receive {money_text(total)} in {period.name}: "
        f"{money_text(total - envelope.amount)} over its envelope of {money_text(envelope.amount)}.",
    )


def _record(
    *,
    actor: User | AbstractBaseUser | None,
    period: FiscalPeriod,
    team_id: int,
    value_stream_id: int,
    allocation: Allocation | None,
    action: str,
    before: tuple[Decimal | None, str],
    after: tuple[Decimal | None, str],
    reason: str = "",
) -> AllocationChange:
    return AllocationChange.objects.create(
        period=period,
        allocation=allocation,
        team_id=team_id,
        value_stream_id=value_stream_id,
        action=action,
        percent_before=before[0],
        status_before=before[1],
        percent_after=after[0],
        status_after=after[1],
        reason=reason,
        actor=actor,  # type: ignore[misc]
        at=timezone.now(),
    )


def _stale(allocation: Allocation | None, version: int | None) -> bool:
    """True when the page the edit comes from showed another version of the cell.

    ``version`` 0 means the page showed the cell empty; None means the caller does not check
    (an API client that sends no version).
    """
    if version is None:
        return False
    current = allocation.version if allocation is not None else 0
    return current != version


@transaction.atomic
def allocation_set_percent(
    *,
    actor: AbstractBaseUser,
    period: FiscalPeriod,
    team: Team,
    value_stream: ValueStream,
    percent: Decimal | None,
    version: int | None = None,
    reason: str = "",
) -> Allocation | None:
    """Set one cell of the period's allocation matrix; ``None`` (or an empty cell) removes it.

    Refused with a message when the period is closed, the page was stale, an approved
    allocation changes without a reason, or a limit would be exceeded (the message names the
    limit and by how much). Returns the allocation as saved, or None when the cell is now empty.
    """
    period = FiscalPeriod.objects.select_for_update().get(pk=period.pk)
    period.ensure_open()
    lock_cells(team_ids=[team.pk], value_stream_ids=[value_stream.pk])
    allocation = (
        Allocation.objects.select_for_update()
        .filter(period=period, team=team, value_stream=value_stream)
        .first()
    )
    if _stale(allocation, version):
        who = ""
        if allocation is not None:
            last = allocation.changes.select_related("actor").order_by("-at", "-pk").first()
            if last is not None and last.actor is not None:
                who = f" by {last.actor.get_full_name() or last.actor.get_username()}"
        raise ValidationError(
            {
                "percent": ValidationError(
                    f"{team.name} -> {value_stream.name} was changed{who} since this page was "
                    "loaded; it now shows the saved value. Check it and try again.",
                    code="stale",
                )
            }
        )
    if percent is not None:
        percent = Decimal(percent).quantize(Decimal("0.01"))
        if percent < 0 or percent > HUNDRED:
            raise ValidationError({"percent": "A percent is between 0 and 100."})
    before = (allocation.percent, allocation.status) if allocation is not None else (None, "")
    if allocation is not None and allocation.percent == percent:
        return allocation
    reason = reason.strip()
    if allocation is not None and allocation.status == AllocationStatus.APPROVED and not reason:
        raise ValidationError(
            {
                "reason": ValidationError(
                    "This allocation is approved: say why it changes.", code="reason_required"
                )
            }
        )

    if percent is None or percent == 0:
        if allocation is None:
            return None
        _record(
            actor=actor,
            period=period,
            team_id=team.pk,
            value_stream_id=value_stream.pk,
            allocation=None,
            action=AllocationChange.Action.DELETED,
            before=before,
            after=(None, ""),
            reason=reason,
        )
        allocation.delete()
        return None

    team_total = (
        team_allocated_percent(
            period=period, team_id=team.pk, exclude_value_stream_id=value_stream.pk
        )
        + percent
    )
    breach = check_team_limit(period=period, team=team, total=team_total)
    if breach is None:
        capacity = team_capacities(period=period, team_ids=[team.pk])[team.pk].cost
        stream_total = value_stream_allocated(
            period=period, value_stream_id=value_stream.pk, exclude_team_id=team.pk
        ) + allocation_amount(percent=percent, capacity_cost=capacity)
        breach = check_envelope_limit(period=period, value_stream=value_stream, total=stream_total)
    if breach is not None:
        raise ValidationError({breach.field: ValidationError(breach.message, code="limit")})

    if allocation is None:
        allocation = Allocation(
            period=period, team=team, value_stream=value_stream, percent=percent
        )
        allocation.full_clean()
        allocation.save()
        action = AllocationChange.Action.CREATED
    else:
        allocation.percent = percent
        allocation.version += 1
        allocation.full_clean()
        allocation.save(update_fields=["percent", "version", "updated_at"])
        action = AllocationChange.Action.CHANGED
    _record(
        actor=actor,
        period=period,
        team_id=team.pk,
        value_stream_id=value_stream.pk,
        allocation=allocation,
        action=action,
        before=before,
        after=(allocation.percent, allocation.status),
        reason=reason,
    )
    return allocation


WORKFLOW = {
    "propose": (
        AllocationStatus.DRAFT,
        AllocationStatus.PROPOSED,
        AllocationChange.Action.PROPOSED,
    ),
    "approve": (
        AllocationStatus.PROPOSED,
        AllocationStatus.APPROVED,
        AllocationChange.Action.APPROVED,
    ),
    "return": (AllocationStatus.PROPOSED, AllocationStatus.DRAFT, AllocationChange.Action.RETURNED),
}


@transaction.atomic
def allocations_move(
    *,
    actor: AbstractBaseUser,
    period: FiscalPeriod,
    step: str,
    reason: str = "",
    team: Team | None = None,
    value_stream: ValueStream | None = None,
) -> int:
    """Move the period's allocations one step: ``propose`` (draft -> proposed), ``approve``
    (proposed -> approved) or ``return`` (proposed -> draft), optionally only one team's or one
    value stream's. Each moved allocation gets a line in the trail. Returns how many moved.
    """
    if step not in WORKFLOW:
        raise ValidationError({"step": f"Unknown step {step!r}: propose, approve or return."})
    period = FiscalPeriod.objects.select_for_update().get(pk=period.pk)
    period.ensure_open()
    source, target, action = WORKFLOW[step]
    qs = Allocation.objects.select_for_update().filter(period=period, status=source)
    if team is not None:
        qs = qs.filter(team=team)
    if value_stream is not None:
        qs = qs.filter(value_stream=value_stream)
    moving = list(qs.order_by("pk"))
    if not moving:
        raise ValidationError(
            {"step": f"No {source.label.lower()} allocations to {step} in {period.name}."}
        )
    now = timezone.now()
    for allocation in moving:
        allocation.status = target
        allocation.version += 1
        allocation.updated_at = now
    Allocation.objects.bulk_update(moving, ["status", "version", "updated_at"])
    AllocationChange.objects.bulk_create(
        AllocationChange(
            period=period,
            allocation=allocation,
            team_id=allocation.team_id,
            value_stream_id=allocation.value_stream_id,
            action=action,
            percent_before=allocation.percent,
            percent_after=allocation.percent,
            status_before=source,
            status_after=target,
            reason=reason.strip(),
            actor=actor,  # type: ignore[misc]
            at=now,
        )
        for allocation in moving
    )
    return len(moving)


def plan_status(statuses: Iterable[str]) -> str:
    """Where a period's plan stands: the least advanced status among its allocations ("" if none)."""
    order = [AllocationStatus.DRAFT, AllocationStatus.PROPOSED, AllocationStatus.APPROVED]
    present = set(statuses)
    for status in order:
        if status in present:
            return status
    return ""
