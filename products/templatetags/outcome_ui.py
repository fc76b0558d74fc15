"""Template helpers of the outcome pages: measured numbers with units, relative times."""

import datetime
from decimal import Decimal

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from products.charts import with_unit

register = template.Library()


@register.filter
def measure(value: Decimal | None, unit: str = "") -> str:
    """A measured value with its unit and thousands separators, no trailing zeros: 1,250 users."""
    return with_unit(value, unit or "")


def ago_text(moment: datetime.datetime, now: datetime.datetime) -> str:
    """How long ago, as a person says it: just now, 3 min ago, 5 h ago, 2 d ago, else the date."""
    seconds = (now - moment).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    if seconds < 30 * 86400:
        return f"{int(seconds // 86400)} d ago"
    local = timezone.localtime(moment)
    return f"{local.day} {local:%b %Y}"


@register.simple_tag
def ago(moment: datetime.datetime | None) -> SafeString | str:
    """A <time> saying how long ago, with the exact local time on hover (its title)."""
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        moment.isoformat(),
        f"{local.day} {local:%b %Y, %H:%M}",
        ago_text(moment, timezone.now()),
    )
