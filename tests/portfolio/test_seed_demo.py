"""``manage.py seed_demo``: a believable organisation, the same after any number of runs."""

import hashlib
import io
import re
from collections import defaultdict
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from portfolio.management.commands.seed_demo import DEMO_PASSWORD, LOGINS
from products.models import Discipline, Person, Product, Team, TeamMembership
from products.services import FTE_LIMIT, peak_fte
from tests.conftest import ensure_roles
from valuestreams.models import ValueStream

pytestmark = pytest.mark.django_db

SEEDED_APPS = ("auth", "products", "valuestreams")
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


@pytest.fixture
def seeded(db):
    ensure_roles()
    return seed()


def test_a_second_run_changes_nothing_and_duplicates_nothing(seeded):
    counts, digest = fingerprint()
    second = seed()
    assert fingerprint() == (counts, digest)
    summary = [line for line in second.splitlines() if "unchanged" in line]
    assert len(summary) == 7
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


def test_refused_without_force_when_debug_is_off(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        call_command("seed_demo", stdout=io.StringIO())
    assert not Product.objects.exists()


def test_runs_without_force_when_debug_is_on(db, settings):
    ensure_roles()
    settings.DEBUG = True
    call_command("seed_demo", stdout=io.StringIO())
    assert Product.objects.count() == 25
