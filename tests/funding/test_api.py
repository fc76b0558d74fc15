"""The funding API under /api/v1/: fiscal periods (status, summary, workflow), rate cards,
envelopes and allocations (limits, stale versions, reasons, history), for every role."""

import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db.models import Model

from funding.models import (
    Actual,
    Allocation,
    AllocationChange,
    AllocationStatus,
    Envelope,
    FiscalPeriod,
    Rate,
)
from tests.funding.factories import (
    ActualFactory,
    AllocationFactory,
    EnvelopeFactory,
    FiscalPeriodFactory,
    RateFactory,
)
from tests.products.factories import (
    DisciplineFactory,
    PersonFactory,
    TeamFactory,
    TeamMembershipFactory,
)
from tests.valuestreams.factories import ValueStreamFactory

D = datetime.date
P = Decimal
API = "/api/v1/"
PERIODS = f"{API}fiscal-periods/"
RATES = f"{API}rate-cards/"
ENVELOPES = f"{API}envelopes/"
ALLOCATIONS = f"{API}allocations/"
ALL_ROLES = ("executive", "portfolio_manager", "product_owner", "finance")
REFUSED_ROLES = ("executive", "portfolio_manager", "product_owner")
CLOSED_MESSAGE = "FY2029 is closed: its figures are read-only."


def db_state() -> dict[str, list[dict]]:
    """Every funding row: equal before and after means nothing was written."""
    models: tuple[type[Model], ...] = (
        FiscalPeriod,
        Rate,
        Envelope,
        Allocation,
        AllocationChange,
        Actual,
    )
    return {m.__name__: list(m._default_manager.order_by("pk").values()) for m in models}


@pytest.fixture
def fy(db):
    """FY2030 (planning, 365 days): Checkout costs 120,000.00 (1 FTE engineer), Search team
    60,000.00 (0.5 FTE). Envelopes: Payments 100,000.00, Discovery 80,000.00, Back office none.
    Allocations: Checkout -> Payments 50 % (draft, 60,000.00), Search team -> Discovery 33.33 %
    (proposed, 19,998.00). FY2029 is closed, with its own rate, envelope and allocation."""
    period = FiscalPeriodFactory(name="FY2030", start=D(2030, 1, 1), end=D(2030, 12, 31))
    closed = FiscalPeriodFactory(
        name="FY2029",
        start=D(2029, 1, 1),
        end=D(2029, 12, 31),
        status=FiscalPeriod.Status.CLOSED,
    )
    engineer = DisciplineFactory(name="Engineer", slug="engineer")
    designer = DisciplineFactory(name="Designer", slug="designer")
    rate = RateFactory(period=period, discipline=engineer, annual_cost=P("120000.00"))
    closed_rate = RateFactory(period=closed, discipline=engineer, annual_cost=P("110000.00"))
    checkout = TeamFactory(name="Checkout", slug="checkout")
    search = TeamFactory(name="Search team", slug="search-team")
    TeamMembershipFactory(team=checkout, person=PersonFactory(discipline=engineer), fte=1)
    TeamMembershipFactory(team=search, person=PersonFactory(discipline=engineer), fte=P("0.50"))
    payments = ValueStreamFactory(name="Payments", slug="payments")
    discovery = ValueStreamFactory(name="Discovery", slug="discovery")
    back_office = ValueStreamFactory(name="Back office", slug="back-office")
    payments_envelope = EnvelopeFactory(period=period, value_stream=payments, amount=P("100000.00"))
    discovery_envelope = EnvelopeFactory(
        period=period, value_stream=discovery, amount=P("80000.00")
    )
    closed_envelope = EnvelopeFactory(period=closed, value_stream=payments, amount=P("1000.00"))
    draft = AllocationFactory(
        period=period, team=checkout, value_stream=payments, percent=P("50.00")
    )
    proposed = AllocationFactory(
        period=period,
        team=search,
        value_stream=discovery,
        percent=P("33.33"),
        status=AllocationStatus.PROPOSED,
    )
    closed_allocation = AllocationFactory(
        period=closed,
        team=checkout,
        value_stream=payments,
        percent=P("0.50"),
        status=AllocationStatus.PROPOSED,
    )
    return SimpleNamespace(
        period=period,
        closed=closed,
        engineer=engineer,
        designer=designer,
        rate=rate,
        closed_rate=closed_rate,
        checkout=checkout,
        search=search,
        payments=payments,
        discovery=discovery,
        back_office=back_office,
        payments_envelope=payments_envelope,
        discovery_envelope=discovery_envelope,
        closed_envelope=closed_envelope,
        draft=draft,
        proposed=proposed,
        closed_allocation=closed_allocation,
    )


@pytest.fixture
def finance_api(api_as, finance_user):
    return api_as(finance_user)


def results(response) -> list[dict]:
    assert response.status_code == 200, response.json()
    return response.json()["results"]


# Every role reads -------------------------------------------------------------------------------

READS = {
    "periods": lambda s: PERIODS,
    "period": lambda s: f"{PERIODS}{s.period.id}/",
    "summary": lambda s: f"{PERIODS}{s.period.id}/summary/",
    "rates": lambda s: RATES,
    "rate": lambda s: f"{RATES}{s.rate.id}/",
    "envelopes": lambda s: ENVELOPES,
    "envelope": lambda s: f"{ENVELOPES}{s.payments_envelope.id}/",
    "allocations": lambda s: ALLOCATIONS,
    "allocation": lambda s: f"{ALLOCATIONS}{s.draft.id}/",
    "history": lambda s: f"{ALLOCATIONS}{s.draft.id}/history/",
}


@pytest.mark.parametrize("role_user", ALL_ROLES, indirect=True)
@pytest.mark.parametrize("read", READS.keys())
def test_every_role_reads_every_endpoint(api_as, role_user, fy, read):
    response = api_as(role_user).get(READS[read](fy))
    assert response.status_code == 200, response.json()


