"""The demo lights at least one signal of each pitfall, on any day of the demo year, and records
today's values (the start of the trend)."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from portfolio.models import PitfallRecord
from portfolio.pitfalls import PITFALLS, early_warnings, pitfall_signals
from products.models import Team
from tests.conftest import ensure_roles

pytestmark = pytest.mark.django_db


def test_the_demo_lights_every_pitfall_and_records_the_day():
    ensure_roles()
    call_command("seed_demo", force=True, stdout=io.StringIO())
    today = timezone.localdate()
    year = today.year
    for day in (today, datetime.date(year, 1, 2), datetime.date(year, 12, 31)):
        signals = pitfall_signals(today=day)
        lit = {s.pitfall for s in signals if s.firing}
        assert lit == set(PITFALLS) - {"warning"}, (day, [s.key for s in signals if s.firing])
    firing = {s.key for s in pitfall_signals(today=today) if s.firing}
    assert {"project.end_dates", "funding.unchanged_allocations", "pm.no_owner"} <= firing
    assert Team.objects.get(slug="data-platform").planned_end == datetime.date(year, 12, 31)
    assert any(w.firing for w in early_warnings(today=today))
    recorded = dict(PitfallRecord.objects.filter(day=today).values_list("key", "value"))
    assert recorded["pm.no_owner"] == 1
    assert recorded["project.end_dates"] == 1
