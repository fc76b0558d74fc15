"""The Jira sample (../shared/data/jira-sample/, Apache-2.0) imported end to end into a product.

CI clones the repository with a copy of ``shared/`` beside it, as here; without the data the
test fails and says where it looked, rather than passing silently.
"""

import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from tests.products.factories import ProductFactory
from tests.valuestreams.factories import ValueStreamFactory
from valuestreams import mappings
from valuestreams.models import StatusChange, TypeMapping, WorkItem

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
