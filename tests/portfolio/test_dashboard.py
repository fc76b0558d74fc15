"""The CIO dashboard (home page), its explain fragments, CSV export, lazy pitfall list and the
summary API: figures, too-little-data states, roles, query counts at 1x and 10x data."""

import csv
import datetime
import io
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from funding.models import FiscalPeriod
from portfolio import pitfalls
from portfolio import selectors_dashboard as selectors
from portfolio.models import TransitionUnit
from products.models import KeyResult
from tests.conftest import ROLES
from tests.funding.factories import (
    AllocationFactory,
    EnvelopeFactory,
    FiscalPeriodFactory,
    RateFactory,
)
from tests.products.factories import (
    DisciplineFactory,
    KeyResultFactory,
    OutcomeFactory,
    ProductFactory,
    TeamFactory,
    TeamMembershipFactory,
)
from tests.valuestreams.factories import ValueStreamFactory
from valuestreams.models import FlowSnapshot

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
READERS = [r for r in ROLES if r != "product_owner"]


def month(back: int) -> datetime.date:
    return selectors._month(timezone.localdate(), back)


@pytest.fixture
def period():
    today = timezone.localdate()
    return FiscalPeriodFactory(
        name="This year",
        start=month(3),
        end=today + datetime.timedelta(days=200),
        status=FiscalPeriod.Status.ACTIVE,
    )


def build(n: int, period: FiscalPeriod, *, velocity: int = 5) -> list:
    """n value streams, each with 2 products, a team paid for it, key results and flow snapshots."""
    engineer = DisciplineFactory(name="Engineer", slug="engineer")
    RateFactory.reset_sequence()
    if not period.rates.exists():
        RateFactory(period=period, discipline=engineer, annual_cost=Decimal("100000.00"))
    now = timezone.now()
    streams = []
    for i in range(n):
        products = ProductFactory.create_batch(2)
        stream = ValueStreamFactory(products=products)
        team = TeamFactory(products=products)
        TeamMembershipFactory(team=team, person__discipline=engineer, start_date=period.start)
        EnvelopeFactory(period=period, value_stream=stream, amount=Decimal("500000.00"))
        AllocationFactory(period=period, team=team, value_stream=stream, percent=Decimal("50"))
        outcome = OutcomeFactory(product=products[0])
        for status in ("on_track", "off_track", "no_data"):
            KeyResultFactory(outcome=outcome, status=status)
        for back in (0, 1, 2, 3, 4):
            FlowSnapshot.objects.create(
                value_stream=stream,
                window="month",
                window_start=month(back),
                velocity=velocity,
                flow_time_median_days=Decimal(str(2 + back)),
                distribution={"feature": 75.0, "debt": 25.0},
                computed_at=now,
            )
        if i % 2:
            TransitionUnit.objects.create(value_stream=stream, stage=2 + i % 3)
        streams.append(stream)
    return streams


