"""The map drawn as SVG (valuestreams.mapsvg): everything it draws lies inside its viewBox, and a
five-step map fits a card on a page 1280 px wide, summary box included."""

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from decimal import Decimal

import pytest

from valuestreams.mapmetrics import map_metrics
from valuestreams.mapsvg import map_svg

SVG = "{http://www.w3.org/2000/svg}"
# What a card's content box holds on a page 1280 px wide (static/css/app.css): 1280 less the
# scroll bar (15), the page's gutters (2 x 24), the card's padding (2 x 20) and border (2 x 1).
CARD_AT_1280 = 1280 - 15 - 2 * 24 - 2 * 20 - 2
# A generous width of a character of the 12 px labels (the system font averages about 6.5 px).
CHAR_W = 7.5


@dataclass
class Step:
    id: int
    name: str
    order: int
    process_time_minutes: Decimal
    lead_time_minutes: Decimal
    percent_complete_accurate: Decimal


def steps(n: int) -> list[Step]:
    return [
        Step(
            i,
            f"A long step name number {i}",
            i,
            Decimal("1234.5") * i,
            Decimal("98765.25") * i,
            Decimal("99.99"),
        )
        for i in range(1, n + 1)
    ]


def drawn(n: int) -> ET.Element:
    return ET.fromstring(str(map_svg(map_metrics(steps(n)), title="Map", svg_id="m")))


def view_box(svg: ET.Element) -> tuple[float, float]:
    x0, y0, width, height = (float(v) for v in svg.get("viewBox", "").split())
    assert (x0, y0) == (0, 0)
    assert (float(svg.get("width", 0)), float(svg.get("height", 0))) == (width, height)
    return width, height


@pytest.mark.parametrize("n", [1, 2, 5, 8])
def test_summary_box_and_its_text_lie_within_the_view_box(n):
    svg = drawn(n)
    width, height = view_box(svg)
    [box] = [r for r in svg.iter(f"{SVG}rect") if r.get("class") == "vsm-summary"]
    x, y = float(box.get("x", -1)), float(box.get("y", -1))
    w, h = float(box.get("width", 0)), float(box.get("height", 0))
    assert x >= 0 and y >= 0
    assert x + w <= width and y + h <= height
    totals = [t for t in svg.iter(f"{SVG}text") if t.get("class") == "vsm-total"]
    assert len(totals) == 4
    for text in totals:
        left, baseline = float(text.get("x", -1)), float(text.get("y", -1))
        assert x < left and left + len(text.text or "") * CHAR_W <= x + w, text.text
        assert y < baseline <= y + h


@pytest.mark.parametrize("n", [1, 5, 8])
def test_every_box_and_ladder_lies_within_the_view_box(n):
    svg = drawn(n)
    width, height = view_box(svg)
    for rect in svg.iter(f"{SVG}rect"):
        assert float(rect.get("x", -1)) + float(rect.get("width", 0)) <= width
        assert float(rect.get("y", -1)) + float(rect.get("height", 0)) <= height
    for line in svg.iter(f"{SVG}polyline"):
        for point in (line.get("points") or "").split():
            px, py = (float(v) for v in point.split(","))
            assert 0 <= px <= width and 0 <= py <= height


def test_a_five_step_map_fits_a_card_at_1280_px():
    width, _ = view_box(drawn(5))
    assert width <= CARD_AT_1280


def test_a_map_without_steps_says_so_and_has_no_summary():
    svg = ET.fromstring(str(map_svg(map_metrics([]), title="Empty", svg_id="e")))
    view_box(svg)
    assert not [r for r in svg.iter(f"{SVG}rect") if r.get("class") == "vsm-summary"]
    assert [t.text for t in svg.iter(f"{SVG}text")] == ["No steps yet."]