@pytest.mark.parametrize("read", READS.keys())
def test_anonymous_reads_nothing(api_client, fy, read):
    assert api_client.get(READS[read](fy)).status_code == 403


# Writes: finance only -------------------------------------------------------------------------

WRITES = {
    "period-create": lambda s: (
        "post",
        PERIODS,
        {"name": "FY2031", "start": "2031-01-01", "end": "2031-12-31"},
    ),
    "period-patch": lambda s: ("patch", f"{PERIODS}{s.period.id}/", {"name": "FY 2030"}),
    "period-put": lambda s: (
        "put",
        f"{PERIODS}{s.period.id}/",
        {"name": "FY 2030", "start": "2030-01-01", "end": "2030-12-30"},
    ),
    "period-status": lambda s: ("post", f"{PERIODS}{s.period.id}/status/", {"status": "active"}),
    "rate-create": lambda s: (
        "post",
        RATES,
        {"period": s.period.id, "discipline": "designer", "annual_cost": "90000.00"},
    ),
    "rate-patch": lambda s: ("patch", f"{RATES}{s.rate.id}/", {"annual_cost": "125000.00"}),
    "rate-put": lambda s: ("put", f"{RATES}{s.rate.id}/", {"annual_cost": "125000.00"}),
    "rate-delete": lambda s: ("delete", f"{RATES}{s.rate.id}/", None),
    "envelope-create": lambda s: (
        "post",
        ENVELOPES,
        {"period": s.period.id, "value_stream": s.back_office.id, "amount": "10000.00"},
    ),
    "envelope-patch": lambda s: (
        "patch",
        f"{ENVELOPES}{s.payments_envelope.id}/",
        {"amount": "110000.00"},
    ),
    "envelope-delete": lambda s: ("delete", f"{ENVELOPES}{s.discovery_envelope.id}/", None),
    "allocation-create": lambda s: (
        "post",
        ALLOCATIONS,
        {
            "period": s.period.id,
            "team": s.checkout.id,
            "value_stream": s.discovery.id,
            "percent": "10.00",
        },
    ),
    "allocation-patch": lambda s: ("patch", f"{ALLOCATIONS}{s.draft.id}/", {"percent": "40.00"}),
    "allocation-put": lambda s: ("put", f"{ALLOCATIONS}{s.draft.id}/", {"percent": "40.00"}),
    "allocation-delete": lambda s: ("delete", f"{ALLOCATIONS}{s.draft.id}/", None),
    "propose": lambda s: ("post", f"{PERIODS}{s.period.id}/allocations/propose/", {}),
    "approve": lambda s: ("post", f"{PERIODS}{s.period.id}/allocations/approve/", {}),
    "return": lambda s: ("post", f"{PERIODS}{s.period.id}/allocations/return/", {}),
}


def send(client, method: str, url: str, data):
    if data is None:
        return getattr(client, method)(url)
    return getattr(client, method)(url, data, format="json")


@pytest.mark.parametrize("role_user", REFUSED_ROLES, indirect=True)
@pytest.mark.parametrize("write", WRITES.keys())
def test_writes_are_refused_for_roles_other_than_finance(api_as, role_user, fy, write):
    before = db_state()
    response = send(api_as(role_user), *WRITES[write](fy))
    assert response.status_code == 403
    assert db_state() == before


@pytest.mark.parametrize("write", WRITES.keys())
def test_anonymous_writes_are_refused(api_client, fy, write):
    before = db_state()
    assert send(api_client, *WRITES[write](fy)).status_code == 403
    assert db_state() == before


@pytest.mark.parametrize("write", WRITES.keys())
def test_finance_makes_every_write(finance_api, fy, write):
    before = db_state()
    response = send(finance_api, *WRITES[write](fy))
    assert response.status_code in (200, 201, 204), response.json()
    assert db_state() != before


CLOSED_WRITES = {
    "period-patch": lambda s: ("patch", f"{PERIODS}{s.closed.id}/", {"name": "FY 2029"}),
    "period-put": lambda s: (
        "put",
        f"{PERIODS}{s.closed.id}/",
        {"name": "FY 2029", "start": "2029-01-01", "end": "2029-12-30"},
    ),
    "rate-create": lambda s: (
        "post",
        RATES,
        {"period": s.closed.id, "discipline": s.designer.id, "annual_cost": "1.00"},
    ),
    "rate-patch": lambda s: ("patch", f"{RATES}{s.closed_rate.id}/", {"annual_cost": "1.00"}),
    "rate-delete": lambda s: ("delete", f"{RATES}{s.closed_rate.id}/", None),
    "envelope-create": lambda s: (
        "post",
        ENVELOPES,
        {"period": s.closed.id, "value_stream": s.discovery.id, "amount": "10.00"},
    ),
    "envelope-patch": lambda s: ("patch", f"{ENVELOPES}{s.closed_envelope.id}/", {"amount": "9"}),
    "envelope-delete": lambda s: ("delete", f"{ENVELOPES}{s.closed_envelope.id}/", None),
    "allocation-create": lambda s: (
        "post",
        ALLOCATIONS,
        {
            "period": s.closed.id,
            "team": s.search.id,
            "value_stream": s.payments.id,
            "percent": "1.00",
        },
    ),
    "allocation-patch": lambda s: (
        "patch",
        f"{ALLOCATIONS}{s.closed_allocation.id}/",
        {"percent": "1.00"},
    ),
    "allocation-delete": lambda s: ("delete", f"{ALLOCATIONS}{s.closed_allocation.id}/", None),
    "propose": lambda s: ("post", f"{PERIODS}{s.closed.id}/allocations/propose/", {}),
    "approve": lambda s: ("post", f"{PERIODS}{s.closed.id}/allocations/approve/", {}),
    "return": lambda s: ("post", f"{PERIODS}{s.closed.id}/allocations/return/", {}),
}


