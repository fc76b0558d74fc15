"""Flow pages: a value stream's flow page, a product's flow panel, the recompute button and its
progress fragment."""

import datetime as dt
import re
import uuid

import pytest
from django.utils import timezone

from portfolio.celery import app
from tests.products.factories import ProductFactory
from tests.valuestreams.factories import ValueStreamFactory
from valuestreams.flow import month_start, week_start
from valuestreams.models import FlowSnapshot, ValueStream

pytestmark = pytest.mark.django_db

ROLES = ("executive", "portfolio_manager", "product_owner", "finance")
REFUSED = ("executive", "product_owner", "finance")
HTMX = {"HX-Request": "true"}


def this_week() -> dt.date:
    return week_start(timezone.now().date())


def weekly(count: int, **scope) -> None:
    """``count`` weekly snapshots ending with this week: 3 items completed in each."""
    FlowSnapshot.objects.bulk_create(
        FlowSnapshot(
            window="week",
            window_start=this_week() - dt.timedelta(weeks=n),
            velocity=3,
            flow_time_median_days="2.500",
            flow_time_p85_days="4.250",
            flow_efficiency="40.00",
            flow_load_end=5,
            flow_load_avg="4.50",
            distribution={"feature": 66.67, "defect": 33.33},
            computed_at=timezone.now() - dt.timedelta(minutes=3),
            **scope,
        )
        for n in range(count)
    )


def assert_csp_clean(html: str) -> None:
    """Every script is a file; no style attribute, no hx-on."""
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert 'src="' in tag, tag
    assert "style=" not in html
    assert "hx-on" not in html


def table_row(html: str, start: dt.date) -> str:
    match = re.search(rf'<tr data-window="{start.isoformat()}">(.*?)</tr>', html, re.S)
    assert match, start
    return match.group(1)


def task_id_of(html: str) -> str:
    match = re.search(r"/value-streams/flow/tasks/([0-9a-f-]{36})/", html)
    assert match, html
    return match.group(1)


# Reading


