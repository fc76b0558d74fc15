"""The outcomes API: outcomes, key results, measurements, hypotheses, roadmap items and the change
history under /api/v1/, with the same figures and permission rules as the pages."""

import datetime
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from products import services
from products.models import (
    ChangeRecord,
    Hypothesis,
    HypothesisStatusChange,
    KeyResult,
    Measurement,
    Outcome,
    Product,
    RoadmapItem,
)
from tests.products.factories import ProductFactory, UserFactory

API = "/api/v1"
D = Decimal
START = datetime.date(2026, 1, 1)
TARGET = datetime.date(2026, 12, 27)  # 360 days after START


def day(n: int) -> datetime.date:
    return START + datetime.timedelta(days=n)


def db_state() -> dict[str, list[dict]]:
    """Every row of outcomes, roadmaps and their history: equal before and after means unchanged."""
    tables = {
        "outcomes": Outcome.objects.all(),
        "key_results": KeyResult.objects.all(),
        "measurements": Measurement.objects.all(),
        "hypotheses": Hypothesis.objects.all(),
        "status_changes": HypothesisStatusChange.objects.all(),
        "roadmap_items": RoadmapItem.objects.all(),
        "roadmap_links": RoadmapItem.key_results.through.objects.all(),
        "history": ChangeRecord.objects.all(),
    }
    return {name: list(qs.order_by("pk").values()) for name, qs in tables.items()}


def make_product_outcomes(actor, product: Product, *, prefix: str = "") -> SimpleNamespace:
    """An outcome with a measured key result, a hypothesis, three roadmap items and an archived
    outcome, written through the services (so history and stored figures are real)."""
    outcome = services.outcome_create(
        actor=actor, product=product, statement=f"{prefix}Customers open an account in one sitting"
    )
    key_result = services.key_result_create(
        actor=actor,
        outcome=outcome,
        name=f"{prefix}Accounts opened online",
        kind=KeyResult.Kind.ADOPTION,
        unit="%",
        baseline=D(0),
        target=D(100),
        start_date=START,
        target_date=TARGET,
    )
    measurement = services.measurement_record(
        actor=actor, key_result=key_result, date=day(180), value=D(40)
    )
    hypothesis = services.hypothesis_create(
        actor=actor,
        product=product,
        change="a shorter sign-up form",
        expected_outcome="more customers finish opening an account",
        key_result=key_result,
        expected_move=D(10),
    )
    items = [
        services.roadmap_item_create(
            actor=actor,
            product=product,
            title=f"{prefix}Item {n}",
            horizon=RoadmapItem.Horizon.NEXT,
            key_results=[key_result] if n else [],
        )
        for n in range(3)
    ]
    archived = services.outcome_create(actor=actor, product=product, statement="An old goal")
    services.outcome_archive(actor=actor, outcome=archived)
    return SimpleNamespace(
        product=product,
        outcome=outcome,
        key_result=key_result,
        measurement=measurement,
        hypothesis=hypothesis,
        item=items[0],
        items=items,
        archived=archived,
    )


@pytest.fixture
def world(portfolio_manager, product_owner, executive, finance_user):
    """``own``: a product the product owner owns; ``other``: one they do not."""
    own = make_product_outcomes(
        portfolio_manager, ProductFactory(name="Checkout", slug="checkout", owners=[product_owner])
    )
    other = make_product_outcomes(
        portfolio_manager,
        ProductFactory(name="Billing", slug="billing", owners=[UserFactory(username="olga")]),
        prefix="B ",
    )
    users = {
        "executive": executive,
        "finance": finance_user,
        "product_owner": product_owner,
        "portfolio_manager": portfolio_manager,
    }
    return SimpleNamespace(own=own, other=other, users=users)


@pytest.fixture
def pm_api(api_as, portfolio_manager):
    return api_as(portfolio_manager)


@pytest.fixture
def po_api(api_as, product_owner):
    return api_as(product_owner)


def _ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


# The permissions matrix ------------------------------------------------------------------------

Write = Callable[[Any, SimpleNamespace], Any]


def _kr_body(ns: SimpleNamespace, **extra: Any) -> dict[str, Any]:
    return {
        "outcome": ns.outcome.pk,
        "name": "Repeat purchases",
        "baseline": "10",
        "target": "30",
        "start_date": "2026-01-01",
        "target_date": "2026-12-31",
        **extra,
    }


WRITES: dict[str, tuple[Write, int]] = {
    "outcome create": (
        lambda api, t: api.post(
            f"{API}/outcomes/", {"product": t.product.slug, "statement": "Fewer calls"}
        ),
        201,
    ),
    "outcome update": (
        lambda api, t: api.patch(f"{API}/outcomes/{t.outcome.pk}/", {"statement": "Reworded"}),
        200,
    ),
    "outcome archive": (lambda api, t: api.post(f"{API}/outcomes/{t.outcome.pk}/archive/"), 200),
    "outcome restore": (lambda api, t: api.post(f"{API}/outcomes/{t.archived.pk}/restore/"), 200),
    "key result create": (lambda api, t: api.post(f"{API}/key-results/", _kr_body(t)), 201),
    "key result update": (
        lambda api, t: api.patch(f"{API}/key-results/{t.key_result.pk}/", {"target": "90"}),
        200,
    ),
    "key result delete": (lambda api, t: api.delete(f"{API}/key-results/{t.key_result.pk}/"), 204),
    "measurement create": (
        lambda api, t: api.post(
            f"{API}/measurements/",
            {"key_result": t.key_result.pk, "date": "2026-07-01", "value": "45"},
        ),
        201,
    ),
    "measurement update": (
        lambda api, t: api.patch(f"{API}/measurements/{t.measurement.pk}/", {"value": "41"}),
        200,
    ),
    "measurement delete": (
        lambda api, t: api.delete(f"{API}/measurements/{t.measurement.pk}/"),
        204,
    ),
    "hypothesis create": (
        lambda api, t: api.post(
            f"{API}/hypotheses/",
            {"product": t.product.pk, "change": "live chat", "expected_outcome": "fewer calls"},
        ),
        201,
    ),
    "hypothesis update": (
        lambda api, t: api.patch(f"{API}/hypotheses/{t.hypothesis.pk}/", {"status": "testing"}),
        200,
    ),
    "hypothesis delete": (lambda api, t: api.delete(f"{API}/hypotheses/{t.hypothesis.pk}/"), 204),
    "roadmap item create": (
        lambda api, t: api.post(
            f"{API}/roadmap-items/",
            {"product": t.product.slug, "title": "Saved carts", "key_results": [t.key_result.pk]},
        ),
        201,
    ),
    "roadmap item update": (
        lambda api, t: api.patch(f"{API}/roadmap-items/{t.item.pk}/", {"title": "Renamed"}),
        200,
    ),
    "roadmap item delete": (lambda api, t: api.delete(f"{API}/roadmap-items/{t.item.pk}/"), 204),
    "roadmap item move": (
        lambda api, t: api.post(
            f"{API}/roadmap-items/{t.item.pk}/move/", {"horizon": "now", "position": 0}
        ),
        200,
    ),
}

