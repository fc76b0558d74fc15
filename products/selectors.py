"""Reads of the products app, shared by pages, the API, exports and tasks."""

from decimal import Decimal
from typing import TypedDict

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from products.models import Discipline, Person, Product, Team, TeamMembership
from products.querysets import FTE_FIELD

User = AbstractBaseUser | AnonymousUser


def product_list(*, user: User, include_archived: bool = False) -> QuerySet[Product]:
    """Products with their owners and team count: everything a list row shows, in three queries."""
    qs = (
        Product.objects.visible_to(user)
        .with_counts()
        .prefetch_related(
            Prefetch(
                "owners",
                queryset=get_user_model().objects.only("id", "username", "first_name", "last_name"),
            )
        )
    )
    return qs if include_archived else qs.active()


def product_detail_queryset(*, user: User) -> QuerySet[Product]:
    """Products with owners and (active) teams prefetched, for a detail page."""
    return Product.objects.visible_to(user).prefetch_related(
        "owners",
        Prefetch("teams", queryset=Team.objects.active().only("id", "name", "slug")),
    )


def team_list(*, user: User, include_archived: bool = False) -> QuerySet[Team]:
    """Teams with today's member count and FTE, and the products they own."""
    qs = (
        Team.objects.visible_to(user)
        .with_capacity()
        .prefetch_related(
            Prefetch("products", queryset=Product.objects.only("id", "name", "slug", "archived_at"))
        )
    )
    return qs if include_archived else qs.active()


def team_detail_queryset(*, user: User) -> QuerySet[Team]:
    """Teams with products and every membership (person and discipline joined) prefetched."""
    return (
        Team.objects.visible_to(user)
        .with_capacity()
        .prefetch_related(
            Prefetch(
                "products", queryset=Product.objects.only("id", "name", "slug", "archived_at")
            ),
            Prefetch(
                "memberships",
                queryset=TeamMembership.objects.select_related("person__discipline").order_by(
                    "-start_date", "person__name"
                ),
            ),
        )
    )


def person_list(*, user: User, include_archived: bool = False) -> QuerySet[Person]:
    """People with their discipline, today's FTE across teams and their current teams."""
    today = timezone.localdate()
    qs = (
        Person.objects.visible_to(user)
        .select_related("discipline", "user")
        .with_allocation(today)
        .prefetch_related(
            Prefetch(
                "memberships",
                queryset=TeamMembership.objects.active_on(today)
                .select_related("team")
                .only("id", "person_id", "fte", "team__name", "team__slug"),
                to_attr="current_memberships",
            )
        )
    )
    return qs if include_archived else qs.active()


def person_detail_queryset(*, user: User) -> QuerySet[Person]:
    """People with discipline, account and all memberships (team joined)."""
    return (
        Person.objects.visible_to(user)
        .select_related("discipline", "user")
        .with_allocation()
        .prefetch_related(
            Prefetch(
                "memberships",
                queryset=TeamMembership.objects.select_related("team").order_by("-start_date"),
            )
        )
    )


def membership_list(*, user: User) -> QuerySet[TeamMembership]:
    """Memberships with person, discipline and team joined."""
    return TeamMembership.objects.visible_to(user).select_related("person__discipline", "team")


def discipline_list() -> QuerySet[Discipline]:
    """The organisation's disciplines with how many active people hold each."""
    return Discipline.objects.annotate(
        people_count=Count("people", filter=Q(people__archived_at__isnull=True))
    )


class RegistryCounts(TypedDict):
    products: int
    teams: int
    people: int
    fte: Decimal
    products_without_owner: int


def registry_counts() -> RegistryCounts:
    """Active products, teams, people and today's FTE in teams, in one query per table."""
    today = timezone.localdate()
    product_counts = Product.objects.active().aggregate(
        products=Count("id"),
        products_without_owner=Count("id", filter=~Q(owners__isnull=False)),
    )
    teams = Team.objects.active().count()
    people = Person.objects.active().aggregate(
        people=Count("id", distinct=True),
    )
    fte = (
        TeamMembership.objects.active_on(today)
        .filter(team__archived_at__isnull=True)
        .aggregate(fte=Coalesce(Sum("fte"), 0, output_field=FTE_FIELD))
    )
    return {
        "products": product_counts["products"],
        "products_without_owner": product_counts["products_without_owner"],
        "teams": teams,
        "people": people["people"],
        "fte": fte["fte"],
    }
