"""The arithmetic of a value stream map, exactly as DESIGN.md ("Value stream map") defines it.

Pure functions over steps (anything with ``id``, ``name``, ``order``, ``process_time_minutes``,
``lead_time_minutes`` and ``percent_complete_accurate``): no queries, so the page, the API, the SVG
and the comparison of two maps all compute from the rows they already hold, and the tests check
the definitions on hand-computed maps.

- total lead time = sum of LT_i; total process time = sum of PT_i; total wait = total LT - total PT
- activity ratio = total PT / total LT x 100 (percent)
- rolled %C&A = product of (CA_i / 100) x 100 (percent)
- bottleneck = the step with the largest wait (LT_i - PT_i); ties: the earliest step

Figures are ``Decimal``; a map without steps has totals of 0 and no ratio, no rolled %C&A and no
bottleneck (None: there is nothing to divide by).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol

HUNDRED = Decimal(100)


class StepLike(Protocol):
    id: Any
    name: str
    order: int
    process_time_minutes: Decimal
    lead_time_minutes: Decimal
    percent_complete_accurate: Decimal


@dataclass(frozen=True)
class StepFigures:
    """One step as the metrics see it, with its wait (LT - PT)."""

    id: Any
    name: str
    order: int
    process_time_minutes: Decimal
    lead_time_minutes: Decimal
    percent_complete_accurate: Decimal
    wait_minutes: Decimal
    is_bottleneck: bool = False


@dataclass(frozen=True)
class MapMetrics:
    """The figures of one map."""

    total_lead_time_minutes: Decimal
    total_process_time_minutes: Decimal
    total_wait_minutes: Decimal
    activity_ratio: Decimal | None
    rolled_percent_complete_accurate: Decimal | None
    bottleneck: StepFigures | None
    steps: tuple[StepFigures, ...]

    def value(self, metric: str) -> Decimal | None:
        """A figure by its name (the names ``ImprovementOutcome.metric`` uses)."""
        return {
            "total_lead_time_minutes": self.total_lead_time_minutes,
            "total_process_time_minutes": self.total_process_time_minutes,
            "total_wait_minutes": self.total_wait_minutes,
            "activity_ratio": self.activity_ratio,
            "rolled_percent_complete_accurate": self.rolled_percent_complete_accurate,
        }[metric]


def _dec(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def step_wait(step: StepLike) -> Decimal:
    """A step's wait: lead time less process time."""
    return _dec(step.lead_time_minutes) - _dec(step.process_time_minutes)


def bottleneck_index(waits: Sequence[Decimal]) -> int | None:
    """The index of the largest wait; on a tie the earliest; None without steps."""
    best: int | None = None
    for index, wait in enumerate(waits):
        if best is None or wait > waits[best]:
            best = index
    return best


def map_metrics(steps: Iterable[StepLike]) -> MapMetrics:
    """The figures of a map from its steps, taken in their order (``order``, then as given)."""
    ordered = sorted(steps, key=lambda s: s.order)
    waits = [step_wait(s) for s in ordered]
    total_lt = sum((_dec(s.lead_time_minutes) for s in ordered), Decimal(0))
    total_pt = sum((_dec(s.process_time_minutes) for s in ordered), Decimal(0))
    rolled: Decimal | None = None
    if ordered:
        rolled = HUNDRED
        for s in ordered:
            rolled = rolled * _dec(s.percent_complete_accurate) / HUNDRED
    bottleneck = bottleneck_index(waits)
    figures = tuple(
        StepFigures(
            id=s.id,
            name=s.name,
            order=s.order,
            process_time_minutes=_dec(s.process_time_minutes),
            lead_time_minutes=_dec(s.lead_time_minutes),
            percent_complete_accurate=_dec(s.percent_complete_accurate),
            wait_minutes=waits[i],
            is_bottleneck=i == bottleneck,
        )
        for i, s in enumerate(ordered)
    )
    return MapMetrics(
        total_lead_time_minutes=total_lt,
        total_process_time_minutes=total_pt,
        total_wait_minutes=total_lt - total_pt,
        activity_ratio=total_pt / total_lt * HUNDRED if total_lt > 0 else None,
        rolled_percent_complete_accurate=rolled,
        bottleneck=figures[bottleneck] if bottleneck is not None else None,
        steps=figures,
    )


# Comparing two maps (current state against future state).

TIME_METRICS = ("total_lead_time_minutes", "total_process_time_minutes", "total_wait_minutes")
RATIO_METRICS = ("activity_ratio", "rolled_percent_complete_accurate")
METRIC_LABELS = {
    "total_lead_time_minutes": "Lead time",
    "total_process_time_minutes": "Process time",
    "total_wait_minutes": "Wait",
    "activity_ratio": "Activity ratio",
    "rolled_percent_complete_accurate": "Rolled %C&A",
}


@dataclass(frozen=True)
class MetricChange:
    """How one figure changes from one map to the other.

    Times change by a percent of the first map's figure (``unit`` "%"); ratios, which are
    percents already, by percentage points (``unit`` "points"). ``change`` is None when either
    figure is missing or a time was 0 before.
    """

    metric: str
    label: str
    before: Decimal | None
    after: Decimal | None
    change: Decimal | None
    unit: str
    is_time: bool


def metric_change(metric: str, before: Decimal | None, after: Decimal | None) -> MetricChange:
    """The change of one figure: in % for times, in points for ratios."""
    is_time = metric in TIME_METRICS
    change: Decimal | None = None
    if before is not None and after is not None:
        if is_time:
            change = (after - before) / before * HUNDRED if before != 0 else None
        else:
            change = after - before
    return MetricChange(
        metric=metric,
        label=METRIC_LABELS[metric],
        before=before,
        after=after,
        change=change,
        unit="%" if is_time else "points",
        is_time=is_time,
    )


def compare_maps(before: MapMetrics, after: MapMetrics) -> list[MetricChange]:
    """Every figure of two maps side by side with its change (times first, then ratios)."""
    return [
        metric_change(metric, before.value(metric), after.value(metric))
        for metric in (*TIME_METRICS, *RATIO_METRICS)
    ]


def change_text(change: MetricChange) -> str:
    """A change as people say it: "-42 %" (with a minus sign), "+9 points", "no change", "—" when unknown."""
    if change.change is None:
        return "—"
    if change.is_time:
        rounded = change.change.quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    else:
        rounded = change.change.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        if rounded == rounded.to_integral_value():
            rounded = rounded.quantize(Decimal("1"))
    if rounded == 0:
        return "no change"
    sign = "+" if rounded > 0 else "\u2212"
    magnitude = abs(rounded)
    if change.is_time:
        return f"{sign}{magnitude} %"
    return f"{sign}{magnitude} point{'' if magnitude == 1 else 's'}"


def outcome_met(comparator: str, target: Decimal, value: Decimal | None) -> bool | None:
    """Whether a figure meets an improvement outcome ("below" or "above" its target); None when
    the map has no such figure (no steps)."""
    if value is None:
        return None
    return value < target if comparator == "below" else value > target


def outcome_progress(target: Decimal, start: Decimal | None, now: Decimal | None) -> Decimal | None:
    """How far a figure has moved from ``start`` (the current state) toward ``target``, 0..100.

    (now - start) / (target - start) x 100, clamped; None when a figure is missing or the start
    is on the target already.
    """
    if start is None or now is None or target == start:
        return None
    progress = (now - start) / (target - start) * HUNDRED
    return min(max(progress, Decimal(0)), HUNDRED)
