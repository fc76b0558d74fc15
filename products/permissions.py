"""Who may change a product's outcomes, key results, measurements, hypotheses and roadmap.

Model permissions come from the role (a group); the object rule is ownership: a product owner
writes only for the products they are named on, a portfolio manager (``edit_any_outcomes``) for
every product. Pages, the API, imports and the services themselves all ask here.
"""

from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.models import User as AuthUser
from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.http import Http404
from django.shortcuts import get_object_or_404

from products.models import Product

User = AuthUser | AnonymousUser


def owns(user: User, product: Product) -> bool:
    """Whether ``user`` is one of the product's owners (uses prefetched owners when present)."""
    if not user.is_authenticated:
        return False
    cache = getattr(product, "_prefetched_objects_cache", {})
    if "owners" in cache:
        return any(owner.pk == user.pk for owner in cache["owners"])
    return product.owners.filter(pk=user.pk).exists()


def can_edit_outcomes(
    user: User, product: Product, *, model: type[Model] | None = None, action: str = "change"
) -> bool:
    """The role may write this kind of row, and the user owns the product or may edit any product."""
    if not user.is_authenticated or product.archived_at is not None:
        return False
    if model is not None and not user.has_perm(f"products.{action}_{model._meta.model_name}"):
        return False
    if model is None and not user.has_perm("products.change_keyresult"):
        return False
    return user.has_perm("products.edit_any_outcomes") or owns(user, product)


def ensure_can_edit_outcomes(
    user: User, product: Product, *, model: type[Model] | None = None, action: str = "change"
) -> None:
    """Raise PermissionDenied (403) unless ``user`` may make this write for ``product``."""
    if not can_edit_outcomes(user, product, model=model, action=action):
        if product.archived_at is not None:
            raise PermissionDenied(
                "This product is archived; restore it before changing its outcomes."
            )
        raise PermissionDenied(
            "Only the product's owners and portfolio managers may change its outcomes."
        )


def access_product(*, user: User, slug: str, action: str = "view") -> Product:
    """A product by slug for ``user``: 404 when unknown; with ``action="edit_outcomes"``, 403 when
    the user may not change its outcomes."""
    product = get_object_or_404(
        Product.objects.visible_to(user).prefetch_related("owners"), slug=slug
    )
    if action == "edit_outcomes":
        ensure_can_edit_outcomes(user, product)
    elif action != "view":
        raise Http404
    return product
