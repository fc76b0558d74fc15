"""Flow metrics on hand-computed histories (DESIGN.md, "Flow metrics"; valuestreams.flow).

Dates are in January 2024: Monday 1 January starts week 1, the 8th week 2, the 15th week 3;
``NOW`` falls in week 3, so weeks 1 to 3 and the month of January are computed.
"""

import datetime as dt
from decimal import Decimal

import pytest

from tests.products.factories import ProductFactory
from tests.valuestreams.factories import ValueStreamFactory
from valuestreams.flow import flow_recompute
from valuestreams.models import (
    FlowSnapshot,
    StatusChange,
    StatusMapping,
    TypeMapping,
    WorkItem,
    WorkSource,
)

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2024, 1, 20, 12, tzinfo=dt.UTC)
W1, W2, W3 = dt.date(2024, 1, 1), dt.date(2024, 1, 8), dt.date(2024, 1, 15)
JAN = dt.date(2024, 1, 1)


def at(day: int, hour: int = 0, minute: int = 0, month: int = 1) -> dt.datetime:
    return dt.datetime(2024, month, day, hour, minute, tzinfo=dt.UTC)


def history(product, key: str, *changes, type: str = "feature", tracker_type: str = ""):
    """A work item of ``product`` with its status changes, given as (status, instant) pairs."""
    source, _ = WorkSource.objects.get_or_create(slug="tests", defaults={"name": "Tests"})
    item = WorkItem.objects.create(
        source=source,
        key=key,
        product=product,
        type=type,
        tracker_type=tracker_type,
        title=key,
        created_at=changes[0][1] if changes else at(1),
    )
    for status, instant in changes:
        StatusChange(item=item, to_status=status, at=instant).save()
    return item


def snapshot(*, product=None, value_stream=None, window="week", start=W1, now=NOW):
    flow_recompute(now=now, rebuild=True)
    return FlowSnapshot.objects.get(
        product=product, value_stream=value_stream, window=window, window_start=start
    )


