"""Pitfall signals and early warnings, computed from live data.

The four pitfalls of the move from projects to products (DESIGN.md) each have signals: a rule in
words, the current value, a configurable threshold (``PitfallThreshold`` rows; the defaults are
here), the trend of recorded values (``PitfallRecord``, written daily by ``record_pitfalls_task``)
and the offending items, each linking to its page. A signal fires when its value is above its
threshold (a value exactly at the threshold does not fire).

``pitfall_signals`` runs a constant number of SQL queries whatever the size of the portfolio
(every figure is one aggregate or one list of offenders; nothing queries per row).
``early_warnings`` reads the status history and the flow snapshots; the ageing-work query is a
single statement but scans every work item's history, so pages load the warnings lazily.

Decided rules (issue 6):
- An outcome is "only a delivery milestone" when none of its key results measures a customer or
  business change: it has no key result, or all of them are of kind "Other" and not marked
  customer-facing.
- A product "without a measurement in 60 days" has key results, none measured in the last 60
  days (a product without any key result is counted by its own signal instead).
- "Losing sight of the customer" is counted per active product: no customer-facing key result
  measured in the last 90 days.
- An allocation is "unchanged for a year" when the last change of its team -> value stream
  percent (in any period's trail; its creation counts) is more than 365 days old.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any

from django.db.models import (
    Count,
    Exists,
    F,
    FloatField,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import Cast, Coalesce
from django.urls import reverse
from django.utils import timezone

from funding import selectors as funding_selectors
from funding.models import Allocation, AllocationChange, FiscalPeriod
from portfolio.models import PitfallRecord, PitfallThreshold, TransitionUnit
from products.models import KeyResult, Measurement, Outcome, Product, RoadmapItem, Team
from valuestreams.models import (
    FlowFact,
    FlowSnapshot,
    ValueStream,
)
from valuestreams.models.flow import FlowCategory

PITFALLS: dict[str, str] = {
    "project": "Treating the transformation as a project",
    "funding": "Legacy funding and governance",
    "product_management": "Weak product-management capability",
    "customer": "Losing sight of the customer",
    "warning": "Early warnings from flow",
}

TREND_DAYS = 56  # eight weeks of recorded values
END_DATE_HORIZON_DAYS = 365
MEASURED_DAYS = 60
CUSTOMER_MEASURED_DAYS = 90
UNCHANGED_DAYS = 365
MAX_VALUE_STREAMS_PER_TEAM = 2
RISING_WEEKS = 4
ONE_DECIMAL = Decimal("0.1")

ValueStreamLink = ValueStream.products.through
TeamProductLink = Team.products.through
ProductOwnerLink = Product.owners.through


@dataclass(frozen=True)
class Offender:
    """One item a signal counts, linking to it."""

    label: str
    url: str
    detail: str = ""
    value_stream_ids: frozenset[int] = frozenset()


@dataclass
class Signal:
    """One pitfall signal: its rule, current value against its threshold, trend and offenders."""

    key: str
    pitfall: str
    title: str
    rule: str
    value: Decimal | int | None
    unit: str
    threshold: Decimal | int
    firing: bool
    enough_data: bool
    trend: list[tuple[date, Decimal]] = field(default_factory=list)
    offenders: list[Offender] = field(default_factory=list)
    computed_at: datetime = field(default_factory=timezone.now)

    @property
    def pitfall_name(self) -> str:
        return PITFALLS.get(self.pitfall, self.pitfall)

    @property
    def status(self) -> str:
        """``firing``, ``ok`` or ``no_data`` (UI.md: always shown with a label)."""
        if not self.enough_data:
            return "no_data"
        return "firing" if self.firing else "ok"

    @property
    def status_label(self) -> str:
        return {"firing": "Firing", "ok": "Within threshold", "no_data": "Too little data"}[
            self.status
        ]


@dataclass(frozen=True)
class SignalSpec:
    """What a signal is: its names, its rule (``{threshold}`` is filled in), unit and default."""

    key: str
    pitfall: str
    title: str
    rule: str
    unit: str
    default: Decimal

    @property
    def is_count(self) -> bool:
        return self.unit != "%"


SPECS: tuple[SignalSpec, ...] = (
    SignalSpec(
        "project.end_dates",
        "project",
        "Teams and products with an end date",
        "Active teams and products with a planned end date in the next 12 months (or already "
        "past): a durable team or product has none. Fires above {threshold} items.",
        "items",
        Decimal(0),
    ),
    SignalSpec(
        "project.plan_end",
        "project",
        "Transition plan with a fixed end date",
        "Transition plans (the organisation's or a value stream's) with a fixed target end date: "
        "the move to products keeps evolving rather than finishing. Fires above {threshold} plans.",
        "plans",
        Decimal(0),
    ),
    SignalSpec(
        "project.milestone_outcomes",
        "project",
        "Outcomes that are only delivery milestones",
        "Active outcomes of active products with no key result that measures a customer or "
        "business change (none, or all of kind Other and not customer-facing). Fires above "
        "{threshold} outcomes.",
        "outcomes",
        Decimal(0),
    ),
    SignalSpec(
        "funding.unallocated_budget",
        "funding",
        "Budget not allocated through team capacity",
        "Share of the period's envelopes (total) not allocated to teams as a percent of their "
        "capacity cost (draft, proposed and approved allocations). Fires above {threshold} %.",
        "%",
        Decimal(20),
    ),
    SignalSpec(
        "funding.no_envelope",
        "funding",
        "Value streams funded without an envelope",
        "Value streams that receive allocations in the period but have no envelope in it. Fires "
        "above {threshold} value streams.",
        "value streams",
        Decimal(0),
    ),
    SignalSpec(
        "funding.unchanged_allocations",
        "funding",
        "Allocations unchanged although outcomes are off track",
        "Allocations of the period whose percent has not changed for 365 days while their value "
        "stream has an off-track key result. Fires above {threshold} allocations.",
        "allocations",
        Decimal(0),
    ),
    SignalSpec(
        "pm.no_owner",
        "product_management",
        "Products without an owner",
        "Active products with no named product owner. Fires above {threshold} products.",
        "products",
        Decimal(0),
    ),
    SignalSpec(
        "pm.no_key_result",
        "product_management",
        "Products without a key result",
        "Active products with no key result on an active outcome. Fires above {threshold} "
        "products.",
        "products",
        Decimal(0),
    ),
    SignalSpec(
        "pm.no_measurement",
        "product_management",
        "Products without a measurement in 60 days",
        "Active products that have key results but no measurement dated in the last 60 days. "
        "Fires above {threshold} products.",
        "products",
        Decimal(0),
    ),
    SignalSpec(
        "pm.feature_factory",
        "product_management",
        "Roadmap items without a key-result link (feature factory)",
        "Share of open roadmap items (now, next, later) of active products linked to no key "
        "result. Fires above {threshold} %.",
        "%",
        Decimal(25),
    ),
    SignalSpec(
        "customer.no_measure",
        "customer",
        "No customer-facing key result measured in 90 days",
        "Active products with no customer-facing key result measured in the last 90 days. Fires "
        "above {threshold} products.",
        "products",
        Decimal(0),
    ),
    SignalSpec(
        "customer.no_debt_risk",
        "customer",
        "A quarter without debt or risk work",
        "Value streams that completed work in the last complete calendar quarter but no debt or "
        "risk item (monthly flow snapshots: velocity x distribution). Fires above {threshold} "
        "value streams.",
        "value streams",
        Decimal(0),
    ),
)

WARNING_SPECS: tuple[SignalSpec, ...] = (
    SignalSpec(
        "warning.ageing",
        "warning",
        "Ageing work",
        "Work items in progress (latest status active or waiting) for longer than their "
        "product's latest monthly 85th-percentile flow time, oldest first. Fires above "
        "{threshold} items.",
        "items",
        Decimal(0),
    ),
    SignalSpec(
        "warning.flow_load",
        "warning",
        "Flow load rising while velocity does not",
        "Value streams whose weekly flow load (at the end of the week) rose four weeks running "
        "while their velocity did not rise over the same weeks: by Little's law their flow time "
        "will rise. Fires above {threshold} value streams.",
        "value streams",
        Decimal(0),
    ),
    SignalSpec(
        "warning.spread_teams",
        "warning",
        "Teams spread over more than two value streams",
        "Teams with allocations (above 0 %) to more than two value streams in the period. Fires "
        "above {threshold} teams.",
        "teams",
        Decimal(0),
    ),
)

SPEC_BY_KEY: dict[str, SignalSpec] = {spec.key: spec for spec in SPECS + WARNING_SPECS}
DEFAULT_THRESHOLDS: dict[str, Decimal] = {key: spec.default for key, spec in SPEC_BY_KEY.items()}


# Shared reads: one query each, whatever the size.


def thresholds() -> dict[str, Decimal]:
    """Every signal's threshold: the stored one, else the default."""
    stored = dict(
        PitfallThreshold.objects.filter(key__in=list(SPEC_BY_KEY)).values_list("key", "threshold")
    )
    return {key: stored.get(key, default) for key, default in DEFAULT_THRESHOLDS.items()}


