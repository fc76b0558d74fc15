"""Scenarios: a named copy of a period's allocations to change freely, compare and promote.

While it is a scenario its cells are free: the two limits (a team at most 100 % of its capacity,
a value stream at most its envelope) are shown by ``scenario_compare``, not enforced. Promoting
it replaces the period's allocations with its cells in one transaction, under the same locks as
``allocation_set_percent`` (the period, then the teams, then the value streams involved), and
there both limits are enforced for the plan that would result. Every allocation the promotion
creates, changes or removes gets a line in the allocation trail (action ``promoted``) with the
promotion's reason; the allocations it creates or changes are drafts again, to be approved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from funding.capacity import TeamCapacity, allocation_amount, team_capacities
from funding.models import (
    Allocation,
    AllocationChange,
    AllocationStatus,
    Envelope,
    FiscalPeriod,
    Scenario,
    ScenarioCell,
)
from funding.services.allocations import lock_cells, money_text, percent_text
from products.models import Team
from valuestreams.models import ValueStream

HUNDRED = Decimal("100")
ZERO = Decimal("0.00")
CENT = Decimal("0.01")


def _ensure_writable(scenario: Scenario, period: FiscalPeriod) -> None:
    period.ensure_open()
    if scenario.promoted_at is not None:
        raise ValidationError(
            f"The scenario “{scenario.name}” was promoted to the plan: it is read-only now. "
            "Copy the plan into a new scenario to try something else."
        )


def _clean_percent(percent: Decimal | None) -> Decimal | None:
    if percent is None:
        return None
    value = Decimal(percent).quantize(CENT)
    if value < 0 or value > HUNDRED:
        raise ValidationError({"percent": "A percent is between 0 and 100."})
    return value


@transaction.atomic
def scenario_create(
    *, actor: AbstractBaseUser, period: FiscalPeriod, name: str, description: str = ""
) -> Scenario:
    """Copy the period's allocations, as they stand, into a new named scenario."""
    period = FiscalPeriod.objects.get(pk=period.pk)
    period.ensure_open()
    scenario = Scenario(
        period=period,
        name=name.strip(),
        description=description.strip(),
        created_by=actor,  # type: ignore[misc]
    )
    scenario.full_clean()
    scenario.save()
    ScenarioCell.objects.bulk_create(
        ScenarioCell(
            scenario=scenario,
            team_id=team_id,
            value_stream_id=value_stream_id,
            percent=percent,
        )
        for team_id, value_stream_id, percent in Allocation.objects.filter(period=period)
        .order_by("pk")
        .values_list("team_id", "value_stream_id", "percent")
    )
    return scenario


@transaction.atomic
def scenario_update(
    *, actor: AbstractBaseUser, scenario: Scenario, name: str, description: str = ""
) -> Scenario:
    """Rename a scenario or change its description (allowed until the period closes)."""
    scenario.period.ensure_open()
    scenario.name = name.strip()
    scenario.description = description.strip()
    scenario.full_clean()
    scenario.save(update_fields=["name", "description", "updated_at"])
    return scenario


@transaction.atomic
def scenario_set_cell(
    *,
    actor: AbstractBaseUser,
    scenario: Scenario,
    team: Team,
    value_stream: ValueStream,
    percent: Decimal | None,
) -> ScenarioCell | None:
    """Set one cell of the scenario; ``None`` or 0 empties it. Limits are not enforced here
    (``scenario_compare`` shows them), only that a percent is between 0 and 100."""
    scenario = Scenario.objects.select_related("period").get(pk=scenario.pk)
    _ensure_writable(scenario, scenario.period)
    value = _clean_percent(percent)
    cell = ScenarioCell.objects.filter(scenario=scenario, team=team, value_stream=value_stream)
    if value is None or value == 0:
        cell.delete()
        return None
    existing = cell.first()
    if existing is None:
        existing = ScenarioCell(
            scenario=scenario, team=team, value_stream=value_stream, percent=value
        )
        existing.full_clean()
        existing.save()
    elif existing.percent != value:
        existing.percent = value
        existing.full_clean()
        existing.save(update_fields=["percent"])
    Scenario.objects.filter(pk=scenario.pk).update(updated_at=timezone.now())
    return existing


