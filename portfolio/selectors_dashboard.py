"""The CIO dashboard: every figure of the home page, its definition, window and freshness.

One aggregate query per widget (registry counts, value-stream rows, key-result statuses, the
period's allocation matrix, the value streams' monthly flow snapshots, the organisation's
transition unit, the pitfall signals), so the page costs a constant number of queries whatever the
size of the portfolio. The summary API serialises the same ``Dashboard`` object, so the page and
the API cannot disagree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import cached_property

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from funding.models import Allocation, FiscalPeriod
from funding.selectors import Matrix, allocation_matrix
from portfolio import pitfalls
from portfolio.common.templatetags.ui import money
from portfolio.models import Stage, TransitionUnit
from products import selectors as product_selectors
from products.models import KeyResult, Person, Product, Team
from valuestreams.models import FlowSnapshot, ValueStream

User = AbstractBaseUser | AnonymousUser

MIN_COMPLETED = 5
STATUSES = ("on_track", "at_risk", "off_track", "no_data")
STATUS_LABELS = dict(KeyResult.Status.choices)
ITEM_TYPES = ("feature", "defect", "risk", "debt")
SPARK_MONTHS = 12


def _month(d: date, back: int = 0) -> date:
    year, month = divmod(d.year * 12 + d.month - 1 - back, 12)
    return date(year, month + 1, 1)


def _months_between(first: date, last: date) -> list[date]:
    months, current = [], _month(first)
    while current <= last:
        months.append(current)
        current = _month(current, -1)
    return months


def _pitfalls_url() -> str:
    try:
        return reverse("pitfalls")
    except NoReverseMatch:
        return reverse("transition:overview")


@dataclass
class Figure:
    """One headline figure: value (None when too little data), how it reads, and how it is made."""

    key: str
    label: str
    value: Decimal | int | None
    display: str
    note: str
    definition: str
    window: str
    url: str
    computed_at: datetime | None = None
    enough_data: bool = True
    trend: Decimal | None = None


@dataclass
class ValueStreamRow:
    """One line of the value-stream table."""

    id: int
    name: str
    slug: str
    products: int
    envelope: Decimal | None
    allocated: Decimal
    outcomes: dict[str, int]
    months: list[date]
    velocity: list[int | None]
    flow_time: list[Decimal | None]
    stage: int | None
    signals: list[pitfalls.Signal] = field(default_factory=list)

    @cached_property
    def url(self) -> str:
        return reverse("valuestreams:value_stream_detail", kwargs={"slug": self.slug})

    @cached_property
    def flow_url(self) -> str:
        return reverse("valuestreams:value_stream_flow", kwargs={"slug": self.slug})

    @cached_property
    def transition_url(self) -> str:
        return reverse("transition:unit", kwargs={"slug": self.slug})

    @property
    def stage_label(self) -> str:
        return Stage(self.stage).label if self.stage else "Not assessed"

    @cached_property
    def velocity_svg(self) -> str:
        return sparkline_points(self.velocity)

    @cached_property
    def flow_time_svg(self) -> str:
        return sparkline_points(self.flow_time)

    @cached_property
    def badges(self) -> list[tuple[pitfalls.Signal, str]]:
        """Each firing signal with the link to its first offender in this value stream."""
        result = []
        for signal in self.signals:
            url = next((o.url for o in signal.offenders if self.id in o.value_stream_ids), None)
            result.append((signal, url or _pitfalls_url()))
        return result

    def _complete_months(self) -> list[tuple[int | None, Decimal | None]]:
        """(velocity, median) of the months already over, latest last: the running month has
        only part of its work done, so its figures would read low."""
        running = _month(timezone.localdate())
        return [
            (v, ft)
            for month, v, ft in zip(self.months, self.velocity, self.flow_time, strict=True)
            if month < running
        ]

    @property
    def last_velocity(self) -> int | None:
        """Items completed in the latest complete month with flow data."""
        return next((v for v, _ in reversed(self._complete_months()) if v is not None), None)

    @property
    def last_flow_time(self) -> Decimal | None:
        """The latest complete month's median flow time; None when that month completed fewer
        than 5 items (too few to mean anything)."""
        for velocity, median in reversed(self._complete_months()):
            if median is not None:
                return median if (velocity or 0) >= MIN_COMPLETED else None
        return None


@dataclass
class Dashboard:
    """Everything the dashboard page and the summary API show for one fiscal period."""

    period: FiscalPeriod | None
    periods: list[FiscalPeriod]
    tiles: list[Figure]
    rows: list[ValueStreamRow]
    funding_chart: dict
    distribution_chart: dict
    outcome_chart: dict
    organisation_stage: int | None
    stage_counts: dict[int, int]
    signals: list[pitfalls.Signal]
    flow_computed_at: datetime | None

    @property
    def tile(self) -> dict[str, Figure]:
        return {f.key: f for f in self.tiles}

    @property
    def pitfall_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(pitfalls.PITFALLS, 0)
        for s in self.signals:
            if s.firing:
                counts[s.pitfall] = counts.get(s.pitfall, 0) + 1
        return counts

    @property
    def distribution_rows(self) -> list[tuple[str, float]]:
        return list(
            zip(
                self.distribution_chart["labels"],
                self.distribution_chart["series"][0]["data"],
                strict=True,
            )
        )

    @property
    def charts_json(self) -> str:
        return json.dumps(
            {
                "funding": self.funding_chart,
                "distribution": self.distribution_chart,
                "outcomes": self.outcome_chart,
            }
        )

    @property
    def pitfall_summary(self) -> list[tuple[str, int]]:
        """(pitfall name, firing signals) for the pitfalls with at least one firing."""
        return [(pitfalls.PITFALLS.get(k, k), n) for k, n in self.pitfall_counts.items() if n]

    @property
    def firing(self) -> list[pitfalls.Signal]:
        return [s for s in self.signals if s.firing]


def sparkline_points(values: list, width: int = 96, height: int = 24) -> str:
    """SVG polyline points for a sparkline; gaps (None) are skipped; '' with fewer than 2 values."""
    known = [(i, float(v)) for i, v in enumerate(values) if v is not None]
    if len(known) < 2:
        return ""
    top = max(v for _, v in known) or 1.0
    step = width / max(len(values) - 1, 1)
    return " ".join(f"{i * step:.1f},{height - 2 - (v / top) * (height - 4):.1f}" for i, v in known)


def flow_window(period: FiscalPeriod | None, today: date) -> tuple[date, date]:
    """The months whose flow counts for the period: from its first month to its last month
    started (never later than today's month)."""
    if period is None:
        return _month(today, 2), _month(today)
    return _month(period.start), min(_month(period.end), _month(today))


def _weighted_median(rows: list[tuple[int, Decimal | None]]) -> tuple[Decimal | None, int]:
    items = sum(v for v, m in rows if m is not None)
    if not items:
        return None, 0
    total = sum((Decimal(v) * m for v, m in rows if m is not None), Decimal(0))
    return (total / items).quantize(Decimal("0.1")), items


def resolve_period(period_id: str | None) -> tuple[FiscalPeriod | None, list[FiscalPeriod]]:
    """The periods (newest first) and the asked one, or else the current one by the rule of
    ``funding.selectors.current_period`` (active; else containing today; else the latest), read
    from the same single query."""
    periods = list(FiscalPeriod.objects.order_by("-start"))
    if period_id and period_id.isdigit():
        chosen = next((p for p in periods if p.pk == int(period_id)), None)
        if chosen is not None:
            return chosen, periods
    today = timezone.localdate()
    chosen = (
        next((p for p in periods if p.status == FiscalPeriod.Status.ACTIVE), None)
        or next((p for p in periods if p.start <= today <= p.end), None)
        or (periods[0] if periods else None)
    )
    return chosen, periods


def dashboard(
    *,
    user: User,
    period: FiscalPeriod | None,
    periods: list[FiscalPeriod],
    today: date | None = None,
) -> Dashboard:
    """Every figure of the CIO dashboard for a period, in a constant number of queries."""
    today = today or timezone.localdate()
    registry = product_selectors.registry_counts()
    streams = list(
        ValueStream.objects.visible_to(user)
        .active()
        .select_related("transition")
        .annotate(product_count=Count("products", filter=Q(products__archived_at__isnull=True)))
        .order_by("name", "pk")
    )
    live_krs = KeyResult.objects.filter(
        product__archived_at__isnull=True, outcome__archived_at__isnull=True
    )
    kr_by_stream: dict[int, dict[str, int]] = {}
    for vs_id, status, n in (
        live_krs.filter(product__value_streams__isnull=False)
        .values_list("product__value_streams", "status")
        .annotate(n=Count("id"))
        .order_by()
    ):
        kr_by_stream.setdefault(vs_id, dict.fromkeys(STATUSES, 0))[status] = n
    kr_totals = live_krs.aggregate(**{s: Count("id", filter=Q(status=s)) for s in STATUSES})
    matrix: Matrix | None = allocation_matrix(period=period) if period is not None else None
    columns = {c.value_stream.pk: c for c in matrix.columns} if matrix is not None else {}

    first, last = flow_window(period, today)
    span = len(_months_between(first, last))
    spark_months = _months_between(_month(last, SPARK_MONTHS - 1), last)
    earliest = min(_month(first, span), spark_months[0])
    snapshots = list(
        FlowSnapshot.objects.filter(
            window=FlowSnapshot.Window.MONTH,
            value_stream__isnull=False,
            window_start__gte=earliest,
            window_start__lte=last,
        ).values_list(
            "value_stream_id",
            "window_start",
            "velocity",
            "flow_time_median_days",
            "distribution",
            "computed_at",
        )
    )
    organisation = (
        TransitionUnit.objects.filter(value_stream__isnull=True).values_list("stage", flat=True)
    ).first()
    signals = pitfalls.pitfall_signals(period=period, today=today)
    by_stream_signals = pitfalls.signals_by_value_stream(signals)

    by_cell = {(vs, m): (v, ft) for vs, m, v, ft, _, _ in snapshots}
    in_window = [s for s in snapshots if first <= s[1] <= last]
    before = [s for s in snapshots if _month(first, span) <= s[1] < first]
    flow_computed_at = max((s[5] for s in snapshots), default=None)

    rows = []
    for stream in streams:
        column = columns.get(stream.pk)
        unit = getattr(stream, "transition", None)
        cells = [by_cell.get((stream.pk, m)) for m in spark_months]
        rows.append(
            ValueStreamRow(
                id=stream.pk,
                name=stream.name,
                slug=stream.slug,
                products=stream.product_count,  # type: ignore[attr-defined]
                envelope=column.envelope_amount if column is not None else None,
                allocated=column.allocated_amount if column is not None else Decimal("0.00"),
                outcomes=kr_by_stream.get(stream.pk, dict.fromkeys(STATUSES, 0)),
                months=spark_months,
                velocity=[c[0] if c else None for c in cells],
                flow_time=[c[1] if c else None for c in cells],
                stage=unit.stage if unit is not None else None,
                signals=by_stream_signals.get(stream.pk, []),
            )
        )

    period_label = period.name if period is not None else "no fiscal period"
    window_label = f"{first:%b %Y} to {last:%b %Y}"
    measured = sum(kr_totals[s] for s in ("on_track", "at_risk", "off_track"))
    on_track_share = (
        (Decimal(kr_totals["on_track"]) * 100 / measured).quantize(Decimal("0.1"))
        if measured
        else None
    )
    median_now, completed_now = _weighted_median([(s[2], s[3]) for s in in_window])
    median_before, completed_before = _weighted_median([(s[2], s[3]) for s in before])
    enough_flow = completed_now >= MIN_COMPLETED
    trend = (
        (median_now - median_before).quantize(Decimal("0.1"))
        if median_now is not None
        and enough_flow
        and median_before is not None
        and completed_before >= MIN_COMPLETED
        else None
    )
    funded = matrix.allocated_amount if matrix is not None else None
    envelope = matrix.envelope_amount if matrix is not None else None
    funding_url = (
        reverse("funding:matrix", kwargs={"pk": period.pk})
        if period is not None
        else reverse("funding:index")
    )
    tiles = [
        Figure(
            "value_streams",
            "Value streams",
            len(streams),
            str(len(streams)),
            f"{sum(1 for r in rows if r.stage)} assessed in the transition",
            "Active (not archived) value streams: end-to-end flows from idea to value.",
            "today",
            reverse("valuestreams:value_stream_list"),
        ),
        Figure(
            "products",
            "Products",
            registry["products"],
            str(registry["products"]),
            f"{registry['products_without_owner']} without a product owner"
            if registry["products_without_owner"]
            else "every one with a product owner",
            "Active products; the note counts those with no named product owner.",
            "today",
            reverse("products:product_list"),
        ),
        Figure(
            "teams",
            "Durable teams",
            registry["teams"],
            str(registry["teams"]),
            "persistent, cross-functional",
            "Active (not archived) teams.",
            "today",
            reverse("products:team_list"),
        ),
        Figure(
            "people",
            "People and FTE",
            registry["people"],
            str(registry["people"]),
            f"{registry['fte'].normalize():f} FTE in teams today",
            "Active people; FTE = the sum of today's team memberships' FTE fractions in active teams.",
            "today",
            reverse("products:person_list"),
        ),
        Figure(
            "funded",
            "Funded this period",
            funded,
            "" if funded is None else str(funded),
            f"of {money(envelope)} in envelopes" if envelope else "no envelopes set",
            "Sum over the period's allocations of percent x the team's capacity cost / 100 "
            "(capacity cost = FTE x annual rate x days covered / 365).",
            period_label,
            funding_url,
            enough_data=period is not None,
        ),
        Figure(
            "key_results_on_track",
            "Key results on track",
            on_track_share,
            "" if on_track_share is None else f"{on_track_share} %",
            f"{kr_totals['on_track']} of {measured} measured; {kr_totals['no_data']} not measured",
            "Key results on track / key results with at least one measurement x 100, over live "
            "outcomes of active products (on track: progress >= expected progress - 10).",
            "latest measurement of each key result",
            reverse("products:product_list"),
            enough_data=measured > 0,
        ),
        Figure(
            "flow_time",
            "Median flow time",
            median_now if enough_flow else None,
            f"{median_now} d" if enough_flow else "",
            (
                f"{'+' if trend > 0 else ''}{trend} d vs the {span} months before"
                if trend is not None
                else "no comparison: too few items before"
            )
            if enough_flow
            else f"{completed_now} completed items: too few",
            "Median flow time (days from start to done) of each value stream's monthly snapshot, "
            "weighted by the month's velocity, over the window's months; needs at least "
            f"{MIN_COMPLETED} completed items. Trend: the same against the {span} months before.",
            window_label,
            reverse("valuestreams:value_stream_list"),
            computed_at=flow_computed_at,
            enough_data=enough_flow,
            trend=trend,
        ),
    ]

    funding_chart = {
        "labels": [r.name for r in rows],
        "unit": "amount",
        "series": [
            {
                "label": "Envelope",
                "colour": "faint",
                "data": [float(r.envelope or 0) for r in rows],
            },
            {"label": "Allocated", "colour": "accent", "data": [float(r.allocated) for r in rows]},
        ],
    }
    ITEMS = ITEM_TYPES
    type_counts = dict.fromkeys(ITEMS, Decimal(0))
    for _, _, velocity, _, distribution, _ in in_window:
        for item_type, share in (distribution or {}).items():
            if item_type in type_counts:
                type_counts[item_type] += Decimal(str(share)) * velocity / 100
    total_items = sum(type_counts.values(), Decimal(0))
    distribution_chart = {
        "labels": [t.title() for t in ITEMS],
        "unit": "% of completed items",
        "enough_data": completed_now >= MIN_COMPLETED,
        "series": [
            {
                "label": "Share",
                "colours": list(ITEMS),
                "data": [
                    float((type_counts[t] * 100 / total_items).quantize(Decimal("0.1")))
                    if total_items
                    else 0
                    for t in ITEMS
                ],
            }
        ],
    }
    outcome_chart = {
        "labels": [STATUS_LABELS[s] for s in STATUSES],
        "unit": "key results",
        "series": [
            {
                "label": "Key results",
                "colours": ["on-track", "at-risk", "off-track", "no-data"],
                "data": [kr_totals[s] for s in STATUSES],
            }
        ],
    }
    stage_counts = {s.value: 0 for s in Stage}
    stage_counts[0] = 0
    for r in rows:
        stage_counts[r.stage or 0] += 1
    return Dashboard(
        period=period,
        periods=periods,
        tiles=tiles,
        rows=rows,
        funding_chart=funding_chart,
        distribution_chart=distribution_chart,
        outcome_chart=outcome_chart,
        organisation_stage=organisation,
        stage_counts=stage_counts,
        signals=signals,
        flow_computed_at=flow_computed_at,
    )


def pitfall_list(
    *, period: FiscalPeriod | None, today: date | None = None
) -> list[pitfalls.Signal]:
    """The pitfall signals for the lazy pitfall widget, firing ones first."""
    signals = pitfalls.pitfall_signals(period=period, today=today)
    return sorted(signals, key=lambda s: (not s.firing, s.pitfall, s.key))


def warning_list(
    *, period: FiscalPeriod | None, today: date | None = None
) -> list[pitfalls.Signal]:
    """The early warnings from flow, firing ones first (loaded after the pitfall signals)."""
    signals = pitfalls.early_warnings(period=period, today=today)
    return sorted(signals, key=lambda s: (not s.firing, s.key))


def pitfalls_url() -> str:
    """The pitfalls page once it exists; until then the transition overview."""
    return _pitfalls_url()


EXPLAIN_LIMIT = 200


@dataclass
class Explanation:
    """What a figure counts: its definition, window and the records behind it (first 200)."""

    figure: Figure
    items: list[tuple[str, str, str]]  # label, url, detail
    total: int


def explain(*, key: str, dashboard: Dashboard, today: date | None = None) -> Explanation | None:
    """The records a headline figure counts, each with a link; None for an unknown key."""
    figure = dashboard.tile.get(key)
    if figure is None:
        return None
    today = today or timezone.localdate()
    period = dashboard.period
    items: list[tuple[str, str, str]] = []
    if key == "value_streams":
        items = [(r.name, r.url, r.stage_label) for r in dashboard.rows]
    elif key == "products":
        qs = Product.objects.active().annotate(owner_count=Count("owners")).order_by("name")
        items = [
            (
                p.name,
                reverse("products:product_detail", kwargs={"slug": p.slug}),
                "no product owner" if not p.owner_count else f"{p.owner_count} owner(s)",
            )
            for p in qs[:EXPLAIN_LIMIT]
        ]
    elif key == "teams":
        items = [
            (t.name, reverse("products:team_detail", kwargs={"slug": t.slug}), "")
            for t in Team.objects.active().order_by("name")[:EXPLAIN_LIMIT]
        ]
    elif key == "people":
        items = [
            (p.name, reverse("products:person_detail", kwargs={"pk": p.pk}), "")
            for p in Person.objects.active().order_by("name")[:EXPLAIN_LIMIT]
        ]
    elif key == "funded" and period is not None:
        url = reverse("funding:matrix", kwargs={"pk": period.pk})
        items = [
            (f"{a.team.name} -> {a.value_stream.name}", url, f"{a.percent} % ({a.status})")
            for a in Allocation.objects.filter(period=period)
            .select_related("team", "value_stream")
            .order_by("value_stream__name", "team__name")[:EXPLAIN_LIMIT]
        ]
    elif key == "key_results_on_track":
        items = [
            (
                f"{kr.product.name}: {kr.name}",
                reverse("products:key_result_detail", kwargs={"pk": kr.pk}),
                STATUS_LABELS[kr.status],
            )
            for kr in KeyResult.objects.filter(
                product__archived_at__isnull=True, outcome__archived_at__isnull=True
            )
            .select_related("product")
            .order_by("status", "product__name", "name")[:EXPLAIN_LIMIT]
        ]
    elif key == "flow_time":
        first, last = flow_window(period, today)
        items = [
            (
                f"{stream.name}, {s.window_start:%b %Y}",
                reverse("valuestreams:value_stream_flow", kwargs={"slug": stream.slug}),
                f"{s.velocity} completed, median "
                + (
                    f"{s.flow_time_median_days.normalize():f} d"
                    if s.flow_time_median_days is not None
                    else "-"
                ),
            )
            for s in FlowSnapshot.objects.filter(
                window=FlowSnapshot.Window.MONTH,
                value_stream__isnull=False,
                window_start__gte=first,
                window_start__lte=last,
            )
            .select_related("value_stream")
            .order_by("value_stream__name", "window_start")[:EXPLAIN_LIMIT]
            if (stream := s.value_stream) is not None
        ]
    return Explanation(figure=figure, items=items, total=len(items))
