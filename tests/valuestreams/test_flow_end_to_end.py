"""Issue 4's "done means": a script pushes a tracker's history through the ingest API with its
token and, moments later, the product's flow figures are there: in the flow-metrics API, on the
flow page and (in a browser) drawn in its charts. A real Celery worker on the Redis broker does
the recomputation that the ingest queues; nothing is computed by the test itself.

The history, by hand: five items start on the Friday before last week's Monday (M - 3 d), are
blocked from M - 2 d to M - 1 d, and are done on Tuesday (M + 1 d) at 00:00, 01:00, ... 04:00; a
sixth starts and is still in progress. Last week (the week of M):
- velocity 5; flow times 4 d + 0..4 h: median 4 d 2 h = 4.08 d, 85th percentile (rank 3.4)
  4 d 3.4 h = 4.14 d;
- efficiency: active 3 d + i h of 4 d + i h each, 370 h of 490 h = 75.5 %;
- distribution: three features and two defects, 60 % and 40 %; load at the end 1 (the sixth).
"""

import datetime as dt
import json
import re
import time
import urllib.request

import pytest
from celery.contrib.testing.worker import start_worker
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from portfolio.celery import app
from tests.conftest import ensure_roles
from tests.products.factories import ProductFactory
from tests.valuestreams.factories import ValueStreamFactory

INGEST = "/api/v1/work-items/ingest/"
TYPES = ("feature", "defect", "feature", "defect", "feature", "risk")


def last_monday() -> dt.datetime:
    """00:00 UTC on the Monday of last week."""
    today = timezone.now().astimezone(dt.UTC).date()
    monday = today - dt.timedelta(days=today.weekday() + 7)
    return dt.datetime.combine(monday, dt.time(), tzinfo=dt.UTC)


def tracker_history(product_slug: str) -> dict:
    """The payload a tracker script sends (module docstring)."""
    m = last_monday()
    items, transitions = [], []
    for i, item_type in enumerate(TYPES):
        key = f"SHOP-{i + 1}"
        created = m - dt.timedelta(days=10)
        items.append(
            {
                "key": key,
                "type": item_type,
                "product": product_slug,
                "title": f"Checkout change {i + 1}",
                "created_at": created.isoformat(),
            }
        )
        steps = [("To Do", created), ("In Progress", m - dt.timedelta(days=3))]
        if i < 5:
            steps += [
                ("Blocked", m - dt.timedelta(days=2)),
                ("In Progress", m - dt.timedelta(days=1)),
                ("Done", m + dt.timedelta(days=1, hours=i)),
            ]
        transitions += [{"key": key, "to_status": s, "at": at.isoformat()} for s, at in steps]
    return {"source": "shop-tracker", "items": items, "transitions": transitions}


@pytest.fixture
def shop(transactional_db, portfolio_manager):
    ensure_roles()  # a transactional test's flush removed what the data migrations wrote
    product = ProductFactory(slug="web-shop", name="Web shop")
    ValueStreamFactory(products=[product])
    app.control.purge()
    return product, Token.objects.create(user=portfolio_manager).key


def wait_for_week(fetch, timeout: float = 60) -> dict:
    """Poll the flow-metrics API (as a script would) until last week's figures are there."""
    week = last_monday().date().isoformat()
    deadline = time.monotonic() + timeout
    while True:
        rows = fetch(f"/api/v1/products/web-shop/flow-metrics/?window=week&from={week}&to={week}")
        found = [row for row in rows if row["window_start"] == week and row["velocity"]]
        if found or time.monotonic() > deadline:
            assert found, f"no figures for the week of {week} after {timeout} s: {rows}"
            return found[0]
        time.sleep(0.5)


def assert_last_week(row: dict) -> None:
    assert row["velocity"] == 5
    assert float(row["flow_time_median_days"]) == pytest.approx(4.083, abs=0.01)
    assert float(row["flow_time_p85_days"]) == pytest.approx(4.142, abs=0.01)
    assert float(row["flow_efficiency"]) == pytest.approx(75.51, abs=0.1)
    assert row["flow_load_end"] == 1
    shares = {k: float(v) for k, v in row["distribution"].items() if float(v)}
    assert shares == {"feature": 60.0, "defect": 40.0}


def results(body):
    return body["results"] if isinstance(body, dict) and "results" in body else body


@pytest.mark.redis
def test_a_script_pushes_a_history_and_the_flow_figures_follow(shop, client, executive):
    product, token = shop
    script = APIClient()
    script.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20):
        response = script.post(INGEST, tracker_history(product.slug), format="json")
        assert response.status_code == 200, response.content
        assert response.json() == {
            "items": {"created": 6, "updated": 0, "unchanged": 0},
            "transitions": {"created": 27, "duplicates": 0},
        }
        row = wait_for_week(lambda url: results(script.get(url).json()))

    assert_last_week(row)
    client.force_login(executive)
    html = client.get(reverse("valuestreams:product_flow", args=[product.slug])).content.decode()
    week = re.search(
        rf'<tr data-window="{last_monday():%Y-%m-%d}">(.*?)</tr>', html, flags=re.DOTALL
    )
    assert week, html
    assert '<td class="num" data-figure="velocity">5</td>' in week.group(1)
    assert '<td class="num" data-figure="flow-time-median">4.1</td>' in week.group(1)
    assert '<td class="num" data-figure="flow-efficiency">76%</td>' in week.group(1)
    assert '<td class="num" data-figure="load-end">1</td>' in week.group(1)
    assert 'canvas data-flow-chart="velocity"' in html
    assert "computed <time" in html


@pytest.mark.e2e
@pytest.mark.redis
def test_the_flow_page_draws_the_pushed_history(shop, live_server, page, executive):
    """The same over HTTP: the script talks to a live server, and Chromium draws the charts."""
    product, token = shop

    def call(path: str, body: dict | None = None):
        request = urllib.request.Request(
            live_server.url + path,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.load(answer)

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20):
        counts = call(INGEST, tracker_history(product.slug))
        assert counts["transitions"] == {"created": 27, "duplicates": 0}
        assert_last_week(wait_for_week(lambda url: results(call(url))))

    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(executive.username)
    page.get_by_label("Password").fill("pass-for-tests-1")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector(".who-name")
    page.goto(live_server.url + reverse("valuestreams:product_flow", args=[product.slug]))

    for chart in ("velocity", "flow-time", "efficiency", "load", "distribution"):
        drawn = page.wait_for_function(
            """(name) => {
                const canvas = document.querySelector(`canvas[data-flow-chart="${name}"]`);
                const chart = canvas && window.Chart && window.Chart.getChart(canvas);
                return chart && canvas.width > 0 && canvas.height > 0
                    ? chart.data.datasets.map((d) => d.data) : null;
            }""",
            arg=chart,
            timeout=15_000,
        ).json_value()
        assert drawn and any(any(v not in (None, 0) for v in data) for data in drawn), chart
    velocity = page.evaluate(
        """() => window.Chart.getChart(
            document.querySelector('canvas[data-flow-chart="velocity"]')).data.datasets[0].data"""
    )
    assert 5 in velocity
    assert errors == []
