"""What the money buys: funded amount beside outcomes and flow per value stream, on a hand-built
case of two teams with known flow snapshots; the guardrail; the page's roles and query count."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from funding.value import NO_FLOW, value_report
from products.models import KeyResult
from tests.conftest import ROLES
from tests.funding.factories import (
    ActualFactory,
    AllocationFactory,
    EnvelopeFactory,
    FiscalPeriodFactory,
    RateFactory,
)
from tests.products.factories import (
    KeyResultFactory,
    OutcomeFactory,
    ProductFactory,
    TeamFactory,
    TeamMembershipFactory,
    UserFactory,
)
from tests.valuestreams.factories import ValueStreamFactory
from valuestreams.models import FlowSnapshot, ValueStream

pytestmark = pytest.mark.django_db

D = Decimal


def snapshot(*, month: int, velocity: int, distribution: dict, year: int = 2030, **scope):
    return FlowSnapshot.objects.create(
        window=FlowSnapshot.Window.MONTH,
        window_start=datetime.date(year, month, 1),
        velocity=velocity,
        distribution=distribution,
        computed_at=timezone.now(),
        **scope,
    )


def key_results(product, *statuses, archived_outcome=False):
    outcome = OutcomeFactory(
        product=product,
        archived_at=timezone.now() if archived_outcome else None,
    )
    for status in statuses:
        KeyResultFactory(outcome=outcome, status=status)


@pytest.fixture
def case():
    """FY2030 (365 days, engineers 120,000.00 a year).

    Alpha (1 FTE: 120,000.00) owns Pay-web (in Payments) and Lend-app (in Lending), 50 % to each;
    Beta (0.5 FTE: 60,000.00) owns Pay-api (in Payments), 100 % to it.
    """
    period = FiscalPeriodFactory(
        name="FY2030", start=datetime.date(2030, 1, 1), end=datetime.date(2030, 12, 31)
    )
    RateFactory(period=period, annual_cost=D("120000.00"))
    pay_web = ProductFactory(name="Pay web")
    pay_api = ProductFactory(name="Pay api")
    lend_app = ProductFactory(name="Lend app")
    payments = ValueStreamFactory(name="Payments", slug="payments", products=[pay_web, pay_api])
    lending = ValueStreamFactory(name="Lending", slug="lending", products=[lend_app])
    ValueStreamFactory(name="Idle", slug="idle")
    alpha = TeamFactory(name="Alpha", products=[pay_web, lend_app])
    beta = TeamFactory(name="Beta", products=[pay_api])
    TeamMembershipFactory(team=alpha, fte=D("1"))
    TeamMembershipFactory(team=beta, fte=D("0.5"))
    AllocationFactory(period=period, team=alpha, value_stream=payments, percent=D("50"))
    AllocationFactory(period=period, team=alpha, value_stream=lending, percent=D("50"))
    AllocationFactory(period=period, team=beta, value_stream=payments, percent=D("100"))
    EnvelopeFactory(
        period=period, value_stream=payments, amount=D("150000"), min_debt_risk_percent=D("30")
    )
    EnvelopeFactory(
        period=period, value_stream=lending, amount=D("60000"), min_debt_risk_percent=D("10")
    )
    # Pay web completed 20 items over Jan and Feb: feature 6+4, defect 2, risk 1, debt 2+5.
    snapshot(
        product=pay_web,
        month=1,
        velocity=10,
        distribution={"feature": 60, "defect": 20, "debt": 20},
    )
    snapshot(
        product=pay_web, month=2, velocity=10, distribution={"feature": 40, "risk": 10, "debt": 50}
    )
    snapshot(product=pay_web, month=12, year=2029, velocity=50, distribution={"feature": 100})
    # Pay api: no snapshot. Lend app: only a month before the period.
    snapshot(product=lend_app, month=12, year=2029, velocity=5, distribution={"debt": 100})
    # Lending's own (value-stream) snapshot: 3 items in January.
    snapshot(value_stream=lending, month=1, velocity=3, distribution={"feature": 100})
    ActualFactory(team=alpha, month=datetime.date(2030, 1, 1), amount=D("10000.00"))
    ActualFactory(team=alpha, month=datetime.date(2030, 2, 1), amount=D("10000.00"))
    ActualFactory(team=beta, month=datetime.date(2030, 1, 1), amount=D("4000.00"))
    S = KeyResult.Status
    key_results(pay_web, S.ON_TRACK, S.ON_TRACK, S.AT_RISK)
    key_results(pay_api, S.OFF_TRACK, S.NO_DATA)
    key_results(pay_api, S.OFF_TRACK, archived_outcome=True)
    return period


def rows_by_slug(period):
    report = value_report(period=period, user=UserFactory())
    return report, {r.value_stream.slug: r for r in report.rows}


def test_payments_funded_outcomes_flow_cost_and_split(case):
    report, rows = rows_by_slug(case)
    pay = rows["payments"]
    assert pay.funded == D("120000.00")  # 50 % of 120,000 + 100 % of 60,000
    assert pay.envelope.amount == D("150000.00")
    assert pay.key_results == {"on_track": 2, "at_risk": 1, "off_track": 1, "no_data": 1}
    # No value-stream snapshots: its products' January and February rows summed.
    assert pay.flow_source == "products"
    assert pay.completed == 20
    assert pay.distribution == {
        "feature": D("50.0"),
        "defect": D("10.0"),
        "risk": D("5.0"),
        "debt": D("35.0"),
        "unmapped": D("0.0"),
    }
    assert pay.distribution_text == "50 % feature · 35 % debt · 10 % defect · 5 % risk"
    # Actual: Alpha 50 % of 10,000 + 10,000; Beta 100 % of 4,000.
    assert pay.actual == D("14000.00")
    assert pay.cost_per_item == D("700.00")
    # Alpha's 60,000 by Pay web's 20 items; Beta's 60,000 has no flow data.
    assert pay.split == {
        "feature": D("30000.00"),
        "defect": D("6000.00"),
        "risk": D("3000.00"),
        "debt": D("21000.00"),
        NO_FLOW: D("60000.00"),
    }
    assert pay.split_percent("debt") == D("17.5")
    assert pay.split_percent(NO_FLOW) == D("50.0")
    # Guardrail: (21,000 + 3,000) / the 60,000 with flow data = 40 % >= 30 %.
    assert pay.guardrail.share == D("40.0")
    assert pay.guardrail.status == "meets"
    assert report.funded == D("180000.00")


def test_lending_uses_its_own_snapshots_and_says_what_is_missing(case):
    _, rows = rows_by_slug(case)
    lend = rows["lending"]
    assert lend.funded == D("60000.00")
    assert lend.key_results == {}
    assert lend.flow_source == "value stream"
    assert lend.completed == 3
    assert lend.actual == D("10000.00")
    assert lend.cost_per_item == D("3333.33")
    # Alpha's products in Lending completed nothing in the period (its snapshot is from 2029).
    assert lend.split == {NO_FLOW: D("60000.00")}
    assert lend.guardrail.status == "no_data"
    assert lend.guardrail.label == "No flow data yet"


def test_a_value_stream_with_nothing_says_so(case):
    _, rows = rows_by_slug(case)
    idle = rows["idle"]
    assert idle.funded == D("0.00")
    assert idle.completed is None
    assert idle.actual is None
    assert idle.cost_per_item is None
    assert idle.cost_per_item_note == "no actuals yet"
    assert idle.split == {}
    assert idle.guardrail is None  # no envelope, no guardrail


def test_no_completed_items_is_said_rather_than_zero(case):
    FlowSnapshot.objects.filter(value_stream__slug="lending").update(velocity=0, distribution={})
    _, rows = rows_by_slug(case)
    lend = rows["lending"]
    assert lend.completed == 0
    assert lend.cost_per_item is None
    assert lend.cost_per_item_note == "no completed items"


def test_guardrail_below_and_untyped_items(case):
    pay_web = FlowSnapshot.objects.get(
        product__name="Pay web", window_start=datetime.date(2030, 2, 1)
    )
    pay_web.distribution = {"feature": 40, "unmapped": 60}
    pay_web.save()
    _, rows = rows_by_slug(case)
    pay = rows["payments"]
    # 20 items: feature 6+4, defect 2, debt 2, unmapped 6 -> of 60,000: 30,000 / 6,000 / 6,000 / 18,000.
    assert pay.split["unmapped"] == D("18000.00")
    assert pay.split["debt"] == D("6000.00")
    assert "risk" not in pay.split
    assert pay.guardrail.share == D("10.0")
    assert pay.guardrail.status == "below"
    assert pay.guardrail.label == "Below the guardrail"


def test_split_parts_add_up_to_the_allocated_amount(case):
    pay_web = FlowSnapshot.objects.get(
        product__name="Pay web", window_start=datetime.date(2030, 1, 1)
    )
    pay_web.velocity = 3
    pay_web.distribution = {"feature": 33.33, "defect": 33.33, "risk": 33.34}
    pay_web.save()
    FlowSnapshot.objects.filter(
        product__name="Pay web", window_start=datetime.date(2030, 2, 1)
    ).delete()
    _, rows = rows_by_slug(case)
    pay = rows["payments"]
    assert sum(pay.split.values()) == pay.funded


def test_value_report_query_count_is_constant(case, django_assert_num_queries):
    """Twelve queries whatever the number of value streams (pinned with 2 and with 8): the
    matrix's six, product and team links, key-result counts, two kinds of snapshots, actuals."""
    ValueStream.objects.filter(slug="idle").delete()
    user = UserFactory()
    with django_assert_num_queries(12):
        value_report(period=case, user=user)
    for _ in range(6):
        product = ProductFactory()
        stream = ValueStreamFactory(products=[product])
        team = TeamFactory(products=[product])
        TeamMembershipFactory(team=team)
        AllocationFactory(period=case, team=team, value_stream=stream, percent=D("10"))
        snapshot(product=product, month=1, velocity=2, distribution={"debt": 100})
        key_results(product, KeyResult.Status.ON_TRACK)
        ActualFactory(team=team, month=datetime.date(2030, 1, 1))
    with django_assert_num_queries(12):
        report = value_report(period=case, user=user)
    assert len(report.rows) == 8


