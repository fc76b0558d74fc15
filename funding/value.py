"""What the money buys: per value stream, the funded amount beside its outcomes and its flow.

For a period, per value stream (issue 5, item 9; the guardrail of item 4):

- funded: the amount allocated to it (the sum of its cells), beside its envelope;
- outcomes: its products' key results (of outcomes not archived) counted by status;
- flow: the monthly flow snapshots of the period's months: the value stream's own rows when it
  has any, else its products' rows summed (a product serving two value streams counts in both).
  Items completed = the sum of the monthly velocities; the distribution is the completed items
  of each type over all completed items (each month's shares weighted by its velocity);
- actual to date: each allocated team's monthly actuals x its percent there (as the burn chart);
- cost per completed item = actual to date / items completed; "no actuals yet" or "no completed
  items" instead of a number when either is missing;
- the split of the funded amount across features, defects, risk and debt: each team's allocated
  amount is shared out by the distribution of the items completed in the period by that team's
  products in the value stream; a team whose products there completed nothing in the period is
  reported as the "no flow data" share. Untyped items (a tracker type not mapped yet) keep their
  own "unmapped" share rather than being guessed;
- the guardrail: where the envelope names a minimum debt-and-risk percent, the debt and risk
  share of the funded amount that has flow data is compared with it ("no flow data yet" when no
  funded team has any).

A fixed number of queries whatever the number of value streams and teams.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count

from funding.actuals import month_actuals, period_months
from funding.capacity import allocation_amount, to_cents
from funding.models import Envelope, FiscalPeriod
from funding.selectors import allocation_matrix
from products import selectors as product_selectors
from products.models import KeyResult, Team
from valuestreams.models import FlowSnapshot, ValueStream
from valuestreams.models.flow import ItemType

ZERO = Decimal("0.00")
HUNDRED = Decimal(100)
UNMAPPED = "unmapped"
NO_FLOW = "no_flow_data"
FLOW_TYPES = [*ItemType.values, UNMAPPED]
SPLIT_KEYS = [*FLOW_TYPES, NO_FLOW]
SPLIT_LABELS = {**dict(ItemType.choices), UNMAPPED: "Unmapped", NO_FLOW: "No flow data"}
KR_STATUSES = KeyResult.Status.values

ValueStreamLink = ValueStream.products.through
TeamProductLink = Team.products.through


def _type_counts(snapshots: list[tuple[int, dict]]) -> dict[str, Decimal]:
    """Completed items per type from monthly (velocity, distribution %) pairs."""
    counts: dict[str, Decimal] = defaultdict(Decimal)
    for velocity, distribution in snapshots:
        if not velocity:
            continue
        for item_type, share in (distribution or {}).items():
            key = item_type if item_type in FLOW_TYPES else UNMAPPED
            counts[key] += Decimal(str(share)) * velocity / HUNDRED
    return counts


def _split(amount: Decimal, counts: dict[str, Decimal]) -> dict[str, Decimal]:
    """``amount`` shared out by ``counts``, to the cent; the largest share takes the rounding so
    the parts add up to the amount."""
    total = sum(counts.values(), Decimal(0))
    if not total:
        return {NO_FLOW: amount}
    parts = {key: to_cents(amount * count / total) for key, count in counts.items() if count}
    largest = max(parts, key=lambda key: (parts[key], key))
    parts[largest] += amount - sum(parts.values(), ZERO)
    return parts


@dataclass
class Guardrail:
    """An envelope's minimum debt-and-risk percent against the funded split."""

    minimum: Decimal
    share: Decimal | None  # None: no flow data yet

    @property
    def status(self) -> str:
        if self.share is None:
            return "no_data"
        return "meets" if self.share >= self.minimum else "below"

    @property
    def label(self) -> str:
        return {
            "no_data": "No flow data yet",
            "meets": "Meets the guardrail",
            "below": "Below the guardrail",
        }[self.status]


@dataclass
class ValueRow:
    """One value stream's money beside its outcomes and flow in the period."""

    value_stream: ValueStream
    envelope: Envelope | None
    funded: Decimal
    key_results: dict[str, int] = field(default_factory=dict)
    completed: int | None = None  # None: no flow snapshot in the period
    flow_source: str = ""  # "value stream" or "products"
    type_counts: dict[str, Decimal] = field(default_factory=dict)
    actual: Decimal | None = None  # None: no actuals yet
    split: dict[str, Decimal] = field(default_factory=dict)
    guardrail: Guardrail | None = None

    @property
    def key_result_total(self) -> int:
        return sum(self.key_results.values())

    @property
    def has_flow(self) -> bool:
        return self.completed is not None

    @property
    def distribution(self) -> dict[str, Decimal]:
        """Percent of completed items per type (empty without completed items)."""
        total = sum(self.type_counts.values(), Decimal(0))
        if not total:
            return {}
        return {
            key: (self.type_counts.get(key, Decimal(0)) / total * HUNDRED).quantize(Decimal("0.1"))
            for key in FLOW_TYPES
        }

    @property
    def distribution_text(self) -> str:
        """The distribution in words, largest share first ("50 % feature · 35 % debt ...")."""
        shares = sorted(
            ((share, key) for key, share in self.distribution.items() if share),
            key=lambda pair: (-pair[0], FLOW_TYPES.index(pair[1])),
        )
        return " · ".join(
            f"{share.normalize():f} % {SPLIT_LABELS[key].lower()}" for share, key in shares
        )

    @property
    def cost_per_item(self) -> Decimal | None:
        if self.actual is None or not self.completed:
            return None
        return to_cents(self.actual / self.completed)

    @property
    def cost_per_item_note(self) -> str:
        """Why there is no cost per item ("" when there is one)."""
        if self.actual is None:
            return "no actuals yet"
        if not self.completed:
            return "no completed items"
        return ""

    @property
    def split_table(self) -> list[tuple[str, str, Decimal | None, Decimal | None]]:
        """(key, label, amount, percent of the funded amount) for every work type, "unmapped"
        and "no flow data" (amount None: no share)."""
        return [
            (key, SPLIT_LABELS[key], self.split.get(key), self.split_percent(key))
            for key in SPLIT_KEYS
        ]

    def split_percent(self, key: str) -> Decimal | None:
        amount = self.split.get(key)
        if amount is None or not self.funded:
            return None
        return (amount / self.funded * HUNDRED).quantize(Decimal("0.1"))


