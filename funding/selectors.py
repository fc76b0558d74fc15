"""Reads of the funding app shared by pages, the API, exports and (later) the dashboard.

The allocation matrix of a period is read in a fixed number of queries whatever the number of
teams and value streams: teams, value streams, allocations, envelopes, memberships and rates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from funding.capacity import TeamCapacity, allocation_amount, team_capacities
from funding.models import Actual, Allocation, AllocationChange, Envelope, FiscalPeriod
from funding.services.allocations import plan_status
from products.models import Team
from valuestreams.models import ValueStream

HUNDRED = Decimal("100")
ZERO = Decimal("0.00")


def fiscal_period_list() -> QuerySet[FiscalPeriod]:
    """Every period, newest first, with how many allocations and envelopes each has."""
    return FiscalPeriod.objects.annotate(
        allocated_cells=Count("allocations", distinct=True),
        envelope_count=Count("envelopes", distinct=True),
    ).order_by("-start")


def current_period(*, today: date | None = None) -> FiscalPeriod | None:
    """The active period; else the period containing today; else the latest one."""
    today = today or timezone.localdate()
    return (
        FiscalPeriod.objects.filter(status=FiscalPeriod.Status.ACTIVE).first()
        or FiscalPeriod.objects.containing(today).first()
        or FiscalPeriod.objects.order_by("-start").first()
    )


@dataclass
class Cell:
    """One allocation of the matrix (or an empty cell: ``allocation`` None)."""

    team_id: int
    value_stream_id: int
    allocation: Allocation | None
    amount: Decimal | None

    @property
    def percent(self) -> Decimal | None:
        return self.allocation.percent if self.allocation is not None else None

    @property
    def version(self) -> int:
        return self.allocation.version if self.allocation is not None else 0

    @property
    def status(self) -> str:
        return self.allocation.status if self.allocation is not None else ""


@dataclass
class MatrixRow:
    """A team's row: its capacity, its cells in column order, and its totals."""

    team: Team
    capacity: TeamCapacity
    cells: list[Cell] = field(default_factory=list)

    @property
    def allocated_percent(self) -> Decimal:
        return sum((c.percent for c in self.cells if c.percent is not None), ZERO)

    @property
    def allocated_amount(self) -> Decimal:
        return sum((c.amount for c in self.cells if c.amount is not None), ZERO)

    @property
    def unallocated_percent(self) -> Decimal:
        return HUNDRED - self.allocated_percent

    @property
    def unallocated_amount(self) -> Decimal:
        return self.capacity.cost - self.allocated_amount

    @property
    def over(self) -> bool:
        return self.allocated_percent > HUNDRED


@dataclass
class MatrixColumn:
    """A value stream's column: its envelope and what the cells give it."""

    value_stream: ValueStream
    envelope: Envelope | None
    allocated_amount: Decimal = ZERO

    @property
    def envelope_amount(self) -> Decimal | None:
        return self.envelope.amount if self.envelope is not None else None

    @property
    def unfunded(self) -> Decimal | None:
        """Envelope not yet allocated (None without an envelope)."""
        if self.envelope is None:
            return None
        return self.envelope.amount - self.allocated_amount

    @property
    def over(self) -> bool:
        return self.envelope is not None and self.allocated_amount > self.envelope.amount


@dataclass
class Matrix:
    """A period's allocation matrix: teams as rows, value streams as columns."""

    period: FiscalPeriod
    rows: list[MatrixRow]
    columns: list[MatrixColumn]

    @property
    def capacity_cost(self) -> Decimal:
        return sum((r.capacity.cost for r in self.rows), ZERO)

    @property
    def allocated_amount(self) -> Decimal:
        return sum((r.allocated_amount for r in self.rows), ZERO)

    @property
    def unallocated_amount(self) -> Decimal:
        return self.capacity_cost - self.allocated_amount

    @property
    def envelope_amount(self) -> Decimal:
        return sum((c.envelope_amount or ZERO for c in self.columns), ZERO)

    @property
    def status(self) -> str:
        """The plan's status: the least advanced among its allocations ("" when empty)."""
        return plan_status(
            c.status for row in self.rows for c in row.cells if c.allocation is not None
        )

    def status_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in self.rows:
            for cell in row.cells:
                if cell.allocation is not None:
                    counts[cell.status] = counts.get(cell.status, 0) + 1
        return counts

    def row(self, team_id: int) -> MatrixRow:
        return next(r for r in self.rows if r.team.pk == team_id)

    def column(self, value_stream_id: int) -> MatrixColumn:
        return next(c for c in self.columns if c.value_stream.pk == value_stream_id)

    def cell(self, team_id: int, value_stream_id: int) -> Cell:
        row = self.row(team_id)
        return next(c for c in row.cells if c.value_stream_id == value_stream_id)


