"""``manage.py seed_demo``: a believable organisation, the same after any number of runs."""

import datetime
import hashlib
import io
import re
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, Max, Min
from django.test import override_settings
from django.utils import timezone

from portfolio.management.commands.seed_demo import DEMO_PASSWORD, LOGINS
from products.demo_outcomes import PLANS, month_start, seed_outcomes
from products.models import (
    ChangeRecord,
    Discipline,
    Hypothesis,
    KeyResult,
    Measurement,
    Person,
    Product,
    RoadmapItem,
    Team,
    TeamMembership,
)
from products.services import FTE_LIMIT, peak_fte
from tests.conftest import ensure_roles
from valuestreams.demo_work import SOURCE, seed_work_items
from valuestreams.models import FlowSnapshot, StatusChange, ValueStream, WorkItem

pytestmark = pytest.mark.django_db

SEEDED_APPS = ("auth", "products", "valuestreams", "funding", "portfolio")
VOLATILE_FIELDS = {"password", "last_login"}


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", force=True, stdout=out)
    return out.getvalue()


def fingerprint() -> tuple[dict[str, int], str]:
    """Row counts per table and a hash of every row (all fields, many-to-many links included)."""
    counts: dict[str, int] = {}
    digest = hashlib.sha256()
    for app_label in SEEDED_APPS:
        for model in apps.get_app_config(app_label).get_models():
            rows = model._default_manager.order_by("pk")
            counts[model._meta.label] = rows.count()
            fields = [f for f in model._meta.concrete_fields if f.name not in VOLATILE_FIELDS]
            for row in rows:
                digest.update(repr([f.value_from_object(row) for f in fields]).encode())
            for m2m in model._meta.many_to_many:
                through = m2m.remote_field.through
                for link in through._default_manager.order_by("pk").values_list():
                    digest.update(repr((model._meta.label, m2m.name, link)).encode())
    return counts, digest.hexdigest()


@pytest.fixture(scope="module")
def _seeded_once(django_db_setup, django_db_blocker):
    """Seed the demo once for the whole module (it takes seconds), inside a transaction that is
    rolled back when the module is done. Each test runs in a savepoint within it (the ``db``
    fixture), so what a test changes is undone before the next one."""
    # The same fast hasher the per-test settings give (tests/conftest.py), or the sign-ins'
    # passwords would not check out inside the tests.
    fast = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
    with django_db_blocker.unblock(), fast:
        outer = transaction.atomic()
        outer.__enter__()
        try:
            ensure_roles()
            yield seed()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def seeded(_seeded_once, db):
    return _seeded_once


def test_a_second_run_changes_nothing_and_duplicates_nothing(seeded):
    counts, digest = fingerprint()
    second = seed()
    assert fingerprint() == (counts, digest)
    summary = [line for line in second.splitlines() if "unchanged" in line]
    # 12 + value stream maps, map steps, improvement outcomes, work items, status changes
    # (no "flow snapshots": nothing was ingested, so nothing is recomputed)
    # + fiscal periods, rates, envelopes, allocations, actuals, scenarios
    # + transition assessments
    # + pitfall records, and the allocation change the pitfall demo dates back
    assert len(summary) == 26
    assert all(re.search(r"\b0 created\s+0 updated", line) for line in summary), second


def test_a_run_repairs_what_was_changed_by_hand(seeded):
    counts, _ = fingerprint()
    Product.objects.filter(slug="payment-hub").update(name="Renamed by hand")
    ValueStream.objects.get(slug="payments").products.clear()
    po = get_user_model().objects.get(username="po")
    po.set_password("changed")
    po.save()
    output = seed()
    assert fingerprint()[0] == counts
    assert Product.objects.get(slug="payment-hub").name == "Payment hub"
    assert ValueStream.objects.get(slug="payments").products.count() == 6
    assert get_user_model().objects.get(username="po").check_password(DEMO_PASSWORD)
    assert re.search(r"products\s+0 created\s+1 updated", output), output
    assert re.search(r"users\s+0 created\s+1 updated", output), output


