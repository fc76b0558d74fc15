"""The Jira sample (../shared/data/jira-sample/, Apache-2.0) imported end to end into a product.

CI clones the repository with a copy of ``shared/`` beside it, as here; without the data the
test fails and says where it looked, rather than passing silently.
"""

import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from tests.products.factories import ProductFactory
from tests.valuestreams.factories import ValueStreamFactory
from valuestreams import mappings
from valuestreams.flow import flow_recompute
from valuestreams.models import FlowSnapshot, StatusChange, TypeMapping, WorkItem

SAMPLE = Path(settings.BASE_DIR).parent / "shared" / "data" / "jira-sample"


@pytest.fixture
def sample() -> Path:
    if not (SAMPLE / "items.csv").is_file() or not (SAMPLE / "status_changes.csv").is_file():
        pytest.fail(
            f"The Jira sample is missing: expected items.csv and status_changes.csv in {SAMPLE} "
            "(the shared/ folder beside the repository)."
        )
    return SAMPLE


def run_import(sample: Path, product: str, user: str) -> str:
    out = io.StringIO()
    call_command(
        "import_work_items",
        product=product,
        items=str(sample / "items.csv"),
        changes=str(sample / "status_changes.csv"),
        source="jira",
        user=user,
        stdout=out,
    )
    return out.getvalue()


def test_import_map_and_reimport(sample, portfolio_manager):
    product = ProductFactory(slug="devlake")
    stream = ValueStreamFactory(slug="insight", products=[product])

    output = run_import(sample, "devlake", "pm")

    assert WorkItem.objects.filter(product=product, source__slug="jira").count() == 32
    assert StatusChange.objects.filter(item__product=product).count() == 168
    assert "Items: 32 created, 0 updated, 0 unchanged" in output
    assert "Status changes: 168 created, 0 already stored" in output
    # Titles keep their invisible characters; the TAPD key is kept as given.
    assert WorkItem.objects.get(key="EE-1").title.startswith("\u200b")
    assert WorkItem.objects.get(key="EE-37").title.endswith(" ")
    tapd = WorkItem.objects.get(key="1149308060001017333")
    assert tapd.status_changes.count() == 3
    # story maps by default; the tracker's other types are listed, never guessed.
    assert set(WorkItem.objects.filter(type="feature").values_list("tracker_type", flat=True)) == {
        "story"
    }
    assert WorkItem.objects.filter(type="").count() == 22
    statuses, types = mappings.unmapped_for_product(product)
    assert {(s["status"], s["count"]) for s in statuses} == {("已完成", 30), ("Ready for Dev", 6)}
    assert {(t["tracker_type"], t["count"]) for t in types} == {
        ("子任务", 12),
        ("线上事故", 8),
        ("缺陷", 1),
        ("TEST EXECUTION", 1),
    }
    # "Inbox" is only ever a from_status: no change sets it, so no metric reads it.
    assert "Unmapped status: Inbox" not in output
    assert "Unmapped status: 已完成 (30 changes)" in output
    assert "Unmapped tracker type: 子任务 (12 items)" in output
    assert "Map them on /value-streams/insight/mappings/" in output

    for name, item_type in [
        ("子任务", "feature"),
        ("线上事故", "defect"),
        ("缺陷", "defect"),
        ("TEST EXECUTION", "debt"),
    ]:
        mappings.type_mapping_create(
            actor=portfolio_manager, value_stream=stream, tracker_type=name, type=item_type
        )
    mappings.status_mapping_create(
        actor=portfolio_manager, value_stream=stream, status_name="已完成", category="done"
    )
    mappings.status_mapping_create(
        actor=portfolio_manager, value_stream=None, status_name="Ready for Dev", category="backlog"
    )

    assert WorkItem.objects.filter(type="").count() == 0
    assert dict(
        WorkItem.objects.values_list("tracker_type", "type").distinct().order_by("tracker_type")
    ) == {
        "TEST EXECUTION": "debt",
        "story": "feature",
        "子任务": "feature",
        "线上事故": "defect",
        "缺陷": "defect",
    }
    assert mappings.unmapped_for_product(product) == ([], [])
    assert mappings.unmapped_statuses(value_stream=stream) == []
    assert mappings.unmapped_types(value_stream=stream) == []

    again = run_import(sample, "devlake", "pm")
    assert "Items: 0 created, 0 updated, 32 unchanged" in again
    assert "Status changes: 0 created, 168 already stored" in again
    assert WorkItem.objects.count() == 32
    assert StatusChange.objects.count() == 168
    # The types mapped for the value stream are the stream's own, not the default's.
    assert not TypeMapping.objects.filter(value_stream=None, tracker_type="子任务").exists()