def trends(*, keys: list[str], today: date) -> dict[str, list[tuple[date, Decimal]]]:
    """The recorded values of the last eight weeks per key, oldest first."""
    rows = PitfallRecord.objects.filter(
        key__in=keys, day__gt=today - timedelta(days=TREND_DAYS), day__lte=today
    ).order_by("key", "day")
    result: dict[str, list[tuple[date, Decimal]]] = defaultdict(list)
    for key, day, value in rows.values_list("key", "day", "value"):
        result[key].append((day, value))
    return result


def _product_streams() -> dict[int, frozenset[int]]:
    pairs: dict[int, set[int]] = defaultdict(set)
    for product_id, vs_id in ValueStreamLink.objects.values_list("product_id", "valuestream_id"):
        pairs[product_id].add(vs_id)
    return {pid: frozenset(ids) for pid, ids in pairs.items()}


def _team_streams(product_streams: dict[int, frozenset[int]]) -> dict[int, frozenset[int]]:
    pairs: dict[int, set[int]] = defaultdict(set)
    for team_id, product_id in TeamProductLink.objects.values_list("team_id", "product_id"):
        pairs[team_id] |= product_streams.get(product_id, frozenset())
    return {tid: frozenset(ids) for tid, ids in pairs.items()}


@dataclass
class _Context:
    today: date
    period: FiscalPeriod | None
    thresholds: dict[str, Decimal]
    product_streams: dict[int, frozenset[int]]
    now: datetime
    as_of: datetime  # the instant the figures describe: now, or the end of a past ``today``

    def product_url(self, slug: str) -> str:
        return reverse("products:product_detail", kwargs={"slug": slug})


