"""What the product page's in-place sections (outcomes, hypotheses, roadmap) share."""

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from portfolio.common.views import actor
from products.models import Product
from products.permissions import access_product


def wants_fragment(request: HttpRequest) -> bool:
    """An htmx request that wants a fragment (a boosted one wants the whole page)."""
    htmx = getattr(request, "htmx", None)
    return htmx is not None and bool(htmx) and not htmx.boosted


def editor(request: HttpRequest) -> User:
    """The signed-in user making the change, as the outcome services take it."""
    user = actor(request)
    if not isinstance(user, User):
        raise PermissionDenied
    return user


def editable_product(request: HttpRequest, slug: str) -> Product:
    """The product by slug, if the user may change its outcomes (else 403; unknown: 404)."""
    return access_product(user=request.user, slug=slug, action="edit_outcomes")