# (role, whose product, allowed)
MATRIX = [
    ("executive", "own", False),
    ("executive", "other", False),
    ("finance", "own", False),
    ("finance", "other", False),
    ("product_owner", "own", True),
    ("product_owner", "other", False),
    ("portfolio_manager", "own", True),
    ("portfolio_manager", "other", True),
]


@pytest.mark.parametrize("write", WRITES.keys())
@pytest.mark.parametrize(("role", "whose", "allowed"), MATRIX)
def test_permissions_matrix(api_as, world, write, role, whose, allowed):
    request, success = WRITES[write]
    target = getattr(world, whose)
    before = db_state()
    response = request(api_as(world.users[role]), target)
    if allowed:
        assert response.status_code == success, response.content
        assert db_state() != before
        if success != 204:
            assert response.json()["id"]
    else:
        assert response.status_code == 403, response.content
        assert db_state() == before


def test_a_refused_write_says_why(api_as, world):
    po = api_as(world.users["product_owner"])
    response = po.patch(f"{API}/key-results/{world.other.key_result.pk}/", {"target": "90"})
    assert response.status_code == 403
    assert "owners" in response.json()["detail"]
    finance = api_as(world.users["finance"])
    response = finance.post(f"{API}/measurements/", {"key_result": 1, "value": "1"})
    assert response.status_code == 403


def test_ownership_is_checked_before_the_body(api_as, world):
    """A product owner's invalid PATCH to a product they do not own is refused, not validated."""
    po = api_as(world.users["product_owner"])
    response = po.patch(f"{API}/key-results/{world.other.key_result.pk}/", {"target": "oops"})
    assert response.status_code == 403


def test_writes_to_an_archived_product_are_refused(pm_api, world, portfolio_manager):
    services.product_archive(actor=portfolio_manager, product=world.own.product)
    before = db_state()
    response = pm_api.post(
        f"{API}/measurements/",
        {"key_result": world.own.key_result.pk, "date": "2026-07-01", "value": "45"},
    )
    assert response.status_code == 403
    assert "archived" in response.json()["detail"]
    assert db_state() == before


@pytest.mark.parametrize(
    "resource", ["outcomes", "key-results", "measurements", "hypotheses", "roadmap-items"]
)
@pytest.mark.parametrize("role", ["executive", "finance", "product_owner", "portfolio_manager"])
def test_every_role_reads_every_product(api_as, world, resource, role):
    client = api_as(world.users[role])
    listed = client.get(f"{API}/{resource}/")
    assert listed.status_code == 200
    products = {row["product"]["slug"] for row in listed.json()["results"]}
    assert products == {"checkout", "billing"}
    first = listed.json()["results"][0]["id"]
    assert client.get(f"{API}/{resource}/{first}/").status_code == 200


@pytest.mark.parametrize("role", ["executive", "finance", "product_owner", "portfolio_manager"])
def test_every_role_reads_the_history_and_none_writes_it(api_as, world, role):
    client = api_as(world.users[role])
    assert client.get(f"{API}/change-records/").status_code == 200
    before = db_state()
    first = ChangeRecord.objects.first()
    assert client.post(f"{API}/change-records/", {"reason": "x"}).status_code in (403, 405)
    assert client.patch(f"{API}/change-records/{first.pk}/", {"reason": "x"}).status_code in (
        403,
        405,
    )
    assert client.delete(f"{API}/change-records/{first.pk}/").status_code in (403, 405)
    assert db_state() == before


@pytest.mark.parametrize(
    "resource",
    ["outcomes", "key-results", "measurements", "hypotheses", "roadmap-items", "change-records"],
)
def test_anonymous_is_refused(api_client, world, resource):
    assert api_client.get(f"{API}/{resource}/").status_code == 403


def test_an_unknown_row_is_404(pm_api, world):
    assert pm_api.get(f"{API}/key-results/999999/").status_code == 404
    assert pm_api.delete(f"{API}/measurements/999999/").status_code == 404
    assert pm_api.post(f"{API}/roadmap-items/999999/move/", {"horizon": "now"}).status_code == 404


# Progress and status: the figures the services stored ------------------------------------------


