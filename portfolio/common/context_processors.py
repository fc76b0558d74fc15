"""Values every page layout needs."""

from django.conf import settings
from django.http import HttpRequest

ROLE_LABELS = {
    "executive": "Executive",
    "portfolio_manager": "Portfolio manager",
    "product_owner": "Product owner",
    "finance": "Finance",
}


def site(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    roles: list[str] = []
    if user is not None and user.is_authenticated:
        # One query per page; the groups are few and cached on the request.
        cached = getattr(request, "_role_labels", None)
        if cached is None:
            names = [g.name for g in user.groups.all()]
            cached = [ROLE_LABELS[n] for n in names if n in ROLE_LABELS]
            if user.is_superuser and not cached:
                cached = ["Administrator"]
            request._role_labels = cached  # type: ignore[attr-defined]
        roles = cached
    return {"user_roles": roles, "currency_symbol": settings.CURRENCY_SYMBOL}
