"""Celery tasks of the valuestreams app: flow-metric recomputation (``valuestreams.flow``).

Both tasks are idempotent (a scope's snapshots are recomputed and swapped in one transaction), so
a retry or a redelivery after a lost worker is harmless.
"""

import datetime as dt
from typing import Any

from celery import shared_task
from django.db import DatabaseError

from valuestreams.flow import flow_recompute


def _progress(task: Any):
    """Report ``{done, total}`` scopes as the task's PROGRESS state (only when run by a worker)."""
    if not task.request.id or task.request.is_eager:
        return None

    def report(done: int, total: int) -> None:
        task.update_state(state="PROGRESS", meta={"done": done, "total": total})

    return report


@shared_task(
    bind=True,
    name="valuestreams.tasks.recompute_flow_task",
    autoretry_for=(DatabaseError,),
    retry_backoff=5,
    max_retries=3,
    soft_time_limit=10 * 60,
    time_limit=12 * 60,
    ignore_result=False,
)
def recompute_flow_task(
    self, product_ids: list[int] | None = None, since: str | None = None
) -> dict[str, int]:
    """Recompute the flow snapshots of these products and of the value streams they serve, from
    the window holding ``since`` (an ISO datetime; ``None``: every window). Queued after an
    ingest or a mapping change."""
    since_at = dt.datetime.fromisoformat(since) if since else None
    if since_at is not None and since_at.tzinfo is None:
        since_at = since_at.replace(tzinfo=dt.UTC)
    return flow_recompute(
        product_ids=product_ids, since=since_at, progress=_progress(self)
    ).as_dict()


@shared_task(
    bind=True,
    name="valuestreams.tasks.recompute_all_flow_task",
    autoretry_for=(DatabaseError,),
    retry_backoff=60,
    max_retries=2,
    soft_time_limit=25 * 60,
    time_limit=30 * 60,
    ignore_result=False,
)
def recompute_all_flow_task(self, rebuild: bool = False) -> dict[str, int]:
    """Recompute every product's and value stream's flow snapshots from the per-item flow facts
    (beat, nightly); with ``rebuild``, derive every item's facts again from the whole status
    history first (beat, weekly: what ingests keep current is checked against the source)."""
    return flow_recompute(rebuild=rebuild, progress=_progress(self)).as_dict()
