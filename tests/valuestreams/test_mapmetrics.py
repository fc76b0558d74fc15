"""Map arithmetic (DESIGN.md, "Value stream map") on hand-computed maps."""

from dataclasses import dataclass
from decimal import Decimal

import pytest

from valuestreams.mapmetrics import (
    change_text,
    compare_maps,
    map_metrics,
    metric_change,
    outcome_met,
    outcome_progress,
)


@dataclass
class Step:
    id: int
    name: str
    order: int
    process_time_minutes: Decimal
    lead_time_minutes: Decimal
    percent_complete_accurate: Decimal


def steps(*rows: tuple[str, str, str]) -> list[Step]:
    return [
        Step(i, f"Step {i}", i, Decimal(pt), Decimal(lt), Decimal(ca))
        for i, (pt, lt, ca) in enumerate(rows, start=1)
    ]


HAND_MAP = steps(("10", "60", "90"), ("0", "1440", "100"), ("30", "120", "80"), ("5", "10", "100"))


def test_hand_computed_map():
    m = map_metrics(HAND_MAP)
    assert m.total_lead_time_minutes == Decimal(1630)
    assert m.total_process_time_minutes == Decimal(45)
    assert m.total_wait_minutes == Decimal(1585)
    # 45 / 1630 x 100 = 2.76073619...
    assert m.activity_ratio is not None
    assert abs(m.activity_ratio - Decimal("2.760736196319018404907975460")) < Decimal("1e-20")
    # 0.9 x 1 x 0.8 x 1 x 100 = 72
    assert m.rolled_percent_complete_accurate == Decimal(72)
    assert m.bottleneck is not None and m.bottleneck.id == 2
    assert [s.wait_minutes for s in m.steps] == [Decimal(50), Decimal(1440), Decimal(90), 5]
    assert [s.is_bottleneck for s in m.steps] == [False, True, False, False]


def test_steps_are_taken_in_their_order():
    shuffled = [HAND_MAP[2], HAND_MAP[0], HAND_MAP[3], HAND_MAP[1]]
    m = map_metrics(shuffled)
    assert [s.order for s in m.steps] == [1, 2, 3, 4]
    assert m.bottleneck is not None and m.bottleneck.id == 2


def test_a_tie_goes_to_the_earliest_step():
    m = map_metrics(steps(("5", "65", "100"), ("0", "60", "100"), ("10", "70", "100")))
    # waits 60, 60, 60: the first
    assert m.bottleneck is not None and m.bottleneck.id == 1
    m = map_metrics(steps(("1", "2", "100"), ("10", "100", "100"), ("0", "90", "100")))
    # waits 1, 90, 90: the earlier of the two
    assert m.bottleneck is not None and m.bottleneck.id == 2


def test_fractions_of_minutes():
    m = map_metrics(steps(("0.5", "2.5", "99.5")))
    assert m.total_wait_minutes == Decimal("2.0")
    assert m.activity_ratio == Decimal(20)
    assert m.rolled_percent_complete_accurate == Decimal("99.5")


def test_a_map_without_steps_has_no_ratios():
    m = map_metrics([])
    assert m.total_lead_time_minutes == 0
    assert m.total_process_time_minutes == 0
    assert m.total_wait_minutes == 0
    assert m.activity_ratio is None
    assert m.rolled_percent_complete_accurate is None
    assert m.bottleneck is None
    assert m.steps == ()


def test_compare_changes_times_in_percent_and_ratios_in_points():
    before = map_metrics(steps(("60", "1000", "50")))  # ratio 6 %, rolled 50 %
    after = map_metrics(steps(("87", "580", "80")))  # ratio 15 %, rolled 80 %
    changes = {c.metric: c for c in compare_maps(before, after)}
    assert changes["total_lead_time_minutes"].change == Decimal(-42)
    assert change_text(changes["total_lead_time_minutes"]) == "\u221242 %"
    assert changes["activity_ratio"].change == Decimal(9)
    assert change_text(changes["activity_ratio"]) == "+9 points"
    assert change_text(changes["rolled_percent_complete_accurate"]) == "+30 points"
    assert changes["total_process_time_minutes"].change == Decimal(45)
    assert change_text(changes["total_process_time_minutes"]) == "+45 %"


def test_change_text_edge_cases():
    assert change_text(metric_change("total_lead_time_minutes", Decimal(0), Decimal(5))) == "—"
    assert change_text(metric_change("activity_ratio", None, Decimal(5))) == "—"
    assert change_text(metric_change("total_wait_minutes", Decimal(10), Decimal(10))) == "no change"
    assert change_text(metric_change("activity_ratio", Decimal(10), Decimal(11))) == "+1 point"
    assert change_text(metric_change("activity_ratio", Decimal(10), Decimal("8.75"))) == (
        "\u22121.3 points"
    )


@pytest.mark.parametrize(
    ("comparator", "target", "value", "met"),
    [
        ("below", "14400", "14399", True),
        ("below", "14400", "14400", False),
        ("above", "10", "10.5", True),
        ("above", "10", "10", False),
        ("above", "10", None, None),
    ],
)
def test_outcome_met(comparator, target, value, met):
    assert outcome_met(comparator, Decimal(target), Decimal(value) if value else None) is met


def test_outcome_progress():
    # lead time from 20000 toward 10000: at 15000 half way
    assert outcome_progress(Decimal(10000), Decimal(20000), Decimal(15000)) == Decimal(50)
    # past the target: 100; the wrong way: 0
    assert outcome_progress(Decimal(10000), Decimal(20000), Decimal(9000)) == Decimal(100)
    assert outcome_progress(Decimal(10000), Decimal(20000), Decimal(25000)) == Decimal(0)
    assert outcome_progress(Decimal(10), Decimal(10), Decimal(12)) is None
    assert outcome_progress(Decimal(10), None, Decimal(12)) is None
