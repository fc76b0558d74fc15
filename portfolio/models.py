"""The portfolio level. For now: the worker heartbeat the health check reads."""

from django.db import models


class Heartbeat(models.Model):
    """When a background process (the Celery worker) last proved it was alive."""

    name = models.CharField(max_length=50, unique=True)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.seen_at:%Y-%m-%d %H:%M:%S}"
