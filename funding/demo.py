"""The funding part of the demo organisation (``manage.py seed_demo``, after the value streams).

Harbour Bank plans by calendar year. Dates follow the **anchor**, the first day of the current
month, like the other demos:

- the current year is the ``active`` period and next year a ``planning`` one (a period of an
  earlier year left active by an earlier run is closed, so one period is active at a time);
- both have a rate card for every discipline the demo people have, and an envelope per value
  stream (two with a debt-and-risk guardrail);
- the current year has an approved allocation of each team's capacity to the value streams its
  products serve, with a few teams not fully allocated and every envelope a little above what it
  receives, so both limits hold (the figures come from ``funding.capacity``); the allocations are
  written through the services as the ``finance`` user, so the approval trail exists (created,
  proposed, approved), dated in the weeks before the year began;
- every team has an actual for each of the last twelve months up to last month: the month's
  share of its capacity cost with a few percent of variance (fixed per team and month);
- next year's plan has one scenario, "Grow lending", for finance to compare and promote.

Rows are matched by natural key (period name, discipline, value stream, team and month, scenario
name), so a second run finds everything as planned and writes nothing; allocations and scenarios
users changed are left as they are.
"""

import datetime
import random
from collections import defaultdict
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from funding import services
from funding.capacity import allocation_amount, team_capacities
from funding.models import (
    Actual,
    Allocation,
    AllocationChange,
    AllocationStatus,
    Envelope,
    FiscalPeriod,
    Rate,
    Scenario,
)
from products.demo import SeedStats, upsert
from products.models import Discipline, Team
from valuestreams.models import ValueStream

SEED = 20250101
P = Decimal
HUNDRED = Decimal("100")

# Annual fully-loaded cost of one full-time person in RATE_YEAR; each later year's card is 4 %
# higher (an earlier year's lower), whichever year the demo is seeded in.
RATE_YEAR = 2026
RATES: dict[str, Decimal] = {
    "engineer": P("112000.00"),
    "designer": P("98000.00"),
    "product-manager": P("124000.00"),
    "data": P("108000.00"),
    "operations": P("84000.00"),
    "qa": P("88000.00"),
}
YEARLY_UPLIFT = P("1.04")

# Teams that keep part of their capacity unallocated (percent allocated in total).
PARTLY_ALLOCATED: dict[str, Decimal] = {
    "data-platform": P("85"),
    "claims-operations": P("90"),
    "cloud-integration": P("80"),
}
# Headroom of each envelope over what the plan gives the value stream, and the guardrails.
HEADROOM: dict[str, Decimal] = {
    "customer-onboarding": P("1.06"),
    "payments": P("1.04"),
    "lending": P("1.10"),
    "claims": P("1.05"),
    "platform-data": P("1.12"),
}
GUARDRAILS: dict[str, Decimal] = {"payments": P("15"), "platform-data": P("25")}
NOTES: dict[str, str] = {
    "payments": "Regulatory deadline for instant-payment fraud checks; keep risk work funded.",
    "platform-data": "Platform debt paydown agreed with the architecture board.",
}

SCENARIO = "Grow lending"
SCENARIO_DESCRIPTION = (
    "Next year: Risk Analytics and Data Platform give ten points more of their capacity to "
    "Lending, taken from their other value streams."
)
SCENARIO_TEAMS = ("risk-analytics", "data-platform")
SCENARIO_STREAM = "lending"
SCENARIO_SHIFT = P("10")

# When the approval trail of the current plan happened: days before the period began.
TRAIL_DAYS = {
    AllocationChange.Action.CREATED: 40,
    AllocationChange.Action.PROPOSED: 25,
    AllocationChange.Action.APPROVED: 12,
}


def period_name(year: int) -> str:
    return f"FY{year}"