def test_flow_figures_of_the_sample_match_a_hand_computation(sample, portfolio_manager):
    """Flow snapshots of the imported sample, checked against figures worked out by hand from
    status_changes.csv (DESIGN.md, "Flow metrics").

    Mapped as: "Ready for Dev" waiting, "已完成" done; the default mapping gives Open/To Do backlog,
    In Development/In Progress active, Resolved/Closed done. Only 14 items ever enter an active or
    waiting status (start); the rest count in no metric.
    """
    product = ProductFactory(slug="devlake")
    stream = ValueStreamFactory(slug="insight", products=[product])
    run_import(sample, "devlake", "pm")
    for name, item_type in [
        ("子任务", "feature"),
        ("线上事故", "defect"),
        ("缺陷", "defect"),
        ("TEST EXECUTION", "feature"),
    ]:
        mappings.type_mapping_create(
            actor=portfolio_manager, value_stream=stream, tracker_type=name, type=item_type
        )
    for name, category in [("Ready for Dev", "waiting"), ("已完成", "done")]:
        mappings.status_mapping_create(
            actor=portfolio_manager, value_stream=stream, status_name=name, category=category
        )
    assert mappings.unmapped_for_product(product) == ([], [])

    flow_recompute(product_ids=[product.id])
    weeks = {
        snap.window_start.isoformat(): snap
        for snap in FlowSnapshot.objects.filter(product=product, window="week")
    }

    # Item 1149308060001017333: Open 2023-05-31 13:17:24, In Development (active) 13:18:16 =
    # start, Closed (done) 13:19:00 = completion. Flow time 44 s = 44 / 86400 = 0.000509 days
    # -> 0.001; all 44 s active -> efficiency 100 %. It is the only item completed in the week
    # of Monday 2023-05-29.
    week = weeks["2023-05-29"]
    assert week.velocity == 1
    assert week.flow_time_median_days == Decimal("0.001")
    assert week.flow_efficiency == Decimal("100.00")

    # EE-17: To Do -> Open (backlog) 2020-06-12, In Progress (active) 2020-07-22 06:34:22.169 =
    # start, Resolved 07:25:29.223 = completion (Resolved -> Closed -> 已完成 are moves between
    # done statuses, not completions). Flow time 51 min 7.054 s = 3067.054 s = 0.035498 days
    # -> 0.035, all active -> 100 %. Alone in the week of Monday 2020-07-20.
    week = weeks["2020-07-20"]
    assert week.velocity == 1
    assert week.flow_time_median_days == Decimal("0.035")
    assert week.flow_efficiency == Decimal("100.00")

    # Week of Monday 2020-06-22: EE-2, EE-3 and EE-4 complete (Open -> Resolved on 2020-06-23).
    # Each started by Inbox -> Ready for Dev (waiting) on 2020-06-12; none was ever active.
    #   EE-2: 2020-06-23 10:20:59.052 - 2020-06-12 01:45:27.521 = 11 d 08:35:31.531
    #   EE-3: 2020-06-23 10:21:12.046 - 2020-06-12 01:45:29.953 = 11 d 08:35:42.093
    #   EE-4: 2020-06-23 10:21:23.606 - 2020-06-12 01:45:32.430 = 11 d 08:35:51.176
    # median = EE-3 = 11 + 30942.093 / 86400 = 11.358126 -> 11.358 days;
    # p85: rank 0.85 x (3 - 1) = 1.7 -> EE-3 + 0.7 x (EE-4 - EE-3) = 11 d + 30948.451 s
    #   = 11.358200 -> 11.358 days; active time 0 -> efficiency 0 %.
    week = weeks["2020-06-22"]
    assert week.velocity == 3
    assert week.flow_time_median_days == Decimal("11.358")
    assert week.flow_time_p85_days == Decimal("11.358")
    assert week.flow_efficiency == Decimal("0.00")
    # Every started item is complete by then: nothing is in progress at the week's end.
    assert week.flow_load_end == 0

    # June 2020: the 14 started items (EE-1, -2, -3, -4, -6, -17, -19, -23, -25, -26, -27, -31,
    # -36 and 1149308060001017333) less 1149308060001017333 (2023) and EE-17 (July) = 12: the
    # three above and nine in the week of 2020-06-15.
    june = FlowSnapshot.objects.get(product=product, window="month", window_start="2020-06-01")
    assert june.velocity == 12
    assert weeks["2020-06-15"].velocity == 9
