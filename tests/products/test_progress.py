"""Key-result progress, expected progress and status on hand-computed cases (DESIGN.md, Outcomes)."""

import datetime
from decimal import Decimal

import pytest

from products import progress as p

D = Decimal
START = datetime.date(2026, 1, 1)
TARGET = datetime.date(2026, 12, 27)  # 360 days after START


def standing(baseline, target, latest, latest_date):
    return p.standing(
        baseline=D(baseline),
        target=D(target),
        start_date=START,
        target_date=TARGET,
        latest=None if latest is None else D(latest),
        latest_date=latest_date,
    )


def day(n: int) -> datetime.date:
    return START + datetime.timedelta(days=n)


def test_no_measurement_is_no_data():
    assert standing(0, 100, None, None) == p.Standing(None, None, "no_data")


@pytest.mark.parametrize(
    ("baseline", "target", "latest", "expected"),
    [
        (0, 100, 40, D(40)),  # increase
        (20, 70, 45, D(50)),  # increase from a non-zero baseline
        (100, 60, 90, D(25)),  # decrease: cost from 100 down to 60, now 90
        (100, 60, 120, D(0)),  # decrease gone the wrong way: clamped to 0
        (0, 100, 130, D(100)),  # beyond target: clamped to 100
        (0, 100, -5, D(0)),
        (10, 40, 20, D(100) / 3),  # a third, not rounded
    ],
)
def test_progress(baseline, target, latest, expected):
    assert p.progress(baseline=D(baseline), target=D(target), latest=D(latest)) == expected


@pytest.mark.parametrize(
    ("latest_day", "expected"),
    [(-10, D(0)), (0, D(0)), (90, D(25)), (180, D(50)), (360, D(100)), (400, D(100))],
)
def test_expected_progress_is_clamped_before_start_and_after_target(latest_day, expected):
    assert (
        p.expected_progress(start_date=START, target_date=TARGET, latest_date=day(latest_day))
        == expected
    )


@pytest.mark.parametrize(
    ("latest", "status"),
    [
        (50, "on_track"),  # progress 50 at expected 50
        (40, "on_track"),  # exactly expected - 10: still on track
        ("39.99", "at_risk"),  # just below
        (25, "at_risk"),  # exactly expected - 25: at risk
        ("24.99", "off_track"),
        (0, "off_track"),
    ],
)
def test_status_thresholds_at_half_time(latest, status):
    result = standing(0, 100, latest, day(180))
    assert result.expected_progress == D(50)
    assert result.status == status


def test_decrease_direction_status():
    # Time to market from 30 days to 10 days; at a quarter of the time it is at 25 days.
    result = standing(30, 10, 25, day(90))
    assert result.progress == D(25)
    assert result.expected_progress == D(25)
    assert result.status == "on_track"
    # Three quarters of the way through the time, still at 25 days: 25 vs 75 expected.
    assert standing(30, 10, 25, day(270)).status == "off_track"


def test_before_the_start_date_everything_is_on_track():
    # A baseline measurement taken before the start: expected is 0, so any progress is on track.
    result = standing(0, 100, 0, day(-30))
    assert (result.progress, result.expected_progress, result.status) == (D(0), D(0), "on_track")


def test_past_the_target_date_expected_is_full():
    result = standing(0, 100, 80, day(500))
    assert (result.expected_progress, result.status) == (D(100), "at_risk")
    assert standing(0, 100, 90, day(500)).status == "on_track"
    assert standing(0, 100, 74, day(500)).status == "off_track"