def test_the_organisation_has_the_expected_size(seeded):
    assert ValueStream.objects.count() == 5
    assert set(ValueStream.objects.values_list("kind", flat=True)) == {
        "development",
        "operational",
    }
    assert not ValueStream.objects.filter(customer="").exists()
    assert not ValueStream.objects.filter(value_delivered="").exists()
    assert not ValueStream.objects.filter(owner=None).exists()
    assert Product.objects.count() == 25
    assert Team.objects.count() == 12
    assert Person.objects.count() == 80
    assert Discipline.objects.count() == 6
    assert 90 <= TeamMembership.objects.count() <= 120
    # Every product serves a value stream and has a team; some serve two streams.
    assert not Product.objects.filter(value_streams=None).exists()
    assert not Product.objects.filter(teams=None).exists()
    shared = [
        p
        for p in Product.objects.prefetch_related("value_streams")
        if len(p.value_streams.all()) == 2
    ]
    assert 3 <= len(shared) <= 10


def test_memberships_never_exceed_one_fte_on_any_day(seeded):
    by_person = defaultdict(list)
    for m in TeamMembership.objects.all():
        by_person[m.person_id].append((m.start_date, m.end_date, m.fte))
    assert len(by_person) == 80
    for ranges in by_person.values():
        first_day = min(start for start, _, _ in ranges)
        peak, _ = peak_fte(ranges, first_day, None)
        assert peak <= FTE_LIMIT
    ftes = sorted(m.fte for m in TeamMembership.objects.filter(end_date=None))
    assert ftes.count(Decimal(1)) > 50  # most people: 1.0 in one team
    assert 10 <= ftes.count(Decimal("0.5")) <= 40  # some split 0.5/0.5
    assert 3 <= TeamMembership.objects.exclude(end_date=None).count() <= 10  # a few moved on


def test_every_team_is_cross_functional(seeded):
    for team in Team.objects.all():
        disciplines = set(
            team.memberships.filter(end_date=None).values_list(
                "person__discipline__slug", flat=True
            )
        )
        assert {"engineer", "product-manager", "designer", "qa"} <= disciplines, team.slug


@pytest.mark.parametrize(("username", "role", "first", "last", "what"), LOGINS)
def test_each_role_has_a_sign_in(client, seeded, username, role, first, last, what):
    user = get_user_model().objects.get(username=username)
    assert list(user.groups.values_list("name", flat=True)) == [role]
    assert (user.first_name, user.last_name) == (first, last)
    assert user.check_password(DEMO_PASSWORD)
    assert not user.is_superuser and not user.is_staff
    assert client.login(username=username, password=DEMO_PASSWORD)
    assert username in seeded  # the summary lists the sign-ins


def test_no_superuser_and_po_owns_several_products(seeded):
    assert not get_user_model().objects.filter(is_superuser=True).exists()
    po = get_user_model().objects.get(username="po")
    assert 4 <= po.owned_products.count() <= 6
    assert po.person.discipline.slug == "product-manager"
    assert po.person.memberships.filter(end_date=None).exists()


# --- Outcomes, hypotheses and roadmaps ---------------------------------------------------------


def test_every_product_has_outcomes_with_a_spread_of_statuses(seeded):
    today = timezone.localdate()
    anchor = today.replace(day=1)
    products = Product.objects.annotate(
        outcomes_n=Count("outcomes", distinct=True),
        key_results_n=Count("key_results", distinct=True),
    )
    assert {p.slug for p in products} == set(PLANS)
    for product in products:
        assert 1 <= product.outcomes_n <= 2, product.slug
        assert 2 <= product.key_results_n <= 3, product.slug

    statuses = Counter(KeyResult.objects.values_list("status", flat=True))
    assert statuses["on_track"] >= 20
    assert statuses["at_risk"] >= 8
    assert statuses["off_track"] >= 6
    assert 1 <= statuses["no_data"] <= 5
    assert statuses["on_track"] > statuses["at_risk"] > statuses["off_track"]
    stale = KeyResult.objects.stale(today)
    assert stale.exists()
    assert all(kr.latest_date < today - datetime.timedelta(days=30) for kr in stale)

    # Decrease-direction results (cost, time to market) and customer-facing ones are there.
    assert KeyResult.objects.filter(direction="decrease", kind="cost_reduction").exists()
    assert KeyResult.objects.filter(direction="decrease", kind="time_to_market").exists()
    assert KeyResult.objects.filter(customer_facing=True).count() >= 15
    assert KeyResult.objects.filter(customer_facing=False).count() >= 15

    # A year of monthly measurements ending this month, except for the stale and new ones.
    spans = KeyResult.objects.annotate(
        n=Count("measurements"), first=Min("measurements__date"), last=Max("measurements__date")
    )
    current = [kr for kr in spans if kr.last == anchor]
    assert (
        len(current)
        == statuses["on_track"] + statuses["at_risk"] + statuses["off_track"] - stale.count()
    )
    assert all(kr.n == 0 or (kr.n <= 13 and kr.first >= month_start(anchor, -12)) for kr in spans)
    assert max(kr.n for kr in spans) == 13
    assert not Measurement.objects.filter(date__gt=anchor).exists()
    # The figures are the ones the services store: progress between 0 and 100.
    assert not KeyResult.objects.exclude(status="no_data").filter(progress__isnull=True).exists()