def days(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.001"))


def test_flow_times_one_to_four_days_interpolate_like_percentile_cont():
    product = ProductFactory()
    for n in (1, 2, 3, 4):
        history(product, f"P-{n}", ("In Progress", at(1)), ("Done", at(1 + n)))

    week = snapshot(product=product)

    assert week.velocity == 4
    assert week.flow_time_median_days == days(2.5)
    assert week.flow_time_p85_days == days(3.55)
    assert week.flow_efficiency == Decimal("100.00")
    assert week.distribution == {"feature": 100.0}


def test_ties_in_flow_times():
    product = ProductFactory()
    for n, length in enumerate((2, 2, 2, 5)):
        history(product, f"P-{n}", ("In Progress", at(1)), ("Done", at(1 + length)))

    week = snapshot(product=product)

    # Sorted 2, 2, 2, 5: rank 1.5 -> 2; rank 2.55 -> 2 + 0.55 * 3 = 3.65.
    assert week.flow_time_median_days == days(2)
    assert week.flow_time_p85_days == days(3.65)


def test_a_single_completed_item_is_its_own_median_and_p85():
    product = ProductFactory()
    history(product, "P-1", ("In Progress", at(2, 6)), ("Done", at(3, 18)))

    week = snapshot(product=product)

    assert week.velocity == 1
    assert week.flow_time_median_days == days(1.5)
    assert week.flow_time_p85_days == days(1.5)


def test_an_item_reopened_completes_at_its_last_done():
    product = ProductFactory()
    history(
        product,
        "R-1",
        ("In Progress", at(1)),
        ("Done", at(2)),
        ("In Progress", at(3)),
        ("Done", at(9)),
    )

    first, second = snapshot(product=product), snapshot(product=product, start=W2)

    assert first.velocity == 0
    assert first.flow_load_end == 1  # reopened on the 3rd, in progress at the end of week 1
    assert second.velocity == 1
    assert second.flow_time_median_days == days(8)
    # Active 1 day (1st-2nd) + 6 days (3rd-9th) of an 8-day flow time; the day in Done is not.
    assert second.flow_efficiency == Decimal("87.50")


def test_an_item_reopened_and_not_done_again_is_not_complete():
    product = ProductFactory()
    history(product, "R-2", ("In Progress", at(1)), ("Done", at(2)), ("In Progress", at(3)))

    weeks = [snapshot(product=product, start=start) for start in (W1, W2, W3)]

    assert [w.velocity for w in weeks] == [0, 0, 0]
    assert [w.flow_load_end for w in weeks] == [1, 1, 1]


def test_a_move_between_done_statuses_does_not_complete_again():
    product = ProductFactory()
    history(
        product,
        "D-1",
        ("In Progress", at(1)),
        ("Resolved", at(3)),
        ("Closed", at(10)),
    )

    first, second = snapshot(product=product), snapshot(product=product, start=W2)

    assert (first.velocity, second.velocity) == (1, 0)
    assert first.flow_time_median_days == days(2)


def test_an_item_never_active_counts_in_no_metric():
    product = ProductFactory()
    history(product, "N-1", ("To Do", at(1)), ("Done", at(2)))
    history(product, "N-2", ("Backlog", at(1)))

    week = snapshot(product=product)

    assert week.velocity == 0
    assert week.flow_load_end == 0
    assert week.flow_load_avg == Decimal("0.00")
    assert week.distribution == {}


def test_an_item_that_starts_in_one_window_and_completes_in_another():
    product = ProductFactory()
    history(product, "S-1", ("To Do", at(1)), ("In Progress", at(5)), ("Done", at(10)))

    first, second = snapshot(product=product), snapshot(product=product, start=W2)

    assert first.velocity == 0
    assert first.flow_load_end == 1
    # Week 1 day ends: midnights of the 2nd..8th; started on the 5th: the 6th, 7th, 8th.
    assert first.flow_load_avg == Decimal("0.43")
    assert second.velocity == 1
    assert second.flow_time_median_days == days(5)
    assert second.flow_load_end == 0
    # Week 2 day ends: the 9th and the 10th (done at 00:00 on the 10th, not "before" it).
    assert second.flow_load_avg == Decimal("0.29")


def test_an_empty_window_has_no_flow_times():
    product = ProductFactory()
    history(product, "E-1", ("In Progress", at(1)), ("Done", at(2)))

    empty = snapshot(product=product, start=W2)

    assert empty.velocity == 0
    assert empty.flow_time_median_days is None
    assert empty.flow_time_p85_days is None
    assert empty.flow_efficiency is None
    assert empty.flow_load_end == 0
    assert empty.distribution == {}
    assert FlowSnapshot.objects.filter(product=product, window="week").count() == 3


def test_status_names_match_regardless_of_case_and_spaces():
    product = ProductFactory()
    history(product, "C-1", ("  in   PROGRESS ", at(1)), ("DONE", at(3)))

    week = snapshot(product=product)

    assert week.velocity == 1
    assert week.flow_time_median_days == days(2)
    assert week.flow_efficiency == Decimal("100.00")


def test_flow_efficiency_counts_waiting_time_as_not_active():
    product = ProductFactory()
    history(
        product,
        "W-1",
        ("In Progress", at(1)),
        ("Blocked", at(2)),
        ("In Progress", at(4)),
        ("Done", at(5)),
    )
    history(product, "W-2", ("Ready for QA", at(1)), ("Testing", at(3)), ("Done", at(5)))

    week = snapshot(product=product)

    # W-1: 2 active days of 4; W-2 starts waiting on the 1st: 2 active days of 4.
    assert week.velocity == 2
    assert week.flow_efficiency == Decimal("50.00")
    assert week.flow_time_median_days == days(4)


def test_flow_load_at_the_window_end_and_the_daily_average():
    product = ProductFactory()
    # In progress at the midnights of the 2nd, 3rd and 4th; done at noon on the 4th.
    history(product, "L-1", ("In Progress", at(1, 12)), ("Done", at(4, 12)))
    # Started exactly at midnight on the 2nd: not in progress at that instant, from the 3rd on.
    history(product, "L-2", ("In Progress", at(2)))
    # Started during the last day of week 1: in progress at its end.
    history(product, "L-3", ("In Progress", at(7, 23, 59)))

    week = snapshot(product=product)

    assert week.flow_load_end == 2
    # Day ends 2nd..8th: L-1 1,1,1,0,0,0,0; L-2 0,1,1,1,1,1,1; L-3 0,0,0,0,0,0,1 -> 10 / 7.
    assert week.flow_load_avg == Decimal("1.43")


def test_a_started_item_moved_back_to_the_backlog_is_still_in_progress():
    product = ProductFactory()
    history(product, "B-1", ("In Progress", at(1)), ("To Do", at(2)))

    assert snapshot(product=product).flow_load_end == 1


def test_distribution_counts_untyped_items_under_unmapped():
    product = ProductFactory()
    history(product, "T-1", ("In Progress", at(1)), ("Done", at(2)))
    history(product, "T-2", ("In Progress", at(1)), ("Done", at(2)), type="defect")
    history(product, "T-3", ("In Progress", at(1)), ("Done", at(2)), type="defect")
    history(product, "T-4", ("In Progress", at(1)), ("Done", at(2)), type="", tracker_type="Epic")

    week = snapshot(product=product)

    assert week.distribution == {"defect": 50.0, "feature": 25.0, "unmapped": 25.0}


def test_unmapped_statuses_neither_start_nor_complete_an_item():
    product = ProductFactory()
    # An unmapped status between active and done: in the flow time, not active time.
    history(product, "U-1", ("In Progress", at(1)), ("Code Review Queue", at(2)), ("Done", at(3)))
    # Only an unmapped status before done: never started.
    history(product, "U-2", ("Triage", at(1)), ("Done", at(2)))
    # Latest status unmapped: not complete, and in progress (started, not in done).
    history(product, "U-3", ("In Progress", at(1)), ("Done", at(2)), ("Archived", at(3)))

    week = snapshot(product=product)

    assert week.velocity == 1
    assert week.flow_time_median_days == days(2)
    assert week.flow_efficiency == Decimal("50.00")
    assert week.flow_load_end == 1


def test_monthly_windows_cover_calendar_months():
    product = ProductFactory()
    history(product, "M-1", ("In Progress", at(25, month=1)), ("Done", at(31, 23, 59)))
    history(product, "M-2", ("In Progress", at(30)), ("Done", at(1, month=2)))
    now = dt.datetime(2024, 2, 10, tzinfo=dt.UTC)

    january = snapshot(product=product, window="month", start=JAN, now=now)
    february = FlowSnapshot.objects.get(
        product=product, window="month", window_start=dt.date(2024, 2, 1)
    )

    assert january.velocity == 1
    assert january.flow_load_end == 1  # M-2 at midnight on 1 February
    assert february.velocity == 1
    assert february.flow_time_median_days == days(2)
    assert FlowSnapshot.objects.filter(product=product, window="week").first().window_start == (
        dt.date(2024, 1, 22)
    )


def test_a_value_stream_uses_its_own_mapping_and_a_product_its_first_value_stream():
    product = ProductFactory()
    first = ValueStreamFactory(products=[product])
    second = ValueStreamFactory(products=[product])
    StatusMapping.objects.create(value_stream=second, status_name="Peer review", category="active")
    TypeMapping.objects.create(value_stream=second, tracker_type="Story", type="debt")
    history(
        product,
        "V-1",
        ("In Progress", at(1)),
        ("Peer Review", at(2)),
        ("Done", at(3)),
        tracker_type="Story",
    )

    by_product = snapshot(product=product)
    by_first = FlowSnapshot.objects.get(value_stream=first, window="week", window_start=W1)
    by_second = FlowSnapshot.objects.get(value_stream=second, window="week", window_start=W1)

    assert by_product.flow_efficiency == by_first.flow_efficiency == Decimal("50.00")
    assert by_second.flow_efficiency == Decimal("100.00")
    assert by_product.distribution == by_first.distribution == {"feature": 100.0}
    assert by_second.distribution == {"debt": 100.0}


def test_a_value_stream_adds_up_its_products_items():
    one, two = ProductFactory(), ProductFactory()
    stream = ValueStreamFactory(products=[one, two])
    history(one, "A-1", ("In Progress", at(1)), ("Done", at(2)))
    history(two, "B-1", ("In Progress", at(1)), ("Done", at(4)))
    history(two, "B-2", ("In Progress", at(3)))

    week = snapshot(value_stream=stream)

    assert week.velocity == 2
    assert week.flow_time_median_days == days(2)
    assert week.flow_load_end == 1
