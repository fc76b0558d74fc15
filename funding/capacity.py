"""Team capacity cost for a period, exactly as DESIGN.md ("Funding") defines it.

A member's line = fte x the annual rate of the member's discipline on the period's rate card x
(days of the period the membership covers, both ends included) / 365, rounded to the cent half-up.
A team's capacity cost is the sum of its priced lines. A line whose discipline has no rate is
reported (``unpriced``), never priced as zero: the team's cost is then flagged as incomplete.

Two queries for any number of teams: the memberships that overlap the period (with person and
discipline) and the period's rates. The arithmetic is Decimal, in Python, so it is the same on
PostgreSQL and SQLite to the cent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q

from products.models import TeamMembership

from .models import FiscalPeriod, Rate

CENT = Decimal("0.01")
DAYS_PER_YEAR = Decimal(365)


def to_cents(value: Decimal) -> Decimal:
    """Round money to the cent, half-up (0.005 -> 0.01)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def overlap_days(start: date, end: date | None, period_start: date, period_end: date) -> int:
    """Days of [period_start, period_end] that [start, end] covers, both ends included."""
    first = max(start, period_start)
    last = period_end if end is None else min(end, period_end)
    return max((last - first).days + 1, 0)


def line_cost(*, fte: Decimal, annual_rate: Decimal, days: int) -> Decimal:
    """One member's cost for ``days`` of a period, to the cent."""
    return to_cents(fte * annual_rate * Decimal(days) / DAYS_PER_YEAR)


def allocation_amount(*, percent: Decimal, capacity_cost: Decimal) -> Decimal:
    """The money a percent of a team's capacity cost stands for, to the cent."""
    return to_cents(percent * capacity_cost / Decimal(100))


@dataclass(frozen=True)
class CapacityLine:
    """One membership's share of a team's capacity in a period."""

    membership_id: int
    person_id: int
    person_name: str
    discipline_id: int
    discipline_name: str
    fte: Decimal
    start: date
    end: date | None
    days: int
    annual_rate: Decimal | None
    cost: Decimal | None

    @property
    def priced(self) -> bool:
        return self.cost is not None


@dataclass
class TeamCapacity:
    """A team's capacity in a period: its lines, its cost, and the lines that have no rate."""

    team_id: int
    period_days: int
    lines: list[CapacityLine] = field(default_factory=list)

    @property
    def cost(self) -> Decimal:
        return sum((line.cost for line in self.lines if line.cost is not None), Decimal("0.00"))

    @property
    def unpriced(self) -> list[CapacityLine]:
        return [line for line in self.lines if line.cost is None]

    @property
    def complete(self) -> bool:
        return not self.unpriced

    @property
    def fte_days(self) -> Decimal:
        return sum((line.fte * line.days for line in self.lines), Decimal(0))

    @property
    def average_fte(self) -> Decimal:
        """FTE averaged over the period's days (a member for half the period counts half)."""
        if not self.period_days:
            return Decimal(0)
        return (self.fte_days / self.period_days).quantize(CENT, rounding=ROUND_HALF_UP)


def team_capacities(
    *, period: FiscalPeriod, team_ids: Iterable[int] | None = None
) -> dict[int, TeamCapacity]:
    """Capacity of each team in the period, keyed by team id (every asked team, even an empty one)."""
    rates = dict(Rate.objects.filter(period=period).values_list("discipline_id", "annual_cost"))
    memberships = (
        TeamMembership.objects.filter(start_date__lte=period.end)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=period.start))
        .select_related("person__discipline")
        .only(
            "id",
            "team_id",
            "fte",
            "start_date",
            "end_date",
            "person__id",
            "person__name",
            "person__discipline__id",
            "person__discipline__name",
        )
        .order_by("team_id", "person__name", "start_date", "id")
    )
    wanted: set[int] | None = None
    if team_ids is not None:
        wanted = set(team_ids)
        memberships = memberships.filter(team_id__in=wanted)
    result: dict[int, TeamCapacity] = {
        team_id: TeamCapacity(team_id=team_id, period_days=period.days) for team_id in wanted or ()
    }
    for membership in memberships:
        days = overlap_days(membership.start_date, membership.end_date, period.start, period.end)
        if days <= 0:
            continue
        discipline = membership.person.discipline
        rate = rates.get(discipline.id)
        capacity = result.setdefault(
            membership.team_id, TeamCapacity(team_id=membership.team_id, period_days=period.days)
        )
        capacity.lines.append(
            CapacityLine(
                membership_id=membership.id,
                person_id=membership.person.id,
                person_name=membership.person.name,
                discipline_id=discipline.id,
                discipline_name=discipline.name,
                fte=membership.fte,
                start=membership.start_date,
                end=membership.end_date,
                days=days,
                annual_rate=rate,
                cost=None
                if rate is None
                else line_cost(fte=membership.fte, annual_rate=rate, days=days),
            )
        )
    return result


def team_capacity(*, period: FiscalPeriod, team_id: int) -> TeamCapacity:
    """One team's capacity in the period."""
    return team_capacities(period=period, team_ids=[team_id])[team_id]
