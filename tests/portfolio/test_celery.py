"""The Celery app: its configuration, the healthcheck task, and a real worker on Redis."""

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from kombu.transport.redis import Channel as RedisChannel

from portfolio.celery import app
from portfolio.models import Heartbeat
from portfolio.tasks import healthcheck_task

HEALTHCHECK = "portfolio.tasks.healthcheck_task"


def _visibility_timeout() -> float:
    """Seconds after which Redis hands an unacknowledged task to another worker."""
    options = app.conf.broker_transport_options or {}
    return options.get("visibility_timeout", RedisChannel.visibility_timeout)


def _our_tasks():
    app.loader.import_default_modules()
    return {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}


@pytest.mark.django_db
def test_healthcheck_task_writes_the_heartbeat():
    assert not Heartbeat.objects.filter(name="worker").exists()

    result = healthcheck_task()

    beat = Heartbeat.objects.get(name="worker")
    assert result["ok"] is True
    assert result["seen_at"] == beat.seen_at.isoformat()


@pytest.mark.django_db
def test_healthcheck_task_updates_the_one_heartbeat_row():
    healthcheck_task()
    first = Heartbeat.objects.get(name="worker").seen_at

    healthcheck_task()

    assert Heartbeat.objects.filter(name="worker").count() == 1
    assert Heartbeat.objects.get(name="worker").seen_at >= first


def test_only_json_is_sent_or_accepted():
    assert app.conf.task_serializer == "json"
    assert app.conf.result_serializer == "json"
    assert list(app.conf.accept_content) == ["json"]


def test_tasks_are_acknowledged_late_and_requeued_if_the_worker_dies():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1


def test_time_limits_stay_below_the_visibility_timeout():
    visibility = _visibility_timeout()
    assert app.conf.task_soft_time_limit < app.conf.task_time_limit < visibility
    tasks = _our_tasks()
    assert HEALTHCHECK in tasks
    for name, task in tasks.items():
        hard = task.time_limit or app.conf.task_time_limit
        soft = task.soft_time_limit or app.conf.task_soft_time_limit
        assert hard, f"{name} has no time limit"
        assert soft < hard < visibility, (
            f"{name}: soft {soft}s, hard {hard}s, visibility {visibility}s"
        )


def test_every_beat_entry_names_a_registered_task():
    tasks = _our_tasks()
    schedule = app.conf.beat_schedule
    assert schedule["healthcheck"]["task"] == HEALTHCHECK
    for entry, spec in schedule.items():
        assert spec["task"] in tasks, f"beat entry {entry!r} names unknown task {spec['task']}"


def test_the_app_is_configured_from_django_settings():
    assert app.main == "portfolio"
    assert app.conf.broker_url == settings.CELERY_BROKER_URL
    assert app.conf.result_backend == settings.CELERY_RESULT_BACKEND
    # The shared task resolves to this app, not to Celery's unconfigured default app.
    assert app.tasks[HEALTHCHECK].app is app


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_healthcheck_through_redis():
    """Broker and result backend are the Redis of CELERY_BROKER_URL; the worker runs in a thread."""
    assert app.conf.broker_url.startswith(("redis://", "rediss://"))
    assert app.conf.result_backend == app.conf.broker_url
    task = app.tasks[HEALTHCHECK]
    app.control.purge()  # messages left by an earlier run would be run against this database

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20):
        result = task.delay().get(timeout=20)

    assert result["ok"] is True
    beat = Heartbeat.objects.get(name="worker")
    assert beat.seen_at.isoformat() == result["seen_at"]