@pytest.fixture
def fresh_kr(po_api, world):
    """A key result from 0 to 100 over 360 days, created through the API, with no measurement."""
    response = po_api.post(
        f"{API}/key-results/",
        {
            "outcome": world.own.outcome.pk,
            "name": "Self-service share",
            "kind": "adoption",
            "baseline": "0",
            "target": "100",
            "start_date": START.isoformat(),
            "target_date": TARGET.isoformat(),
        },
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_a_new_key_result_has_no_data(fresh_kr):
    assert fresh_kr["status"] == "no_data"
    assert fresh_kr["progress"] is None
    assert fresh_kr["expected_progress"] is None
    assert fresh_kr["latest_value"] is None
    assert fresh_kr["latest_date"] is None
    assert fresh_kr["direction"] == "increase"
    assert fresh_kr["customer_facing"] is True  # adoption is customer facing by default


def test_status_and_progress_follow_the_measurements(po_api, fresh_kr):
    kr_url = f"{API}/key-results/{fresh_kr['id']}/"
    first = po_api.post(
        f"{API}/measurements/",
        {"key_result": fresh_kr["id"], "date": day(180).isoformat(), "value": "40"},
    )
    assert first.status_code == 201, first.content
    assert first.json()["key_result"] == {
        "id": fresh_kr["id"],
        "name": "Self-service share",
        "progress": 40.0,
        "expected_progress": 50.0,
        "status": "on_track",
    }
    body = po_api.get(kr_url).json()
    assert (body["progress"], body["expected_progress"], body["status"]) == (40.0, 50.0, "on_track")
    assert (body["latest_value"], body["latest_date"]) == ("40.0000", "2026-06-30")

    second = po_api.post(
        f"{API}/measurements/",
        {"key_result": fresh_kr["id"], "date": day(270).isoformat(), "value": "20"},
    )
    assert second.status_code == 201
    body = po_api.get(kr_url).json()
    assert (body["progress"], body["expected_progress"], body["status"]) == (
        20.0,
        75.0,
        "off_track",
    )
    assert body["latest_date"] == "2026-09-28"

    stored = KeyResult.objects.get(pk=fresh_kr["id"])
    assert (stored.progress, stored.expected_progress, stored.status) == (
        D("20.00"),
        D("75.00"),
        "off_track",
    )
    # The list shows the same figures as the detail and the database.
    listed = po_api.get(f"{API}/key-results/?status=off_track").json()["results"]
    assert [(r["id"], r["progress"], r["expected_progress"]) for r in listed] == [
        (fresh_kr["id"], 20.0, 75.0)
    ]


def test_progress_has_two_decimal_places(po_api, fresh_kr):
    response = po_api.post(
        f"{API}/measurements/",
        {"key_result": fresh_kr["id"], "date": day(120).isoformat(), "value": "33.3367"},
    )
    assert response.status_code == 201, response.content
    body = po_api.get(f"{API}/key-results/{fresh_kr['id']}/").json()
    # 33.3367 % of the way -> 33.34 (half-up); 120 of 360 days -> 33.33
    assert body["progress"] == 33.34
    assert body["expected_progress"] == 33.33
    assert body["status"] == "on_track"


def test_a_decrease_key_result_works_the_same_way(po_api, world):
    created = po_api.post(
        f"{API}/key-results/",
        {
            "outcome": world.own.outcome.pk,
            "name": "Days to release",
            "kind": "time_to_market",
            "baseline": "40",
            "target": "10",
            "start_date": START.isoformat(),
            "target_date": TARGET.isoformat(),
        },
    ).json()
    assert created["direction"] == "decrease"
    assert created["customer_facing"] is False
    po_api.post(
        f"{API}/measurements/",
        {"key_result": created["id"], "date": day(90).isoformat(), "value": "34"},
    )
    body = po_api.get(f"{API}/key-results/{created['id']}/").json()
    # (34 - 40) / (10 - 40) = 20 %; expected 90 / 360 = 25 %: within 10 points
    assert (body["progress"], body["expected_progress"], body["status"]) == (20.0, 25.0, "on_track")


def test_on_a_tie_the_measurement_recorded_last_is_the_latest(po_api, fresh_kr):
    url = f"{API}/measurements/"
    for value in ("30", "45"):
        po_api.post(url, {"key_result": fresh_kr["id"], "date": "2026-06-30", "value": value})
    body = po_api.get(f"{API}/key-results/{fresh_kr['id']}/").json()
    assert (body["latest_value"], body["progress"]) == ("45.0000", 45.0)
    listed = po_api.get(f"{url}?key_result={fresh_kr['id']}").json()["results"]
    assert [row["value"] for row in listed] == ["45.0000", "30.0000"]


def test_correcting_or_deleting_a_measurement_moves_the_status(po_api, fresh_kr):
    url = f"{API}/measurements/"
    kr_url = f"{API}/key-results/{fresh_kr['id']}/"
    early = po_api.post(url, {"key_result": fresh_kr["id"], "date": day(90), "value": "25"})
    late = po_api.post(url, {"key_result": fresh_kr["id"], "date": day(270), "value": "20"})
    assert po_api.get(kr_url).json()["status"] == "off_track"

    corrected = po_api.patch(f"{url}{late.json()['id']}/", {"value": "70"})
    assert corrected.status_code == 200
    assert corrected.json()["value"] == "70.0000"
    assert corrected.json()["key_result"]["status"] == "on_track"  # 70 >= 75 - 10
    assert po_api.get(kr_url).json()["progress"] == 70.0

    assert po_api.delete(f"{url}{late.json()['id']}/").status_code == 204
    body = po_api.get(kr_url).json()
    assert (body["progress"], body["expected_progress"], body["latest_date"]) == (
        25.0,
        25.0,
        "2026-04-01",
    )
    assert po_api.delete(f"{url}{early.json()['id']}/").status_code == 204
    body = po_api.get(kr_url).json()
    assert (body["status"], body["progress"], body["latest_value"]) == ("no_data", None, None)


def test_changing_the_target_moves_the_progress(po_api, world):
    kr = world.own.key_result  # 40 of 0..100 on day 180
    response = po_api.patch(f"{API}/key-results/{kr.pk}/", {"target": "50"})
    assert response.status_code == 200, response.content
    assert (response.json()["progress"], response.json()["status"]) == (80.0, "on_track")


def test_is_stale_is_the_models_rule(pm_api, world, portfolio_manager):
    def make(name: str, start: datetime.date, end: datetime.date) -> KeyResult:
        return services.key_result_create(
            actor=portfolio_manager,
            outcome=world.own.outcome,
            name=name,
            baseline=D(0),
            target=D(1),
            start_date=start,
            target_date=end,
        )

    running = make("Running, never measured", datetime.date(2020, 1, 1), datetime.date(2099, 1, 1))
    finished = make(
        "Finished, never measured", datetime.date(2020, 1, 1), datetime.date(2021, 1, 1)
    )
    rows = {
        r["id"]: r for r in pm_api.get(f"{API}/key-results/?product=checkout").json()["results"]
    }
    assert rows[running.pk]["is_stale"] is True
    assert rows[finished.pk]["is_stale"] is False
    assert rows[world.own.key_result.pk]["is_stale"] is world.own.key_result.is_stale()
    stale = _ids(pm_api.get(f"{API}/key-results/?product=checkout&stale=true"))
    assert running.pk in stale
    assert finished.pk not in stale
    fresh = _ids(pm_api.get(f"{API}/key-results/?product=checkout&stale=false"))
    assert finished.pk in fresh
    assert running.pk not in fresh


# Round trips -----------------------------------------------------------------------------------


def test_outcome_round_trip_with_archive_and_restore(po_api, world):
    created = po_api.post(
        f"{API}/outcomes/",
        {
            "product": "checkout",
            "statement": "Customers pay in one click",
            "period_start": "2026-01-01",
            "period_end": "2026-06-30",
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["product"] == {"id": world.own.product.pk, "slug": "checkout", "name": "Checkout"}
    assert body["order"] == 2  # after the active one and the archived one
    assert body["web_url"] == f"/products/checkout/#outcome-{body['id']}"
    url = f"{API}/outcomes/{body['id']}/"
    assert po_api.get(url).json() == body

    updated = po_api.patch(url, {"statement": "Customers pay in one tap"})
    assert updated.json()["statement"] == "Customers pay in one tap"
    assert updated.json()["period_end"] == "2026-06-30"

    archived = po_api.post(f"{url}archive/")
    assert archived.json()["archived_at"] is not None
    assert body["id"] not in _ids(po_api.get(f"{API}/outcomes/?product=checkout"))
    assert body["id"] in _ids(po_api.get(f"{API}/outcomes/?product=checkout&archived=true"))
    restored = po_api.post(f"{url}restore/")
    assert restored.json()["archived_at"] is None
    assert body["id"] in _ids(po_api.get(f"{API}/outcomes/?product=checkout"))
    actions = ChangeRecord.objects.filter(subject_type="outcome", subject_id=body["id"])
    assert actions.count() == 4


def test_key_result_round_trip(po_api, world):
    created = po_api.post(
        f"{API}/key-results/",
        _kr_body(world.own, unit="orders", customer_facing=False, kind="revenue"),
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["outcome"] == {"id": world.own.outcome.pk, "statement": world.own.outcome.statement}
    assert body["product"]["slug"] == "checkout"
    assert (body["baseline"], body["target"], body["direction"]) == (
        "10.0000",
        "30.0000",
        "increase",
    )
    assert (body["kind"], body["unit"], body["customer_facing"]) == ("revenue", "orders", False)
    url = f"{API}/key-results/{body['id']}/"
    assert po_api.get(url).json() == body

    put = po_api.put(
        url,
        {
            "name": "Repeat purchases per month",
            "direction": "decrease",
            "baseline": "30",
            "target": "10",
            "start_date": "2026-01-01",
            "target_date": "2026-12-31",
        },
    )
    assert put.status_code == 200, put.content
    assert put.json()["name"] == "Repeat purchases per month"
    assert put.json()["direction"] == "decrease"

    assert po_api.delete(url).status_code == 204
    assert po_api.get(url).status_code == 404
    assert ChangeRecord.objects.filter(
        subject_type="key_result", subject_id=body["id"], action="deleted"
    ).exists()


def test_measurement_round_trip(po_api, world, product_owner):
    kr = world.own.key_result
    created = po_api.post(
        f"{API}/measurements/",
        {"key_result": kr.pk, "date": "2026-07-15", "value": "42.5", "note": "after the launch"},
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["product"]["slug"] == "checkout"
    assert (body["date"], body["value"], body["note"]) == (
        "2026-07-15",
        "42.5000",
        "after the launch",
    )
    assert body["recorded_by"] == {"id": product_owner.pk, "username": "po", "name": "Omar Owner"}
    url = f"{API}/measurements/{body['id']}/"
    assert po_api.get(url).json() == body
    assert po_api.patch(url, {"note": "corrected"}).json()["note"] == "corrected"
    assert po_api.delete(url).status_code == 204
    assert not Measurement.objects.filter(pk=body["id"]).exists()


def test_measurement_date_defaults_to_today(po_api, world):
    created = po_api.post(
        f"{API}/measurements/", {"key_result": world.own.key_result.pk, "value": 1}
    )
    assert created.json()["date"] == timezone.localdate().isoformat()


def test_hypothesis_round_trip_with_status_changes(po_api, world, product_owner):
    created = po_api.post(
        f"{API}/hypotheses/",
        {
            "product": world.own.product.pk,
            "change": "one-click reorder",
            "expected_outcome": "customers buy again",
            "key_result": world.own.key_result.pk,
            "expected_move": "5",
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["key_result"] == {
        "id": world.own.key_result.pk,
        "name": world.own.key_result.name,
        "status": "on_track",
    }
    assert body["status"] == "proposed"
    assert [(c["from_status"], c["to_status"]) for c in body["status_changes"]] == [
        ("", "proposed")
    ]
    url = f"{API}/hypotheses/{body['id']}/"

    testing = po_api.patch(url, {"status": "testing", "status_note": "A/B test started"})
    assert testing.status_code == 200, testing.content
    validated = po_api.patch(
        url, {"status": "validated", "evidence": "+6 %", "status_note": "significant"}
    )
    changes = validated.json()["status_changes"]
    assert [(c["from_status"], c["to_status"], c["note"]) for c in changes] == [
        ("", "proposed", ""),
        ("proposed", "testing", "A/B test started"),
        ("testing", "validated", "significant"),
    ]
    assert changes[-1]["changed_by"]["username"] == "po"
    assert validated.json()["status_changed_at"] == changes[-1]["changed_at"]
    assert validated.json()["evidence"] == "+6 %"
    # Unlinking the key result
    assert po_api.patch(url, {"key_result": None}).json()["key_result"] is None
    assert po_api.delete(url).status_code == 204
    assert po_api.get(url).status_code == 404


def test_status_note_is_not_a_create_field(po_api, world):
    created = po_api.post(
        f"{API}/hypotheses/",
        {"product": "checkout", "change": "a", "expected_outcome": "b", "status_note": "ignored"},
    )
    assert created.status_code == 201
    assert "status_note" not in created.json()


def test_roadmap_item_round_trip(po_api, world):
    kr = world.own.key_result
    created = po_api.post(
        f"{API}/roadmap-items/",
        {"product": "checkout", "title": "Saved carts", "horizon": "next", "key_results": [kr.pk]},
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["horizon"], body["position"]) == ("next", 3)  # after the three in next
    assert body["key_results"] == [{"id": kr.pk, "name": kr.name, "status": "on_track"}]
    assert body["without_outcome"] is False
    url = f"{API}/roadmap-items/{body['id']}/"
    assert po_api.get(url).json() == body

    # horizon and position are read-only here: moves go through move/
    updated = po_api.patch(
        url,
        {"title": "Saved carts v2", "key_results": [], "horizon": "now", "position": 0},
    )
    assert updated.status_code == 200, updated.content
    assert (updated.json()["horizon"], updated.json()["position"]) == ("next", 3)
    assert updated.json()["key_results"] == []
    assert updated.json()["without_outcome"] is True
    assert updated.json()["title"] == "Saved carts v2"

    without = po_api.get(f"{API}/roadmap-items/?product=checkout&without_outcome=true")
    assert set(_ids(without)) == {world.own.items[0].pk, body["id"]}
    linked = po_api.get(f"{API}/roadmap-items/?key_result={kr.pk}")
    assert set(_ids(linked)) == {world.own.items[1].pk, world.own.items[2].pk}

    assert po_api.delete(url).status_code == 204
    assert not RoadmapItem.objects.filter(pk=body["id"]).exists()


def _board(product: Product) -> dict[str, list[int]]:
    board: dict[str, list[int]] = {h: [] for h in RoadmapItem.Horizon.values}
    for pk, horizon in (
        RoadmapItem.objects.filter(product=product)
        .order_by("horizon", "position")
        .values_list("pk", "horizon")
    ):
        board[horizon].append(pk)
    return board


def _positions(product: Product) -> dict[str, list[int]]:
    positions: dict[str, list[int]] = {}
    for horizon, position in (
        RoadmapItem.objects.filter(product=product)
        .order_by("horizon", "position")
        .values_list("horizon", "position")
    ):
        positions.setdefault(horizon, []).append(position)
    return positions


def test_move_keeps_positions_0_to_n_minus_1(po_api, world):
    a, b, c = (item.pk for item in world.own.items)  # next: a 0, b 1, c 2
    product = world.own.product

    def move(pk: int, **body: Any):
        response = po_api.post(f"{API}/roadmap-items/{pk}/move/", body)
        assert response.status_code == 200, response.content
        return response.json()

    moved = move(c, horizon="next", position=0)
    assert (moved["horizon"], moved["position"]) == ("next", 0)
    assert _board(product)["next"] == [c, a, b]

    moved = move(a, horizon="now")  # no position: last (and first, the horizon is empty)
    assert (moved["horizon"], moved["position"]) == ("now", 0)
    assert _board(product)["next"] == [c, b]
    move(b, horizon="now", position=0)
    move(c, horizon="now", position=99)  # past the end: last
    assert _board(product) == {"now": [b, a, c], "next": [], "later": [], "done": []}
    move(a, horizon="done")
    assert _board(product) == {"now": [b, c], "next": [], "later": [], "done": [a]}
    assert _positions(product) == {"now": [0, 1], "done": [0]}

    listed = po_api.get(f"{API}/roadmap-items/?product=checkout").json()["results"]
    assert [(r["id"], r["horizon"], r["position"]) for r in listed] == [
        (b, "now", 0),
        (c, "now", 1),
        (a, "done", 0),
    ]
    now = po_api.get(f"{API}/roadmap-items/?product=checkout&horizon=now").json()["results"]
    assert [r["id"] for r in now] == [b, c]
    history = ChangeRecord.objects.filter(subject_type="roadmap_item", action="moved")
    assert history.filter(subject_id=a).count() == 2


def test_move_input_is_checked(po_api, world):
    url = f"{API}/roadmap-items/{world.own.item.pk}/move/"
    before = db_state()
    assert set(po_api.post(url, {"horizon": "someday"}).json()) == {"horizon"}
    assert set(po_api.post(url, {"horizon": "now", "position": -1}).json()) == {"position"}
    assert set(po_api.post(url, {}).json()) == {"horizon"}
    assert db_state() == before


def test_deleting_a_roadmap_item_closes_the_gap(po_api, world):
    a, b, c = (item.pk for item in world.own.items)
    assert po_api.delete(f"{API}/roadmap-items/{b}/").status_code == 204
    assert _board(world.own.product)["next"] == [a, c]
    assert _positions(world.own.product) == {"next": [0, 1]}


# Validation errors: 400 {field: [messages]}, nothing written ------------------------------------


INVALID = {
    "target equal to baseline": (
        "key-results",
        lambda w: _kr_body(w.own, baseline="10", target="10"),
        "target",
    ),
    "direction disagrees with target": (
        "key-results",
        lambda w: _kr_body(w.own, direction="increase", baseline="30", target="10"),
        "target",
    ),
    "decrease with a higher target": (
        "key-results",
        lambda w: _kr_body(w.own, direction="decrease", baseline="10", target="30"),
        "target",
    ),
    "target date not after start": (
        "key-results",
        lambda w: _kr_body(w.own, start_date="2026-06-01", target_date="2026-06-01"),
        "target_date",
    ),
    "duplicate key result name in one product": (
        "key-results",
        lambda w: _kr_body(w.own, name=w.own.key_result.name),
        "name",
    ),
    "empty key result name": ("key-results", lambda w: _kr_body(w.own, name=""), "name"),
    "archived outcome": (
        "key-results",
        lambda w: _kr_body(w.own, outcome=w.own.archived.pk),
        "outcome",
    ),
    "bad direction": ("key-results", lambda w: _kr_body(w.own, direction="sideways"), "direction"),
    "empty outcome statement": (
        "outcomes",
        lambda w: {"product": "checkout", "statement": ""},
        "statement",
    ),
    "unknown product": ("outcomes", lambda w: {"product": "nope", "statement": "x"}, "product"),
    "period ends before it starts": (
        "outcomes",
        lambda w: {
            "product": "checkout",
            "statement": "x",
            "period_start": "2026-06-01",
            "period_end": "2026-01-01",
        },
        "period_end",
    ),
    "measurement without value": (
        "measurements",
        lambda w: {"key_result": w.own.key_result.pk, "date": "2026-01-01"},
        "value",
    ),
    "measurement value not a number": (
        "measurements",
        lambda w: {"key_result": w.own.key_result.pk, "value": "lots"},
        "value",
    ),
    "hypothesis on a key result of another product": (
        "hypotheses",
        lambda w: {
            "product": "checkout",
            "change": "a",
            "expected_outcome": "b",
            "key_result": w.other.key_result.pk,
        },
        "key_result",
    ),
    "hypothesis without change": (
        "hypotheses",
        lambda w: {"product": "checkout", "change": "", "expected_outcome": "b"},
        "change",
    ),
    "roadmap item linked to a key result of another product": (
        "roadmap-items",
        lambda w: {
            "product": "checkout",
            "title": "x",
            "key_results": [w.own.key_result.pk, w.other.key_result.pk],
        },
        "key_results",
    ),
    "roadmap item without title": (
        "roadmap-items",
        lambda w: {"product": "checkout", "title": ""},
        "title",
    ),
    "roadmap item in no horizon": (
        "roadmap-items",
        lambda w: {"product": "checkout", "title": "x", "horizon": "someday"},
        "horizon",
    ),
}


@pytest.mark.parametrize("case", INVALID.keys())
def test_invalid_input_answers_400_with_field_errors(po_api, world, case):
    resource, body, field = INVALID[case]
    before = db_state()
    response = po_api.post(f"{API}/{resource}/", body(world))
    assert response.status_code == 400, response.content
    errors = response.json()
    assert list(errors) == [field], errors
    assert all(isinstance(message, str) and message for message in errors[field])
    assert db_state() == before


INVALID_UPDATES = {
    "target equal to baseline": (
        lambda w: f"key-results/{w.own.key_result.pk}",
        {"target": "0"},
        "target",
    ),
    "target date before start": (
        lambda w: f"key-results/{w.own.key_result.pk}",
        {"target_date": "2025-12-31"},
        "target_date",
    ),
    "renamed to a name taken in the product": (
        lambda w: f"key-results/{w.own.key_result.pk}",
        {"name": "Taken"},
        "name",
    ),
    "empty statement": (lambda w: f"outcomes/{w.own.outcome.pk}", {"statement": ""}, "statement"),
    "hypothesis linked across products": (
        lambda w: f"hypotheses/{w.own.hypothesis.pk}",
        {"key_result": "OTHER"},
        "key_result",
    ),
    "roadmap item linked across products": (
        lambda w: f"roadmap-items/{w.own.item.pk}",
        {"key_results": ["OTHER"]},
        "key_results",
    ),
    "roadmap item emptied title": (
        lambda w: f"roadmap-items/{w.own.item.pk}",
        {"title": " "},
        "title",
    ),
}


@pytest.mark.parametrize("case", INVALID_UPDATES.keys())
def test_invalid_updates_answer_400_and_change_nothing(po_api, world, case, portfolio_manager):
    path, body, field = INVALID_UPDATES[case]
    services.key_result_create(
        actor=portfolio_manager,
        outcome=world.own.outcome,
        name="Taken",
        baseline=D(0),
        target=D(1),
        start_date=START,
        target_date=TARGET,
    )
    other_kr = world.other.key_result.pk
    body = {
        k: ([other_kr] if v == ["OTHER"] else other_kr if v == "OTHER" else v)
        for k, v in body.items()
    }
    before = db_state()
    response = po_api.patch(f"{API}/{path(world)}/", body)
    assert response.status_code == 400, response.content
    assert list(response.json()) == [field], response.json()
    assert db_state() == before


def test_a_key_result_name_may_repeat_across_products(pm_api, world):
    response = pm_api.post(
        f"{API}/key-results/", _kr_body(world.other, name=world.own.key_result.name)
    )
    assert response.status_code == 201, response.content


# Filters, ordering, pagination -----------------------------------------------------------------


@pytest.mark.parametrize(
    "resource",
    ["outcomes", "key-results", "measurements", "hypotheses", "roadmap-items", "change-records"],
)
def test_every_list_filters_by_product_id_or_slug(pm_api, world, resource):
    own = world.own.product
    by_slug = pm_api.get(f"{API}/{resource}/?product=checkout").json()
    by_id = pm_api.get(f"{API}/{resource}/?product={own.pk}").json()
    by_slug_param = pm_api.get(f"{API}/{resource}/?product_slug=checkout").json()
    assert by_slug["count"] > 0
    assert by_slug == by_id == by_slug_param
    assert {row["product"]["id"] for row in by_slug["results"]} == {own.pk}
    everything = pm_api.get(f"{API}/{resource}/").json()["count"]
    assert 0 < by_slug["count"] < everything
    assert pm_api.get(f"{API}/{resource}/?product=nothing").json()["count"] == 0


def test_key_results_filter_by_status_outcome_and_archived(pm_api, world, portfolio_manager):
    kr_archived = services.key_result_create(
        actor=portfolio_manager,
        outcome=world.own.archived,
        name="Of an archived outcome",
        baseline=D(0),
        target=D(1),
        start_date=START,
        target_date=TARGET,
    )
    url = f"{API}/key-results/"
    assert _ids(pm_api.get(f"{url}?outcome={world.own.outcome.pk}")) == [world.own.key_result.pk]
    assert kr_archived.pk not in _ids(pm_api.get(url))
    assert _ids(pm_api.get(f"{url}?archived=true")) == [kr_archived.pk]
    assert kr_archived.pk in _ids(pm_api.get(f"{url}?archived=all"))
    assert set(_ids(pm_api.get(f"{url}?status=on_track"))) == {
        world.own.key_result.pk,
        world.other.key_result.pk,
    }
    assert _ids(pm_api.get(f"{url}?status=no_data")) == []
    assert _ids(pm_api.get(f"{url}?status=no_data&archived=all")) == [kr_archived.pk]
    assert pm_api.get(f"{url}?status=great").status_code == 400
    # The detail finds it whatever the filter
    assert pm_api.get(f"{url}{kr_archived.pk}/").status_code == 200


def test_measurements_filter_by_key_result_and_date_range(pm_api, world, portfolio_manager):
    kr = world.own.key_result
    for n in (10, 100, 200, 300):
        services.measurement_record(actor=portfolio_manager, key_result=kr, date=day(n), value=D(n))
    url = f"{API}/measurements/?key_result={kr.pk}"
    dates = [r["date"] for r in pm_api.get(url).json()["results"]]
    assert dates == [day(n).isoformat() for n in (300, 200, 180, 100, 10)]
    ranged = pm_api.get(f"{url}&date_from={day(100)}&date_to={day(200)}").json()["results"]
    assert [r["date"] for r in ranged] == [day(n).isoformat() for n in (200, 180, 100)]
    oldest_first = pm_api.get(f"{url}&ordering=date").json()["results"]
    assert oldest_first[0]["date"] == day(10).isoformat()
    assert pm_api.get(f"{url}&date_from=soon").status_code == 400


def test_hypotheses_filter_by_status(pm_api, world, portfolio_manager):
    services.hypothesis_update(
        actor=portfolio_manager, hypothesis=world.other.hypothesis, status="testing"
    )
    assert _ids(pm_api.get(f"{API}/hypotheses/?status=testing")) == [world.other.hypothesis.pk]
    assert _ids(pm_api.get(f"{API}/hypotheses/?status=proposed")) == [world.own.hypothesis.pk]


def test_roadmap_items_filter_by_horizon_and_list_in_board_order(pm_api, world, portfolio_manager):
    items = world.own.items
    services.roadmap_item_move(actor=portfolio_manager, item=items[2], horizon="now")
    services.roadmap_item_move(actor=portfolio_manager, item=items[1], horizon="later")
    services.roadmap_item_move(actor=portfolio_manager, item=items[0], horizon="done")
    extra = services.roadmap_item_create(
        actor=portfolio_manager, product=world.own.product, title="Next one", horizon="next"
    )
    rows = pm_api.get(f"{API}/roadmap-items/?product=checkout").json()["results"]
    assert [(r["id"], r["horizon"]) for r in rows] == [
        (items[2].pk, "now"),
        (extra.pk, "next"),
        (items[1].pk, "later"),
        (items[0].pk, "done"),
    ]
    assert _ids(pm_api.get(f"{API}/roadmap-items/?product=checkout&horizon=later")) == [items[1].pk]


def test_change_records_show_who_changed_what(po_api, world):
    kr = world.own.key_result
    po_api.patch(f"{API}/key-results/{kr.pk}/", {"target": "80"})
    rows = po_api.get(
        f"{API}/change-records/?product=checkout&subject_type=key_result&action=updated"
    ).json()["results"]
    assert len(rows) == 1
    row = rows[0]
    assert (row["subject_id"], row["subject_label"], row["actor"]["username"]) == (
        kr.pk,
        kr.name,
        "po",
    )
    assert (row["before"]["target"], row["after"]["target"]) == ("100", "80")
    newest = po_api.get(f"{API}/change-records/?product={world.own.product.pk}").json()["results"]
    assert newest[0]["id"] == row["id"]
    assert [r["id"] for r in newest] == sorted((r["id"] for r in newest), reverse=True)
    one = po_api.get(f"{API}/change-records/{row['id']}/").json()
    assert one == row


def test_lists_paginate(pm_api, world, portfolio_manager):
    kr = world.own.key_result
    for n in range(6):
        services.measurement_record(actor=portfolio_manager, key_result=kr, date=day(n), value=D(n))
    first = pm_api.get(f"{API}/measurements/?product=checkout&page_size=3").json()
    assert (first["count"], len(first["results"])) == (7, 3)
    assert "page=2" in first["next"]
    last = pm_api.get(f"{API}/measurements/?product=checkout&page_size=3&page=3").json()
    assert len(last["results"]) == 1 and last["next"] is None


ORDERINGS = {
    "key-results": ("progress", float),
    "outcomes": ("order", int),
    "hypotheses": ("status_changed_at", datetime.datetime.fromisoformat),
    "roadmap-items": ("position", int),
    "measurements": ("value", Decimal),
    "change-records": ("at", datetime.datetime.fromisoformat),
}


@pytest.mark.parametrize("resource", ORDERINGS.keys())
def test_ordering(pm_api, world, portfolio_manager, resource):
    services.measurement_record(
        actor=portfolio_manager, key_result=world.other.key_result, date=day(200), value=D(90)
    )
    field, parse = ORDERINGS[resource]

    def values(ordering: str) -> list:
        response = pm_api.get(f"{API}/{resource}/?ordering={ordering}&archived=all")
        return [parse(row[field]) for row in response.json()["results"]]

    up, down = values(field), values(f"-{field}")
    assert up == sorted(up)
    assert down == sorted(up, reverse=True)
    assert up != down


# Query counts ---------------------------------------------------------------------------------

# Each request: the session and its user (2), then the page count and the rows.
LIST_QUERIES = {
    "outcomes": 4,  # product joined
    "key-results": 4,  # outcome and product joined
    "measurements": 4,  # key result, product and recorder joined
    "hypotheses": 5,  # + status changes (changed_by joined)
    "roadmap-items": 5,  # + linked key results
    "change-records": 4,  # product and actor joined
}
DETAIL_QUERIES = {
    "outcomes": 3,
    "key-results": 3,
    "measurements": 3,
    "hypotheses": 4,
    "roadmap-items": 4,
    "change-records": 3,
}


def _grow(actor, recorder, n: int) -> None:
    """n products, each with an outcome, a measured key result, a hypothesis that moved status
    and a linked roadmap item: every list has at least n rows (and history many more)."""
    for i in range(n):
        product = ProductFactory(owners=[actor, recorder])
        make_product_outcomes(actor, product, prefix=f"{i} ")
        hypothesis = Hypothesis.objects.filter(product=product).first()
        services.hypothesis_update(actor=actor, hypothesis=hypothesis, status="testing")
        kr = KeyResult.objects.get(product=product)
        services.measurement_record(actor=recorder, key_result=kr, date=day(200), value=D(50))


@pytest.mark.parametrize("n", [2, 20])
@pytest.mark.parametrize("resource", LIST_QUERIES.keys())
def test_list_query_count_does_not_grow(
    api_as, portfolio_manager, product_owner, django_assert_num_queries, n, resource
):
    _grow(portfolio_manager, product_owner, n)
    api = api_as(portfolio_manager)
    with django_assert_num_queries(LIST_QUERIES[resource]):
        response = api.get(f"{API}/{resource}/")
    assert response.status_code == 200
    assert len(response.json()["results"]) >= n


@pytest.mark.parametrize("resource", DETAIL_QUERIES.keys())
def test_detail_query_count(
    api_as, portfolio_manager, product_owner, django_assert_num_queries, resource
):
    _grow(portfolio_manager, product_owner, 3)
    api = api_as(portfolio_manager)
    first = api.get(f"{API}/{resource}/").json()["results"][0]["id"]
    with django_assert_num_queries(DETAIL_QUERIES[resource]):
        response = api.get(f"{API}/{resource}/{first}/")
    assert response.status_code == 200


# Concurrent moves (PostgreSQL row lock) ---------------------------------------------------------


def _waiting_for_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_moves_keep_every_horizon_numbered_0_to_n_minus_1(portfolio_manager):
    """Six connections move items of one product at the same moment, across and within horizons.

    The test holds the product's row until every mover is waiting for it, so they really run at
    once. Without the lock each would renumber from a stale read, leaving duplicate or missing
    places (or tripping the unique constraint).
    """
    product = ProductFactory(owners=[portfolio_manager])
    items = {
        horizon: [
            services.roadmap_item_create(
                actor=portfolio_manager, product=product, title=f"{horizon} {n}", horizon=horizon
            )
            for n in range(4)
        ]
        for horizon in ("now", "next", "later")
    }
    moves = [
        (items["next"][0], "now", 0),
        (items["next"][1], "now", None),
        (items["now"][3], "later", 1),
        (items["later"][0], "later", 3),
        (items["now"][0], "done", None),
        (items["later"][2], "next", 0),
    ]
    errors: list[BaseException] = []

    def move(item: RoadmapItem, horizon: str, position: int | None) -> None:
        try:
            fresh = RoadmapItem.objects.select_related("product").get(pk=item.pk)
            services.roadmap_item_move(
                actor=portfolio_manager, item=fresh, horizon=horizon, position=position
            )
        except BaseException as error:  # reported below, not swallowed
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=move, args=args) for args in moves]
    with transaction.atomic():
        Product.objects.select_for_update().get(pk=product.pk)
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while _waiting_for_locks() < len(threads) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _waiting_for_locks() == len(threads), "every mover should wait for the product"
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    rows = list(
        RoadmapItem.objects.filter(product=product).values_list("pk", "horizon", "position")
    )
    assert len(rows) == 12
    assert {pk for pk, _, _ in rows} == {i.pk for group in items.values() for i in group}
    by_horizon: dict[str, list[int]] = {}
    for _, horizon, position in rows:
        by_horizon.setdefault(horizon, []).append(position)
    for horizon, positions in by_horizon.items():
        assert sorted(positions) == list(range(len(positions))), (horizon, positions)
    assert {h: len(p) for h, p in by_horizon.items()} == {
        "now": 4,  # 4 - 2 out + 2 in
        "next": 3,  # 4 - 2 out + 1 in
        "later": 4,  # 4 - 1 out + 1 in, and one moved within
        "done": 1,
    }
    assert RoadmapItem.objects.get(pk=items["now"][0].pk).horizon == "done"
    assert ChangeRecord.objects.filter(product=product, action="moved").count() == len(moves)
