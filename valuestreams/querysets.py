"""The query vocabulary of the valuestreams app."""

from django.db.models import Count, Q

from portfolio.common.models import ArchivableQuerySet


class ValueStreamQuerySet(ArchivableQuerySet):
    def visible_to(self, user):
        """Everyone signed in reads every value stream (DESIGN.md, Permissions)."""
        return self if user.is_authenticated else self.none()

    def with_counts(self):
        return self.annotate(
            product_count=Count(
                "products", filter=Q(products__archived_at__isnull=True), distinct=True
            )
        )
