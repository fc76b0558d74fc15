"""A key result's small chart: its measurements against the plan, drawn as inline SVG.

The plan is the straight line from (start date, baseline) to (target date, target). The geometry
is computed here and drawn by ``templates/products/_kr_chart.html`` with SVG attributes and CSS
classes only (the Content-Security-Policy forbids inline styles and scripts), so it renders on
the server, needs no script and prints. The same numbers go into a table under the chart.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from products.models import KeyResult, Measurement

WIDTH, HEIGHT = 320, 120
LEFT, RIGHT, TOP, BOTTOM = 52, 10, 10, 22  # room for the value and date labels
PLOT_W = WIDTH - LEFT - RIGHT
PLOT_H = HEIGHT - TOP - BOTTOM


def number_text(value: Decimal | float | int | None) -> str:
    """A measured number as a person reads it: thousands separators, no trailing zeros."""
    if value is None:
        return "—"
    number = Decimal(str(value)).normalize()
    if number == number.to_integral_value():
        text = f"{abs(number):,.0f}"
    else:
        places = max(0, -number.as_tuple().exponent)  # type: ignore[operator]
        text = f"{abs(number):,.{min(places, 4)}f}"
    return f"\u2212{text}" if number < 0 else text


def with_unit(value: Decimal | float | int | None, unit: str) -> str:
    """A number and its unit: "42 %", "1,200 users"; just the number without a unit."""
    text = number_text(value)
    return f"{text} {unit}" if unit and value is not None else text


def plan_value(key_result: KeyResult, day: datetime.date) -> Decimal:
    """Where the straight plan line stands on ``day`` (the baseline before the start, the target
    after the target date)."""
    span = (key_result.target_date - key_result.start_date).days
    elapsed = min(max((day - key_result.start_date).days, 0), span)
    return key_result.baseline + (key_result.target - key_result.baseline) * elapsed / span


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    date: datetime.date
    value: Decimal
    plan: Decimal
    note: str
    label: str


@dataclass(frozen=True)
class AxisLabel:
    x: float
    y: float
    text: str
    anchor: str


@dataclass(frozen=True)
class KeyResultChart:
    """What the chart template draws, in the SVG's own coordinates (0..WIDTH, 0..HEIGHT)."""

    title: str
    description: str
    plan: tuple[float, float, float, float]
    points: list[Point]
    line: str
    labels: list[AxisLabel]
    gridlines: list[float]
    today_x: float | None
    width: int = WIDTH
    height: int = HEIGHT
    plot_left: int = LEFT
    plot_right: int = WIDTH - RIGHT
    plot_top: int = TOP
    plot_bottom: int = HEIGHT - BOTTOM

    @property
    def latest(self) -> Point | None:
        return self.points[-1] if self.points else None


def _date_text(day: datetime.date) -> str:
    return f"{day.day} {day:%b %Y}"


def key_result_chart(
    key_result: KeyResult,
    measurements: list[Measurement],
    today: datetime.date | None = None,
) -> KeyResultChart:
    """The chart of ``key_result`` from its measurements (in date order, as the page prefetches
    them); ``today`` draws a marker when it falls inside the chart's dates."""
    unit = key_result.unit
    first_day = min([key_result.start_date, *(m.date for m in measurements)])
    last_day = max([key_result.target_date, *(m.date for m in measurements)])
    days = max((last_day - first_day).days, 1)
    values = [key_result.baseline, key_result.target, *(m.value for m in measurements)]
    low, high = min(values), max(values)
    pad = (high - low) * Decimal("0.08")
    low, high = low - pad, high + pad

    def x(day: datetime.date) -> float:
        return round(LEFT + PLOT_W * (day - first_day).days / days, 1)

    def y(value: Decimal) -> float:
        return round(TOP + PLOT_H * float((high - value) / (high - low)), 1)

    points = [
        Point(
            x=x(m.date),
            y=y(m.value),
            date=m.date,
            value=m.value,
            plan=plan_value(key_result, m.date).quantize(Decimal("0.01")),
            note=m.note,
            label=f"{_date_text(m.date)}: {with_unit(m.value, unit)}",
        )
        for m in measurements
    ]
    baseline_y, target_y = y(key_result.baseline), y(key_result.target)
    bottom = HEIGHT - BOTTOM + 14
    labels = [
        AxisLabel(LEFT - 6, baseline_y + 4, with_unit(key_result.baseline, unit), "end"),
        AxisLabel(LEFT - 6, target_y + 4, with_unit(key_result.target, unit), "end"),
        AxisLabel(x(key_result.start_date), bottom, _date_text(key_result.start_date), "start"),
        AxisLabel(x(key_result.target_date), bottom, _date_text(key_result.target_date), "end"),
    ]
    today_x = x(today) if today is not None and first_day <= today <= last_day else None
    plan_text = (
        f"plan from {with_unit(key_result.baseline, unit)} on {_date_text(key_result.start_date)} "
        f"to {with_unit(key_result.target, unit)} on {_date_text(key_result.target_date)}"
    )
    if points:
        latest = points[-1]
        description = (
            f"{len(points)} measurement{'s' if len(points) != 1 else ''}, the latest "
            f"{latest.label}; {plan_text}."
        )
    else:
        description = f"No measurements yet; {plan_text}."
    return KeyResultChart(
        title=f"{key_result.name}: measurements against the plan",
        description=description,
        plan=(x(key_result.start_date), baseline_y, x(key_result.target_date), target_y),
        points=points,
        line=" ".join(f"{p.x},{p.y}" for p in points),
        labels=labels,
        gridlines=[baseline_y, target_y],
        today_x=today_x,
    )