@transaction.atomic
def scenario_delete(*, actor: AbstractBaseUser, scenario: Scenario) -> None:
    """Delete a scenario and its cells. A promoted one may go too: the allocation trail keeps
    what its promotion changed, who promoted it and why."""
    scenario.period.ensure_open()
    scenario.delete()


# Comparing a scenario with the plan.


@dataclass
class CompareCell:
    """One cell: the plan's percent and amount beside the scenario's (None: empty)."""

    team_id: int
    value_stream_id: int
    plan_percent: Decimal | None
    plan_amount: Decimal | None
    scenario_percent: Decimal | None
    scenario_amount: Decimal | None

    @property
    def delta_percent(self) -> Decimal:
        return (self.scenario_percent or ZERO) - (self.plan_percent or ZERO)

    @property
    def delta_amount(self) -> Decimal:
        return (self.scenario_amount or ZERO) - (self.plan_amount or ZERO)

    @property
    def changed(self) -> bool:
        return self.plan_percent != self.scenario_percent


@dataclass
class CompareRow:
    """A team: its capacity and its cells in column order, with totals on both sides."""

    team: Team
    capacity: TeamCapacity
    cells: list[CompareCell] = field(default_factory=list)

    @property
    def plan_percent(self) -> Decimal:
        return sum((c.plan_percent or ZERO for c in self.cells), ZERO)

    @property
    def scenario_percent(self) -> Decimal:
        return sum((c.scenario_percent or ZERO for c in self.cells), ZERO)

    @property
    def plan_amount(self) -> Decimal:
        return sum((c.plan_amount or ZERO for c in self.cells), ZERO)

    @property
    def scenario_amount(self) -> Decimal:
        return sum((c.scenario_amount or ZERO for c in self.cells), ZERO)

    @property
    def delta_percent(self) -> Decimal:
        return self.scenario_percent - self.plan_percent

    @property
    def delta_amount(self) -> Decimal:
        return self.scenario_amount - self.plan_amount

    @property
    def unallocated_percent(self) -> Decimal:
        return HUNDRED - self.scenario_percent

    @property
    def unallocated_amount(self) -> Decimal:
        return self.capacity.cost - self.scenario_amount

    @property
    def over(self) -> bool:
        return self.scenario_percent > HUNDRED

    @property
    def over_by(self) -> Decimal:
        return max(self.scenario_percent - HUNDRED, ZERO)


@dataclass
class CompareColumn:
    """A value stream: its envelope and what the plan and the scenario give it."""

    value_stream: ValueStream
    envelope: Decimal | None
    plan_amount: Decimal = ZERO
    scenario_amount: Decimal = ZERO

    @property
    def delta_amount(self) -> Decimal:
        return self.scenario_amount - self.plan_amount

    @property
    def unfunded(self) -> Decimal | None:
        return None if self.envelope is None else self.envelope - self.scenario_amount

    @property
    def over(self) -> bool:
        return self.envelope is not None and self.scenario_amount > self.envelope

    @property
    def over_by(self) -> Decimal:
        if self.envelope is None:
            return ZERO
        return max(self.scenario_amount - self.envelope, ZERO)


@dataclass(frozen=True)
class Breach:
    """A limit the scenario would break: ``kind`` is "team" or "value_stream"."""

    kind: str
    subject_id: int
    name: str
    over_by: Decimal
    message: str