@pytest.mark.parametrize("write", CLOSED_WRITES.keys())
def test_a_closed_period_refuses_every_write(finance_api, fy, write):
    before = db_state()
    response = send(finance_api, *CLOSED_WRITES[write](fy))
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": [CLOSED_MESSAGE]}
    assert db_state() == before


@pytest.mark.parametrize("status", ["planning", "active"])
def test_a_closed_period_cannot_reopen(finance_api, fy, status):
    before = db_state()
    response = finance_api.post(f"{PERIODS}{fy.closed.id}/status/", {"status": status})
    assert response.status_code == 400
    assert response.json() == {"status": [f"FY2029 is closed; it cannot become {status}."]}
    assert db_state() == before


@pytest.mark.parametrize(
    "method,url",
    [
        ("get", PERIODS + "999999/"),
        ("get", PERIODS + "999999/summary/"),
        ("post", PERIODS + "999999/status/"),
        ("post", PERIODS + "999999/allocations/approve/"),
        ("patch", RATES + "999999/"),
        ("delete", ENVELOPES + "999999/"),
        ("get", ALLOCATIONS + "999999/"),
        ("get", ALLOCATIONS + "999999/history/"),
    ],
)
def test_unknown_ids_answer_404(finance_api, fy, method, url):
    assert send(finance_api, method, url, {} if method != "get" else None).status_code == 404


def test_periods_have_no_delete(finance_api, fy):
    assert finance_api.delete(f"{PERIODS}{fy.period.id}/").status_code == 405
    assert FiscalPeriod.objects.filter(pk=fy.period.id).exists()


# Fiscal periods ---------------------------------------------------------------------------------


