"""The pitfalls page, mounted at /pitfalls/: every pitfall with its signals (status with a label,
value against threshold, an SVG sparkline of the recorded trend, the rule, the offenders with
links), the early warnings from flow (a lazy htmx fragment: the ageing-work query can be slow on
large data), and the thresholds, edited in place by executives and portfolio managers.

Everyone signed in reads. A threshold write by another role answers 403. Without JavaScript the
threshold form posts normally and redirects back to the signal; the warnings link opens a page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_POST

from funding import selectors as funding_selectors
from funding.models import FiscalPeriod
from portfolio import pitfalls
from portfolio.common.htmx import render_page
from portfolio.common.views import actor
from portfolio.services_pitfalls import pitfall_threshold_set

TUNE = "portfolio.change_pitfallthreshold"
PAGE_TEMPLATE = "portfolio/pitfalls.html"
WARNINGS_TEMPLATE = "portfolio/pitfall_warnings.html"
SIGNAL_TEMPLATE = "portfolio/_pitfall_signal.html"


def sparkline(points: list[tuple[date, Decimal]], width: int = 120, height: int = 28) -> SafeString:
    """A server-rendered SVG sparkline of a signal's recorded values (oldest first), with a text
    alternative; empty when there is no history."""
    if not points:
        return mark_safe("")
    values = [float(v) for _, v in points]
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    pad = 3.0
    step = (width - 2 * pad) / max(len(values) - 1, 1)
    coords = [
        (pad + i * step, height - pad - (v - low) / span * (height - 2 * pad))
        for i, v in enumerate(values)
    ]
    if len(coords) == 1:
        coords.append((width - pad, coords[0][1]))
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    first_day, first = points[0]
    last_day, last = points[-1]
    label = (
        f"Trend: {first.normalize():f} on {first_day:%d %b %Y}, {last.normalize():f} on "
        f"{last_day:%d %b %Y} ({len(points)} records)"
    )
    end_x, end_y = coords[-1]
    return format_html(
        '<svg class="sparkline" role="img" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
        'aria-label="{label}"><title>{label}</title>'
        '<polyline fill="none" stroke="currentColor" stroke-width="1.5" points="{line}"/>'
        '<circle cx="{x}" cy="{y}" r="2" fill="currentColor"/></svg>',
        w=width,
        h=height,
        label=label,
        line=line,
        x=f"{end_x:.1f}",
        y=f"{end_y:.1f}",
    )


class ThresholdForm(forms.Form):
    threshold = forms.DecimalField(
        label="Threshold", min_value=Decimal(0), max_digits=10, decimal_places=2
    )


@dataclass
class SignalRow:
    """A signal as the page shows it: the figures, its sparkline and (for tuners) its form."""

    signal: pitfalls.Signal
    form: ThresholdForm | None = None

    @property
    def anchor(self) -> str:
        return "signal-" + self.signal.key.replace(".", "-")

    @property
    def sparkline(self) -> SafeString:
        return sparkline(self.signal.trend)

    @property
    def value_text(self) -> str:
        return _with_unit(self.signal.value, self.signal.unit)

    @property
    def threshold_text(self) -> str:
        return _with_unit(self.signal.threshold, self.signal.unit)


@dataclass
class PitfallGroup:
    """A pitfall and its signals' rows."""

    key: str
    name: str
    rows: list[SignalRow]

    @property
    def firing(self) -> int:
        return sum(1 for r in self.rows if r.signal.firing)


def _with_unit(value: Decimal | int | None, unit: str) -> str:
    if value is None:
        return ""
    shown = f"{value.normalize():f}" if isinstance(value, Decimal) else str(value)
    if unit == "%":
        return f"{shown} %"
    if value == 1 and unit.endswith("s"):
        unit = unit[:-1]
    return f"{shown} {unit}"


def _period(request: HttpRequest) -> FiscalPeriod | None:
    raw = request.GET.get("period", "")
    if raw:
        if not raw.isdigit():
            raise Http404("No such fiscal period.")
        found = FiscalPeriod.objects.filter(pk=int(raw)).first()
        if found is None:
            raise Http404("No such fiscal period.")
        return found
    return funding_selectors.current_period()


