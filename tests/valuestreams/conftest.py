"""Fixtures shared by the valuestreams tests."""

import sys
from types import SimpleNamespace

import pytest


@pytest.fixture
def queued(monkeypatch):
    """Stand in for the flow computation's Celery task (the outside world here): record what
    ``valuestreams.ingest.notify_ingested`` queues."""
    calls: list[dict] = []
    task = SimpleNamespace(delay=lambda **kwargs: calls.append(kwargs))
    monkeypatch.setitem(
        sys.modules, "valuestreams.tasks", SimpleNamespace(recompute_flow_task=task)
    )
    return calls