def _fmt_day(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def _percent(part: Decimal, whole: Decimal) -> Decimal:
    return (part * 100 / whole).quantize(ONE_DECIMAL)


def _signal(
    spec: SignalSpec,
    ctx: _Context,
    *,
    value: Decimal | int | None,
    offenders: list[Offender],
    trend: list[tuple[date, Decimal]],
    enough_data: bool = True,
) -> Signal:
    raw = ctx.thresholds[spec.key]
    threshold: Decimal | int = int(raw) if spec.is_count and raw == int(raw) else raw
    shown = f"{threshold}" if spec.is_count else f"{raw.normalize():f}"
    enough = enough_data and value is not None
    return Signal(
        key=spec.key,
        pitfall=spec.pitfall,
        title=spec.title,
        rule=spec.rule.format(threshold=shown),
        value=value if enough else None,
        unit=spec.unit,
        threshold=threshold,
        firing=bool(enough and value is not None and Decimal(value) > raw),
        enough_data=enough,
        trend=trend,
        offenders=offenders if enough else [],
        computed_at=ctx.now,
    )


# The project pitfall.


def _end_dates(ctx: _Context) -> tuple[int, list[Offender]]:
    horizon = ctx.today + timedelta(days=END_DATE_HORIZON_DAYS)
    team_streams = _team_streams(ctx.product_streams)
    offenders: list[tuple[date, Offender]] = []
    teams = (
        Team.objects.active()
        .filter(planned_end__isnull=False, planned_end__lte=horizon)
        .only("id", "name", "slug", "planned_end")
    )
    for team in teams:
        assert team.planned_end is not None
        offenders.append(
            (
                team.planned_end,
                Offender(
                    f"Team {team.name}",
                    team.get_absolute_url(),
                    f"planned to end {_fmt_day(team.planned_end)}",
                    team_streams.get(team.pk, frozenset()),
                ),
            )
        )
    products = (
        Product.objects.active()
        .filter(planned_end__isnull=False, planned_end__lte=horizon)
        .only("id", "name", "slug", "planned_end")
    )
    for product in products:
        assert product.planned_end is not None
        offenders.append(
            (
                product.planned_end,
                Offender(
                    f"Product {product.name}",
                    ctx.product_url(product.slug),
                    f"planned to end {_fmt_day(product.planned_end)}",
                    ctx.product_streams.get(product.pk, frozenset()),
                ),
            )
        )
    offenders.sort(key=lambda pair: (pair[0], pair[1].label))
    return len(offenders), [o for _, o in offenders]


def _plan_end(ctx: _Context) -> tuple[int, list[Offender]]:
    units = (
        TransitionUnit.objects.filter(target_end__isnull=False)
        .select_related("value_stream")
        .order_by("value_stream__name", "pk")
    )
    offenders = []
    for unit in units:
        assert unit.target_end is not None
        if unit.value_stream is None:
            url, streams = reverse("transition:unit"), frozenset[int]()
        else:
            url = reverse("transition:unit", kwargs={"slug": unit.value_stream.slug})
            streams = frozenset({unit.value_stream.pk})
        offenders.append(
            Offender(
                f"Transition of {unit.name}",
                url,
                f"fixed end {_fmt_day(unit.target_end)}",
                streams,
            )
        )
    return len(offenders), offenders


def _milestone_outcomes(ctx: _Context) -> tuple[int, list[Offender]]:
    measures_change = KeyResult.objects.filter(outcome=OuterRef("pk")).filter(
        ~Q(kind=KeyResult.Kind.OTHER) | Q(customer_facing=True)
    )
    outcomes = (
        Outcome.objects.active()
        .filter(product__archived_at__isnull=True)
        .annotate(
            measures=Exists(measures_change),
            kr_count=Count("key_results"),
        )
        .filter(measures=False)
        .select_related("product")
        .only("id", "statement", "product__id", "product__name", "product__slug")
        .order_by("product__name", "order", "pk")
    )
    offenders = [
        Offender(
            f"{o.product.name}: {o.statement[:80]}",
            ctx.product_url(o.product.slug) + f"#outcome-{o.pk}",
            "no key result" if not o.kr_count else f"{o.kr_count} key results, all of kind Other",
            ctx.product_streams.get(o.product.pk, frozenset()),
        )
        for o in outcomes
    ]
    return len(offenders), offenders


# The legacy-funding pitfall.


def _funding(
    ctx: _Context,
) -> tuple[tuple[Decimal | None, list[Offender]], tuple[int | None, list[Offender]]]:
    """The unallocated share and the value streams without an envelope, from one matrix."""
    period = ctx.period
    if period is None:
        return (None, []), (None, [])
    matrix = funding_selectors.allocation_matrix(period=period)
    matrix_url = reverse("funding:matrix", kwargs={"pk": period.pk})
    unallocated: list[Offender] = []
    share: Decimal | None = None
    envelope_total = matrix.envelope_amount
    if envelope_total:
        share = max(_percent(envelope_total - matrix.allocated_amount, envelope_total), Decimal(0))
        for column in matrix.columns:
            gap = column.unfunded
            if column.envelope is not None and gap is not None and gap > 0:
                unallocated.append(
                    Offender(
                        column.value_stream.name,
                        matrix_url,
                        f"{_percent(gap, column.envelope.amount)} % of its envelope unallocated",
                        frozenset({column.value_stream.pk}),
                    )
                )
    allocated_streams = {
        cell.value_stream_id
        for row in matrix.rows
        for cell in row.cells
        if cell.allocation is not None and cell.allocation.percent > 0
    }
    without: list[Offender] = [
        Offender(
            column.value_stream.name,
            reverse("funding:period_detail", kwargs={"pk": period.pk}),
            f"receives allocations in {period.name} without an envelope",
            frozenset({column.value_stream.pk}),
        )
        for column in matrix.columns
        if column.envelope is None and column.value_stream.pk in allocated_streams
    ]
    return (share, unallocated), (len(without), without)


def _unchanged_allocations(ctx: _Context) -> tuple[int | None, list[Offender]]:
    period = ctx.period
    if period is None:
        return None, []
    cutoff = ctx.as_of - timedelta(days=UNCHANGED_DAYS)
    percent_changes = (
        AllocationChange.objects.filter(
            team_id=OuterRef("team_id"), value_stream_id=OuterRef("value_stream_id")
        )
        .filter(
            Q(percent_before__isnull=True)
            | Q(percent_after__isnull=True)
            | ~Q(percent_before=F("percent_after"))
        )
        .order_by("-at")
        .values("at")[:1]
    )
    off_track = KeyResult.objects.filter(
        status=KeyResult.Status.OFF_TRACK,
        outcome__archived_at__isnull=True,
        product__archived_at__isnull=True,
        product__value_streams=OuterRef("value_stream_id"),
    )
    rows = (
        Allocation.objects.filter(period=period, percent__gt=0)
        .annotate(
            changed_at=Coalesce(Subquery(percent_changes), F("created_at")),
            off_track=Exists(off_track),
        )
        .filter(changed_at__lt=cutoff, off_track=True)
        .select_related("team", "value_stream")
        .only(
            "id",
            "percent",
            "team__id",
            "team__name",
            "team__slug",
            "value_stream__id",
            "value_stream__name",
        )
        .order_by("changed_at", "team__name", "value_stream__name")
    )
    offenders = [
        Offender(
            f"{a.team.name} → {a.value_stream.name}",
            reverse("funding:team_timeline", kwargs={"pk": period.pk, "slug": a.team.slug}),
            f"{a.percent} % unchanged since {_fmt_day(timezone.localdate(a.changed_at))}; "
            "its value stream has off-track key results",
            frozenset({a.value_stream.pk}),
        )
        for a in rows
    ]
    return len(offenders), offenders


# Weak product management and the customer, from one query over the products.


def _product_gaps(ctx: _Context) -> dict[str, list[Offender]]:
    active_krs = KeyResult.objects.filter(product=OuterRef("pk"), outcome__archived_at__isnull=True)
    measured = Measurement.objects.filter(
        key_result__product=OuterRef("pk"),
        key_result__outcome__archived_at__isnull=True,
        date__gt=ctx.today - timedelta(days=MEASURED_DAYS),
        date__lte=ctx.today,
    )
    customer_measured = Measurement.objects.filter(
        key_result__product=OuterRef("pk"),
        key_result__outcome__archived_at__isnull=True,
        key_result__customer_facing=True,
        date__gt=ctx.today - timedelta(days=CUSTOMER_MEASURED_DAYS),
        date__lte=ctx.today,
    )
    products = (
        Product.objects.active()
        .annotate(
            has_owner=Exists(ProductOwnerLink.objects.filter(product_id=OuterRef("pk"))),
            has_kr=Exists(active_krs),
            measured=Exists(measured),
            customer_measured=Exists(customer_measured),
        )
        .filter(
            Q(has_owner=False) | Q(has_kr=False) | Q(measured=False) | Q(customer_measured=False)
        )
        .only("id", "name", "slug")
        .order_by("name", "pk")
    )
    gaps: dict[str, list[Offender]] = {
        "pm.no_owner": [],
        "pm.no_key_result": [],
        "pm.no_measurement": [],
        "customer.no_measure": [],
    }
    for product in products:
        url = ctx.product_url(product.slug)
        streams = ctx.product_streams.get(product.pk, frozenset())
        if not product.has_owner:
            gaps["pm.no_owner"].append(Offender(product.name, url, "no product owner", streams))
        if not product.has_kr:
            gaps["pm.no_key_result"].append(
                Offender(product.name, url + "#outcomes", "no key result", streams)
            )
        elif not product.measured:
            gaps["pm.no_measurement"].append(
                Offender(product.name, url + "#outcomes", "no measurement in 60 days", streams)
            )
        if not product.customer_measured:
            gaps["customer.no_measure"].append(
                Offender(
                    product.name,
                    url + "#outcomes",
                    "no customer-facing key result measured in 90 days",
                    streams,
                )
            )
    return gaps


def _feature_factory(ctx: _Context) -> tuple[Decimal | None, list[Offender]]:
    open_items = RoadmapItem.objects.filter(product__archived_at__isnull=True).exclude(
        horizon=RoadmapItem.Horizon.DONE
    )
    linked = RoadmapItem.key_results.through.objects.filter(roadmapitem_id=OuterRef("pk"))
    counts = open_items.annotate(linked=Exists(linked)).aggregate(
        total=Count("pk"), unlinked=Count("pk", filter=Q(linked=False))
    )
    if not counts["total"]:
        return None, []
    items = (
        open_items.annotate(linked=Exists(linked))
        .filter(linked=False)
        .select_related("product")
        .only("id", "title", "horizon", "product__id", "product__name", "product__slug")
        .order_by("product__name", "horizon", "position")
    )
    offenders = [
        Offender(
            f"{item.product.name}: {item.title}",
            ctx.product_url(item.product.slug) + f"#roadmap-item-{item.pk}",
            f"{item.get_horizon_display()}, linked to no key result",
            ctx.product_streams.get(item.product.pk, frozenset()),
        )
        for item in items
    ]
    return _percent(Decimal(counts["unlinked"]), Decimal(counts["total"])), offenders


def last_complete_quarter(today: date) -> tuple[date, date]:
    """The first day of the last complete calendar quarter, and the first day after it."""
    this_quarter = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    year, month = (this_quarter.year, this_quarter.month - 3)
    if month < 1:
        year, month = year - 1, month + 12
    return date(year, month, 1), this_quarter


def _no_debt_risk(ctx: _Context) -> tuple[int | None, list[Offender]]:
    start, end = last_complete_quarter(ctx.today)
    rows = (
        FlowSnapshot.objects.filter(
            window=FlowSnapshot.Window.MONTH,
            value_stream__isnull=False,
            value_stream__archived_at__isnull=True,
            window_start__gte=start,
            window_start__lt=end,
        )
        .select_related("value_stream")
        .only(
            "velocity",
            "distribution",
            "value_stream__id",
            "value_stream__name",
            "value_stream__slug",
        )
        .order_by("value_stream__name", "window_start")
    )
    completed: dict[int, int] = defaultdict(int)
    debt_risk: dict[int, Decimal] = defaultdict(Decimal)
    streams: dict[int, ValueStream] = {}
    for snapshot in rows:
        assert snapshot.value_stream is not None
        vs = snapshot.value_stream
        streams[vs.pk] = vs
        completed[vs.pk] += snapshot.velocity
        share = sum(
            (Decimal(str(snapshot.distribution.get(t, 0) or 0)) for t in ("debt", "risk")),
            Decimal(0),
        )
        debt_risk[vs.pk] += Decimal(snapshot.velocity) * share / 100
    worked = [pk for pk, n in completed.items() if n > 0]
    if not worked:
        return None, []
    label = f"Q{(start.month - 1) // 3 + 1} {start.year}"
    offenders = [
        Offender(
            streams[pk].name,
            reverse("valuestreams:value_stream_flow", kwargs={"slug": streams[pk].slug}),
            f"{completed[pk]} items completed in {label}, none debt or risk",
            frozenset({pk}),
        )
        for pk in worked
        if debt_risk[pk] < Decimal("0.5")
    ]
    return len(offenders), offenders


# The public reads.


def _context(period: FiscalPeriod | None, today: date | None) -> _Context:
    now = timezone.now()
    today = today or timezone.localdate()
    end_of_day = datetime.combine(today + timedelta(days=1), time.min, tzinfo=UTC)
    if period is None:
        period = funding_selectors.current_period(today=today)
    return _Context(
        today=today,
        period=period,
        thresholds=thresholds(),
        product_streams=_product_streams(),
        now=now,
        as_of=min(now, end_of_day),
    )


def pitfall_signals(
    *, period: FiscalPeriod | None = None, today: date | None = None
) -> list[Signal]:
    """Every pitfall signal (four pitfalls), in a constant number of SQL queries.

    ``period`` defaults to the current fiscal period; ``today`` to the local date.
    """
    ctx = _context(period, today)
    trend = trends(keys=[spec.key for spec in SPECS], today=ctx.today)
    values: dict[str, tuple[Decimal | int | None, list[Offender]]] = {}
    values["project.end_dates"] = _end_dates(ctx)
    values["project.plan_end"] = _plan_end(ctx)
    values["project.milestone_outcomes"] = _milestone_outcomes(ctx)
    values["funding.unallocated_budget"], values["funding.no_envelope"] = _funding(ctx)
    values["funding.unchanged_allocations"] = _unchanged_allocations(ctx)
    for key, offenders in _product_gaps(ctx).items():
        values[key] = (len(offenders), offenders)
    values["pm.feature_factory"] = _feature_factory(ctx)
    values["customer.no_debt_risk"] = _no_debt_risk(ctx)
    return [
        _signal(
            spec,
            ctx,
            value=values[spec.key][0],
            offenders=values[spec.key][1],
            trend=trend.get(spec.key, []),
        )
        for spec in SPECS
    ]


# Early warnings.


def ageing_work(*, today: date | None = None, now: datetime | None = None) -> list[dict[str, Any]]:
    """Work items in progress for longer than their product's latest monthly 85th-percentile
    flow time, oldest first: one SQL statement over the per-item flow facts.

    In progress = the latest status maps to ``active`` or ``waiting``; the start is the first
    change into such a status; statuses map through the product's mapping value stream (lowest
    id) and fall back to the default mapping, as the flow metrics do (``FlowFact.for_product``).
    """
    now = now or timezone.now()
    today = today or timezone.localdate()
    p85 = Subquery(
        FlowSnapshot.objects.filter(
            product_id=OuterRef("product_id"),
            window=FlowSnapshot.Window.MONTH,
            window_start__lte=today,
            flow_time_p85_days__isnull=False,
        )
        .order_by("-window_start")
        .values("flow_time_p85_days")[:1]
    )
    rows = (
        FlowFact.objects.filter(
            for_product=True,
            category__in=[FlowCategory.ACTIVE, FlowCategory.WAITING],
            start_t__isnull=False,
            product__archived_at__isnull=True,
        )
        .annotate(p85=Cast(p85, FloatField()))
        .filter(p85__isnull=False)
        .annotate(age_days=(Value(now.timestamp()) - F("start_t")) / Value(86400.0))
        .filter(age_days__gt=F("p85"))
        .order_by("start_t", "item_id")
        .values(
            "product_id",
            "product__name",
            "product__slug",
            "started_at",
            "age_days",
            "p85",
            key=F("item__key"),
            title=F("item__title"),
        )
    )
    return [dict(row) for row in rows]


def _ageing(ctx: _Context) -> tuple[int, list[Offender]]:
    offenders = [
        Offender(
            f"{row['key']} {row['title'][:60]}".strip(),
            reverse("valuestreams:product_flow", kwargs={"slug": row["product__slug"]}),
            f"{row['product__name']}: in progress {row['age_days']:.1f} d, its 85th percentile "
            f"is {row['p85']:.1f} d",
            ctx.product_streams.get(row["product_id"], frozenset()),
        )
        for row in ageing_work(today=ctx.today, now=ctx.as_of)
    ]
    return len(offenders), offenders


def _rising_load(ctx: _Context) -> tuple[int | None, list[Offender]]:
    this_week = ctx.today - timedelta(days=ctx.today.weekday())
    first = this_week - timedelta(weeks=RISING_WEEKS + 1)
    rows = (
        FlowSnapshot.objects.filter(
            window=FlowSnapshot.Window.WEEK,
            value_stream__isnull=False,
            value_stream__archived_at__isnull=True,
            window_start__gte=first,
            window_start__lt=this_week,
        )
        .select_related("value_stream")
        .only(
            "window_start",
            "velocity",
            "flow_load_end",
            "value_stream__id",
            "value_stream__name",
            "value_stream__slug",
        )
        .order_by("value_stream__name", "value_stream_id", "window_start")
    )
    weeks: dict[int, dict[date, FlowSnapshot]] = defaultdict(dict)
    streams: dict[int, ValueStream] = {}
    for snapshot in rows:
        assert snapshot.value_stream is not None
        streams[snapshot.value_stream.pk] = snapshot.value_stream
        weeks[snapshot.value_stream.pk][snapshot.window_start] = snapshot
    wanted = [first + timedelta(weeks=n) for n in range(RISING_WEEKS + 1)]
    complete = {pk: w for pk, w in weeks.items() if all(day in w for day in wanted)}
    if not complete:
        return None, []
    offenders = []
    for pk, by_week in complete.items():
        series = [by_week[day] for day in wanted]
        loads = [s.flow_load_end for s in series]
        rising = all(b > a for a, b in pairwise(loads))
        if rising and series[-1].velocity <= series[0].velocity:
            vs = streams[pk]
            offenders.append(
                Offender(
                    vs.name,
                    reverse("valuestreams:value_stream_flow", kwargs={"slug": vs.slug}),
                    f"flow load {loads[0]} → {loads[-1]} over four weeks; velocity "
                    f"{series[0].velocity} → {series[-1].velocity}",
                    frozenset({pk}),
                )
            )
    return len(offenders), offenders


def _spread_teams(ctx: _Context) -> tuple[int | None, list[Offender]]:
    period = ctx.period
    if period is None:
        return None, []
    allocated = Allocation.objects.filter(period=period, percent__gt=0)
    spread = (
        allocated.order_by()
        .values("team_id")
        .annotate(n=Count("value_stream_id", distinct=True))
        .filter(n__gt=MAX_VALUE_STREAMS_PER_TEAM)
        .values("team_id")
    )
    rows = (
        allocated.filter(team_id__in=spread)
        .select_related("team", "value_stream")
        .only(
            "id", "team__id", "team__name", "team__slug", "value_stream__id", "value_stream__name"
        )
        .order_by("team__name", "team_id", "value_stream__name")
    )
    by_team: dict[int, list[Allocation]] = defaultdict(list)
    for allocation in rows:
        by_team[allocation.team_id].append(allocation)
    offenders = [
        Offender(
            f"Team {cells[0].team.name}",
            reverse("funding:team_timeline", kwargs={"pk": period.pk, "slug": cells[0].team.slug}),
            f"allocated to {len(cells)} value streams: "
            + ", ".join(c.value_stream.name for c in cells),
            frozenset(c.value_stream_id for c in cells),
        )
        for cells in by_team.values()
    ]
    return len(offenders), offenders


def early_warnings(
    *, period: FiscalPeriod | None = None, today: date | None = None
) -> list[Signal]:
    """The early warnings from flow: ageing work, rising flow load, teams spread thin."""
    ctx = _context(period, today)
    trend = trends(keys=[spec.key for spec in WARNING_SPECS], today=ctx.today)
    values: dict[str, tuple[Decimal | int | None, list[Offender]]] = {
        "warning.ageing": _ageing(ctx),
        "warning.flow_load": _rising_load(ctx),
        "warning.spread_teams": _spread_teams(ctx),
    }
    return [
        _signal(
            spec,
            ctx,
            value=values[spec.key][0],
            offenders=values[spec.key][1],
            trend=trend.get(spec.key, []),
        )
        for spec in WARNING_SPECS
    ]


def signals_by_value_stream(signals: list[Signal]) -> dict[int, list[Signal]]:
    """The firing signals per value stream id (a signal appears once under each value stream
    one of its offenders belongs to)."""
    result: dict[int, list[Signal]] = {}
    for signal in signals:
        if not signal.firing:
            continue
        ids: set[int] = set()
        for offender in signal.offenders:
            ids |= offender.value_stream_ids
        for vs_id in sorted(ids):
            result.setdefault(vs_id, []).append(signal)
    return result