def month_start(day: datetime.date, months: int) -> datetime.date:
    """The first day of the month ``months`` after (or before) ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def _seed_period(year: int, status: str, stats: SeedStats) -> FiscalPeriod | None:
    start, end = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    name = period_name(year)
    clash = FiscalPeriod.objects.overlapping(start, end).exclude(name=name).first()
    if clash is not None:
        stats.skipped.append(f"{name}: overlaps the period {clash.name}; not seeded.")
        return None
    existing = FiscalPeriod.objects.filter(name=name).first()
    if existing is not None and existing.is_closed:
        stats.count(str(FiscalPeriod._meta.verbose_name_plural), "unchanged")
        return existing
    return upsert(
        FiscalPeriod,
        lookup={"name": name},
        values={"start": start, "end": end, "status": status},
        stats=stats,
    )


def _seed_rates(period: FiscalPeriod, stats: SeedStats) -> None:
    factor = YEARLY_UPLIFT ** (period.start.year - RATE_YEAR)
    disciplines = {d.slug: d for d in Discipline.objects.filter(slug__in=RATES)}
    for slug, annual in RATES.items():
        if slug in disciplines:
            upsert(
                Rate,
                lookup={"period": period, "discipline": disciplines[slug]},
                values={"annual_cost": (annual * factor).quantize(P("1"), ROUND_HALF_UP)},
                stats=stats,
            )


def planned_split(teams: list[Team]) -> dict[tuple[int, int], Decimal]:
    """Each team's percent per value stream: its allocated total shared by how many of its
    products each stream serves, in whole percents (the rounding goes to the largest share)."""
    plan: dict[tuple[int, int], Decimal] = {}
    for team in teams:
        weights: dict[int, int] = defaultdict(int)
        for product in team.products.all():
            for stream in product.value_streams.all():
                weights[stream.pk] += 1
        if not weights:
            continue
        total = PARTLY_ALLOCATED.get(team.slug, HUNDRED)
        count = sum(weights.values())
        shares = {
            stream_id: (total * weight / count).quantize(P("1"), rounding=ROUND_FLOOR)
            for stream_id, weight in weights.items()
        }
        largest = max(sorted(shares), key=lambda s: shares[s])
        shares[largest] += total - sum(shares.values())
        for stream_id, share in shares.items():
            plan[(team.pk, stream_id)] = share.quantize(P("0.01"))
    return plan


def _envelope_amount(allocated: Decimal, headroom: Decimal) -> Decimal:
    """A round envelope a little above what the plan gives (to the next 10,000)."""
    raw = allocated * headroom / P("10000")
    return (raw.to_integral_value(rounding=ROUND_CEILING) * P("10000")).quantize(P("0.01"))


def _seed_envelopes(
    period: FiscalPeriod,
    streams: list[ValueStream],
    plan: dict[tuple[int, int], Decimal],
    costs: dict[int, Decimal],
    stats: SeedStats,
) -> None:
    allocated: dict[int, Decimal] = defaultdict(Decimal)
    for (team_id, stream_id), percent in plan.items():
        allocated[stream_id] += allocation_amount(percent=percent, capacity_cost=costs[team_id])
    for stream in streams:
        amount = _envelope_amount(allocated[stream.pk], HEADROOM.get(stream.slug, P("1.1")))
        upsert(
            Envelope,
            lookup={"period": period, "value_stream": stream},
            values={
                "amount": max(amount, P("100000.00")),
                "min_debt_risk_percent": GUARDRAILS.get(stream.slug),
                "notes": NOTES.get(stream.slug, ""),
            },
            stats=stats,
        )


def _seed_plan(
    period: FiscalPeriod,
    teams: dict[int, Team],
    streams: dict[int, ValueStream],
    plan: dict[tuple[int, int], Decimal],
    actor: AbstractBaseUser,
    stats: SeedStats,
) -> None:
    """The approved plan: missing cells created through the services, then proposed and approved;
    cells already there are left as they are."""
    label = str(Allocation._meta.verbose_name_plural)
    existing = set(
        Allocation.objects.filter(period=period).values_list("team_id", "value_stream_id")
    )
    started = timezone.now()
    created = 0
    for (team_id, stream_id), percent in sorted(plan.items()):
        if (team_id, stream_id) in existing:
            stats.count(label, "unchanged")
            continue
        services.allocation_set_percent(
            actor=actor,
            period=period,
            team=teams[team_id],
            value_stream=streams[stream_id],
            percent=percent,
        )
        stats.count(label, "created")
        created += 1
    if not created:
        return
    for step, status in (
        ("propose", AllocationStatus.DRAFT),
        ("approve", AllocationStatus.PROPOSED),
    ):
        if Allocation.objects.filter(period=period, status=status).exists():
            services.allocations_move(actor=actor, period=period, step=step)
    # The trail happened in the weeks before the year began.
    trail = AllocationChange.objects.filter(period=period, at__gte=started)
    stats.created["allocation changes"] += trail.count()
    start = datetime.datetime.combine(period.start, datetime.time(9), tzinfo=datetime.UTC)
    for action, days in TRAIL_DAYS.items():
        trail.filter(action=action).update(at=start - datetime.timedelta(days=days))


def _seed_actuals(
    anchor: datetime.date,
    teams: list[Team],
    monthly_cost: dict[tuple[int, int], Decimal],
    stats: SeedStats,
) -> None:
    """Twelve months of actuals up to last month: the month's share of the team's capacity cost,
    a few percent over or under (the same figure for a team and month on every run)."""
    for team in teams:
        for back in range(12, 0, -1):
            month = month_start(anchor, -back)
            base = monthly_cost.get((team.pk, month.year))
            if not base:
                continue
            rng = random.Random(f"{SEED}-{team.slug}-{month:%Y-%m}")
            variance = P(rng.randint(-60, 80)) / P("1000")  # -6 % .. +8 %
            amount = (base * (1 + variance)).quantize(P("0.01"), ROUND_HALF_UP)
            upsert(
                Actual,
                lookup={"team": team, "month": month},
                values={"amount": amount, "note": ""},
                stats=stats,
            )


def _seed_scenario(
    period: FiscalPeriod,
    current: dict[tuple[int, int], Decimal],
    teams: dict[int, Team],
    streams: dict[int, ValueStream],
    actor: AbstractBaseUser,
    stats: SeedStats,
) -> None:
    """Next year's "Grow lending" scenario: this year's plan with ten points of two shared
    teams moved to Lending. Left alone once it exists."""
    label = str(Scenario._meta.verbose_name_plural)
    if Scenario.objects.filter(period=period, name=SCENARIO).exists():
        stats.count(label, "unchanged")
        return
    scenario = services.scenario_create(
        actor=actor, period=period, name=SCENARIO, description=SCENARIO_DESCRIPTION
    )
    stats.count(label, "created")
    lending = next((s for s in streams.values() if s.slug == SCENARIO_STREAM), None)
    cells = dict(current)
    for team in teams.values():
        if team.slug not in SCENARIO_TEAMS or lending is None:
            continue
        others = sorted(s for (t, s) in cells if t == team.pk and s != lending.pk)
        left = SCENARIO_SHIFT
        for stream_id in others:
            take = min(left, cells[(team.pk, stream_id)])
            cells[(team.pk, stream_id)] -= take
            left -= take
        cells[(team.pk, lending.pk)] = cells.get((team.pk, lending.pk), P("0")) + (
            SCENARIO_SHIFT - left
        )
    for (team_id, stream_id), percent in sorted(cells.items()):
        services.scenario_set_cell(
            actor=actor,
            scenario=scenario,
            team=teams[team_id],
            value_stream=streams[stream_id],
            percent=percent,
        )
    stats.created["scenario cells"] += len([p for p in cells.values() if p])


def seed_funding(*, actor: AbstractBaseUser, today: datetime.date | None = None) -> SeedStats:
    """Periods, rate cards, envelopes, the approved plan with its trail, a year of actuals and a
    scenario. ``actor`` is the finance user. Needs the products and value streams first."""
    stats = SeedStats()
    anchor = (today or timezone.localdate()).replace(day=1)
    year = anchor.year
    # One active period at a time: an earlier demo year left active is closed.
    for old in FiscalPeriod.objects.filter(
        status=FiscalPeriod.Status.ACTIVE, name__startswith="FY", end__lt=datetime.date(year, 1, 1)
    ):
        if old.name == period_name(old.start.year):
            old.status = FiscalPeriod.Status.CLOSED
            old.save(update_fields=["status", "updated_at"])
            stats.count(str(FiscalPeriod._meta.verbose_name_plural), "updated")
    current = _seed_period(year, FiscalPeriod.Status.ACTIVE, stats)
    upcoming = _seed_period(year + 1, FiscalPeriod.Status.PLANNING, stats)
    if current is None or upcoming is None:
        return stats
    for period in (current, upcoming):
        if not period.is_closed:
            _seed_rates(period, stats)

    teams = list(
        Team.objects.filter(archived_at__isnull=True)
        .prefetch_related("products__value_streams")
        .order_by("name")
    )
    streams = list(ValueStream.objects.filter(archived_at__isnull=True).order_by("name"))
    team_by_id = {t.pk: t for t in teams}
    stream_by_id = {s.pk: s for s in streams}
    plan = {key: percent for key, percent in planned_split(teams).items() if key[1] in stream_by_id}
    costs = {
        period.pk: {
            team_id: capacity.cost
            for team_id, capacity in team_capacities(
                period=period, team_ids=list(team_by_id)
            ).items()
        }
        for period in (current, upcoming)
    }
    if not current.is_closed:
        _seed_envelopes(current, streams, plan, costs[current.pk], stats)
        _seed_plan(current, team_by_id, stream_by_id, plan, actor, stats)
    if not upcoming.is_closed:
        _seed_envelopes(upcoming, streams, plan, costs[upcoming.pk], stats)
        _seed_scenario(upcoming, plan, team_by_id, stream_by_id, actor, stats)

    # A month's base cost: a twelfth of the team's cost in the demo period of its year, else
    # (before the demo's first period) this year's, less last year's lower rates.
    monthly: dict[tuple[int, int], Decimal] = {}
    for month_year in {month_start(anchor, -back).year for back in range(1, 13)}:
        then = FiscalPeriod.objects.filter(name=period_name(month_year)).first()
        if then is not None and then.pk not in costs:
            costs[then.pk] = {
                team_id: capacity.cost
                for team_id, capacity in team_capacities(
                    period=then, team_ids=list(team_by_id)
                ).items()
            }
        for team_id in team_by_id:
            if then is not None:
                cost = costs[then.pk][team_id]
            else:
                cost = costs[current.pk][team_id] / YEARLY_UPLIFT
            monthly[(team_id, month_year)] = cost / 12
    _seed_actuals(anchor, teams, monthly, stats)
    return stats


def demo_periods(today: datetime.date | None = None) -> dict[str, Any]:
    """The demo's current and planning periods (for tests and the summary)."""
    year = (today or timezone.localdate()).year
    return {
        "current": FiscalPeriod.objects.filter(name=period_name(year)).first(),
        "planning": FiscalPeriod.objects.filter(name=period_name(year + 1)).first(),
    }