@dataclass
class ScenarioComparison:
    """The scenario against the period's plan, cell by cell and in totals, and the limits it
    would break if promoted."""

    scenario: Scenario
    rows: list[CompareRow]
    columns: list[CompareColumn]

    @property
    def capacity_cost(self) -> Decimal:
        return sum((r.capacity.cost for r in self.rows), ZERO)

    @property
    def plan_amount(self) -> Decimal:
        return sum((r.plan_amount for r in self.rows), ZERO)

    @property
    def scenario_amount(self) -> Decimal:
        return sum((r.scenario_amount for r in self.rows), ZERO)

    @property
    def delta_amount(self) -> Decimal:
        return self.scenario_amount - self.plan_amount

    @property
    def envelope_amount(self) -> Decimal:
        return sum((c.envelope or ZERO for c in self.columns), ZERO)

    @property
    def scenario_unallocated(self) -> Decimal:
        return self.capacity_cost - self.scenario_amount

    def changed_cells(self) -> list[tuple[CompareRow, CompareCell, CompareColumn]]:
        """The cells where the scenario differs from the plan, in matrix order."""
        columns = {c.value_stream.pk: c for c in self.columns}
        return [
            (row, cell, columns[cell.value_stream_id])
            for row in self.rows
            for cell in row.cells
            if cell.changed
        ]

    @property
    def breaches(self) -> list[Breach]:
        period = self.scenario.period
        found = [
            Breach(
                "team",
                row.team.pk,
                row.team.name,
                row.over_by,
                f"{row.team.name} would be allocated {percent_text(row.scenario_percent)} of its "
                f"capacity in {period.name}: {percent_text(row.over_by)} over the 100 % limit.",
            )
            for row in self.rows
            if row.over
        ]
        found.extend(
            Breach(
                "value_stream",
                column.value_stream.pk,
                column.value_stream.name,
                column.over_by,
                f"{column.value_stream.name} would receive {money_text(column.scenario_amount)} "
                f"in {period.name}: {money_text(column.over_by)} over its envelope of "
                f"{money_text(column.envelope or ZERO)}.",
            )
            for column in self.columns
            if column.over
        )
        return found


def _comparison(
    *,
    scenario: Scenario,
    period: FiscalPeriod,
    plan: dict[tuple[int, int], Decimal],
    cells: dict[tuple[int, int], Decimal],
) -> ScenarioComparison:
    used_teams = {t for t, _ in plan} | {t for t, _ in cells}
    used_streams = {s for _, s in plan} | {s for _, s in cells}
    teams = list(
        Team.objects.filter(Q(archived_at__isnull=True) | Q(pk__in=used_teams))
        .only("id", "name", "slug", "archived_at")
        .order_by("name", "pk")
    )
    streams = list(
        ValueStream.objects.filter(Q(archived_at__isnull=True) | Q(pk__in=used_streams))
        .only("id", "name", "slug", "archived_at")
        .order_by("name", "pk")
    )
    envelopes = dict(
        Envelope.objects.filter(period=period).values_list("value_stream_id", "amount")
    )
    capacities = team_capacities(period=period, team_ids=[t.pk for t in teams])
    columns = [CompareColumn(value_stream=s, envelope=envelopes.get(s.pk)) for s in streams]
    rows: list[CompareRow] = []
    for team in teams:
        row = CompareRow(team=team, capacity=capacities[team.pk])
        cost = row.capacity.cost
        for column in columns:
            key = (team.pk, column.value_stream.pk)
            plan_percent, scenario_percent = plan.get(key), cells.get(key)
            cell = CompareCell(
                team_id=team.pk,
                value_stream_id=column.value_stream.pk,
                plan_percent=plan_percent,
                plan_amount=None
                if plan_percent is None
                else allocation_amount(percent=plan_percent, capacity_cost=cost),
                scenario_percent=scenario_percent,
                scenario_amount=None
                if scenario_percent is None
                else allocation_amount(percent=scenario_percent, capacity_cost=cost),
            )
            column.plan_amount += cell.plan_amount or ZERO
            column.scenario_amount += cell.scenario_amount or ZERO
            row.cells.append(cell)
        rows.append(row)
    return ScenarioComparison(scenario=scenario, rows=rows, columns=columns)


def scenario_compare(*, scenario: Scenario) -> ScenarioComparison:
    """The scenario beside the period's plan: every cell's percent and amount on both sides and
    the difference, totals per team, per value stream and overall, and the limits it would
    break (team over 100 %, value stream over its envelope, each with by how much).

    Seven queries whatever the size: allocations, cells, teams, value streams, envelopes,
    memberships and rates.
    """
    period = scenario.period
    plan = {
        (t, s): p
        for t, s, p in Allocation.objects.filter(period=period).values_list(
            "team_id", "value_stream_id", "percent"
        )
    }
    cells = {
        (t, s): p
        for t, s, p in ScenarioCell.objects.filter(scenario=scenario).values_list(
            "team_id", "value_stream_id", "percent"
        )
    }
    return _comparison(scenario=scenario, period=period, plan=plan, cells=cells)


