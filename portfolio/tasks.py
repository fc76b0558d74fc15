"""Portfolio-level Celery tasks."""

from celery import shared_task
from django.db import connection
from django.utils import timezone

from portfolio.models import Heartbeat


@shared_task(
    name="portfolio.tasks.healthcheck_task", time_limit=30, soft_time_limit=20, ignore_result=False
)
def healthcheck_task() -> dict:
    """Prove the worker runs and reaches the database; beat schedules it every minute."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    now = timezone.now()
    Heartbeat.objects.update_or_create(name="worker", defaults={"seen_at": now})
    return {"ok": True, "seen_at": now.isoformat()}