@pytest.mark.parametrize("role_user", ROLES, indirect=True)
def test_every_role_reads_a_value_streams_flow_page(client, role_user):
    stream = ValueStreamFactory(slug="payments")
    weekly(2, value_stream=stream)
    client.force_login(role_user)

    response = client.get("/value-streams/payments/flow/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html
    assert "Flow of" in html
    assert 'data-flow-data="{&quot;window&quot;: &quot;week&quot;' in html
    assert 'data-flow-chart="distribution"' in html
    assert "js/flow-charts.js" in html
    assert "vendor/chartjs/chart.umd.min.js" in html
    assert_csp_clean(html)
    can_recompute = role_user.groups.filter(name="portfolio_manager").exists()
    assert ("/value-streams/payments/flow/recompute/" in html) is can_recompute


@pytest.mark.parametrize("role_user", ROLES, indirect=True)
def test_every_role_reads_a_products_flow_panel(client, role_user):
    product = ProductFactory(slug="checkout")
    weekly(2, product=product)
    client.force_login(role_user)

    page = client.get("/value-streams/flow/product/checkout/")
    panel = client.get("/value-streams/flow/product/checkout/", headers=HTMX)

    assert page.status_code == panel.status_code == 200
    assert "<html" in page.content.decode()
    fragment = panel.content.decode()
    assert "<html" not in fragment
    assert fragment.strip().startswith(f'<section id="flow-product-{product.pk}"')
    assert "HX-Request" in panel["Vary"]
    assert_csp_clean(page.content.decode())
    assert_csp_clean(fragment)


def test_the_value_stream_page_answers_its_panel_to_htmx(pm_client):
    stream = ValueStreamFactory(slug="payments")

    response = pm_client.get("/value-streams/payments/flow/?window=month", headers=HTMX)

    html = response.content.decode()
    assert "<html" not in html
    assert html.strip().startswith(f'<section id="flow-value-stream-{stream.pk}"')
    assert "HX-Request" in response["Vary"]


def test_the_table_shows_the_numbers_and_too_few_items(exec_client):
    product = ProductFactory(slug="checkout")
    weekly(1, product=product)
    FlowSnapshot.objects.create(
        product=product,
        window="week",
        window_start=this_week() - dt.timedelta(weeks=1),
        velocity=0,
        flow_load_end=2,
        flow_load_avg="1.50",
        computed_at=timezone.now(),
    )

    html = exec_client.get("/value-streams/flow/product/checkout/").content.decode()

    current = table_row(html, this_week())
    assert re.findall(r'data-figure="([a-z0-9-]+)">([^<]*)<', current) == [
        ("velocity", "3"),
        ("flow-time-median", "2.5"),
        ("flow-time-p85", "4.3"),
        ("flow-efficiency", "40%"),
        ("load-end", "5"),
        ("load-avg", "4.5"),
    ]
    assert ">67%<" in current and ">33%<" in current
    empty = table_row(html, this_week() - dt.timedelta(weeks=1))
    assert empty.count("too few items") == 2
    assert 'data-figure="load-end">2<' in empty
    assert html.count("<tr data-window=") == 26
    assert html.count(">no figures<") == 24


def test_the_chart_data_carries_every_series(exec_client):
    stream = ValueStreamFactory(slug="payments")
    weekly(1, value_stream=stream)

    response = exec_client.get("/value-streams/payments/flow/")

    data = response.context["chart"]
    assert len(data["labels"]) == 26
    charts = data["charts"]
    assert charts["velocity"]["series"][0]["data"][-1] == 3
    assert charts["velocity"]["series"][0]["data"][0] is None
    assert [s["label"] for s in charts["flow-time"]["series"]] == ["Median", "85th percentile"]
    assert charts["flow-time"]["series"][1]["data"][-1] == 4.25
    assert charts["efficiency"]["series"][0]["data"][-1] == 40.0
    assert [s["data"][-1] for s in charts["load"]["series"]] == [5, 4.5]
    assert [(s["colour"], s["data"][-1]) for s in charts["distribution"]["series"]] == [
        ("feature", 66.67),
        ("defect", 33.33),
        ("risk", 0.0),
        ("debt", 0.0),
        ("unmapped", 0.0),
    ]
    assert charts["distribution"]["unit"] == "% of items completed"


def test_months_show_the_last_twelve(exec_client):
    stream = ValueStreamFactory(slug="payments")
    FlowSnapshot.objects.create(
        value_stream=stream,
        window="month",
        window_start=month_start(timezone.now().date()),
        velocity=7,
        computed_at=timezone.now(),
    )

    html = exec_client.get("/value-streams/payments/flow/?window=month").content.decode()

    assert html.count("<tr data-window=") == 12
    assert 'data-figure="velocity">7<' in html
    assert "Last 26 weeks</a>" in html


def test_freshness_says_when_and_the_exact_time(exec_client):
    stream = ValueStreamFactory(slug="payments")
    ValueStreamFactory(slug="empty")
    weekly(2, value_stream=stream)

    fresh = exec_client.get("/value-streams/payments/flow/").content.decode()
    never = exec_client.get("/value-streams/empty/flow/").content.decode()

    assert re.search(r"computed <time datetime=\"[^\"]+\" title=\"[^\"]+\">3\xa0minutes ago", fresh)
    assert "not computed yet" in never
    assert "No flow figures" in never


def test_an_unknown_scope_is_404(exec_client):
    assert exec_client.get("/value-streams/nope/flow/").status_code == 404
    assert exec_client.get("/value-streams/flow/product/nope/").status_code == 404


def test_the_product_and_value_stream_pages_link_to_the_flow(exec_client):
    product = ProductFactory(slug="checkout")
    ValueStreamFactory(slug="payments", products=[product])

    product_page = exec_client.get(product.get_absolute_url()).content.decode()
    stream_page = exec_client.get("/value-streams/payments/").content.decode()

    assert 'hx-get="/value-streams/flow/product/checkout/" hx-trigger="load"' in product_page
    assert 'href="/value-streams/flow/product/checkout/"' in product_page
    assert 'href="/value-streams/payments/flow/"' in stream_page


# Query counts: session, user, the scope, the snapshots, the freshness, the permissions (2), the
# groups (the page chrome).


@pytest.mark.parametrize("count", [2, 20])
def test_the_value_stream_page_query_count_is_constant(
    client, portfolio_manager, django_assert_num_queries, count
):
    stream = ValueStreamFactory(slug="payments")
    weekly(count, value_stream=stream)
    client.force_login(portfolio_manager)

    with django_assert_num_queries(8):
        response = client.get("/value-streams/payments/flow/")

    assert response.content.decode().count('data-figure="velocity">3<') == count


@pytest.mark.parametrize("count", [2, 20])
def test_the_product_panel_query_count_is_constant(
    client, executive, django_assert_num_queries, count
):
    product = ProductFactory(slug="checkout")
    weekly(count, product=product)
    client.force_login(executive)

    with django_assert_num_queries(8):
        response = client.get("/value-streams/flow/product/checkout/", headers=HTMX)

    assert response.content.decode().count('data-figure="velocity">3<') == count


# Recompute


def test_a_portfolio_manager_queues_a_products_recompute_after_the_commit(
    pm_client, django_capture_on_commit_callbacks, monkeypatch
):
    product = ProductFactory(slug="checkout")
    queued = []
    monkeypatch.setattr(
        "valuestreams.tasks.recompute_flow_task.apply_async",
        lambda **options: queued.append(options),
    )

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = pm_client.post("/value-streams/flow/product/checkout/recompute/", headers=HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    task_id = task_id_of(html)
    assert 'hx-trigger="every 2s"' in html
    assert "?panel=/value-streams/flow/product/checkout/" in html
    assert "Queued" in html
    assert len(callbacks) == 1
    assert queued == []  # nothing is sent before the commit
    callbacks[0]()
    assert queued == [{"kwargs": {"product_ids": [product.pk], "since": None}, "task_id": task_id}]


def test_a_value_streams_recompute_covers_its_products(
    pm_client, django_capture_on_commit_callbacks, monkeypatch
):
    first, second = ProductFactory(), ProductFactory()
    ValueStreamFactory(slug="payments", products=[first, second])
    queued = []
    monkeypatch.setattr(
        "valuestreams.tasks.recompute_flow_task.apply_async",
        lambda **options: queued.append(options),
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = pm_client.post("/value-streams/payments/flow/recompute/", headers=HTMX)

    assert response.status_code == 200
    assert len(queued) == 1
    assert sorted(queued[0]["kwargs"]["product_ids"]) == sorted([first.pk, second.pk])
    assert queued[0]["task_id"] == task_id_of(response.content.decode())


def test_without_htmx_the_recompute_goes_back_to_the_page(
    pm_client, django_capture_on_commit_callbacks
):
    ValueStreamFactory(slug="payments")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = pm_client.post("/value-streams/payments/flow/recompute/", follow=True)

    assert response.redirect_chain == [("/value-streams/payments/flow/", 302)]
    assert "Recompute queued" in response.content.decode()
    assert len(callbacks) == 1


@pytest.mark.parametrize("role_user", REFUSED, indirect=True)
def test_other_roles_may_not_recompute(client, role_user, django_capture_on_commit_callbacks):
    ProductFactory(slug="checkout")
    ValueStreamFactory(slug="payments")
    client.force_login(role_user)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        product = client.post("/value-streams/flow/product/checkout/recompute/", headers=HTMX)
        stream = client.post("/value-streams/payments/flow/recompute/", headers=HTMX)

    assert product.status_code == stream.status_code == 403
    assert callbacks == []


def test_recompute_is_post_only(pm_client):
    ValueStreamFactory(slug="payments")
    assert pm_client.get("/value-streams/payments/flow/recompute/").status_code == 405


# The progress fragment, read from the configured result backend.


def status_url(task_id: str, panel: str = "/value-streams/payments/flow/") -> str:
    return f"/value-streams/flow/tasks/{task_id}/?panel={panel}"


def test_an_unknown_task_reads_as_queued_and_keeps_polling(exec_client):
    task_id = str(uuid.uuid4())

    response = exec_client.get(status_url(task_id))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-state="PENDING"' in html
    assert "waiting for a worker" in html
    assert (
        f'hx-get="/value-streams/flow/tasks/{task_id}/?panel=/value-streams/payments/flow/"' in html
    )
    assert 'hx-trigger="every 2s"' in html
    assert "HX-Trigger" not in response


def test_a_malformed_task_id_is_404(exec_client):
    assert exec_client.get("/value-streams/flow/tasks/not-a-task/").status_code == 404


def test_progress_then_success_from_the_result_backend(exec_client):
    task_id = str(uuid.uuid4())
    app.backend.store_result(task_id, {"done": 1, "total": 3}, "PROGRESS")

    running = exec_client.get(status_url(task_id)).content.decode()

    assert 'data-state="PROGRESS"' in running
    assert '<progress max="3" value="1">' in running
    assert 'hx-trigger="every 2s"' in running

    app.backend.store_result(task_id, {"products": 1}, "SUCCESS")
    done = exec_client.get(status_url(task_id))

    html = done.content.decode()
    assert "every 2s" not in html
    assert done["HX-Trigger"] == "flow-recomputed"
    assert (
        '<a href="/value-streams/payments/flow/" hx-get="/value-streams/payments/flow/" '
        'hx-target="closest .flow-panel" hx-swap="outerHTML">Done — reload the charts</a>'
    ) in html


def test_a_failed_task_stops_polling(exec_client):
    task_id = str(uuid.uuid4())
    app.backend.store_result(task_id, ValueError("boom"), "FAILURE")

    html = exec_client.get(status_url(task_id)).content.decode()

    assert "Recompute failed" in html
    assert "every 2s" not in html


def test_the_reload_link_never_leaves_the_site(exec_client):
    task_id = str(uuid.uuid4())
    app.backend.store_result(task_id, {}, "SUCCESS")

    html = exec_client.get(status_url(task_id, panel="https://evil.example/")).content.decode()

    assert "evil.example" not in html
    assert "reload the page" in html


# In a browser: the product page loads the panel, Chart.js draws the five charts under the CSP,
# the window toggle redraws them.


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_the_product_page_draws_the_flow_charts(page, live_server, executive):
    from playwright.sync_api import expect

    product = ProductFactory(slug="checkout")
    weekly(3, product=product)
    FlowSnapshot.objects.create(
        product=product,
        window="month",
        window_start=month_start(timezone.now().date()),
        velocity=9,
        computed_at=timezone.now(),
    )
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(executive.username)
    page.get_by_label("Password").fill("pass-for-tests-1")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".who-name")).to_be_visible()

    page.goto(f"{live_server.url}{product.get_absolute_url()}")
    canvases = page.locator(f"#flow-product-{product.pk} canvas[data-flow-chart]")
    expect(canvases).to_have_count(5)
    drawn = "els => els.filter(el => window.Chart.getChart(el)).length"
    page.wait_for_function(
        "() => [...document.querySelectorAll('canvas[data-flow-chart]')]"
        ".every(el => window.Chart && window.Chart.getChart(el))"
    )
    assert canvases.evaluate_all(drawn) == 5
    legends = canvases.evaluate_all(
        "els => els.map(el => window.Chart.getChart(el).options.plugins.legend.display)"
    )
    assert legends == [False, True, False, True, True]

    page.get_by_role("link", name="Last 12 months").click()
    expect(page.locator(f"#flow-product-{product.pk} tbody tr")).to_have_count(12)
    page.wait_for_function(
        "() => [...document.querySelectorAll('canvas[data-flow-chart]')]"
        ".every(el => window.Chart.getChart(el)"
        " && window.Chart.getChart(el).data.labels.length === 12)"
    )
    assert errors == []


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_recompute_polls_until_done_then_reloads_the_charts(page, live_server, portfolio_manager):
    """The task is queued on the filesystem broker (no worker runs here); its result is then
    written to the result backend as a worker would, and the polling fragment picks it up."""
    from playwright.sync_api import expect

    ValueStreamFactory(slug="payments")
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(portfolio_manager.username)
    page.get_by_label("Password").fill("pass-for-tests-1")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".who-name")).to_be_visible()
    page.goto(f"{live_server.url}/value-streams/payments/flow/")
    expect(page.get_by_text("not computed yet")).to_be_visible()

    page.get_by_role("button", name="Recompute").click()
    progress = page.locator(".flow-progress")
    expect(progress).to_contain_text("waiting for a worker")
    task_id = task_id_of(progress.get_attribute("hx-get") or "")
    app.backend.store_result(task_id, {"done": 1, "total": 2}, "PROGRESS")
    expect(progress.locator("progress")).to_have_attribute("value", "1")
    stream = ValueStream.objects.get(slug="payments")
    weekly(1, value_stream=stream)
    app.backend.store_result(task_id, {"value_streams": 1}, "SUCCESS")

    page.get_by_role("link", name="Done — reload the charts").click()

    expect(page.get_by_text("computed 3\xa0minutes ago")).to_be_visible()
    expect(page.locator(".flow-progress")).to_have_count(0)
    expect(page.locator("canvas[data-flow-chart]")).to_have_count(5)