def queries_of(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


# The page for every role.


@pytest.mark.parametrize("role_user", READERS, indirect=True)
def test_dashboard_for_every_reader(client, role_user, period):
    build(2, period)
    client.force_login(role_user)
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-figure="value_streams">2<' in html
    assert 'data-figure="products">4<' in html
    assert 'data-figure="teams">2<' in html
    assert 'data-dashboard-chart="funding"' in html
    assert 'hx-trigger="load"' in html
    assert "<polyline" in html  # server-rendered sparklines


def test_product_owner_lands_on_my_products_and_can_ask_for_the_dashboard(po_client, period):
    assert po_client.get("/").url == "/my-products/"
    response = po_client.get("/", {"overview": "1"})
    assert response.status_code == 200
    assert b"Key results on track" in response.content


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert "/accounts/login/" in response.url


def test_figures_are_computed_from_the_data(exec_client, period):
    streams = build(2, period)
    board = exec_client.get("/").context["board"]
    tile = board.tile
    # Capacity: 1 FTE x 100,000 x days covered / 365; half of it allocated per team.
    days = (period.end - period.start).days + 1
    # Money rounds half up, as the capacity and the matrix cells do (not Decimal's half-even).
    capacity = (Decimal("100000") * days / 365).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    half = (capacity / 2).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert tile["funded"].value == half * 2
    # 2 on track of 4 measured (2 on track, 2 off track); 2 not measured.
    assert tile["key_results_on_track"].value == Decimal("50.0")
    assert "2 not measured" in tile["key_results_on_track"].note
    # Window: the period's first month (3 back) to this month; medians 2..5 d, equal weights.
    assert tile["flow_time"].value == Decimal("3.5")
    assert tile["flow_time"].enough_data
    first = next(r for r in board.rows if r.id == streams[0].pk)
    assert first.outcomes == {"on_track": 1, "at_risk": 0, "off_track": 1, "no_data": 1}
    assert first.envelope == Decimal("500000.00")
    assert first.allocated == half
    assert first.stage is None and first.stage_label == "Not assessed"
    second = next(r for r in board.rows if r.id == streams[1].pk)
    assert second.stage == 3
    assert board.stage_counts[0] == 1 and board.stage_counts[3] == 1
    assert board.distribution_chart["series"][0]["data"] == [75.0, 0, 0, 25.0]
    # The row's figures are last month's (the running month is only partly done): 3 d.
    assert first.last_velocity == 5 and first.last_flow_time == Decimal("3.000")


def test_the_running_month_does_not_read_as_a_drop_in_velocity(exec_client, period):
    streams = build(1, period)
    FlowSnapshot.objects.filter(value_stream=streams[0], window_start=month(0)).update(
        velocity=0, flow_time_median_days=None
    )
    row = exec_client.get("/").context["board"].rows[0]
    assert row.velocity[-1] == 0  # the sparkline still shows the month so far
    assert row.last_velocity == 5 and row.last_flow_time == Decimal("3.000")


def test_too_little_data_says_so_instead_of_a_number(exec_client, period):
    build(1, period, velocity=1)  # 4 completed items in the window, 1 a month: fewer than 5
    KeyResult.objects.update(status="no_data")
    response = exec_client.get("/")
    board = response.context["board"]
    assert board.tile["flow_time"].value is None
    assert board.tile["key_results_on_track"].value is None
    html = response.content.decode()
    assert 'data-figure="flow_time">too few items<' in html
    assert 'data-figure="key_results_on_track">no measurements<' in html
    assert "data-too-few" in html
    assert board.rows[0].last_velocity == 1 and board.rows[0].last_flow_time is None
    assert "too few items</span>" in html


def test_no_fiscal_period_at_all(exec_client):
    response = exec_client.get("/")
    assert response.status_code == 200
    assert response.context["board"].period is None
    assert response.context["board"].tile["funded"].value is None


def test_period_filter_picks_the_asked_period(exec_client, period):
    other = FiscalPeriodFactory(name="Old year", start=datetime.date(2020, 1, 1))
    build(1, period)
    assert exec_client.get("/").context["board"].period == period
    board = exec_client.get("/", {"period": other.pk}).context["board"]
    assert board.period == other
    assert board.tile["funded"].value == Decimal("0.00")
    # An unknown period falls back to the current one.
    assert exec_client.get("/", {"period": "999999"}).context["board"].period == period


def test_every_figure_links_to_the_page_behind_it(exec_client, period):
    stream = build(1, period)[0]
    html = exec_client.get("/").content.decode()
    for url in (
        "/value-streams/",
        "/products/",
        "/teams/",
        "/people/",
        f"/funding/periods/{period.pk}/allocations/",
        f"/funding/periods/{period.pk}/value/",
        f"/value-streams/{stream.slug}/",
        f"/value-streams/{stream.slug}/flow/",
        f"/transition/value-streams/{stream.slug}/",
        "/transition/",
        "/pitfalls/",
    ):
        assert f'href="{url}' in html, url


def test_every_tile_explains_itself(exec_client, period):
    build(1, period)
    html = exec_client.get("/").content.decode()
    assert html.count('<details class="explain">') >= 7 + 6
    for key in ("value_streams", "products", "funded", "key_results_on_track", "flow_time"):
        assert f'hx-get="/explain/{key}/?period={period.pk}"' in html
    assert "computed " in html and " ago</time>" in html


# Explain fragments.


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("value_streams", "/value-streams/value-stream-"),
        ("products", "/products/product-"),
        ("teams", "/teams/team-"),
        ("people", "/people/"),
        ("funded", "/allocations/"),
        ("key_results_on_track", "/key-results/"),
        ("flow_time", "/flow/"),
    ],
)
def test_explain_lists_the_records_counted(exec_client, period, key, expected):
    build(2, period)
    response = exec_client.get(f"/explain/{key}/", {"period": period.pk}, headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert f'data-explain="{key}"' in html
    assert expected in html
    full = exec_client.get(f"/explain/{key}/", {"period": period.pk})
    assert b"<html" in full.content and b"Back to the dashboard" in full.content


def test_explain_unknown_figure_is_404(exec_client):
    assert exec_client.get("/explain/nonsense/").status_code == 404


@pytest.mark.parametrize("role_user", ROLES, indirect=True)
def test_explain_for_every_role(client, role_user, period):
    client.force_login(role_user)
    assert client.get("/explain/products/", headers=HTMX).status_code == 200


# CSV and the pitfall widget.


def test_csv_export_of_the_value_stream_table(exec_client, period):
    streams = build(2, period)
    for response in (exec_client.get("/dashboard.csv"), exec_client.get("/", {"format": "csv"})):
        assert response["Content-Type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        assert rows[0][0] == "value stream"
        assert [r[0] for r in rows[1:]] == sorted(s.name for s in streams)
        assert rows[1][2] == "500000.00"
        assert rows[1][4:8] == ["1", "0", "1", "1"]


def test_pitfall_widget_is_a_fragment_that_loads_the_early_warnings_lazily(exec_client, period):
    build(1, period)
    response = exec_client.get("/dashboard/pitfalls/", {"period": period.pk}, headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-widget="pitfalls"' in html and "<html" not in html
    assert "Products without an owner" in html  # the built products have no owner
    assert f'hx-get="/dashboard/pitfalls/?part=warnings&amp;period={period.pk}"' in html
    warnings = exec_client.get(
        "/dashboard/pitfalls/", {"period": period.pk, "part": "warnings"}, headers=HTMX
    )
    assert b'data-widget="warnings"' in warnings.content
    assert b"part=warnings" not in warnings.content


@pytest.mark.parametrize("role_user", ROLES, indirect=True)
def test_pitfall_widget_for_every_role(client, role_user, period):
    client.force_login(role_user)
    assert client.get("/dashboard/pitfalls/", headers=HTMX).status_code == 200


def test_pitfall_widget_query_count_is_constant(
    client, executive, period, django_assert_num_queries
):
    client.force_login(executive)
    build(2, period)
    # Session, user, groups, periods; plus the pitfall signals' own count.
    expected = 4 + _pitfall_queries(period)
    with django_assert_num_queries(expected):
        client.get("/dashboard/pitfalls/", headers=HTMX)
    build(20, period)
    with django_assert_num_queries(expected):
        client.get("/dashboard/pitfalls/", headers=HTMX)


def test_badges_link_to_the_first_offender_of_the_value_stream():
    signal = pitfalls.Signal(
        key="pm.no_owner",
        pitfall="product_management",
        title="Products without an owner",
        rule="rule",
        value=1,
        unit="items",
        threshold=0,
        firing=True,
        enough_data=True,
        offenders=[
            pitfalls.Offender("Other", "/products/other/", value_stream_ids=frozenset({9})),
            pitfalls.Offender("Mine", "/products/mine/", value_stream_ids=frozenset({3})),
        ],
    )
    row = selectors.ValueStreamRow(
        id=3, name="VS", slug="vs", products=1, envelope=None, allocated=Decimal(0),
        outcomes={}, months=[], velocity=[], flow_time=[], stage=None, signals=[signal],
    )  # fmt: skip
    assert row.badges == [(signal, "/products/mine/")]


def test_sparkline_points_skip_gaps_and_need_two_values():
    assert selectors.sparkline_points([None, 5]) == ""
    points = selectors.sparkline_points([0, None, 10], width=100, height=24)
    assert points == "0.0,22.0 100.0,2.0"


# Query counts: constant whatever the size of the portfolio.


def _pitfall_queries(period) -> int:
    return queries_of(lambda: pitfalls.pitfall_signals(period=period))


# Session, user, groups (layout), periods, 4 registry counts, value streams, key results per value
# stream, key-result totals, 6 for the allocation matrix (allocations, teams, value streams,
# envelopes, rates, memberships), flow snapshots, organisation unit; plus the pitfall signals.
PAGE_QUERIES = 19


def test_dashboard_query_count_is_constant_at_1x_and_10x(
    client, executive, period, django_assert_num_queries
):
    client.force_login(executive)
    build(2, period)
    expected = PAGE_QUERIES + _pitfall_queries(period)
    with django_assert_num_queries(expected):
        assert client.get("/").status_code == 200
    build(20, period)
    assert _pitfall_queries(period) == expected - PAGE_QUERIES
    with django_assert_num_queries(expected):
        assert client.get("/").status_code == 200


def test_summary_api_query_count_is_constant(client, executive, period, django_assert_num_queries):
    client.force_login(executive)
    build(2, period)
    # The page's queries less the layout's role lookup.
    expected = PAGE_QUERIES - 1 + _pitfall_queries(period)
    with django_assert_num_queries(expected):
        client.get("/api/v1/portfolio/summary/")
    build(20, period)
    with django_assert_num_queries(expected):
        client.get("/api/v1/portfolio/summary/")


# The summary API.


@pytest.mark.parametrize("role_user", ROLES, indirect=True)
def test_summary_api_for_every_role(client, role_user, period):
    client.force_login(role_user)
    build(1, period)
    response = client.get("/api/v1/portfolio/summary/", {"period": period.pk})
    assert response.status_code == 200
    assert response.json()["period"]["id"] == period.pk


def test_summary_api_needs_sign_in(client):
    assert client.get("/api/v1/portfolio/summary/").status_code in (401, 403)


def test_summary_api_figures_equal_the_page(exec_client, period):
    build(3, period)
    board = exec_client.get("/", {"period": period.pk}).context["board"]
    data = exec_client.get("/api/v1/portfolio/summary/", {"period": period.pk}).json()
    api_tiles = {t["key"]: t for t in data["tiles"]}
    assert set(api_tiles) == {f.key for f in board.tiles}
    for figure in board.tiles:
        api = api_tiles[figure.key]
        page = None if figure.value is None else Decimal(figure.value)
        assert (None if api["value"] is None else Decimal(api["value"])) == page, figure.key
        assert api["enough_data"] == figure.enough_data
        assert api["definition"] == figure.definition
    assert [r["id"] for r in data["value_streams"]] == [r.id for r in board.rows]
    for api, row in zip(data["value_streams"], board.rows, strict=True):
        assert Decimal(api["allocated"]) == row.allocated
        assert Decimal(api["envelope"]) == row.envelope
        assert api["outcomes"] == row.outcomes
        assert api["velocity"] == row.velocity
        assert api["stage"] == row.stage
    assert data["charts"]["funding"] == board.funding_chart
    assert (
        data["charts"]["outcomes"]["series"][0]["data"] == board.outcome_chart["series"][0]["data"]
    )
    assert data["transition"]["value_stream_stages"] == {
        str(k): v for k, v in board.stage_counts.items()
    }
    assert data["pitfall_counts"] == board.pitfall_counts