def test_hypotheses_have_their_status_histories(seeded):
    per_product = Counter(Hypothesis.objects.values_list("product__slug", flat=True))
    assert set(per_product) == set(PLANS)
    assert all(1 <= n <= 3 for n in per_product.values())
    assert set(Hypothesis.objects.values_list("status", flat=True)) == {
        "proposed",
        "testing",
        "validated",
        "invalidated",
    }
    for hypothesis in Hypothesis.objects.prefetch_related("status_changes"):
        changes = list(hypothesis.status_changes.all())
        assert changes[0].from_status == ""
        assert changes[-1].to_status == hypothesis.status
        assert changes[-1].changed_at == hypothesis.status_changed_at
        assert [c.changed_at for c in changes] == sorted({c.changed_at for c in changes})
        assert hypothesis.status_changed_at < timezone.now()
    assert Hypothesis.objects.exclude(evidence="").count() >= 5


def test_every_product_has_a_roadmap_mostly_linked_to_key_results(seeded):
    for product in Product.objects.all():
        items = RoadmapItem.objects.filter(product=product)
        assert items.filter(horizon="now").exists(), product.slug
        for horizon in ("now", "next", "later", "done"):
            positions = list(
                items.filter(horizon=horizon)
                .order_by("position")
                .values_list("position", flat=True)
            )
            assert positions == list(range(len(positions)))
        for item in items.prefetch_related("key_results"):
            assert all(kr.product_id == product.pk for kr in item.key_results.all())
    unlinked = RoadmapItem.objects.filter(key_results__isnull=True)
    assert 5 <= unlinked.count() <= RoadmapItem.objects.count() // 5
    assert unlinked.filter(horizon__in=["now", "next"]).exists()
    assert RoadmapItem.objects.filter(horizon="done").count() >= 15


def test_the_history_is_written_by_the_owners_on_the_dates_things_happened(seeded):
    po = get_user_model().objects.get(username="po")
    mine = ChangeRecord.objects.filter(product__owners=po)
    assert mine.exists()
    assert set(mine.values_list("actor__username", flat=True)) == {"po"}
    # The product without an owner is written by the portfolio manager.
    unowned = ChangeRecord.objects.filter(product__slug="policy-administration")
    assert set(unowned.values_list("actor__username", flat=True)) == {"pm"}
    assert set(
        Measurement.objects.filter(key_result__product__owners=po).values_list(
            "recorded_by__username", flat=True
        )
    ) == {"po"}
    # A measurement's history row is dated on its day; the history spans the year.
    for record in ChangeRecord.objects.filter(subject_type="measurement")[:50]:
        assert record.at.date() == Measurement.objects.get(pk=record.subject_id).date
    span = ChangeRecord.objects.aggregate(first=Min("at"), last=Max("at"))
    assert span["last"] - span["first"] > datetime.timedelta(days=365)
    assert span["last"] <= timezone.now()


def test_a_run_in_a_later_month_moves_the_year_forward_without_duplicates(seeded):
    pm = get_user_model().objects.get(username="pm")
    anchor = timezone.localdate().replace(day=1)
    next_month = month_start(anchor, 1)
    before = Counter(KeyResult.objects.values_list("status", flat=True))
    measured = KeyResult.objects.exclude(status="no_data").count()

    stats = seed_outcomes(actor=pm, today=next_month + datetime.timedelta(days=9))

    assert stats.created["measurements"] == measured  # one more month each (stale: a month late)
    assert stats.updated["key results"] == KeyResult.objects.count()  # dates a month on
    assert stats.created["hypotheses"] == stats.created["roadmap items"] == 0
    assert (
        Measurement.objects.filter(date=next_month).count()
        == measured - KeyResult.objects.stale(next_month + datetime.timedelta(days=9)).count()
    )
    assert Counter(KeyResult.objects.values_list("status", flat=True)) == before
    assert not stats.skipped
    # ... and a second run that month changes nothing.
    counts, digest = fingerprint()
    again = seed_outcomes(actor=pm, today=next_month + datetime.timedelta(days=20))
    assert fingerprint() == (counts, digest)
    assert not again.created and not again.updated