def test_period_round_trip(finance_api, fy):
    created = finance_api.post(
        PERIODS,
        {
            "name": "FY2031",
            "start": "2031-01-01",
            "end": "2031-06-30",
            "copy_rates_from": fy.period.id,
        },
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    period = FiscalPeriod.objects.get(pk=body["id"])
    assert body == {
        "id": period.id,
        "name": "FY2031",
        "start": "2031-01-01",
        "end": "2031-06-30",
        "status": "planning",
        "days": 181,
        "plan_status": "",
        "allocation_count": 0,
        "envelope_count": 0,
        "web_url": period.get_absolute_url(),
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
    assert list(period.rates.values_list("discipline__slug", "annual_cost")) == [
        ("engineer", P("120000.00"))
    ]
    assert finance_api.get(f"{PERIODS}{period.id}/").json() == body

    renamed = finance_api.patch(f"{PERIODS}{period.id}/", {"name": "H1 2031"})
    assert renamed.status_code == 200, renamed.json()
    assert renamed.json()["name"] == "H1 2031"
    assert renamed.json()["end"] == "2031-06-30"

    activated = finance_api.post(f"{PERIODS}{period.id}/status/", {"status": "active"})
    assert activated.status_code == 200, activated.json()
    assert activated.json()["status"] == "active"
    closed = finance_api.post(f"{PERIODS}{period.id}/status/", {"status": "closed"})
    assert closed.json()["status"] == "closed"
    assert FiscalPeriod.objects.get(pk=period.id).status == FiscalPeriod.Status.CLOSED


def test_period_list_shows_plan_status_and_counts(finance_api, fy):
    rows = {row["name"]: row for row in results(finance_api.get(PERIODS))}
    assert [row["name"] for row in results(finance_api.get(PERIODS))] == ["FY2030", "FY2029"]
    assert rows["FY2030"]["plan_status"] == "draft"
    assert rows["FY2030"]["allocation_count"] == 2
    assert rows["FY2030"]["envelope_count"] == 2
    assert rows["FY2030"]["days"] == 365
    assert rows["FY2029"]["plan_status"] == "proposed"
    assert [r["name"] for r in results(finance_api.get(PERIODS, {"status": "closed"}))] == [
        "FY2029"
    ]
    assert [r["name"] for r in results(finance_api.get(PERIODS, {"contains": "2030-03-01"}))] == [
        "FY2030"
    ]


def test_only_one_period_is_active(finance_api, fy):
    FiscalPeriodFactory(
        name="FY2031", start=D(2031, 1, 1), end=D(2031, 12, 31), status=FiscalPeriod.Status.ACTIVE
    )
    before = db_state()
    response = finance_api.post(f"{PERIODS}{fy.period.id}/status/", {"status": "active"})
    assert response.status_code == 400
    assert response.json() == {"status": ["FY2031 is active; close it before activating FY2030."]}
    assert db_state() == before


BAD_PERIODS = {
    "end-before-start": (
        lambda s: ("post", PERIODS, {"name": "X", "start": "2031-05-01", "end": "2031-04-01"}),
        {"end": ["The period must end after it starts."]},
    ),
    "overlap": (
        lambda s: ("post", PERIODS, {"name": "X", "start": "2030-12-01", "end": "2031-11-30"}),
        {
            "start": [
                "The period overlaps FY2030 (01 Jan 2030 to 31 Dec 2030); periods never overlap."
            ]
        },
    ),
    "overlap-on-update": (
        lambda s: ("patch", f"{PERIODS}{s.period.id}/", {"start": "2029-12-31"}),
        {
            "start": [
                "The period overlaps FY2029 (01 Jan 2029 to 31 Dec 2029); periods never overlap."
            ]
        },
    ),
    "no-name": (
        lambda s: ("post", PERIODS, {"name": "", "start": "2031-01-01", "end": "2031-12-31"}),
        {"name": ["This field may not be blank."]},
    ),
    "duplicate-name": (
        lambda s: ("post", PERIODS, {"name": "FY2030", "start": "2031-01-01", "end": "2031-12-31"}),
        {"name": ["Fiscal period with this Name already exists."]},
    ),
    "bad-date": (
        lambda s: ("post", PERIODS, {"name": "X", "start": "soon", "end": "2031-12-31"}),
        {"start": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]},
    ),
    "bad-status": (
        lambda s: ("post", f"{PERIODS}{s.period.id}/status/", {"status": "frozen"}),
        {"status": ['"frozen" is not a valid choice.']},
    ),
    "planning-to-closed": (
        lambda s: ("post", f"{PERIODS}{s.period.id}/status/", {"status": "closed"}),
        {"status": ["FY2030 is planning; it cannot become closed."]},
    ),
}


@pytest.mark.parametrize("case", BAD_PERIODS.keys())
def test_bad_period_input_answers_400_with_field_errors(finance_api, fy, case):
    request, errors = BAD_PERIODS[case]
    before = db_state()
    response = send(finance_api, *request(fy))
    assert response.status_code == 400
    assert response.json() == errors
    assert db_state() == before


# Rate cards ------------------------------------------------------------------------------------


def test_rate_round_trip(finance_api, fy):
    created = finance_api.post(
        RATES, {"period": fy.period.id, "discipline": "designer", "annual_cost": "95000.50"}
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["period"] == {"id": fy.period.id, "name": "FY2030", "status": "planning"}
    assert body["discipline"] == {"id": fy.designer.id, "slug": "designer", "name": "Designer"}
    assert body["annual_cost"] == "95000.50"
    changed = finance_api.patch(f"{RATES}{body['id']}/", {"annual_cost": "96000"})
    assert changed.status_code == 200, changed.json()
    assert changed.json()["annual_cost"] == "96000.00"
    assert finance_api.delete(f"{RATES}{body['id']}/").status_code == 204
    assert not Rate.objects.filter(pk=body["id"]).exists()


def test_rates_filter_by_period(finance_api, fy):
    rows = results(finance_api.get(RATES, {"period": fy.period.id}))
    assert [(r["id"], r["annual_cost"]) for r in rows] == [(fy.rate.id, "120000.00")]
    assert len(results(finance_api.get(RATES))) == 2


BAD_RATES = {
    "negative": (
        lambda s: (
            "post",
            RATES,
            {"period": s.period.id, "discipline": "designer", "annual_cost": "-1"},
        ),
        {"annual_cost": ["Ensure this value is greater than or equal to 0."]},
    ),
    "duplicate": (
        lambda s: (
            "post",
            RATES,
            {"period": s.period.id, "discipline": "engineer", "annual_cost": "1"},
        ),
        {"discipline": ["This period's rate card already has a rate for this discipline."]},
    ),
    "unknown-discipline": (
        lambda s: (
            "post",
            RATES,
            {"period": s.period.id, "discipline": "pilot", "annual_cost": "1"},
        ),
        {"discipline": ['No discipline with id or slug "pilot".']},
    ),
    "unknown-period": (
        lambda s: ("post", RATES, {"period": 999999, "discipline": "designer", "annual_cost": "1"}),
        {"period": ['No fiscal period with id "999999".']},
    ),
    "not-a-number": (
        lambda s: ("patch", f"{RATES}{s.rate.id}/", {"annual_cost": "lots"}),
        {"annual_cost": ["A valid number is required."]},
    ),
}


@pytest.mark.parametrize("case", BAD_RATES.keys())
def test_bad_rate_input_answers_400_with_field_errors(finance_api, fy, case):
    request, errors = BAD_RATES[case]
    before = db_state()
    response = send(finance_api, *request(fy))
    assert response.status_code == 400
    assert response.json() == errors
    assert db_state() == before


# Envelopes -------------------------------------------------------------------------------------


def test_envelope_round_trip_with_allocated_and_unfunded(finance_api, fy):
    created = finance_api.post(
        ENVELOPES,
        {
            "period": fy.period.id,
            "value_stream": "back-office",
            "amount": "30000.00",
            "min_debt_risk_percent": "15.5",
            "notes": "Keep the lights on.",
        },
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["value_stream"] == {
        "id": fy.back_office.id,
        "slug": "back-office",
        "name": "Back office",
    }
    assert body["period"]["id"] == fy.period.id
    assert (body["amount"], body["min_debt_risk_percent"], body["notes"]) == (
        "30000.00",
        "15.50",
        "Keep the lights on.",
    )
    assert (body["allocated"], body["unfunded"]) == ("0.00", "30000.00")

    payments = finance_api.get(f"{ENVELOPES}{fy.payments_envelope.id}/").json()
    assert (payments["allocated"], payments["unfunded"]) == ("60000.00", "40000.00")

    changed = finance_api.patch(f"{ENVELOPES}{body['id']}/", {"amount": "35000"})
    assert changed.status_code == 200, changed.json()
    assert changed.json()["amount"] == "35000.00"
    assert changed.json()["notes"] == "Keep the lights on."  # untouched by a PATCH
    assert changed.json()["min_debt_risk_percent"] == "15.50"
    assert finance_api.delete(f"{ENVELOPES}{body['id']}/").status_code == 204
    assert not Envelope.objects.filter(pk=body["id"]).exists()


def test_envelopes_filter_by_period_and_value_stream(finance_api, fy):
    rows = results(finance_api.get(ENVELOPES, {"period": fy.period.id}))
    assert [(r["value_stream"]["slug"], r["allocated"], r["unfunded"]) for r in rows] == [
        ("discovery", "19998.00", "60002.00"),
        ("payments", "60000.00", "40000.00"),
    ]
    rows = results(finance_api.get(ENVELOPES, {"value_stream": fy.payments.id}))
    # FY2029's Payments envelope: 0.50 % of Checkout at 110,000.00 = 550.00.
    assert [(r["period"]["name"], r["allocated"]) for r in rows] == [
        ("FY2030", "60000.00"),
        ("FY2029", "550.00"),
    ]


def test_an_envelope_cannot_drop_below_what_is_allocated(finance_api, fy):
    before = db_state()
    response = finance_api.patch(f"{ENVELOPES}{fy.payments_envelope.id}/", {"amount": "59999.99"})
    assert response.status_code == 400
    assert response.json() == {
        "amount": [
            "€60,000.00 is already allocated to Payments in FY2030; the envelope cannot be less "
            "(€0.01 short)."
        ]
    }
    assert db_state() == before
    exact = finance_api.patch(f"{ENVELOPES}{fy.payments_envelope.id}/", {"amount": "60000.00"})
    assert exact.status_code == 200, exact.json()
    assert exact.json()["unfunded"] == "0.00"


BAD_ENVELOPES = {
    "duplicate": (
        lambda s: (
            "post",
            ENVELOPES,
            {"period": s.period.id, "value_stream": "payments", "amount": "1"},
        ),
        {"value_stream": ["This value stream already has an envelope for the period."]},
    ),
    "negative": (
        lambda s: (
            "post",
            ENVELOPES,
            {"period": s.period.id, "value_stream": "back-office", "amount": "-5"},
        ),
        {"amount": ["Ensure this value is greater than or equal to 0."]},
    ),
    "guardrail-over-100": (
        lambda s: (
            "patch",
            f"{ENVELOPES}{s.payments_envelope.id}/",
            {"min_debt_risk_percent": "100.5"},
        ),
        {"min_debt_risk_percent": ["Ensure this value is less than or equal to 100."]},
    ),
    "unknown-value-stream": (
        lambda s: (
            "post",
            ENVELOPES,
            {"period": s.period.id, "value_stream": 999999, "amount": "1"},
        ),
        {"value_stream": ['No value stream with id or slug "999999".']},
    ),
    "missing-amount": (
        lambda s: ("post", ENVELOPES, {"period": s.period.id, "value_stream": "back-office"}),
        {"amount": ["This field is required."]},
    ),
}


@pytest.mark.parametrize("case", BAD_ENVELOPES.keys())
def test_bad_envelope_input_answers_400_with_field_errors(finance_api, fy, case):
    request, errors = BAD_ENVELOPES[case]
    before = db_state()
    response = send(finance_api, *request(fy))
    assert response.status_code == 400
    assert response.json() == errors
    assert db_state() == before


# Allocations -----------------------------------------------------------------------------------


def test_allocation_round_trip(finance_api, fy, finance_user):
    created = finance_api.post(
        ALLOCATIONS,
        {
            "period": fy.period.id,
            "team": "checkout",
            "value_stream": "discovery",
            "percent": "12.5",
        },
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    allocation = Allocation.objects.get(pk=body["id"])
    assert body == {
        "id": allocation.id,
        "period": {"id": fy.period.id, "name": "FY2030", "status": "planning"},
        "team": {"id": fy.checkout.id, "slug": "checkout", "name": "Checkout"},
        "value_stream": {"id": fy.discovery.id, "slug": "discovery", "name": "Discovery"},
        "percent": "12.50",
        "amount": "15000.00",
        "status": "draft",
        "version": 1,
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
    assert finance_api.get(f"{ALLOCATIONS}{allocation.id}/").json() == body

    changed = finance_api.patch(
        f"{ALLOCATIONS}{allocation.id}/", {"percent": "33.33", "version": 1, "reason": "More"}
    )
    assert changed.status_code == 200, changed.json()
    # 33.33 % of 120,000.00 = 39,996.00
    assert (changed.json()["percent"], changed.json()["amount"]) == ("33.33", "39996.00")
    assert changed.json()["version"] == 2

    assert finance_api.delete(f"{ALLOCATIONS}{allocation.id}/").status_code == 204
    assert not Allocation.objects.filter(pk=allocation.id).exists()
    trail = AllocationChange.objects.filter(team=fy.checkout, value_stream=fy.discovery)
    assert sorted(trail.values_list("action", flat=True)) == ["changed", "created", "deleted"]
    assert set(trail.values_list("actor", flat=True)) == {finance_user.id}


def test_allocations_filter(finance_api, fy):
    ids = lambda **q: [r["id"] for r in results(finance_api.get(ALLOCATIONS, q))]  # noqa: E731
    assert ids(period=fy.period.id) == [fy.draft.id, fy.proposed.id]
    assert ids(team=fy.search.id) == [fy.proposed.id]
    assert ids(value_stream=fy.payments.id) == [fy.draft.id, fy.closed_allocation.id]
    assert ids(status="proposed", period=fy.period.id) == [fy.proposed.id]
    assert ids(status="approved") == []
    rows = results(finance_api.get(ALLOCATIONS, {"period": fy.period.id}))
    assert [(r["percent"], r["amount"]) for r in rows] == [
        ("50.00", "60000.00"),
        ("33.33", "19998.00"),
    ]
    assert finance_api.get(ALLOCATIONS, {"status": "frozen"}).status_code == 400


def test_a_team_takes_exactly_100_percent_and_not_a_cent_more(finance_api, fy):
    # Checkout: 50 % to Payments; 50 % to Discovery brings it to exactly 100 %.
    exact = finance_api.post(
        ALLOCATIONS,
        {
            "period": fy.period.id,
            "team": fy.checkout.id,
            "value_stream": fy.discovery.id,
            "percent": "50",
        },
    )
    assert exact.status_code == 201, exact.json()
    before = db_state()
    over = finance_api.patch(f"{ALLOCATIONS}{exact.json()['id']}/", {"percent": "50.01"})
    assert over.status_code == 400
    assert over.json() == {
        "percent": [
            "Checkout would be allocated 100.01 % of its capacity in FY2030: 0.01 % over the "
            "100 % limit."
        ]
    }
    assert db_state() == before


def test_a_single_cell_over_100_percent_is_refused(finance_api, fy):
    before = db_state()
    response = finance_api.post(
        ALLOCATIONS,
        {
            "period": fy.period.id,
            "team": "search-team",
            "value_stream": "payments",
            "percent": "100.01",
        },
    )
    assert response.status_code == 400
    assert response.json() == {"percent": ["A percent is between 0 and 100."]}
    assert db_state() == before


def test_a_value_stream_takes_exactly_its_envelope_and_not_a_cent_more(finance_api, fy):
    # Payments: 60,000.00 from Checkout; envelope set to 99,996.00; Search team's 66.66 % of
    # 60,000.00 = 39,996.00 fills it exactly; 66.67 % (40,002.00) is 6.00 over.
    finance_api.patch(f"{ENVELOPES}{fy.payments_envelope.id}/", {"amount": "99996.00"})
    exact = finance_api.post(
        ALLOCATIONS,
        {
            "period": fy.period.id,
            "team": "search-team",
            "value_stream": "payments",
            "percent": "66.66",
        },
    )
    assert exact.status_code == 201, exact.json()
    assert exact.json()["amount"] == "39996.00"
    envelope = finance_api.get(f"{ENVELOPES}{fy.payments_envelope.id}/").json()
    assert (envelope["allocated"], envelope["unfunded"]) == ("99996.00", "0.00")
    before = db_state()
    over = finance_api.put(f"{ALLOCATIONS}{exact.json()['id']}/", {"percent": "66.67"})
    assert over.status_code == 400
    assert over.json() == {
        "percent": [
            "Payments would receive €100,002.00 in FY2030: €6.00 over its envelope of €99,996.00."
        ]
    }
    assert db_state() == before


def test_a_stale_version_is_refused(finance_api, fy, finance_user):
    url = f"{ALLOCATIONS}{fy.draft.id}/"
    first = finance_api.patch(url, {"percent": "40.00", "version": 1})
    assert first.status_code == 200, first.json()
    assert first.json()["version"] == 2
    before = db_state()
    stale = finance_api.patch(url, {"percent": "30.00", "version": 1})
    assert stale.status_code == 400
    assert stale.json() == {
        "percent": [
            "Checkout -> Payments was changed by Fiona Finance since this page was loaded; it "
            "now shows the saved value. Check it and try again."
        ]
    }
    assert db_state() == before
    assert finance_api.patch(url, {"percent": "30.00", "version": 2}).status_code == 200


def test_changing_or_removing_an_approved_allocation_needs_a_reason(finance_api, fy):
    Allocation.objects.filter(pk=fy.draft.pk).update(status=AllocationStatus.APPROVED)
    url = f"{ALLOCATIONS}{fy.draft.id}/"
    before = db_state()
    refused = finance_api.patch(url, {"percent": "45.00"})
    assert refused.status_code == 400
    assert refused.json() == {"reason": ["This allocation is approved: say why it changes."]}
    assert finance_api.delete(url).status_code == 400
    assert finance_api.delete(url, {"reason": "  "}, format="json").status_code == 400
    assert db_state() == before

    changed = finance_api.patch(url, {"percent": "45.00", "reason": "Hiring freeze"})
    assert changed.status_code == 200, changed.json()
    assert changed.json()["status"] == "approved"
    removed = finance_api.delete(f"{url}?reason=Team+moved")
    assert removed.status_code == 204
    reasons = AllocationChange.objects.filter(team=fy.checkout, period=fy.period).order_by("pk")
    assert list(reasons.values_list("action", "reason")) == [
        ("changed", "Hiring freeze"),
        ("deleted", "Team moved"),
    ]


def test_delete_takes_the_reason_from_the_body(finance_api, fy):
    Allocation.objects.filter(pk=fy.draft.pk).update(status=AllocationStatus.APPROVED)
    response = finance_api.delete(
        f"{ALLOCATIONS}{fy.draft.id}/", {"reason": "Stream retired"}, format="json"
    )
    assert response.status_code == 204
    assert AllocationChange.objects.get(action="deleted").reason == "Stream retired"


BAD_ALLOCATIONS = {
    "zero": (
        lambda s: ("patch", f"{ALLOCATIONS}{s.draft.id}/", {"percent": "0"}),
        {"percent": ["A percent is above 0 (delete the allocation to empty the cell)."]},
    ),
    "three-places": (
        lambda s: ("patch", f"{ALLOCATIONS}{s.draft.id}/", {"percent": "10.005"}),
        {"percent": ["Ensure that there are no more than 2 decimal places."]},
    ),
    "not-a-number": (
        lambda s: ("patch", f"{ALLOCATIONS}{s.draft.id}/", {"percent": "half"}),
        {"percent": ["A valid number is required."]},
    ),
    "duplicate-cell": (
        lambda s: (
            "post",
            ALLOCATIONS,
            {"period": s.period.id, "team": "checkout", "value_stream": "payments", "percent": "1"},
        ),
        {
            "value_stream": [
                "This team already has an allocation to this value stream in the period; change "
                "that one."
            ]
        },
    ),
    "unknown-team": (
        lambda s: (
            "post",
            ALLOCATIONS,
            {"period": s.period.id, "team": "nobody", "value_stream": "payments", "percent": "1"},
        ),
        {"team": ['No team with id or slug "nobody".']},
    ),
    "missing-fields": (
        lambda s: ("post", ALLOCATIONS, {"percent": "1"}),
        {
            "period": ["This field is required."],
            "team": ["This field is required."],
            "value_stream": ["This field is required."],
        },
    ),
    "bad-version": (
        lambda s: ("patch", f"{ALLOCATIONS}{s.draft.id}/", {"percent": "2", "version": 0}),
        {"version": ["Ensure this value is greater than or equal to 1."]},
    ),
}


@pytest.mark.parametrize("case", BAD_ALLOCATIONS.keys())
def test_bad_allocation_input_answers_400_with_field_errors(finance_api, fy, case):
    request, errors = BAD_ALLOCATIONS[case]
    before = db_state()
    response = send(finance_api, *request(fy))
    assert response.status_code == 400
    assert response.json() == errors
    assert db_state() == before


# The approval workflow and the trail ----------------------------------------------------------


def test_propose_approve_and_the_history(finance_api, fy, finance_user):
    base = f"{PERIODS}{fy.period.id}/allocations/"
    proposed = finance_api.post(f"{base}propose/", {"reason": "Ready for review"})
    assert proposed.status_code == 200, proposed.json()
    assert proposed.json() == {"moved": 1, "plan_status": "proposed"}
    approved = finance_api.post(f"{base}approve/", {})
    assert approved.json() == {"moved": 2, "plan_status": "approved"}
    assert set(Allocation.objects.filter(period=fy.period).values_list("status", flat=True)) == {
        "approved"
    }
    # The closed period's allocation did not move.
    assert Allocation.objects.get(pk=fy.closed_allocation.pk).status == "proposed"
    assert finance_api.get(f"{PERIODS}{fy.period.id}/").json()["plan_status"] == "approved"

    history = finance_api.get(f"{ALLOCATIONS}{fy.draft.id}/history/")
    assert history.status_code == 200
    rows = history.json()
    assert [(r["action"], r["status_before"], r["status_after"], r["reason"]) for r in rows] == [
        ("approved", "proposed", "approved", ""),
        ("proposed", "draft", "proposed", "Ready for review"),
    ]
    assert rows[0]["actor"] == {
        "id": finance_user.id,
        "username": "finance",
        "name": "Fiona Finance",
    }
    assert (rows[0]["percent_before"], rows[0]["percent_after"]) == ("50.00", "50.00")


def test_return_one_teams_allocations(finance_api, fy):
    AllocationFactory(
        period=fy.period,
        team=fy.checkout,
        value_stream=fy.discovery,
        percent=P("10.00"),
        status=AllocationStatus.PROPOSED,
    )
    response = finance_api.post(
        f"{PERIODS}{fy.period.id}/allocations/return/",
        {"team": "search-team", "reason": "Check the numbers"},
    )
    assert response.status_code == 200, response.json()
    assert response.json() == {"moved": 1, "plan_status": "draft"}
    assert Allocation.objects.get(pk=fy.proposed.pk).status == "draft"
    assert Allocation.objects.get(team=fy.checkout, value_stream=fy.discovery).status == "proposed"
    by_stream = finance_api.post(
        f"{PERIODS}{fy.period.id}/allocations/approve/", {"value_stream": fy.discovery.id}
    )
    assert by_stream.json() == {"moved": 1, "plan_status": "draft"}


def test_a_step_with_nothing_to_move_answers_400(finance_api, fy):
    before = db_state()
    response = finance_api.post(
        f"{PERIODS}{fy.period.id}/allocations/propose/", {"team": fy.search.id}
    )
    assert response.status_code == 400
    assert response.json() == {"step": ["No draft allocations to propose in FY2030."]}
    bad = finance_api.post(f"{PERIODS}{fy.period.id}/allocations/approve/", {"team": "nobody"})
    assert bad.status_code == 400
    assert bad.json() == {"team": ['No team with id or slug "nobody".']}
    assert db_state() == before


def test_history_keeps_the_lines_of_a_removed_allocation_of_the_same_cell(finance_api, fy):
    url = f"{ALLOCATIONS}{fy.proposed.id}/"
    assert finance_api.delete(url).status_code == 204
    again = finance_api.post(
        ALLOCATIONS,
        {
            "period": fy.period.id,
            "team": "search-team",
            "value_stream": "discovery",
            "percent": "20",
        },
    )
    history = finance_api.get(f"{ALLOCATIONS}{again.json()['id']}/history/").json()
    assert [(r["action"], r["percent_before"], r["percent_after"]) for r in history] == [
        ("created", None, "20.00"),
        ("deleted", "33.33", None),
    ]


# The period summary ---------------------------------------------------------------------------


def test_summary_figures_to_the_cent(finance_api, fy):
    ActualFactory(team=fy.checkout, month=D(2030, 1, 1), amount=P("10000.00"))
    ActualFactory(team=fy.checkout, month=D(2030, 2, 1), amount=P("12000.50"))
    ActualFactory(team=fy.search, month=D(2030, 1, 1), amount=P("5000.00"))
    ActualFactory(team=fy.search, month=D(2029, 12, 1), amount=P("999.00"))  # FY2029's month
    response = finance_api.get(f"{PERIODS}{fy.period.id}/summary/")
    assert response.status_code == 200
    body = response.json()
    assert body["period"] == {"id": fy.period.id, "name": "FY2030", "status": "planning"}
    assert body["teams"] == [
        {
            "team": {"id": fy.checkout.id, "slug": "checkout", "name": "Checkout"},
            "capacity": "120000.00",
            "capacity_complete": True,
            "unpriced_members": 0,
            "allocated_percent": "50.00",
            "allocated": "60000.00",
            "unallocated": "60000.00",
            "actual_to_date": "22000.50",
        },
        {
            "team": {"id": fy.search.id, "slug": "search-team", "name": "Search team"},
            "capacity": "60000.00",
            "capacity_complete": True,
            "unpriced_members": 0,
            "allocated_percent": "33.33",
            "allocated": "19998.00",
            "unallocated": "40002.00",
            "actual_to_date": "5000.00",
        },
    ]
    assert body["value_streams"] == [
        {
            "value_stream": {"id": fy.back_office.id, "slug": "back-office", "name": "Back office"},
            "envelope": None,
            "allocated": "0.00",
            "unfunded": None,
            "actual_to_date": "0.00",
        },
        {
            "value_stream": {"id": fy.discovery.id, "slug": "discovery", "name": "Discovery"},
            "envelope": "80000.00",
            "allocated": "19998.00",
            "unfunded": "60002.00",
            # 33.33 % of Search team's 5,000.00 = 1,666.50
            "actual_to_date": "1666.50",
        },
        {
            "value_stream": {"id": fy.payments.id, "slug": "payments", "name": "Payments"},
            "envelope": "100000.00",
            "allocated": "60000.00",
            "unfunded": "40000.00",
            # 50 % of Checkout's 22,000.50 = 11,000.25
            "actual_to_date": "11000.25",
        },
    ]
    assert body["totals"] == {
        "capacity": "180000.00",
        "allocated": "79998.00",
        "unallocated": "100002.00",
        "envelope": "180000.00",
        "actual_to_date": "27000.50",
        "plan_status": "draft",
    }


def test_summary_reports_unpriced_members(finance_api, fy):
    TeamMembershipFactory(
        team=fy.search, person=PersonFactory(discipline=fy.designer), fte=P("0.50")
    )
    teams = finance_api.get(f"{PERIODS}{fy.period.id}/summary/").json()["teams"]
    search = next(t for t in teams if t["team"]["slug"] == "search-team")
    assert (search["capacity"], search["capacity_complete"], search["unpriced_members"]) == (
        "60000.00",
        False,
        1,
    )


# Query counts ---------------------------------------------------------------------------------

# session, user; then count, page.
PERIOD_LIST_QUERIES = 4
# session, user; count, page; rates and memberships of the page's one period.
ALLOCATION_LIST_QUERIES = 6
# session, user; count, page; the page's allocations; rates and memberships of its one period.
ENVELOPE_LIST_QUERIES = 7
# session, user; count, page.
RATE_LIST_QUERIES = 4


def many_cells(n: int):
    """One period with n teams (1 FTE engineer each) and n value streams (an envelope each),
    team i giving 10 % to value stream i."""
    period = FiscalPeriodFactory(name="FY2041", start=D(2041, 1, 1), end=D(2041, 12, 31))
    engineer = DisciplineFactory(name="Engineer", slug="engineer")
    RateFactory(period=period, discipline=engineer, annual_cost=P("100000.00"))
    for _ in range(n):
        team = TeamFactory()
        TeamMembershipFactory(team=team, person=PersonFactory(discipline=engineer))
        stream = ValueStreamFactory()
        EnvelopeFactory(period=period, value_stream=stream, amount=P("50000.00"))
        AllocationFactory(period=period, team=team, value_stream=stream, percent=P("10.00"))
        RateFactory(period=period, discipline=DisciplineFactory(), annual_cost=P("1.00"))
    return period


@pytest.mark.parametrize("n", [2, 20])
def test_allocation_list_query_count_is_constant(finance_api, django_assert_num_queries, n):
    many_cells(n)
    with django_assert_num_queries(ALLOCATION_LIST_QUERIES):
        rows = results(finance_api.get(ALLOCATIONS))
    assert len(rows) == n
    assert {r["amount"] for r in rows} == {"10000.00"}


@pytest.mark.parametrize("n", [2, 20])
def test_envelope_list_query_count_is_constant(finance_api, django_assert_num_queries, n):
    many_cells(n)
    with django_assert_num_queries(ENVELOPE_LIST_QUERIES):
        rows = results(finance_api.get(ENVELOPES))
    assert len(rows) == n
    assert {(r["allocated"], r["unfunded"]) for r in rows} == {("10000.00", "40000.00")}


@pytest.mark.parametrize("n", [2, 20])
def test_rate_list_query_count_is_constant(finance_api, django_assert_num_queries, n):
    many_cells(n)
    with django_assert_num_queries(RATE_LIST_QUERIES):
        rows = results(finance_api.get(RATES))
    assert len(rows) == n + 1


@pytest.mark.parametrize("n", [2, 20])
def test_period_list_query_count_is_constant(finance_api, django_assert_num_queries, n):
    for year in range(n):
        period = FiscalPeriodFactory(
            name=f"Y{year}", start=D(2050 + year, 1, 1), end=D(2050 + year, 12, 31)
        )
        AllocationFactory(period=period, status=AllocationStatus.PROPOSED)
    with django_assert_num_queries(PERIOD_LIST_QUERIES):
        rows = results(finance_api.get(PERIODS))
    assert len(rows) == n
    assert {r["plan_status"] for r in rows} == {"proposed"}


# session, user; the period; teams, value streams, allocations, envelopes, rates, memberships;
# actuals.
SUMMARY_QUERIES = 10


@pytest.mark.parametrize("n", [2, 20])
def test_summary_query_count_is_constant(finance_api, django_assert_num_queries, n):
    period = many_cells(n)
    with django_assert_num_queries(SUMMARY_QUERIES):
        body = finance_api.get(f"{PERIODS}{period.id}/summary/").json()
    assert len(body["teams"]) == len(body["value_streams"]) == n
    assert body["totals"]["allocated"] == f"{n * 10000}.00"


def test_detail_query_counts(finance_api, fy, django_assert_num_queries):
    with django_assert_num_queries(3):  # session, user, the period with its annotations
        assert finance_api.get(f"{PERIODS}{fy.period.id}/").status_code == 200
    with django_assert_num_queries(5):  # session, user, the row; rates, memberships
        assert finance_api.get(f"{ALLOCATIONS}{fy.draft.id}/").status_code == 200
    with django_assert_num_queries(6):  # session, user, the row; allocations, rates, memberships
        assert finance_api.get(f"{ENVELOPES}{fy.payments_envelope.id}/").status_code == 200
    with django_assert_num_queries(4):  # session, user, the allocation, its trail
        assert finance_api.get(f"{ALLOCATIONS}{fy.draft.id}/history/").status_code == 200
