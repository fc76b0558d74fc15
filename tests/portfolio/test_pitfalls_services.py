"""Pitfall thresholds (who may set them, what they accept) and the daily record of every
signal's value (the trend), written by ``record_pitfalls_task``."""

import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError

from portfolio.models import PitfallRecord, PitfallThreshold
from portfolio.pitfalls import SPEC_BY_KEY, pitfall_signals
from portfolio.services_pitfalls import pitfall_records_write, pitfall_threshold_set
from portfolio.tasks import record_pitfalls_task
from tests.products.factories import ProductFactory

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 6, 15)


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("executive", True),
        ("portfolio_manager", True),
        ("product_owner", False),
        ("finance", False),
    ],
)
def test_executives_and_portfolio_managers_tune_thresholds(make_user, role, allowed):
    user = make_user(f"u-{role}", role)
    assert user.has_perm("portfolio.change_pitfallthreshold") is allowed
    assert user.has_perm("portfolio.add_pitfallthreshold") is allowed
    assert user.has_perm("portfolio.view_pitfallthreshold")
    assert user.has_perm("portfolio.view_pitfallrecord")
    assert not user.has_perm("portfolio.change_pitfallrecord")


def test_threshold_set_creates_then_updates_one_row(executive, portfolio_manager):
    row = pitfall_threshold_set(actor=executive, key="pm.no_owner", threshold=3)
    assert (row.threshold, row.updated_by) == (Decimal("3.00"), executive)
    pitfall_threshold_set(actor=portfolio_manager, key="pm.no_owner", threshold="4")
    row = PitfallThreshold.objects.get(key="pm.no_owner")
    assert (row.threshold, row.updated_by) == (Decimal("4.00"), portfolio_manager)
    signal = next(s for s in pitfall_signals(today=DAY) if s.key == "pm.no_owner")
    assert signal.threshold == 4


@pytest.mark.parametrize(
    ("key", "value", "field", "message"),
    [
        ("nope", 1, "key", "Unknown signal"),
        ("pm.no_owner", -1, "threshold", "cannot be negative"),
        ("pm.no_owner", "1.5", "threshold", "whole numbers"),
        ("pm.no_owner", "many", "threshold", "Enter a number"),
        ("pm.feature_factory", "100.5", "threshold", "at most 100"),
    ],
)
def test_threshold_set_refuses_bad_values(executive, key, value, field, message):
    with pytest.raises(ValidationError) as error:
        pitfall_threshold_set(actor=executive, key=key, threshold=value)
    assert message in " ".join(error.value.message_dict[field])
    assert not PitfallThreshold.objects.exists()


def test_percent_threshold_takes_decimals(executive):
    row = pitfall_threshold_set(actor=executive, key="funding.unallocated_budget", threshold="12.5")
    assert row.threshold == Decimal("12.50")


def test_records_write_one_row_per_signal_with_data_and_is_idempotent():
    ProductFactory()  # no owner, no key result
    written = pitfall_records_write(day=DAY)
    rows = dict(PitfallRecord.objects.filter(day=DAY).values_list("key", "value"))
    assert written == len(rows)
    assert rows["pm.no_owner"] == Decimal("1")
    # Signals without enough data (no fiscal period, no roadmap) record nothing.
    assert "funding.unallocated_budget" not in rows
    assert "pm.feature_factory" not in rows
    assert set(rows) <= set(SPEC_BY_KEY)
    ProductFactory()
    assert pitfall_records_write(day=DAY) == written
    assert PitfallRecord.objects.filter(day=DAY).count() == written
    assert PitfallRecord.objects.get(key="pm.no_owner", day=DAY).value == Decimal("2")


def test_record_task_writes_the_day_and_feeds_the_trend():
    ProductFactory()
    assert record_pitfalls_task.apply(args=[DAY.isoformat()]).get() > 0
    assert record_pitfalls_task.apply(args=[DAY.isoformat()]).get() > 0
    assert PitfallRecord.objects.filter(key="pm.no_owner").count() == 1
    signal = next(s for s in pitfall_signals(today=DAY) if s.key == "pm.no_owner")
    assert signal.trend == [(DAY, Decimal("1.00"))]


def test_record_task_is_scheduled_daily_at_three():
    entry = settings.CELERY_BEAT_SCHEDULE["pitfalls-record-daily"]
    assert entry["task"] == "portfolio.tasks.record_pitfalls_task"
    assert entry["schedule"].hour == {3}
    assert entry["schedule"].minute == {0}
