"""Reads of the valuestreams app."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Prefetch, QuerySet

from products.models import Product
from valuestreams.models import ValueStream

User = AbstractBaseUser | AnonymousUser


def value_stream_list(*, user: User, include_archived: bool = False) -> QuerySet[ValueStream]:
    """Value streams with owner, product count and their products (names for the list row)."""
    qs = (
        ValueStream.objects.visible_to(user)
        .with_counts()
        .select_related("owner")
        .prefetch_related(
            Prefetch("products", queryset=Product.objects.active().only("id", "name", "slug"))
        )
    )
    return qs if include_archived else qs.active()


def value_stream_detail_queryset(*, user: User) -> QuerySet[ValueStream]:
    """Value streams with owner and products (with their teams and owners) for the detail page."""
    return (
        ValueStream.objects.visible_to(user)
        .select_related("owner")
        .prefetch_related(
            Prefetch(
                "products",
                queryset=Product.objects.active()
                .prefetch_related("teams", "owners")
                .order_by("name"),
            )
        )
    )


def value_streams_for_product(*, user: User, product_id: int) -> QuerySet[ValueStream]:
    """The active value streams a product serves (the product page's panel, served by this app)."""
    return (
        ValueStream.objects.visible_to(user)
        .active()
        .filter(products__id=product_id)
        .order_by("name")
    )


def owner_choices() -> QuerySet:
    """Users who can own a value stream (active accounts)."""
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .order_by("first_name", "last_name", "username")
    )
