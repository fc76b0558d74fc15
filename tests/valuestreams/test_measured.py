"""The measured value stream (valuestreams.measured; issue 4, deliverable 7): step figures from a
tiny status history worked out by hand, on SQLite and PostgreSQL alike."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from tests.products.factories import ProductFactory
from tests.valuestreams.factories import ValueStreamFactory
from valuestreams.measured import measured_map, measured_window
from valuestreams.models import MapStep, StatusChange, ValueStreamMap, WorkItem, WorkSource

UTC = dt.UTC
START = dt.datetime(2026, 1, 1, tzinfo=UTC)
END = dt.datetime(2026, 1, 2, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 1, day, hour, minute, tzinfo=UTC)


def item(source: WorkSource, product, key: str, changes: list[tuple[str, dt.datetime]]) -> None:
    work_item = WorkItem.objects.create(
        source=source, key=key, product=product, created_at=at(1, 0)
    )
    for status, when in changes:
        StatusChange.objects.create(item=work_item, to_status=status, at=when)


@pytest.fixture
def history(db):
    """Two items of the stream's product through three statuses (To Do = backlog, In Progress =
    active, Blocked = waiting by the default mapping), one item of another product, and a map
    with three steps."""
    product = ProductFactory()
    stream = ValueStreamFactory(products=[product])
    source = WorkSource.objects.create(name="Tracker", slug="tracker")
    # A: To Do before the window (clipped to 00:00), In Progress 02:00, Blocked 03:00,
    # In Progress 04:30, Done 06:00.
    item(
        source,
        product,
        "A",
        [
            ("To Do", dt.datetime(2025, 12, 31, 22, tzinfo=UTC)),
            ("In Progress", at(1, 2)),
            ("Blocked", at(1, 3)),
            ("In Progress", at(1, 4, 30)),
            ("Done", at(1, 6)),
        ],
    )
    # B: To Do 10:00, In Progress 12:00 until after the window (Done on 2 January 01:00).
    item(
        source,
        product,
        "B",
        [("To Do", at(1, 10)), ("In Progress", at(1, 12)), ("Done", at(2, 1))],
    )
    # Another product's item, in progress all day: not the stream's, never counted.
    item(source, ProductFactory(), "X", [("In Progress", at(1, 0))])
    vsm = ValueStreamMap.objects.create(value_stream=stream, state="current")
    steps = [
        MapStep.objects.create(
            map=vsm,
            order=1,
            name="Queue",
            process_time_minutes=10,
            lead_time_minutes=100,
            percent_complete_accurate=90,
            statuses=["to do"],
        ),
        MapStep.objects.create(
            map=vsm,
            order=2,
            name="Build",
            process_time_minutes=200,
            lead_time_minutes=300,
            percent_complete_accurate=80,
            statuses=["In Progress", " Blocked "],
        ),
        MapStep.objects.create(
            map=vsm,
            order=3,
            name="Release",
            process_time_minutes=30,
            lead_time_minutes=60,
            statuses=["Released"],
        ),
    ]
    return vsm, steps, source, product


def test_steps_measured_by_hand(history):
    vsm, *_ = history

    measured = measured_map(value_stream_map=vsm, start=START, end=END)

    by_name = {m.step.name: m for m in measured.steps}
    # Queue (To Do, backlog): A 00:00-02:00 (clipped) = 120 min, B 10:00-12:00 = 120 min;
    # no active time. Medians: PT 0, wait 120.
    assert by_name["Queue"].items == 2
    assert by_name["Queue"].process_time_minutes == Decimal("0.00")
    assert by_name["Queue"].wait_minutes == Decimal("120.00")
    # Build (In Progress + Blocked): A active 02:00-03:00 + 04:30-06:00 = 150, blocked
    # 03:00-04:30 = 90; B active 12:00-24:00 (clipped at the window's end) = 720, wait 0.
    # Medians of two: PT (150 + 720) / 2 = 435, wait (90 + 0) / 2 = 45.
    assert by_name["Build"].items == 2
    assert by_name["Build"].process_time_minutes == Decimal("435.00")
    assert by_name["Build"].wait_minutes == Decimal("45.00")
    assert by_name["Build"].lead_time_minutes == Decimal("480.00")
    # Nothing was Released in the window.
    release_measured = by_name["Release"]
    assert (release_measured.items, release_measured.process_time_minutes) == (0, None)
    assert release_measured.lead_time_minutes is None
    # Metrics of the measured steps (Release has none): PT 0 + 435 = 435, LT 120 + 480 = 600,
    # activity ratio 435 / 600 = 72.5 %; %C&A stays the workshop's: 90 % x 80 % = 72 %.
    metrics = measured.metrics
    assert metrics is not None
    assert metrics.total_process_time_minutes == Decimal("435.00")
    assert metrics.total_lead_time_minutes == Decimal("600.00")
    assert metrics.activity_ratio == Decimal("72.5")
    assert metrics.rolled_percent_complete_accurate == Decimal("72")
    assert metrics.bottleneck is not None and metrics.bottleneck.name == "Queue"


def test_window_clips_and_odd_item_counts(history):
    vsm, _, source, product = history
    # A third item, In Progress 20:00 (active 240 min to the window's end).
    item(source, product, "C", [("In Progress", at(1, 20))])
    # Only the first morning: [00:00, 03:00). Build: A 02:00-03:00 = 60 active (B not yet);
    # Queue: A 00:00-02:00 = 120.
    morning = measured_map(value_stream_map=vsm, start=START, end=at(1, 3))
    assert [(m.items, m.process_time_minutes, m.wait_minutes) for m in morning.steps] == [
        (1, Decimal("0.00"), Decimal("120.00")),
        (1, Decimal("60.00"), Decimal("0.00")),
        (0, None, None),
    ]
    # The whole day with C: Build PT values 150, 240, 720 -> median 240; waits 90, 0, 0 -> 0.
    day = measured_map(value_stream_map=vsm, start=START, end=END)
    assert (day.steps[1].items, day.steps[1].process_time_minutes) == (3, Decimal("240.00"))
    assert day.steps[1].wait_minutes == Decimal("0.00")


def test_no_items_anywhere_gives_no_metrics(history):
    vsm, *_ = history
    later = measured_map(
        value_stream_map=vsm,
        start=dt.datetime(2027, 1, 1, tzinfo=UTC),
        end=dt.datetime(2027, 2, 1, tzinfo=UTC),
    )
    assert [m.items for m in later.steps] == [0, 0, 0]
    assert later.metrics is None


@pytest.mark.parametrize("count", [2, 20])
def test_query_count_does_not_grow(history, count, django_assert_num_queries):
    vsm, _, source, product = history
    for n in range(count):
        item(source, product, f"N{n}", [("To Do", at(1, 1)), ("In Progress", at(1, 5, n))])
    with django_assert_num_queries(2):
        measured = measured_map(value_stream_map=vsm, start=START, end=END)
    assert measured.steps[1].items == 2 + count


def test_window_parsing():
    today = dt.date(2026, 3, 31)
    assert measured_window(None, None, today=today) == (
        dt.datetime(2026, 1, 1, tzinfo=UTC),
        dt.datetime(2026, 4, 1, tzinfo=UTC),
    )
    assert measured_window("2026-01-01", "2026-01-01", today=today) == (START, END)
    with pytest.raises(ValidationError) as bad:
        measured_window("soon", None, today=today)
    assert "from" in bad.value.message_dict
    with pytest.raises(ValidationError):
        measured_window("2026-02-01", "2026-01-01", today=today)


def test_api_measured(history, api_as, executive):
    vsm, *_ = history
    response = api_as(executive).get(
        f"/api/v1/value-stream-maps/{vsm.pk}/measured/?from=2026-01-01&to=2026-01-01"
    )
    assert response.status_code == 200
    body = response.json()
    assert [(s["name"], s["items"], s["process_time_minutes"]) for s in body["steps"]] == [
        ("Queue", 2, 0.0),
        ("Build", 2, 435.0),
        ("Release", 0, None),
    ]
    assert body["metrics"]["activity_ratio"] == 72.5
    assert body["start"].startswith("2026-01-01T00:00:00")


def test_api_measured_rejects_a_bad_window(history, api_as, executive):
    vsm, *_ = history
    response = api_as(executive).get(f"/api/v1/value-stream-maps/{vsm.pk}/measured/?to=soon")
    assert response.status_code == 400
    assert "to" in response.json()


def test_api_measured_needs_sign_in(history, api_client):
    vsm, *_ = history
    response = api_client.get(f"/api/v1/value-stream-maps/{vsm.pk}/measured/")
    assert response.status_code in (401, 403)


# The Measured panel on the map page.

HTMX = {"HX-Request": "true"}


def panel_url(vsm, **query) -> str:
    from django.urls import reverse

    url = reverse("valuestreams:map_measured", args=[vsm.value_stream.slug, vsm.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def statuses_url(vsm, step) -> str:
    from django.urls import reverse

    return reverse("valuestreams:map_step_statuses", args=[vsm.value_stream.slug, vsm.pk, step.pk])


def test_map_page_loads_the_panel_lazily(history, exec_client):
    vsm, *_ = history
    html = exec_client.get(vsm.get_absolute_url()).content.decode()
    assert f'hx-get="{panel_url(vsm)}"' in html
    future = ValueStreamMap.objects.create(value_stream=vsm.value_stream, state="future")
    assert panel_url(future) not in exec_client.get(future.get_absolute_url()).content.decode()
    assert exec_client.get(panel_url(future)).status_code == 404


def test_panel_shows_workshop_and_measured_figures(history, exec_client):
    vsm, *_ = history
    response = exec_client.get(
        panel_url(vsm, **{"from": "2026-01-01", "to": "2026-01-01"}), headers=HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="map-measured"')  # the panel alone
    # Build: measured PT 435 min = 7.25 h, wait 45 min; Release: no items.
    assert '<td class="num" data-measured="pt">7.2 h</td>' in html  # 7.25 h, one decimal
    assert '<td class="num" data-measured="wait">45 min</td>' in html
    assert 'data-measured="none">no items</td>' in html
    # Totals: measured lead time 600 min = 10 h, activity ratio 72.5 %.
    assert '<span data-measured="lead-time">10 h</span>' in html
    assert '<span data-measured="activity-ratio">72.5 %</span>' in html
    # An executive reads, never edits the statuses.
    assert "Save statuses" not in html


def test_panel_with_a_bad_window_says_so(history, exec_client):
    vsm, *_ = history
    html = exec_client.get(panel_url(vsm, to="soon"), headers=HTMX).content.decode()
    assert "Enter a date as YYYY-MM-DD." in html


@pytest.mark.parametrize("count", [2, 20])
def test_panel_query_count_does_not_grow(history, exec_client, count, django_assert_num_queries):
    vsm, _, source, product = history
    for n in range(count):
        item(source, product, f"N{n}", [("In Progress", at(1, 5, n))])
    exec_client.get(panel_url(vsm), headers=HTMX)  # session and permissions warm up
    with django_assert_num_queries(8):
        exec_client.get(panel_url(vsm), headers=HTMX)


def test_window_form_without_javascript_answers_the_whole_map_page(history, exec_client):
    """A plain GET of the window form (no htmx) renders the map page with the panel in place
    over the chosen dates; htmx gets the panel alone (above)."""
    vsm, *_ = history
    response = exec_client.get(panel_url(vsm, **{"from": "2026-01-01", "to": "2026-01-01"}))
    assert response.status_code == 200
    assert "HX-Request" in response["Vary"]
    html = response.content.decode()
    assert "<html" in html and f"<h1>{vsm}</h1>" in html
    assert 'id="map-steps"' in html and 'id="map-picture"' in html
    assert html.count('id="map-measured"') == 1  # the panel itself, not the lazy loader
    assert 'hx-trigger="load"' not in html
    assert '<input type="date" name="from" value="2026-01-01">' in html
    assert '<input type="date" name="to" value="2026-01-01">' in html
    assert '<td class="num" data-measured="pt">7.2 h</td>' in html
    assert '<span data-measured="lead-time">10 h</span>' in html


def test_window_form_without_javascript_keeps_a_bad_date_on_the_page(history, exec_client):
    vsm, *_ = history
    html = exec_client.get(panel_url(vsm, to="soon")).content.decode()
    assert f"<h1>{vsm}</h1>" in html
    assert "Enter a date as YYYY-MM-DD." in html


@pytest.mark.parametrize("count", [2, 20])
def test_whole_page_query_count_does_not_grow(
    history, exec_client, count, django_assert_num_queries
):
    vsm, _, source, product = history
    for n in range(count):
        item(source, product, f"N{n}", [("In Progress", at(1, 5, n))])
    exec_client.get(panel_url(vsm))  # session and permissions warm up
    # session, user, map, steps, outcomes, measured steps, measured figures, permissions (2),
    # the signed-in person's role (top bar)
    with django_assert_num_queries(10):
        exec_client.get(panel_url(vsm))


def test_htmx_restoring_history_gets_the_whole_page(history, exec_client):
    """The window form pushes its URL; htmx restoring that page from the server needs it all."""
    vsm, *_ = history
    headers = {**HTMX, "HX-History-Restore-Request": "true"}
    html = exec_client.get(panel_url(vsm), headers=headers).content.decode()
    assert f"<h1>{vsm}</h1>" in html


def test_portfolio_manager_sets_a_steps_statuses(history, pm_client):
    vsm, (_, _, release), *_ = history
    response = pm_client.post(
        statuses_url(vsm, release),
        {"statuses": "Released\n  Deployed \n\nreleased\n"},
        headers=HTMX,
    )
    assert response.status_code == 200
    release.refresh_from_db()
    assert release.statuses == ["Released", "Deployed"]
    assert "Save statuses" in response.content.decode()
    response = pm_client.post(statuses_url(vsm, release), {"statuses": ""})
    assert response.status_code == 302
    release.refresh_from_db()
    assert release.statuses == []


@pytest.mark.parametrize("role_user", ["executive", "product_owner", "finance"], indirect=True)
def test_others_may_not_set_statuses(history, client, role_user):
    vsm, (_, _, release), *_ = history
    client.force_login(role_user)
    response = client.post(statuses_url(vsm, release), {"statuses": "Live"})
    assert response.status_code == 403
    release.refresh_from_db()
    assert release.statuses == ["Released"]


def test_step_set_statuses_refuses_empty_names(history, portfolio_manager):
    from valuestreams import maps

    _, (_, _, release), *_ = history
    for bad in (["Live", "  "], ["Live", 3]):
        with pytest.raises(ValidationError) as error:
            maps.step_set_statuses(actor=portfolio_manager, step=release, statuses=bad)
        assert "statuses" in error.value.message_dict
    release.refresh_from_db()
    assert release.statuses == ["Released"]
