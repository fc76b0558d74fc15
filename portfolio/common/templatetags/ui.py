"""Template helpers for how numbers, money, dates and links look (see UI.md)."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template
from django.conf import settings
from django.utils.html import format_html

register = template.Library()


def _to_decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


@register.filter
def money(value, cents: bool | str = "auto") -> str:
    """Currency symbol and thousands separators; no cents above 10,000 unless asked for."""
    amount = _to_decimal(value)
    if amount is None:
        return "—"
    show_cents = abs(amount) < 10000 if cents == "auto" else bool(cents)
    places = Decimal("0.01") if show_cents else Decimal("1")
    rounded = amount.quantize(places, rounding=ROUND_HALF_UP)
    text = f"{abs(rounded):,.2f}" if show_cents else f"{abs(rounded):,.0f}"
    sign = "\u2212" if rounded < 0 else ""
    return f"{sign}{settings.CURRENCY_SYMBOL}{text}"


@register.filter
def percent(value, places: int = 1) -> str:
    """At most one decimal, trailing .0 dropped: 42 %, 42.5 %."""
    number = _to_decimal(value)
    if number is None:
        return "—"
    text = f"{number:.{int(places)}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text} %"


@register.filter
def fte(value) -> str:
    """FTE with up to two decimals, trailing zeros dropped: 1, 0.5, 0.25."""
    number = _to_decimal(value)
    if number is None:
        return "—"
    text = f"{number:.2f}".rstrip("0").rstrip(".")
    return text or "0"


@register.filter
def duration_minutes(value) -> str:
    """Minutes as a person reads them: 45 min, 6.5 h, 3.2 d."""
    number = _to_decimal(value)
    if number is None:
        return "—"
    minutes = float(number)
    if minutes < 60:
        return f"{minutes:.1f}".rstrip("0").rstrip(".") + " min"
    if minutes < 60 * 24:
        return f"{minutes / 60:.1f}".rstrip("0").rstrip(".") + " h"
    return f"{minutes / (60 * 24):.1f}".rstrip("0").rstrip(".") + " d"


@register.simple_tag(takes_context=True)
def query(context, **changes) -> str:
    """The current query string with some parameters replaced (or removed with None)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.simple_tag(takes_context=True)
def sort_link(context, field: str, label: str):
    """A sortable column header: toggles ascending/descending and shows the direction."""
    request = context["request"]
    current = request.GET.get("ordering", "")
    if current == field:
        new, arrow, aria = f"-{field}", " ▲", "ascending"
    elif current == f"-{field}":
        new, arrow, aria = field, " ▼", "descending"
    else:
        new, arrow, aria = field, "", "none"
    params = request.GET.copy()
    params["ordering"] = new
    params.pop("page", None)
    return format_html(
        '<a href="?{}" class="sort" data-sort="{}">{}<span aria-hidden="true">{}</span></a>',
        params.urlencode(),
        aria,
        label,
        arrow,
    )
