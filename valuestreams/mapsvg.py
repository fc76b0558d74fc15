"""The value stream map drawn as SVG on the server.

Step boxes in a row (name, process time, lead time, %C&A), arrows between them, and below them
the lead-time ladder: for each step a raised segment for its wait and a lowered one for its
process time, with the totals in a box under it. The bottleneck's box and wait carry the class
``is-bottleneck`` and the word "Bottleneck", so it never relies on colour alone.

No inline styles and no scripts (the Content-Security-Policy forbids them): the page's CSS styles
the classes; positions are SVG attributes. Every text is escaped.
"""

from decimal import Decimal

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from portfolio.common.templatetags.ui import duration_minutes, percent
from valuestreams.mapmetrics import MapMetrics, StepFigures

BOX_W = 168
BOX_H = 96
GAP = 36
TOP = 28
LADDER_HIGH = TOP + BOX_H + 44
LADDER_LOW = LADDER_HIGH + 34
# The totals sit under the ladder, at the left, in two columns of two: beside the last step they
# made a five-step map wider than a card on a 1280 px page, so the box was cut off there.
SUMMARY_TOP = LADDER_LOW + 34
SUMMARY_COL = 172
SUMMARY_W = 2 * SUMMARY_COL
SUMMARY_H = 56
MARGIN = 8
NAME_CHARS = 22


def _short(name: str) -> str:
    return name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1].rstrip() + "…"


def _text(x: float, y: float, text: str, cls: str, anchor: str = "middle") -> str:
    return format_html(
        '<text x="{}" y="{}" class="{}" text-anchor="{}">{}</text>', x, y, cls, anchor, text
    )


def _step_box(step: StepFigures, x: int) -> str:
    cls = "vsm-step is-bottleneck" if step.is_bottleneck else "vsm-step"
    cx = x + BOX_W // 2
    parts = [
        format_html('<g class="{}">', cls),
        format_html("<title>{}</title>", f"{step.order}. {step.name}"),
        format_html(
            '<rect x="{}" y="{}" width="{}" height="{}" rx="6" class="vsm-box"></rect>',
            x,
            TOP,
            BOX_W,
            BOX_H,
        ),
        _text(cx, TOP + 22, _short(step.name), "vsm-name"),
        _text(cx, TOP + 44, f"PT {duration_minutes(step.process_time_minutes)}", "vsm-figure"),
        _text(cx, TOP + 62, f"LT {duration_minutes(step.lead_time_minutes)}", "vsm-figure"),
        _text(cx, TOP + 80, f"%C&A {percent(step.percent_complete_accurate)}", "vsm-figure"),
    ]
    if step.is_bottleneck:
        parts.append(_text(cx, TOP - 8, "Bottleneck", "vsm-flag"))
    parts.append("</g>")
    return "".join(parts)


def _arrow(x: int) -> str:
    y = TOP + BOX_H // 2
    return format_html(
        '<line x1="{}" y1="{}" x2="{}" y2="{}" class="vsm-arrow" marker-end="url(#vsm-head)">'
        "</line>",
        x + BOX_W + 4,
        y,
        x + BOX_W + GAP - 6,
        y,
    )


def _ladder(step: StepFigures, x: int) -> str:
    """The step's rung: wait raised (left part of its column), process time lowered (right)."""
    total = step.lead_time_minutes
    share = Decimal(0) if total == 0 else step.wait_minutes / total
    # Each part keeps a readable width however lopsided the times are.
    column = BOX_W + GAP
    wait_w = int(min(max(share * column, Decimal(40)), Decimal(column - 40)))
    cls = "vsm-ladder is-bottleneck" if step.is_bottleneck else "vsm-ladder"
    x_mid = x + wait_w
    x_end = x + column
    points = (
        f"{x},{LADDER_HIGH} {x_mid},{LADDER_HIGH} {x_mid},{LADDER_LOW} {x_end},{LADDER_LOW} "
        f"{x_end},{LADDER_HIGH}"
    )
    return "".join(
        [
            format_html('<polyline points="{}" class="{}"></polyline>', points, cls),
            _text(
                x + wait_w / 2,
                LADDER_HIGH - 8,
                f"wait {duration_minutes(step.wait_minutes)}",
                "vsm-wait",
            ),
            _text(
                x_mid + (x_end - x_mid) / 2,
                LADDER_LOW + 16,
                duration_minutes(step.process_time_minutes),
                "vsm-process",
            ),
        ]
    )


def map_svg(metrics: MapMetrics, *, title: str, svg_id: str = "vsm") -> SafeString:
    """The map as an ``<svg>`` element with a ``<title>`` and a ``<desc>`` of its totals."""
    steps = metrics.steps
    width = max(len(steps) * (BOX_W + GAP), SUMMARY_W) + 2 * MARGIN
    height = SUMMARY_TOP + SUMMARY_H + MARGIN if steps else TOP + BOX_H + MARGIN
    desc = (
        f"{len(steps)} steps. Total lead time {duration_minutes(metrics.total_lead_time_minutes)}, "
        f"process time {duration_minutes(metrics.total_process_time_minutes)}, "
        f"wait {duration_minutes(metrics.total_wait_minutes)}, "
        f"activity ratio {percent(metrics.activity_ratio)}, "
        f"rolled %C&A {percent(metrics.rolled_percent_complete_accurate)}."
    )
    if metrics.bottleneck is not None:
        desc += f" Bottleneck: {metrics.bottleneck.name}."
    parts = [
        format_html(
            '<svg xmlns="http://www.w3.org/2000/svg" class="vsm-svg" viewBox="0 0 {} {}" '
            'width="{}" height="{}" role="img" aria-labelledby="{}-title {}-desc">',
            width,
            height,
            width,
            height,
            svg_id,
            svg_id,
        ),
        format_html('<title id="{}-title">{}</title>', svg_id, title),
        format_html('<desc id="{}-desc">{}</desc>', svg_id, desc),
        '<defs><marker id="vsm-head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" class="vsm-arrowhead">'
        "</path></marker></defs>",
    ]
    if not steps:
        parts.append(_text(12, TOP + 40, "No steps yet.", "vsm-empty", anchor="start"))
    for index, step in enumerate(steps):
        x = MARGIN + index * (BOX_W + GAP)
        parts.append(_step_box(step, x))
        if index < len(steps) - 1:
            parts.append(_arrow(x))
        parts.append(_ladder(step, x))
    summary = [
        ("Lead time", duration_minutes(metrics.total_lead_time_minutes)),
        ("Process time", duration_minutes(metrics.total_process_time_minutes)),
        ("Activity ratio", percent(metrics.activity_ratio)),
        ("Rolled %C&A", percent(metrics.rolled_percent_complete_accurate)),
    ]
    if steps:
        parts.append(
            format_html(
                '<rect x="{}" y="{}" width="{}" height="{}" rx="6" class="vsm-summary"></rect>',
                MARGIN,
                SUMMARY_TOP,
                SUMMARY_W,
                SUMMARY_H,
            )
        )
        for i, (label, value) in enumerate(summary):
            row, column = divmod(i, 2)
            parts.append(
                _text(
                    MARGIN + 12 + column * SUMMARY_COL,
                    SUMMARY_TOP + 23 + row * 20,
                    f"{label}: {value}",
                    "vsm-total",
                    "start",
                )
            )
    parts.append("</svg>")
    # Every part is fixed markup or built by format_html, which escapes what it is given.
    return mark_safe("".join(parts))
