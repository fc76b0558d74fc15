"""The demo maps (valuestreams.demo_maps): the current-state steps name the statuses of the demo
work items, so the map page's Measured panel has figures for the demo organisation."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from tests.conftest import ensure_roles
from valuestreams.demo_maps import MAPS, seed_maps
from valuestreams.demo_work import SOURCE
from valuestreams.models import MapStep, StatusChange, ValueStreamMap

HTMX = {"HX-Request": "true"}


@pytest.fixture
def demo(db):
    ensure_roles()
    call_command("seed_demo", force=True, stdout=io.StringIO())


def current_maps():
    return list(
        ValueStreamMap.objects.filter(state=ValueStreamMap.State.CURRENT)
        .select_related("value_stream")
        .prefetch_related("steps")
        .order_by("pk")
    )


def test_current_steps_name_the_demo_statuses_and_the_panel_has_figures(demo, client):
    used = set(
        StatusChange.objects.filter(item__source__slug=SOURCE).values_list("to_status", flat=True)
    )
    maps = current_maps()
    assert len(maps) == sum(1 for m in MAPS if m.state == "current") == 4
    for vsm in maps:
        steps = list(vsm.steps.all())
        assert len(steps) == 5
        for step in steps:
            assert step.statuses, step
            assert set(step.statuses) <= used, step
            assert "Done" not in step.statuses  # time after completion is no step's
    future = MapStep.objects.filter(map__state=ValueStreamMap.State.FUTURE)
    assert future.exists()
    assert not future.exclude(statuses=[]).exists()  # future maps are not measured

    # The Measured panel (default window: the last 90 days) has figures for every step.
    client.force_login(get_user_model().objects.get(username="exec"))
    for vsm in maps:
        url = reverse("valuestreams:map_measured", args=[vsm.value_stream.slug, vsm.pk])
        html = client.get(url, headers=HTMX).content.decode()
        assert 'data-measured="none"' not in html, vsm
        assert html.count('data-measured="pt"') == 5, vsm
        assert html.count('data-measured="wait"') == 5, vsm
        assert '<span data-measured="lead-time">—</span>' not in html, vsm
        assert '<span data-measured="activity-ratio">—</span>' not in html, vsm


def test_reseeding_a_demo_from_before_the_statuses_adds_them_once(demo):
    pm = get_user_model().objects.get(username="pm")
    MapStep.objects.update(statuses=[])

    stats = seed_maps(actor=pm)

    assert stats.updated["map steps"] == 20
    assert not stats.created
    assert not MapStep.objects.filter(map__state="current", statuses=[]).exists()
    again = seed_maps(actor=pm)
    assert not again.updated and not again.created
    assert again.unchanged["map steps"] == MapStep.objects.count()
