"""Demo data that lights at least one signal of each pitfall, and one day of recorded values.

Most of the demo already shows a pitfall somewhere (a sunset product without an owner, products
whose key results measure no customer experience). This adds what the rest of the demo cannot
show by itself, without breaking any funding limit:

- treating the transformation as a project: the Data Platform team was set up for this year's
  regulatory programme and is planned to disband when the fiscal year ends;
- legacy funding and governance: one allocation to a value stream with off-track outcomes was
  carried over from the plan drawn up more than a year ago and never revisited (its creation in
  the trail is dated then).

Running it again changes nothing (the same dates, the same recorded values for the day).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Exists, OuterRef
from django.utils import timezone

from funding.models import Allocation, AllocationChange, FiscalPeriod
from portfolio.models import PitfallRecord
from portfolio.services_pitfalls import pitfall_records_write
from products.demo import SeedStats, upsert
from products.models import KeyResult, Team

PROJECT_TEAM = "data-platform"


def _carried_over_at(period: FiscalPeriod) -> datetime.datetime:
    """Thirteen months before the period began: more than a year before any day of it."""
    return datetime.datetime(period.start.year - 2, 12, 1, 9, tzinfo=datetime.UTC)


def _stale_allocation(period: FiscalPeriod, stats: SeedStats) -> None:
    off_track = KeyResult.objects.filter(
        status=KeyResult.Status.OFF_TRACK,
        outcome__archived_at__isnull=True,
        product__archived_at__isnull=True,
        product__value_streams=OuterRef("value_stream_id"),
    )
    allocation = (
        Allocation.objects.filter(period=period, percent__gt=0)
        .annotate(off_track=Exists(off_track))
        .filter(off_track=True)
        .order_by("team__name", "value_stream__name")
        .first()
    )
    if allocation is None:
        stats.skipped.append("pitfalls: no allocation to a value stream with off-track outcomes")
        return
    created = (
        AllocationChange.objects.filter(
            allocation=allocation, action=AllocationChange.Action.CREATED
        )
        .order_by("at", "pk")
        .first()
    )
    if created is None:
        stats.skipped.append(f"pitfalls: {allocation} has no creation in its trail")
        return
    at = _carried_over_at(period)
    if created.at == at:
        stats.count("allocation changes", "unchanged")
        return
    created.at = at
    created.reason = created.reason or "Carried over from the previous plan."
    created.save(update_fields=["at", "reason"])
    stats.count("allocation changes", "updated")


def _record_today(stats: SeedStats, today: datetime.date) -> None:
    before = dict(PitfallRecord.objects.filter(day=today).values_list("key", "value"))
    pitfall_records_write(day=today)
    after = dict(PitfallRecord.objects.filter(day=today).values_list("key", "value"))
    for key, value in after.items():
        if key not in before:
            stats.count("pitfall records", "created")
        elif before[key] != value:
            stats.count("pitfall records", "updated")
        else:
            stats.count("pitfall records", "unchanged")


def seed_pitfall_demo(
    *, stats: SeedStats, users: dict[str, Any], today: datetime.date | None = None
) -> SeedStats:
    """Make the demo light every pitfall, and record today's signal values. Needs the products,
    value streams, funding and transition demos first; ``users`` are the demo sign-ins."""
    today = today or timezone.localdate()
    period = (
        FiscalPeriod.objects.filter(status=FiscalPeriod.Status.ACTIVE).first()
        or FiscalPeriod.objects.containing(today).first()
    )
    if Team.objects.filter(slug=PROJECT_TEAM).exists():
        end = period.end if period is not None else datetime.date(today.year, 12, 31)
        upsert(Team, lookup={"slug": PROJECT_TEAM}, values={"planned_end": end}, stats=stats)
    else:
        stats.skipped.append(f"pitfalls: no team {PROJECT_TEAM}")
    if period is not None:
        _stale_allocation(period, stats)
    else:
        stats.skipped.append("pitfalls: no current fiscal period")
    _record_today(stats, today)
    return stats