# The page.


@pytest.mark.parametrize("role_user", ROLES, indirect=True)
def test_value_page_shows_the_figures_to_every_role(client, role_user, case):
    client.force_login(role_user)
    response = client.get(f"/funding/periods/{case.pk}/value/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "What the money buys" in html
    assert "2 on track" in html and "1 at risk" in html and "1 off track" in html
    assert "€700.00" in html  # Payments' cost per completed item
    assert "€3,333.33" in html  # Lending's
    assert "Meets the guardrail" in html
    assert "No flow data yet" in html
    assert "no key results yet" in html  # Lending
    assert "no actuals yet" in html  # Idle
    assert "40 % of at least 30 %" in html
    assert "50 % feature · 35 % debt · 10 % defect · 5 % risk" in html


def test_value_page_query_count_is_constant(finance_client, case, django_assert_num_queries):
    url = f"/funding/periods/{case.pk}/value/"
    finance_client.get(url)
    with django_assert_num_queries(18) as before:
        finance_client.get(url)
    for _ in range(5):
        product = ProductFactory()
        stream = ValueStreamFactory(products=[product])
        team = TeamFactory(products=[product])
        AllocationFactory(period=case, team=team, value_stream=stream, percent=D("10"))
        snapshot(product=product, month=1, velocity=2, distribution={"debt": 100})
    with django_assert_num_queries(len(before.captured_queries)):
        response = finance_client.get(url)
    assert response.content.decode().count('data-figure="guardrail"') == 8


def test_value_page_of_an_unknown_period_is_404(finance_client):
    assert finance_client.get("/funding/periods/999999/value/").status_code == 404


def test_value_page_without_value_streams_says_what_to_do(exec_client):
    period = FiscalPeriodFactory()
    html = exec_client.get(f"/funding/periods/{period.pk}/value/").content.decode()
    assert "No value streams yet" in html