def _rows(request: HttpRequest, signals: list[pitfalls.Signal]) -> list[SignalRow]:
    can_tune = request.user.has_perm(TUNE)
    return [
        SignalRow(
            s,
            ThresholdForm(initial={"threshold": s.threshold}, prefix=s.key.replace(".", "-"))
            if can_tune
            else None,
        )
        for s in signals
    ]


def _crumbs() -> list[tuple[str, str | None]]:
    return [("Portfolio", reverse("home")), ("Pitfalls", None)]


@require_GET
def pitfall_page(request: HttpRequest) -> HttpResponse:
    """Every pitfall with its signals; the early warnings load lazily below."""
    period = _period(request)
    rows = _rows(request, pitfalls.pitfall_signals(period=period))
    groups = [
        PitfallGroup(key, name, [r for r in rows if r.signal.pitfall == key])
        for key, name in pitfalls.PITFALLS.items()
        if key != "warning"
    ]
    return render_page(
        request,
        PAGE_TEMPLATE,
        {
            "groups": groups,
            "period": period,
            "periods": FiscalPeriod.objects.order_by("-start").only("id", "name"),
            "firing": sum(g.firing for g in groups),
            "can_tune": request.user.has_perm(TUNE),
            "breadcrumbs": _crumbs(),
        },
    )


@require_GET
def pitfall_warnings(request: HttpRequest) -> HttpResponse:
    """The early warnings from flow: the lazy fragment of the pitfalls page (htmx), or a page."""
    period = _period(request)
    rows = _rows(request, pitfalls.early_warnings(period=period))
    return render_page(
        request,
        WARNINGS_TEMPLATE,
        {
            "rows": rows,
            "period": period,
            "can_tune": request.user.has_perm(TUNE),
            "breadcrumbs": [
                ("Portfolio", reverse("home")),
                ("Pitfalls", reverse("pitfalls")),
                ("Early warnings", None),
            ],
        },
        partial="warnings",
    )


@require_POST
def pitfall_threshold(request: HttpRequest, key: str) -> HttpResponse:
    """Set a signal's threshold: the signal's card re-renders with its new status (htmx), or the
    page reloads at the signal."""
    if not request.user.has_perm(TUNE):
        raise PermissionDenied
    spec = pitfalls.SPEC_BY_KEY.get(key)
    if spec is None:
        raise Http404("No such signal.")
    form = ThresholdForm(request.POST, prefix=key.replace(".", "-"))
    error: ValidationError | None = None
    if form.is_valid():
        try:
            pitfall_threshold_set(
                actor=actor(request), key=key, threshold=form.cleaned_data["threshold"]
            )
        except ValidationError as exc:
            error = exc
    period = _period(request)
    htmx = getattr(request, "htmx", None)
    ok = form.is_valid() and error is None
    if ok and not htmx:
        messages.success(request, f"Threshold of “{spec.title}” saved.")
        query = f"?period={period.pk}" if period is not None and request.GET.get("period") else ""
        return redirect(reverse("pitfalls") + query + "#signal-" + key.replace(".", "-"))
    if error is not None:
        for messages_ in error.message_dict.values():
            for message in messages_:
                form.add_error("threshold", message)
    signals = (
        pitfalls.early_warnings(period=period)
        if spec.pitfall == "warning"
        else pitfalls.pitfall_signals(period=period)
    )
    signal = next(s for s in signals if s.key == key)
    fresh = ThresholdForm(initial={"threshold": signal.threshold}, prefix=form.prefix)
    row = SignalRow(signal, fresh if ok else form)
    context: dict[str, Any] = {"row": row, "can_tune": True, "period": period, "saved": ok}
    if htmx:
        return render_page(request, SIGNAL_TEMPLATE, context)
    return render_page(
        request,
        PAGE_TEMPLATE,
        {
            "groups": [PitfallGroup(spec.pitfall, signal.pitfall_name, [row])],
            "period": period,
            "periods": FiscalPeriod.objects.order_by("-start").only("id", "name"),
            "can_tune": True,
            "breadcrumbs": _crumbs(),
            "single": True,
        },
    )
