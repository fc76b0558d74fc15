"""Shared model bases."""

from django.db import models
from django.utils import timezone


class TimestampedModel(models.Model):
    """Adds created/updated times to every row that people maintain."""

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class ArchivableQuerySet(models.QuerySet):
    """Archive rather than delete: registry rows keep their history and links."""

    def active(self):
        return self.filter(archived_at__isnull=True)

    def archived(self):
        return self.filter(archived_at__isnull=False)


class ArchivableModel(TimestampedModel):
    """A registry row that can be archived (hidden from pickers and default lists) and restored."""

    archived_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        abstract = True

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None