@transaction.atomic
def scenario_promote(*, actor: AbstractBaseUser, scenario: Scenario, reason: str) -> Scenario:
    """Make the scenario the period's plan, in one transaction.

    Refused (nothing written) without a reason, for a closed period or an already promoted
    scenario, and when the resulting plan would break a limit: the message names each team over
    100 % and each value stream over its envelope, with by how much. The allocations the
    promotion creates or changes are drafts again; those it leaves as they were keep their
    status; each created, changed or removed one gets a ``promoted`` line in the trail.
    """
    reason = reason.strip()
    if not reason:
        raise ValidationError(
            {"reason": ValidationError("Say why this scenario becomes the plan.", code="required")}
        )
    period = FiscalPeriod.objects.select_for_update().get(pk=scenario.period_id)
    scenario = Scenario.objects.select_for_update().get(pk=scenario.pk)
    scenario.period = period
    _ensure_writable(scenario, period)

    cells = {
        (t, s): p
        for t, s, p in ScenarioCell.objects.filter(scenario=scenario).values_list(
            "team_id", "value_stream_id", "percent"
        )
    }
    current = list(
        Allocation.objects.filter(period=period).values_list("team_id", "value_stream_id")
    )
    lock_cells(
        team_ids={t for t, _ in cells} | {t for t, _ in current},
        value_stream_ids={s for _, s in cells} | {s for _, s in current},
    )
    allocations = {
        (a.team_id, a.value_stream_id): a
        for a in Allocation.objects.select_for_update().filter(period=period).order_by("pk")
    }
    plan = {key: a.percent for key, a in allocations.items()}
    comparison = _comparison(scenario=scenario, period=period, plan=plan, cells=cells)
    breaches = comparison.breaches
    if breaches:
        raise ValidationError(
            [ValidationError(breach.message, code="limit") for breach in breaches]
        )

    now = timezone.now()
    trail: list[AllocationChange] = []

    def record(
        key: tuple[int, int],
        allocation: Allocation | None,
        before: tuple[Decimal | None, str],
        after: tuple[Decimal | None, str],
    ) -> None:
        trail.append(
            AllocationChange(
                period=period,
                allocation=allocation,
                team_id=key[0],
                value_stream_id=key[1],
                action=AllocationChange.Action.PROMOTED,
                percent_before=before[0],
                status_before=before[1],
                percent_after=after[0],
                status_after=after[1],
                reason=reason,
                actor=actor,  # type: ignore[misc]
                at=now,
            )
        )

    for key, allocation in allocations.items():
        if key not in cells:
            record(key, None, (allocation.percent, allocation.status), (None, ""))
    Allocation.objects.filter(
        pk__in=[a.pk for key, a in allocations.items() if key not in cells]
    ).delete()
    for key in sorted(cells):
        percent = cells[key]
        existing = allocations.get(key)
        if existing is None:
            allocation = Allocation(
                period=period,
                team_id=key[0],
                value_stream_id=key[1],
                percent=percent,
                status=AllocationStatus.DRAFT,
            )
            allocation.full_clean()
            allocation.save()
            record(key, allocation, (None, ""), (percent, allocation.status))
        elif existing.percent != percent:
            before = (existing.percent, existing.status)
            existing.percent = percent
            existing.status = AllocationStatus.DRAFT
            existing.version += 1
            existing.full_clean()
            existing.save(update_fields=["percent", "status", "version", "updated_at"])
            record(key, existing, before, (percent, existing.status))
    AllocationChange.objects.bulk_create(trail)

    scenario.promoted_at = now
    scenario.promoted_by = actor  # type: ignore[assignment]
    scenario.promotion_reason = reason
    scenario.save(update_fields=["promoted_at", "promoted_by", "promotion_reason", "updated_at"])
    return scenario