@dataclass
class ValueReport:
    period: FiscalPeriod
    rows: list[ValueRow]

    @property
    def funded(self) -> Decimal:
        return sum((r.funded for r in self.rows), ZERO)


def _guardrail(row: ValueRow) -> Guardrail | None:
    if row.envelope is None or row.envelope.min_debt_risk_percent is None:
        return None
    seen = row.funded - row.split.get(NO_FLOW, ZERO)
    if not seen or not row.split:
        return Guardrail(minimum=row.envelope.min_debt_risk_percent, share=None)
    debt_risk = row.split.get(ItemType.DEBT, ZERO) + row.split.get(ItemType.RISK, ZERO)
    return Guardrail(
        minimum=row.envelope.min_debt_risk_percent,
        share=(debt_risk / seen * HUNDRED).quantize(Decimal("0.1")),
    )


def value_report(*, period: FiscalPeriod, user: AbstractBaseUser | AnonymousUser) -> ValueReport:
    """The period's "what the money buys", one row per value stream of its allocation matrix."""
    matrix = allocation_matrix(period=period)
    stream_ids = [c.value_stream.pk for c in matrix.columns]
    team_ids = [r.team.pk for r in matrix.rows]
    months = [m for m, _ in period_months(period)]

    stream_products: dict[int, set[int]] = defaultdict(set)
    for stream_id, product_id in ValueStreamLink.objects.filter(
        valuestream_id__in=stream_ids, product__archived_at__isnull=True
    ).values_list("valuestream_id", "product_id"):
        stream_products[stream_id].add(product_id)
    product_ids = set().union(*stream_products.values()) if stream_products else set()
    team_products: dict[int, set[int]] = defaultdict(set)
    for team_id, product_id in TeamProductLink.objects.filter(
        team_id__in=team_ids, product_id__in=product_ids
    ).values_list("team_id", "product_id"):
        team_products[team_id].add(product_id)

    kr_counts: dict[int, dict[str, int]] = defaultdict(dict)
    for product_id, status, count in (
        product_selectors.key_result_list(user=user)  # type: ignore[arg-type]
        .filter(outcome__archived_at__isnull=True)
        .filter(product_id__in=product_ids)
        .order_by()
        .values_list("product_id", "status")
        .annotate(count=Count("id"))
    ):
        kr_counts[product_id][status] = count

    window = {"window": FlowSnapshot.Window.MONTH, "window_start__gte": months[0]}
    window["window_start__lte"] = period.end  # type: ignore[assignment]
    product_flow: dict[int, list[tuple[int, dict]]] = defaultdict(list)
    for product_id, velocity, distribution in FlowSnapshot.objects.filter(
        product_id__in=product_ids, **window
    ).values_list("product_id", "velocity", "distribution"):
        product_flow[product_id].append((velocity, distribution))
    stream_flow: dict[int, list[tuple[int, dict]]] = defaultdict(list)
    for stream_id, velocity, distribution in FlowSnapshot.objects.filter(
        value_stream_id__in=stream_ids, **window
    ).values_list("value_stream_id", "velocity", "distribution"):
        stream_flow[stream_id].append((velocity, distribution))

    actuals = month_actuals(period=period, team_ids=team_ids)

    rows: list[ValueRow] = []
    for index, column in enumerate(matrix.columns):
        stream_id = column.value_stream.pk
        products = stream_products.get(stream_id, set())
        row = ValueRow(
            value_stream=column.value_stream,
            envelope=column.envelope,
            funded=column.allocated_amount,
        )
        for product_id in products:
            for status, count in kr_counts.get(product_id, {}).items():
                row.key_results[status] = row.key_results.get(status, 0) + count
        snapshots = stream_flow.get(stream_id)
        row.flow_source = "value stream"
        if not snapshots:
            snapshots = [s for p in sorted(products) for s in product_flow.get(p, [])]
            row.flow_source = "products"
        if snapshots:
            row.completed = sum(velocity for velocity, _ in snapshots)
            row.type_counts = dict(_type_counts(snapshots))
        else:
            row.flow_source = ""

        split: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for matrix_row in matrix.rows:
            cell = matrix_row.cells[index]
            if cell.percent is None or cell.amount is None:
                continue
            team_id = matrix_row.team.pk
            for amount in actuals.get(team_id, {}).values():
                part = allocation_amount(percent=cell.percent, capacity_cost=amount)
                row.actual = (row.actual or ZERO) + part
            if not cell.amount:
                continue
            own = sorted(team_products.get(team_id, set()) & products)
            counts = _type_counts([s for p in own for s in product_flow.get(p, [])])
            for key, amount in _split(cell.amount, counts).items():
                split[key] += amount
        row.split = dict(split)
        row.guardrail = _guardrail(row)
        rows.append(row)
    return ValueReport(period=period, rows=rows)
