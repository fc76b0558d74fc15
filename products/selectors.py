"""Reads of the products app, shared by pages, the API, exports and tasks."""

import datetime
from decimal import Decimal
from typing import TypedDict

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from products.models import (
    ChangeRecord,
    Discipline,
    Hypothesis,
    HypothesisStatusChange,
    KeyResult,
    Measurement,
    Outcome,
    Person,
    Product,
    RoadmapItem,
    Team,
    TeamMembership,
)
from products.models.outcomes import STALE_AFTER_DAYS
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


# Outcomes, hypotheses, roadmap


def outcome_list(*, user: User) -> QuerySet[Outcome]:
    """Outcomes with their product, for lists and the API."""
    return Outcome.objects.visible_to(user).select_related("product")


def key_result_list(*, user: User) -> QuerySet[KeyResult]:
    """Key results with outcome and product joined (their figures are stored on the row)."""
    return KeyResult.objects.visible_to(user).select_related("outcome", "product")


def measurement_list(*, user: User) -> QuerySet[Measurement]:
    """Measurements with their key result, product and recorder joined; latest first."""
    return (
        Measurement.objects.visible_to(user)
        .select_related("key_result__product", "recorded_by")
        .latest_first()
    )


def hypothesis_list(*, user: User) -> QuerySet[Hypothesis]:
    """Hypotheses with product and key result joined and their status changes prefetched."""
    return (
        Hypothesis.objects.visible_to(user)
        .select_related("product", "key_result")
        .prefetch_related(
            Prefetch(
                "status_changes",
                queryset=HypothesisStatusChange.objects.select_related("changed_by").order_by(
                    "changed_at", "id"
                ),
            )
        )
    )


def roadmap_item_list(*, user: User) -> QuerySet[RoadmapItem]:
    """Roadmap items with product joined and linked key results prefetched, in board order."""
    return (
        RoadmapItem.objects.visible_to(user)
        .select_related("product")
        .prefetch_related(
            Prefetch(
                "key_results", queryset=KeyResult.objects.only("id", "name", "status", "product_id")
            )
        )
        .order_by("product_id", "horizon", "position")
    )


def product_outcomes(*, user: User, product: Product) -> QuerySet[Outcome]:
    """A product's active outcomes, each with its key results and their measurements (for the
    charts), in two prefetch queries whatever their number."""
    return (
        Outcome.objects.visible_to(user)
        .active()
        .filter(product=product)
        .prefetch_related(
            Prefetch(
                "key_results",
                queryset=KeyResult.objects.order_by("id").prefetch_related(
                    Prefetch("measurements", queryset=Measurement.objects.order_by("date", "id"))
                ),
            )
        )
        .order_by("order", "id")
    )


def product_hypotheses(*, user: User, product: Product) -> QuerySet[Hypothesis]:
    """A product's hypotheses, newest first, with key results and status changes."""
    return hypothesis_list(user=user).filter(product=product).order_by("-created_at", "-id")


def product_roadmap(*, user: User, product: Product) -> dict[str, list[RoadmapItem]]:
    """A product's roadmap as {horizon: [items in order]} for now, next, later and done."""
    board: dict[str, list[RoadmapItem]] = {h: [] for h in RoadmapItem.Horizon.values}
    for item in roadmap_item_list(user=user).filter(product=product):
        board[item.horizon].append(item)
    return board


def product_history(*, user: User, product: Product, limit: int = 50) -> list[ChangeRecord]:
    """The latest changes to a product's outcomes, hypotheses and roadmap, with who made them."""
    if not user.is_authenticated:
        return []
    return list(
        ChangeRecord.objects.filter(product=product)
        .select_related("actor")
        .order_by("-at", "-id")[:limit]
    )


def my_products(*, user: User, today: datetime.date | None = None) -> QuerySet[Product]:
    """The active products ``user`` owns, each annotated with key-result status counts, stale key
    results and roadmap items without an outcome link, in one query."""
    today = today or timezone.localdate()
    cutoff = today - datetime.timedelta(days=STALE_AFTER_DAYS)
    live = Q(key_results__outcome__archived_at__isnull=True)
    stale = (
        live
        & Q(key_results__start_date__lte=cutoff, key_results__target_date__gte=today)
        & (Q(key_results__latest_date__isnull=True) | Q(key_results__latest_date__lt=cutoff))
    )
    unlinked = (
        RoadmapItem.objects.filter(product=OuterRef("pk"), key_results__isnull=True)
        .exclude(horizon=RoadmapItem.Horizon.DONE)
        .order_by()
        .values("product")
        .annotate(n=Count("id"))
        .values("n")
    )

    def status_count(status: str) -> Count:
        return Count("key_results", filter=live & Q(key_results__status=status), distinct=True)

    return (
        Product.objects.visible_to(user)
        .active()
        .filter(owners=user)
        .annotate(
            kr_total=Count("key_results", filter=live, distinct=True),
            kr_on_track=status_count(KeyResult.Status.ON_TRACK),
            kr_at_risk=status_count(KeyResult.Status.AT_RISK),
            kr_off_track=status_count(KeyResult.Status.OFF_TRACK),
            kr_no_data=status_count(KeyResult.Status.NO_DATA),
            kr_stale=Count("key_results", filter=stale, distinct=True),
            items_without_outcome=Coalesce(Subquery(unlinked), 0),
        )
        .order_by("name")
    )


def change_record_list(*, user: User) -> QuerySet[ChangeRecord]:
    """The change history of every product (outcomes, key results, measurements, hypotheses,
    roadmap items) with product and actor joined, newest first."""
    if not user.is_authenticated:
        return ChangeRecord.objects.none()
    return ChangeRecord.objects.select_related("product", "actor").order_by("-at", "-id")
