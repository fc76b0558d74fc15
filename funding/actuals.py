"""Reads of actual spend: a period's grid of teams x months, and the burn of a team or a value
stream against its plan, with a forecast to the period's end.

Definitions (issue 5, item 8):

- A period's months are the calendar months it touches; each holds the period's days in it.
- Plan: a team's capacity cost for the period; a value stream's allocated amount (the sum of its
  cells). It is spread over the months by days: the cumulative plan at the end of a month is the
  plan x the period's days up to that month's end / the period's days, to the cent (so the last
  month reaches the plan exactly).
- Actual: a team's recorded monthly amounts. A value stream's actual for a month is the sum over
  its teams of the team's actual that month x the team's percent allocated to it / 100, each to
  the cent.
- The months recorded so far run from the period's first month to the latest month with an
  actual (a month in between without one counts as nothing spent). Run rate = actual to date /
  those months; forecast at the end = actual to date + run rate x the months after them;
  variance = forecast - plan (positive: over plan). Without any actual there is no run rate,
  forecast or variance, and the page says so.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import Q

from funding.capacity import allocation_amount, team_capacities, to_cents
from funding.models import Actual, Allocation, FiscalPeriod
from funding.services.actuals import month_end
from products.models import Team
from valuestreams.models import ValueStream

ZERO = Decimal("0.00")


def period_months(period: FiscalPeriod) -> list[tuple[datetime.date, int]]:
    """The period's calendar months (first days) and how many of the period's days each holds."""
    months: list[tuple[datetime.date, int]] = []
    month = period.start.replace(day=1)
    while month <= period.end:
        last = month_end(month)
        first = max(month, period.start)
        months.append((month, (min(last, period.end) - first).days + 1))
        month = last + datetime.timedelta(days=1)
    return months


def month_actuals(
    *, period: FiscalPeriod, team_ids: list[int]
) -> dict[int, dict[datetime.date, Decimal]]:
    """Each team's actual per month of the period (one query)."""
    months = [m for m, _ in period_months(period)]
    by_team: dict[int, dict[datetime.date, Decimal]] = defaultdict(dict)
    rows = (
        Actual.objects.filter(team_id__in=team_ids, month__gte=months[0], month__lte=months[-1])
        .order_by()
        .values_list("team_id", "month", "amount")
    )
    for team_id, month, amount in rows:
        by_team[team_id][month] = amount
    return by_team


# The grid.


@dataclass
class GridRow:
    """A team's actuals, one per month of the period (None: nothing recorded)."""

    team: Team
    cells: list[tuple[datetime.date, Decimal | None]]

    @property
    def total(self) -> Decimal:
        return sum((amount for _, amount in self.cells if amount is not None), ZERO)

    @property
    def recorded(self) -> int:
        return sum(1 for _, amount in self.cells if amount is not None)


@dataclass
class ActualsGrid:
    """A period's actuals: teams as rows, months as columns, totals both ways."""

    period: FiscalPeriod
    months: list[datetime.date]
    rows: list[GridRow]

    @property
    def month_totals(self) -> list[tuple[datetime.date, Decimal | None]]:
        """Each month's total over the teams (None: no team has an actual for it)."""
        totals: list[tuple[datetime.date, Decimal | None]] = []
        for i, month in enumerate(self.months):
            amounts = [a for r in self.rows if (a := r.cells[i][1]) is not None]
            totals.append((month, sum(amounts, ZERO) if amounts else None))
        return totals

    @property
    def total(self) -> Decimal:
        return sum((r.total for r in self.rows), ZERO)

    def row(self, team_id: int) -> GridRow:
        return next(r for r in self.rows if r.team.pk == team_id)

    def month_total(self, month: datetime.date) -> Decimal | None:
        return dict(self.month_totals)[month]


def actuals_grid(*, period: FiscalPeriod, team_ids: list[int] | None = None) -> ActualsGrid:
    """Active teams, and archived ones with actuals in the period, by their monthly actuals.

    Two queries whatever the number of teams and months. ``team_ids`` narrows the rows (the htmx
    answer to one cell's edit).
    """
    months = [m for m, _ in period_months(period)]
    actuals = Actual.objects.filter(month__gte=months[0], month__lte=months[-1])
    if team_ids is not None:
        actuals = actuals.filter(team_id__in=team_ids)
    amounts: dict[tuple[int, datetime.date], Decimal] = {
        (team_id, month): amount
        for team_id, month, amount in actuals.order_by().values_list("team_id", "month", "amount")
    }
    used = {team_id for team_id, _ in amounts}
    teams_qs = Team.objects.filter(Q(archived_at__isnull=True) | Q(pk__in=used))
    if team_ids is not None:
        teams_qs = teams_qs.filter(pk__in=team_ids)
    teams = list(teams_qs.only("id", "name", "slug", "archived_at").order_by("name", "pk"))
    rows = [
        GridRow(team=team, cells=[(m, amounts.get((team.pk, m))) for m in months]) for team in teams
    ]
    return ActualsGrid(period=period, months=months, rows=rows)


# Burn.


@dataclass
class BurnMonth:
    """One month of a burn: the plan and actual in it and cumulated, and the forecast."""

    month: datetime.date
    plan: Decimal
    plan_cumulative: Decimal
    actual: Decimal | None = None  # None: after the months recorded so far
    actual_cumulative: Decimal | None = None
    forecast_cumulative: Decimal | None = None
    recorded: bool = False  # an actual was recorded for it (a gap counts as nothing spent)


@dataclass
class BurnShare:
    """A team's part in a value stream's burn."""

    team: Team
    percent: Decimal
    allocated: Decimal
    actual: Decimal