def allocation_matrix(*, period: FiscalPeriod, value_stream_ids: list[int] | None = None) -> Matrix:
    """The period's matrix: active teams and value streams, plus archived ones that hold
    allocations in it. Seven queries whatever its size.

    ``value_stream_ids`` narrows it to those columns (every team's cells in them).
    """
    allocations = list(
        Allocation.objects.filter(period=period).only(
            "id", "team_id", "value_stream_id", "percent", "status", "version", "period_id"
        )
    )
    used_teams = {a.team_id for a in allocations}
    used_streams = {a.value_stream_id for a in allocations}
    teams_qs = Team.objects.filter(Q(archived_at__isnull=True) | Q(pk__in=used_teams))
    streams_qs = ValueStream.objects.filter(Q(archived_at__isnull=True) | Q(pk__in=used_streams))
    if value_stream_ids is not None:
        streams_qs = streams_qs.filter(pk__in=value_stream_ids)
    teams = list(teams_qs.only("id", "name", "slug", "archived_at").order_by("name", "pk"))
    streams = list(streams_qs.only("id", "name", "slug", "archived_at").order_by("name", "pk"))
    envelopes = {
        e.value_stream_id: e
        for e in Envelope.objects.filter(period=period, value_stream__in=[s.pk for s in streams])
    }
    capacities = team_capacities(period=period, team_ids=[t.pk for t in teams])
    by_cell = {(a.team_id, a.value_stream_id): a for a in allocations}
    columns = [MatrixColumn(value_stream=s, envelope=envelopes.get(s.pk)) for s in streams]
    column_by_id = {c.value_stream.pk: c for c in columns}
    rows: list[MatrixRow] = []
    for team in teams:
        row = MatrixRow(team=team, capacity=capacities[team.pk])
        for stream in streams:
            allocation = by_cell.get((team.pk, stream.pk))
            amount = None
            if allocation is not None:
                allocation.period = period
                amount = allocation_amount(
                    percent=allocation.percent, capacity_cost=row.capacity.cost
                )
                column_by_id[stream.pk].allocated_amount += amount
            row.cells.append(
                Cell(
                    team_id=team.pk, value_stream_id=stream.pk, allocation=allocation, amount=amount
                )
            )
        rows.append(row)
    return Matrix(period=period, rows=rows, columns=columns)


def allocation_changes(
    *,
    period: FiscalPeriod,
    team_id: int | None = None,
    value_stream_id: int | None = None,
) -> QuerySet[AllocationChange]:
    """The period's allocation trail (newest first), for one team or one value stream."""
    qs = AllocationChange.objects.filter(period=period).select_related(
        "actor", "team", "value_stream"
    )
    if team_id is not None:
        qs = qs.filter(team_id=team_id)
    if value_stream_id is not None:
        qs = qs.filter(value_stream_id=value_stream_id)
    return qs.order_by("-at", "-pk")


def actuals_by_team(*, period: FiscalPeriod, until: date | None = None) -> dict[int, Decimal]:
    """Each team's actual spend in the period's months (up to ``until``'s month)."""
    first_month = period.start.replace(day=1)
    qs = Actual.objects.filter(month__gte=first_month, month__lte=until or period.end)
    return dict(qs.values("team_id").annotate(total=Sum("amount")).values_list("team_id", "total"))


@dataclass
class PeriodSummary:
    """The period's totals per team and per value stream (API ``fiscal-periods/{id}/summary``)."""

    matrix: Matrix
    actuals: dict[int, Decimal]

    def team_rows(self) -> list[dict]:
        return [
            {
                "team": {"id": r.team.pk, "name": r.team.name, "slug": r.team.slug},
                "capacity": r.capacity.cost,
                "capacity_complete": r.capacity.complete,
                "unpriced_members": len(r.capacity.unpriced),
                "allocated_percent": r.allocated_percent,
                "allocated": r.allocated_amount,
                "unallocated": r.unallocated_amount,
                "actual_to_date": self.actuals.get(r.team.pk, ZERO),
            }
            for r in self.matrix.rows
        ]

    def value_stream_actual(self, value_stream_id: int) -> Decimal:
        """Actual spend attributed to a value stream: each team's actual x its percent there."""
        total = ZERO
        for row in self.matrix.rows:
            actual = self.actuals.get(row.team.pk)
            if not actual:
                continue
            for cell in row.cells:
                if cell.value_stream_id == value_stream_id and cell.percent is not None:
                    total += allocation_amount(percent=cell.percent, capacity_cost=actual)
        return total

    def value_stream_rows(self) -> list[dict]:
        return [
            {
                "value_stream": {
                    "id": c.value_stream.pk,
                    "name": c.value_stream.name,
                    "slug": c.value_stream.slug,
                },
                "envelope": c.envelope_amount,
                "allocated": c.allocated_amount,
                "unfunded": c.unfunded,
                "actual_to_date": self.value_stream_actual(c.value_stream.pk),
            }
            for c in self.matrix.columns
        ]

    def totals(self) -> dict:
        return {
            "capacity": self.matrix.capacity_cost,
            "allocated": self.matrix.allocated_amount,
            "unallocated": self.matrix.unallocated_amount,
            "envelope": self.matrix.envelope_amount,
            "actual_to_date": sum(self.actuals.values(), ZERO),
            "plan_status": self.matrix.status,
        }


def period_summary(*, period: FiscalPeriod) -> PeriodSummary:
    """Capacity, allocated, unallocated, envelope and actual to date per team and value stream."""
    return PeriodSummary(
        matrix=allocation_matrix(period=period), actuals=actuals_by_team(period=period)
    )
