"""Who changed what in a product's outcomes, hypotheses and roadmap, when, from what to what."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class ChangeRecord(models.Model):
    """One change, written by the service that made it (never by a signal), so writes from pages,
    the API, imports and Celery tasks are all attributed to the acting user."""

    class Action(models.TextChoices):
        CREATED = "created", "Created"
        UPDATED = "updated", "Updated"
        DELETED = "deleted", "Deleted"
        MOVED = "moved", "Moved"
        IMPORTED = "imported", "Imported"

    product = models.ForeignKey(
        "products.Product", on_delete=models.CASCADE, related_name="changes"
    )
    subject_type = models.CharField(max_length=20)
    subject_id = models.BigIntegerField()
    subject_label = models.CharField(max_length=200)
    action = models.CharField(max_length=10, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["product", "-at", "-id"])]

    def __str__(self) -> str:
        return f"{self.subject_type} {self.subject_label} {self.action} at {self.at:%Y-%m-%d %H:%M}"

    def changed_fields(self) -> list[tuple[str, object, object]]:
        """(field, before, after) for each field whose value differs."""
        before, after = self.before or {}, self.after or {}
        keys = [k for k in (after or before) if before.get(k) != after.get(k)]
        return [(k, before.get(k), after.get(k)) for k in keys]
