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
        if not hasattr(request, "_role_labels"):
            names = [g.name for g in user.groups.all()]
            request._role_labels = [ROLE_LABELS.get(n, n) for n in names if n in ROLE_LABELS]
            if user.is_superuser and not request._role_labels:
                request._role_labels = ["Administrator"]
        roles = request._role_labels
    return {"user_roles": roles, "currency_symbol": settings.CURRENCY_SYMBOL}