def test_every_product_has_a_year_of_work_items_with_believable_histories(seeded):
    per_product = Counter(WorkItem.objects.values_list("product__slug", flat=True))
    assert set(per_product) == set(Product.objects.values_list("slug", flat=True))
    assert all(20 <= n <= 60 for n in per_product.values()), per_product
    assert set(WorkItem.objects.values_list("source__slug", flat=True)) == {SOURCE}
    types = Counter(WorkItem.objects.values_list("type", flat=True))
    assert set(types) == {"feature", "defect", "risk", "debt"}  # every tracker type mapped
    assert types["feature"] > types["defect"] > max(types["risk"], types["debt"])
    histories: dict[int, list[str]] = defaultdict(list)
    for item_id, status in StatusChange.objects.order_by("at", "id").values_list(
        "item_id", "to_status"
    ):
        histories[item_id].append(status)
    assert len(histories) == WorkItem.objects.count()
    assert all(h[0] == "To Do" for h in histories.values())
    done = [h for h in histories.values() if h[-1] == "Done"]
    reopened = [h for h in done if h.count("Done") > 1]
    from_backlog = [h for h in done if h == ["To Do", "Done"]]
    in_progress = [h for h in histories.values() if h[-1] != "Done" and len(h) > 1]
    assert len(done) > len(histories) * 0.8
    assert reopened and from_backlog and in_progress
    assert any("Blocked" in h for h in done) and any("Ready for QA" in h for h in done)
    anchor = timezone.localdate().replace(day=1)
    span = StatusChange.objects.aggregate(first=Min("at"), last=Max("at"))
    assert span["last"].date() < anchor
    assert (anchor - span["first"].date()).days <= 366


def test_every_product_with_items_has_flow_snapshots(seeded):
    with_items = set(WorkItem.objects.values_list("product_id", flat=True))
    with_snapshots = set(
        FlowSnapshot.objects.exclude(product=None).values_list("product_id", flat=True)
    )
    assert with_items and with_items <= with_snapshots
    busy = FlowSnapshot.objects.filter(window="month", product__isnull=False, velocity__gt=0)
    assert busy.count() > 100
    assert FlowSnapshot.objects.filter(value_stream__isnull=False).exists()


def test_a_second_run_adds_no_work_items_or_status_changes(seeded):
    pm = get_user_model().objects.get(username="pm")
    items, changes = WorkItem.objects.count(), StatusChange.objects.count()
    snapshots = list(FlowSnapshot.objects.order_by("pk").values_list("pk", "computed_at"))

    stats = seed_work_items(actor=pm)

    assert not any(stats.created.values()) and not any(stats.updated.values())
    assert stats.unchanged["work items"] == items
    assert stats.unchanged["status changes"] == changes
    assert (WorkItem.objects.count(), StatusChange.objects.count()) == (items, changes)
    assert list(FlowSnapshot.objects.order_by("pk").values_list("pk", "computed_at")) == snapshots


def _midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), tzinfo=datetime.UTC)


def test_work_items_in_a_later_month_add_that_month_without_duplicates(seeded):
    pm = get_user_model().objects.get(username="pm")
    anchor = timezone.localdate().replace(day=1)
    next_month = month_start(anchor, 1)
    items, changes = WorkItem.objects.count(), StatusChange.objects.count()

    stats = seed_work_items(actor=pm, today=next_month + datetime.timedelta(days=3))

    assert stats.updated["work items"] == 0
    assert (
        stats.unchanged["work items"]
        == items
        - WorkItem.objects.filter(created_at__lt=_midnight(month_start(anchor, -11))).count()
    )
    assert stats.created["work items"] == WorkItem.objects.count() - items > 0
    assert stats.created["status changes"] == StatusChange.objects.count() - changes > 0
    assert StatusChange.objects.filter(
        at__gte=_midnight(anchor), at__lt=_midnight(next_month)
    ).exists()


def test_the_transition_history_puts_the_organisation_at_stage_3(seeded):
    from portfolio.models import TransitionAssessment, TransitionUnit

    organisation = TransitionUnit.objects.get(value_stream=None)
    assert organisation.stage == 3
    streams = dict(
        TransitionUnit.objects.filter(value_stream__isnull=False).values_list(
            "value_stream__slug", "stage"
        )
    )
    assert len(streams) == 5
    assert set(streams.values()) <= {2, 3, 4}
    assert min(streams.values()) == 2 and max(streams.values()) == 4
    assert (
        TransitionAssessment.objects.filter(outcome="overridden")
        .exclude(override_reason="")
        .exists()
    )
