"""Portfolio-level Celery tasks."""

from datetime import date

from celery import shared_task
from django.db import OperationalError, connection
from django.utils import timezone

from portfolio.models import Heartbeat
from portfolio.services_pitfalls import pitfall_records_write


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


@shared_task(
    name="portfolio.tasks.record_pitfalls_task",
    time_limit=600,
    soft_time_limit=540,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
)
def record_pitfalls_task(day: str | None = None) -> int:
    """Record today's value of every pitfall signal and early warning (the trend); beat runs it
    daily at 03:00. Idempotent: a second run the same day replaces the day's values."""
    return pitfall_records_write(day=date.fromisoformat(day) if day else None)
