"""The query vocabulary of the products app."""

import datetime

from django.db import models
from django.db.models import Count, DecimalField, IntegerField, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from portfolio.common.models import ArchivableQuerySet

FTE_FIELD = DecimalField(max_digits=5, decimal_places=2)


def _active_membership(on: datetime.date, prefix: str = "memberships__") -> Q:
    return Q(**{f"{prefix}start_date__lte": on}) & (
        Q(**{f"{prefix}end_date__isnull": True}) | Q(**{f"{prefix}end_date__gte": on})
    )


class ProductQuerySet(ArchivableQuerySet):
    def visible_to(self, user):
        """Everyone signed in reads every product (DESIGN.md, Permissions)."""
        return self if user.is_authenticated else self.none()

    def owned_by(self, user):
        return self.filter(owners=user)

    def with_counts(self):
        return self.annotate(
            team_count=Count("teams", filter=Q(teams__archived_at__isnull=True), distinct=True),
        )


class TeamQuerySet(ArchivableQuerySet):
    def visible_to(self, user):
        return self if user.is_authenticated else self.none()

    def with_capacity(self, on: datetime.date | None = None):
        """Members active on a date (today by default), their total FTE, and products owned.

        Products are counted in a subquery: joining them beside the memberships would repeat
        each membership once per product and inflate the FTE sum.
        """
        active = _active_membership(on or timezone.localdate())
        through = self.model._meta.get_field("products").remote_field.through  # type: ignore[union-attr]
        owned = (
            through.objects.filter(team_id=OuterRef("pk"))
            .order_by()
            .values("team_id")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return self.annotate(
            member_count=Count("memberships__person", filter=active, distinct=True),
            total_fte=Coalesce(Sum("memberships__fte", filter=active), 0, output_field=FTE_FIELD),
            product_count=Coalesce(Subquery(owned, output_field=IntegerField()), 0),
        )


class PersonQuerySet(ArchivableQuerySet):
    def visible_to(self, user):
        return self if user.is_authenticated else self.none()

    def with_allocation(self, on: datetime.date | None = None):
        """Each person's FTE across teams on a date (today by default) and their team count."""
        active = _active_membership(on or timezone.localdate())
        return self.annotate(
            allocated_fte=Coalesce(
                Sum("memberships__fte", filter=active), 0, output_field=FTE_FIELD
            ),
            team_count=Count("memberships__team", filter=active, distinct=True),
        )


class TeamMembershipQuerySet(models.QuerySet):
    """Memberships end (end_date); they are not archived."""

    def visible_to(self, user):
        return self if user.is_authenticated else self.none()

    def active_on(self, day: datetime.date):
        return self.filter(_active_membership(day, prefix=""))

    def current(self):
        return self.active_on(timezone.localdate())

    def overlapping(self, start: datetime.date, end: datetime.date | None):
        """Memberships whose closed range [start_date, end_date] meets [start, end] (None = open)."""
        qs = self.filter(Q(end_date__isnull=True) | Q(end_date__gte=start))
        if end is not None:
            qs = qs.filter(start_date__lte=end)
        return qs


class OutcomeQuerySet(ArchivableQuerySet):
    def visible_to(self, user):
        return self if user.is_authenticated else self.none()


class KeyResultQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self if user.is_authenticated else self.none()

    def active(self):
        """Key results of outcomes that are not archived."""
        return self.filter(outcome__archived_at__isnull=True)

    def stale(self, today: datetime.date | None = None):
        """Running key results (30+ days after start, target date not passed) with no measurement
        in the last 30 days; the same rule as KeyResult.is_stale, in SQL."""
        today = today or timezone.localdate()
        cutoff = today - datetime.timedelta(days=30)
        return self.filter(start_date__lte=cutoff, target_date__gte=today).filter(
            Q(latest_date__isnull=True) | Q(latest_date__lt=cutoff)
        )


class MeasurementQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self if user.is_authenticated else self.none()

    def latest_first(self):
        """Latest date first; on a tie, the one recorded last (DESIGN.md)."""
        return self.order_by("-date", "-id")


class HypothesisQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self if user.is_authenticated else self.none()


class RoadmapItemQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self if user.is_authenticated else self.none()

    def with_outcome_links(self):
        """Annotate how many key results each item is linked to (0: output without outcome)."""
        return self.annotate(key_result_count=Count("key_results", distinct=True))

    def without_outcome(self):
        return self.filter(key_results__isnull=True)
