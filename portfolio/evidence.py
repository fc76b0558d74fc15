"""What the data says about a transition criterion, shown beside the people's answer.

Each figure is computed for the organisation (every active product, team and value stream) or
for one value stream (its products and their teams), from live rows: registry, outcomes, maps,
flow snapshots and funding. Each comes with its definition in words and a link to the page that
lists what it counts. A figure with nothing to count says so instead of showing 0 %.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from funding import selectors as funding_selectors
from products.models import Hypothesis, KeyResult, Measurement, Product, Team
from valuestreams.models import FlowSnapshot, ValueStream, ValueStreamMap


@dataclass(frozen=True)
class Evidence:
    """One figure: ``count`` of ``total`` (or a single value), in words and with its definition."""

    key: str
    label: str
    definition: str
    display: str
    count: int | None = None
    total: int | None = None
    url: str = ""
    enough_data: bool = True

    @property
    def percent(self) -> Decimal | None:
        if self.count is None or not self.total:
            return None
        return (Decimal(self.count) * 100 / self.total).quantize(Decimal("0.1"))


def _products(value_stream: ValueStream | None) -> QuerySet[Product]:
    qs = Product.objects.active()
    if value_stream is not None:
        qs = qs.filter(value_streams=value_stream)
    return qs


def _share(key: str, label: str, definition: str, count: int, total: int, url: str, noun: str):
    if not total:
        return Evidence(key, label, definition, f"no {noun} yet", 0, 0, url, enough_data=False)
    percent = Decimal(count) * 100 / total
    return Evidence(
        key, label, definition, f"{count} of {total} {noun} ({percent:.0f} %)", count, total, url
    )


def outcomes_stated(value_stream: ValueStream | None, today: date) -> Evidence:
    products = _products(value_stream)
    row = products.aggregate(
        total=Count("pk", distinct=True),
        count=Count(
            "pk",
            filter=Q(outcomes__archived_at__isnull=True, outcomes__isnull=False),
            distinct=True,
        ),
    )
    return _share(
        "outcomes_stated",
        "Products with a stated outcome",
        "Active products that have at least one outcome (not archived), out of all active products.",
        row["count"],
        row["total"],
        reverse("products:product_list"),
        "products",
    )


def durable_teams(value_stream: ValueStream | None, today: date) -> Evidence:
    teams = Team.objects.active().filter(products__in=_products(value_stream)).distinct()
    count = teams.count()
    return Evidence(
        "durable_teams",
        "Durable teams owning products",
        "Active teams that own at least one active product"
        + (" of this value stream." if value_stream else "."),
        f"{count} team{'s' if count != 1 else ''}" if count else "no team owns a product yet",
        count,
        None,
        reverse("products:team_list"),
        enough_data=bool(count),
    )


def products_owned(value_stream: ValueStream | None, today: date) -> Evidence:
    row = _products(value_stream).aggregate(
        total=Count("pk", distinct=True),
        count=Count("pk", filter=Q(owners__isnull=False), distinct=True),
    )
    return _share(
        "products_owned",
        "Products with a named owner",
        "Active products with at least one named product owner, out of all active products.",
        row["count"],
        row["total"],
        reverse("products:product_list"),
        "products",
    )


def products_measured(value_stream: ValueStream | None, today: date) -> Evidence:
    since = today - timedelta(days=60)
    measured = Measurement.objects.filter(
        key_result__outcome__product=OuterRef("pk"), date__gte=since
    )
    products = _products(value_stream).annotate(recent=Exists(measured))
    row = products.aggregate(
        total=Count("pk", distinct=True), count=Count("pk", filter=Q(recent=True), distinct=True)
    )
    return _share(
        "products_measured",
        "Products with a key result measured in 60 days",
        "Active products with a key-result measurement dated in the last 60 days, out of all "
        "active products.",
        row["count"],
        row["total"],
        reverse("products:product_list"),
        "products",
    )


def key_results_on_track(value_stream: ValueStream | None, today: date) -> Evidence:
    krs = KeyResult.objects.filter(
        outcome__archived_at__isnull=True, outcome__product__in=_products(value_stream)
    ).exclude(status=KeyResult.Status.NO_DATA)
    row = krs.aggregate(
        total=Count("pk"), count=Count("pk", filter=Q(status=KeyResult.Status.ON_TRACK))
    )
    return _share(
        "key_results_on_track",
        "Key results on track",
        "Key results with measurements whose status is on track (progress at least expected "
        "progress - 10 points), out of all key results with measurements.",
        row["count"],
        row["total"],
        reverse("products:product_list"),
        "measured key results",
    )


def value_streams_with_teams(value_stream: ValueStream | None, today: date) -> Evidence:
    streams = ValueStream.objects.active()
    if value_stream is not None:
        streams = streams.filter(pk=value_stream.pk)
    owned = Product.objects.active().filter(
        value_streams=OuterRef("pk"), teams__archived_at__isnull=True, teams__isnull=False
    )
    row = streams.annotate(has=Exists(owned)).aggregate(
        total=Count("pk"), count=Count("pk", filter=Q(has=True))
    )
    return _share(
        "value_streams_with_teams",
        "Value streams with product teams",
        "Active value streams with at least one product owned by an active team.",
        row["count"],
        row["total"],
        reverse("valuestreams:value_stream_list"),
        "value streams",
    )


def value_streams_mapped(value_stream: ValueStream | None, today: date) -> Evidence:
    streams = ValueStream.objects.active()
    if value_stream is not None:
        streams = streams.filter(pk=value_stream.pk)
    current = ValueStreamMap.objects.filter(
        value_stream=OuterRef("pk"), state=ValueStreamMap.State.CURRENT
    )
    future = ValueStreamMap.objects.filter(
        value_stream=OuterRef("pk"), state=ValueStreamMap.State.FUTURE
    )
    row = streams.annotate(cur=Exists(current), fut=Exists(future)).aggregate(
        total=Count("pk"), count=Count("pk", filter=Q(cur=True, fut=True))
    )
    return _share(
        "value_streams_mapped",
        "Value streams with a current- and a future-state map",
        "Active value streams that have both a current-state and a future-state map.",
        row["count"],
        row["total"],
        reverse("valuestreams:value_stream_list"),
        "value streams",
    )


def funding_by_capacity(value_stream: ValueStream | None, today: date) -> Evidence:
    period = funding_selectors.current_period(today=today)
    label = "Funding allocated to teams by capacity"
    definition = (
        "Of the current period's envelopes, the share allocated to durable teams as a percent "
        "of their capacity cost."
    )
    if period is None:
        return Evidence(
            "funding_by_capacity", label, definition, "no fiscal period yet", enough_data=False
        )
    matrix = funding_selectors.allocation_matrix(
        period=period, value_stream_ids=[value_stream.pk] if value_stream else None
    )
    envelope, allocated = matrix.envelope_amount, matrix.allocated_amount
    url = reverse("funding:index")
    if not envelope:
        return Evidence(
            "funding_by_capacity",
            label,
            definition,
            f"no envelopes in {period.name}",
            url=url,
            enough_data=False,
        )
    percent = allocated * 100 / envelope
    return Evidence(
        "funding_by_capacity",
        label,
        definition,
        f"{percent:.0f} % of {period.name}'s envelopes",
        url=url,
    )


def flow_time_trend(value_stream: ValueStream | None, today: date) -> Evidence:
    """Velocity-weighted median flow time of the last three complete months against the three before."""
    first_of_month = today.replace(day=1)

    def months_back(n: int) -> date:
        year, month = divmod(first_of_month.year * 12 + first_of_month.month - 1 - n, 12)
        return date(year, month + 1, 1)

    snapshots = FlowSnapshot.objects.filter(
        window=FlowSnapshot.Window.MONTH,
        window_start__gte=months_back(6),
        window_start__lt=first_of_month,
        value_stream__isnull=False,
        velocity__gt=0,
    )
    if value_stream is not None:
        snapshots = snapshots.filter(value_stream=value_stream)
    recent_start = months_back(3)
    rows = list(snapshots.values_list("window_start", "velocity", "flow_time_median_days"))

    def weighted(part: list[tuple[date, int, Decimal | None]]) -> tuple[Decimal | None, int]:
        items = sum(v for _, v, m in part if m is not None)
        if not items:
            return None, 0
        total = sum((Decimal(v) * m for _, v, m in part if m is not None), Decimal(0))
        return total / items, items

    before, n_before = weighted([r for r in rows if r[0] < recent_start])
    after, n_after = weighted([r for r in rows if r[0] >= recent_start])
    label = "Flow time trend"
    definition = (
        "Median flow time (days) of the last three complete months, weighted by each month's "
        "velocity, against the three months before; lower is better. Needs at least 5 completed "
        "items in each half."
    )
    url = (
        reverse("valuestreams:value_stream_flow", kwargs={"slug": value_stream.slug})
        if value_stream is not None
        else reverse("valuestreams:value_stream_list")
    )
    if before is None or after is None or n_before < 5 or n_after < 5:
        return Evidence(
            "flow_time_trend",
            label,
            definition,
            "too few completed items",
            url=url,
            enough_data=False,
        )
    change = (after - before) * 100 / before if before else Decimal(0)
    word = "faster" if after < before else "slower" if after > before else "unchanged"
    return Evidence(
        "flow_time_trend",
        label,
        definition,
        f"{after:.1f} d vs {before:.1f} d ({change:+.0f} %, {word})",
        url=url,
    )


def hypotheses_tested(value_stream: ValueStream | None, today: date) -> Evidence:
    since = timezone.now() - timedelta(days=90)
    hypotheses = Hypothesis.objects.filter(product__in=_products(value_stream))
    row = hypotheses.aggregate(
        total=Count("pk"),
        count=Count(
            "pk",
            filter=Q(
                status__in=[Hypothesis.Status.VALIDATED, Hypothesis.Status.INVALIDATED],
                status_changed_at__gte=since,
            ),
        ),
    )
    return _share(
        "hypotheses_tested",
        "Hypotheses decided in 90 days",
        "Hypotheses validated or invalidated in the last 90 days, out of all hypotheses.",
        row["count"],
        row["total"],
        reverse("products:product_list"),
        "hypotheses",
    )


EVIDENCE: dict[str, Callable[[ValueStream | None, date], Evidence]] = {
    "outcomes_stated": outcomes_stated,
    "durable_teams": durable_teams,
    "products_owned": products_owned,
    "products_measured": products_measured,
    "key_results_on_track": key_results_on_track,
    "value_streams_with_teams": value_streams_with_teams,
    "value_streams_mapped": value_streams_mapped,
    "funding_by_capacity": funding_by_capacity,
    "flow_time_trend": flow_time_trend,
    "hypotheses_tested": hypotheses_tested,
}
EVIDENCE_CHOICES = [("", "None: people judge it")] + [
    (key, key.replace("_", " ").capitalize()) for key in EVIDENCE
]


def evidence_for(
    keys: list[str], *, value_stream: ValueStream | None = None, today: date | None = None
) -> dict[str, Evidence]:
    """The figures for the given evidence keys (each computed once), for one unit."""
    today = today or timezone.localdate()
    return {
        key: EVIDENCE[key](value_stream, today) for key in dict.fromkeys(keys) if key in EVIDENCE
    }