@dataclass
class Burn:
    """Actual against plan over a period, with the forecast at the current run rate."""

    period: FiscalPeriod
    plan: Decimal
    months: list[BurnMonth]
    shares: list[BurnShare] = field(default_factory=list)
    capacity_complete: bool = True

    @property
    def elapsed(self) -> int:
        """Months recorded so far: up to the latest month with an actual (0: none yet)."""
        recorded = [i for i, m in enumerate(self.months) if m.recorded]
        return recorded[-1] + 1 if recorded else 0

    @property
    def has_actuals(self) -> bool:
        return self.elapsed > 0

    @property
    def actual_to_date(self) -> Decimal:
        return sum((m.actual or ZERO for m in self.months[: self.elapsed]), ZERO)

    @property
    def plan_to_date(self) -> Decimal:
        return self.months[self.elapsed - 1].plan_cumulative if self.elapsed else ZERO

    @property
    def run_rate(self) -> Decimal | None:
        return to_cents(self.actual_to_date / self.elapsed) if self.elapsed else None

    @property
    def remaining_months(self) -> int:
        return len(self.months) - self.elapsed

    @property
    def forecast(self) -> Decimal | None:
        if self.run_rate is None:
            return None
        return self.actual_to_date + self.run_rate * self.remaining_months

    @property
    def variance(self) -> Decimal | None:
        """Forecast at the end - plan: positive is over plan."""
        return None if self.forecast is None else self.forecast - self.plan

    @property
    def variance_percent(self) -> Decimal | None:
        if self.variance is None or not self.plan:
            return None
        return (self.variance / self.plan * 100).quantize(Decimal("0.1"))

    @property
    def over(self) -> bool:
        return self.variance is not None and self.variance > 0

    def chart(self) -> dict:
        """What burn-charts.js draws: month labels and three cumulative series (None: no value)."""

        def number(value: Decimal | None) -> float | None:
            return None if value is None else float(value)

        return {
            "labels": [f"{m.month:%b %Y}" for m in self.months],
            "unit": f"cumulative spend ({settings.CURRENCY_CODE})",
            "currency": settings.CURRENCY_SYMBOL,
            "series": [
                {
                    "label": "Plan",
                    "colour": "faint",
                    "data": [number(m.plan_cumulative) for m in self.months],
                },
                {
                    "label": "Actual",
                    "colour": "accent",
                    "data": [number(m.actual_cumulative) for m in self.months],
                },
                {
                    "label": "Forecast",
                    "colour": "at-risk",
                    "dashed": True,
                    "data": [number(m.forecast_cumulative) for m in self.months],
                },
            ],
        }


def _burn(
    *, period: FiscalPeriod, plan: Decimal, actual_by_month: dict[datetime.date, Decimal]
) -> Burn:
    months = period_months(period)
    days_so_far = 0
    burn_months: list[BurnMonth] = []
    previous = ZERO
    for month, days in months:
        days_so_far += days
        cumulative = to_cents(plan * days_so_far / period.days)
        burn_months.append(
            BurnMonth(
                month=month,
                plan=cumulative - previous,
                plan_cumulative=cumulative,
                recorded=month in actual_by_month,
            )
        )
        previous = cumulative
    burn = Burn(period=period, plan=plan, months=burn_months)
    running = ZERO
    for index, month_row in enumerate(burn_months[: burn.elapsed]):
        month_row.actual = actual_by_month.get(month_row.month, ZERO)
        running += month_row.actual
        month_row.actual_cumulative = running
        if index == burn.elapsed - 1:
            month_row.forecast_cumulative = running
    if burn.run_rate is not None:
        for step, month_row in enumerate(burn_months[burn.elapsed :], start=1):
            month_row.forecast_cumulative = running + burn.run_rate * step
    return burn


def team_burn(*, period: FiscalPeriod, team: Team) -> Burn:
    """A team's actual against its capacity cost for the period (three queries)."""
    capacity = team_capacities(period=period, team_ids=[team.pk])[team.pk]
    actuals = month_actuals(period=period, team_ids=[team.pk]).get(team.pk, {})
    burn = _burn(period=period, plan=capacity.cost, actual_by_month=actuals)
    burn.capacity_complete = capacity.complete
    return burn


def value_stream_burn(*, period: FiscalPeriod, value_stream: ValueStream) -> Burn:
    """A value stream's attributed actual against its allocated amount (four queries): each
    allocated team's monthly actual x its percent there."""
    allocations = list(
        Allocation.objects.filter(period=period, value_stream=value_stream)
        .select_related("team")
        .only("id", "percent", "team__id", "team__name", "team__slug", "team__archived_at")
        .order_by("team__name", "team_id")
    )
    team_ids = [a.team_id for a in allocations]
    capacities = team_capacities(period=period, team_ids=team_ids)
    actuals = month_actuals(period=period, team_ids=team_ids)
    shares: list[BurnShare] = []
    attributed: dict[datetime.date, Decimal] = {}
    for allocation in allocations:
        share = ZERO
        for month, amount in actuals.get(allocation.team_id, {}).items():
            part = allocation_amount(percent=allocation.percent, capacity_cost=amount)
            attributed[month] = attributed.get(month, ZERO) + part
            share += part
        shares.append(
            BurnShare(
                team=allocation.team,
                percent=allocation.percent,
                allocated=allocation_amount(
                    percent=allocation.percent,
                    capacity_cost=capacities[allocation.team_id].cost,
                ),
                actual=share,
            )
        )
    plan = sum((s.allocated for s in shares), ZERO)
    burn = _burn(period=period, plan=plan, actual_by_month=attributed)
    burn.shares = shares
    burn.capacity_complete = all(capacities[t].complete for t in team_ids)
    return burn
