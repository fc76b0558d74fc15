"""What the registry's pages share: their templates, FTE and count wording, membership status."""

import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from portfolio.common.views import ObjectPages
from products.models import TeamMembership

STATUS_BADGES = {"current": "badge-ok", "future": "badge-info", "ended": "badge-none"}


def registry_pages(noun: str, list_label: str, list_url_name: str, **options: Any) -> ObjectPages:
    """The create, edit and archive pages of one kind of registry row, in the registry's templates."""
    return ObjectPages(
        noun=noun,
        list_label=list_label,
        list_url_name=list_url_name,
        form_template="products/form.html",
        confirm_template="products/archive_confirm.html",
        **options,
    )


def fte_text(value: Decimal | int) -> str:
    return f"{Decimal(value):.2f}".rstrip("0").rstrip(".") or "0"


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def membership_status(membership: TeamMembership, today: datetime.date) -> str:
    if membership.start_date > today:
        return "future"
    if membership.end_date is not None and membership.end_date < today:
        return "ended"
    return "current"


def open_memberships_notice(memberships: list[TeamMembership], whose: str) -> str:
    """What archiving does to the open memberships (the service ends them today)."""
    today = timezone.localdate()
    current = sum(1 for m in memberships if m.start_date <= today)
    planned = len(memberships) - current
    text = f"ends {whose} {plural(current, 'current membership')} today"
    if planned:
        text += f" and cuts {whose} {plural(planned, 'planned membership')} to their first day"
    return text
