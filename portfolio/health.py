"""GET /healthz: database and broker status for load balancers and people; no sign-in, no secrets."""

import time

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from portfolio.models import Heartbeat


def _database() -> dict:
    started = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # a health check reports any failure instead of raising
        return {"ok": False, "vendor": connection.vendor, "error": exc.__class__.__name__}
    return {
        "ok": True,
        "vendor": connection.vendor,
        "ms": round((time.monotonic() - started) * 1000, 1),
    }


def _broker() -> dict:
    from portfolio.celery import app

    url = settings.CELERY_BROKER_URL
    transport = url.split("://", 1)[0]
    if transport == "filesystem":
        folder = settings.CELERY_BROKER_FOLDER
        return {"ok": folder.is_dir(), "transport": transport}
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        return {"ok": False, "transport": transport, "error": exc.__class__.__name__}
    return {"ok": True, "transport": transport}


def _worker() -> dict:
    beat = Heartbeat.objects.filter(name="worker").first()
    if beat is None:
        return {"last_seen": None}
    return {"last_seen": beat.seen_at.isoformat()}


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    database, broker = _database(), _broker()
    body = {
        "status": "ok" if database["ok"] and broker["ok"] else "degraded",
        "database": database,
        "broker": broker,
    }
    if database["ok"]:
        body["worker"] = _worker()
    return JsonResponse(body, status=200 if database["ok"] else 503)
