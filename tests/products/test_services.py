"""Writes of the products app: the 1-FTE rule, archiving, slugs, partial updates, concurrency."""

import datetime
import threading
import time
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portfolio.common.services import model_update, unique_slug
from products.models import Person, Product, Team, TeamMembership
from products.services import (
    discipline_create,
    membership_create,
    membership_end,
    membership_update,
    peak_fte,
    person_archive,
    person_create,
    person_restore,
    product_archive,
    product_create,
    product_restore,
    product_update,
    team_archive,
    team_create,
    team_restore,
    team_update,
)
from tests.products.factories import (
    DisciplineFactory,
    PersonFactory,
    ProductFactory,
    TeamFactory,
    TeamMembershipFactory,
    UserFactory,
)

D = Decimal
JAN_1 = datetime.date(2025, 1, 1)
MAR_1 = datetime.date(2025, 3, 1)
MAR_31 = datetime.date(2025, 3, 31)
APR_1 = datetime.date(2025, 4, 1)


@pytest.fixture
def actor(db):
    return UserFactory(username="actor")


@pytest.fixture
def person(db):
    return PersonFactory(name="Ada Lovelace")


def _fte_error(excinfo) -> str:
    return " ".join(excinfo.value.message_dict["fte"])


# --- peak_fte: the arithmetic behind the rule, on cases worked out by hand ---


def test_peak_fte_of_nothing_is_zero_on_the_first_day():
    assert peak_fte([], JAN_1, None) == (D("0"), JAN_1)


def test_peak_fte_finds_the_day_the_most_ranges_overlap():
    ranges = [
        (JAN_1, None, D("0.5")),
        (datetime.date(2025, 2, 1), datetime.date(2025, 2, 28), D("0.3")),
        (datetime.date(2025, 2, 15), None, D("0.4")),
    ]
    # 0.5 from Jan 1; 0.8 from Feb 1; 1.2 from Feb 15; 0.9 from Mar 1.
    assert peak_fte(ranges, JAN_1, None) == (D("1.2"), datetime.date(2025, 2, 15))


def test_peak_fte_counts_both_end_days():
    ranges = [(JAN_1, MAR_31, D("0.6")), (MAR_31, None, D("0.6"))]
    assert peak_fte(ranges, JAN_1, None) == (D("1.2"), MAR_31)


def test_peak_fte_of_back_to_back_ranges_is_the_larger_one():
    ranges = [(JAN_1, MAR_31, D("0.8")), (APR_1, None, D("0.7"))]
    assert peak_fte(ranges, JAN_1, None) == (D("0.8"), JAN_1)


def test_peak_fte_looks_only_inside_the_window():
    ranges = [(JAN_1, None, D("0.5")), (APR_1, None, D("0.6"))]
    # From Mar 1 to Mar 31 only the first range counts; the second starts after the window.
    assert peak_fte(ranges, MAR_1, MAR_31) == (D("0.5"), MAR_1)
    # An open window reaches the second range.
    assert peak_fte(ranges, MAR_1, None) == (D("1.1"), APR_1)


# --- the 1-FTE rule ---


def test_overlapping_memberships_over_1_fte_are_refused_naming_the_day_and_excess(actor, person):
    membership_create(
        actor=actor, person=person, team=TeamFactory(), fte=D("0.6"), start_date=JAN_1
    )

    with pytest.raises(ValidationError) as excinfo:
        membership_create(
            actor=actor, person=person, team=TeamFactory(), fte=D("0.6"), start_date=MAR_1
        )

    message = _fte_error(excinfo)
    assert "Ada Lovelace" in message
    assert "1.2 FTE" in message
    assert "01 Mar 2025" in message
    assert "0.2 over" in message
    assert person.memberships.count() == 1


def test_the_rule_counts_every_overlapping_team(actor, person):
    for fte in ("0.3", "0.3", "0.3"):
        membership_create(
            actor=actor, person=person, team=TeamFactory(), fte=D(fte), start_date=JAN_1
        )

    with pytest.raises(ValidationError) as excinfo:
        membership_create(
            actor=actor, person=person, team=TeamFactory(), fte=D("0.2"), start_date=JAN_1
        )

    assert "1.1 FTE on 01 Jan 2025" in _fte_error(excinfo)
    membership_create(
        actor=actor, person=person, team=TeamFactory(), fte=D("0.1"), start_date=JAN_1
    )
    assert person.memberships.count() == 4


def test_memberships_that_do_not_overlap_may_each_be_1_fte(actor, person):
    membership_create(
        actor=actor,
        person=person,
        team=TeamFactory(),
        fte=D("1"),
        start_date=JAN_1,
        end_date=MAR_31,
    )
    membership_create(actor=actor, person=person, team=TeamFactory(), fte=D("1"), start_date=APR_1)

    assert person.memberships.count() == 2


def test_a_future_membership_is_checked_against_the_days_it_covers(actor, person):
    membership_create(actor=actor, person=person, team=TeamFactory(), fte=D("1"), start_date=APR_1)

    with pytest.raises(ValidationError) as excinfo:
        membership_create(
            actor=actor,
            person=person,
            team=TeamFactory(),
            fte=D("0.5"),
            start_date=JAN_1,
            end_date=APR_1,
        )

    assert "1.5 FTE on 01 Apr 2025" in _fte_error(excinfo)


def test_other_people_do_not_count(actor, person):
    team = TeamFactory()
    membership_create(actor=actor, person=person, team=team, fte=D("1"), start_date=JAN_1)

    membership_create(actor=actor, person=PersonFactory(), team=team, fte=D("1"), start_date=JAN_1)

    assert team.memberships.count() == 2


def test_ending_a_membership_frees_capacity_from_the_next_day(actor, person):
    first = membership_create(
        actor=actor, person=person, team=TeamFactory(), fte=D("1"), start_date=JAN_1
    )
    second_team = TeamFactory()

    membership_end(actor=actor, membership=first, end_date=MAR_31)

    first.refresh_from_db()
    assert first.end_date == MAR_31
    with pytest.raises(ValidationError) as excinfo:
        membership_create(
            actor=actor, person=person, team=second_team, fte=D("1"), start_date=MAR_31
        )
    assert "31 Mar 2025" in _fte_error(excinfo)
    membership_create(actor=actor, person=person, team=second_team, fte=D("1"), start_date=APR_1)
    assert person.memberships.count() == 2


def test_raising_a_membership_is_checked_against_the_others_but_not_itself(actor, person):
    membership = membership_create(
        actor=actor, person=person, team=TeamFactory(), fte=D("0.6"), start_date=JAN_1
    )
    membership_update(actor=actor, membership=membership, fte=D("1"))
    membership.refresh_from_db()
    assert membership.fte == D("1")

    membership_update(actor=actor, membership=membership, fte=D("0.5"))
    membership_create(
        actor=actor, person=person, team=TeamFactory(), fte=D("0.5"), start_date=JAN_1
    )
    with pytest.raises(ValidationError) as excinfo:
        membership_update(actor=actor, membership=membership, fte=D("0.75"))

    assert "0.25 over" in _fte_error(excinfo)
    membership.refresh_from_db()
    assert membership.fte == D("0.5")


def test_bad_membership_input_writes_nothing(actor, person):
    team = TeamFactory()
    for fte in (D("1.5"), D("0")):
        with pytest.raises(ValidationError) as excinfo:
            membership_create(actor=actor, person=person, team=team, fte=fte, start_date=JAN_1)
        assert "fte" in excinfo.value.message_dict
    with pytest.raises(ValidationError) as excinfo:
        membership_create(
            actor=actor,
            person=person,
            team=team,
            fte=D("0.5"),
            start_date=MAR_1,
            end_date=JAN_1,
        )
    assert "end_date" in excinfo.value.message_dict
    assert not TeamMembership.objects.exists()


# --- archiving ---


def test_archiving_a_team_ends_its_current_memberships_today(actor):
    today = timezone.localdate()
    team = TeamFactory()
    current = TeamMembershipFactory(team=team, start_date=JAN_1)
    ended = TeamMembershipFactory(team=team, start_date=JAN_1, end_date=MAR_31)
    future = TeamMembershipFactory(team=team, start_date=today + datetime.timedelta(days=30))
    elsewhere = TeamMembershipFactory(start_date=JAN_1)

    team_archive(actor=actor, team=team)

    team.refresh_from_db()
    assert team.is_archived
    for membership in (current, ended, future, elsewhere):
        membership.refresh_from_db()
    assert current.end_date == today
    assert ended.end_date == MAR_31
    assert future.end_date == future.start_date  # never before its start
    assert elsewhere.end_date is None


def test_archiving_a_person_ends_their_current_memberships_and_frees_them(actor, person):
    today = timezone.localdate()
    membership = TeamMembershipFactory(person=person, fte=D("1"), start_date=JAN_1)

    person_archive(actor=actor, person=person)

    membership.refresh_from_db()
    person.refresh_from_db()
    assert membership.end_date == today
    assert person.is_archived
    assert Person.objects.active().filter(pk=person.pk).exists() is False


def test_archive_and_restore_are_idempotent(actor):
    product = ProductFactory()

    product_archive(actor=actor, product=product)
    first = product.archived_at
    product_archive(actor=actor, product=product)
    product.refresh_from_db()

    assert product.archived_at == first is not None
    product_restore(actor=actor, product=product)
    product_restore(actor=actor, product=product)
    product.refresh_from_db()
    assert product.archived_at is None


def test_restoring_a_team_or_person_keeps_ended_memberships_ended(actor, person):
    team = TeamFactory()
    membership = TeamMembershipFactory(team=team, person=person, start_date=JAN_1)
    team_archive(actor=actor, team=team)
    person_archive(actor=actor, person=person)

    team_restore(actor=actor, team=team)
    person_restore(actor=actor, person=person)

    membership.refresh_from_db()
    assert not team.is_archived and not person.is_archived
    assert membership.end_date == timezone.localdate()


# --- creating and updating ---


def test_slugs_are_made_from_the_name_and_kept_unique(actor):
    first = product_create(actor=actor, name="Checkout")
    second = product_create(actor=actor, name="Checkout")
    third = product_create(actor=actor, name="Checkout")

    assert [first.slug, second.slug, third.slug] == ["checkout", "checkout-2", "checkout-3"]
    assert unique_slug(Product, "Checkout") == "checkout-4"
    assert unique_slug(Product, "Checkout", exclude_pk=first.pk) == "checkout"
    assert unique_slug(Product, "!!!") == "item"


def test_a_duplicate_explicit_slug_is_refused(actor):
    product_create(actor=actor, name="Checkout", slug="checkout")

    with pytest.raises(ValidationError) as excinfo:
        product_create(actor=actor, name="Another", slug="checkout")

    assert "slug" in excinfo.value.message_dict
    assert Product.objects.count() == 1


def test_an_empty_name_is_refused_and_nothing_is_written(actor):
    with pytest.raises(ValidationError) as excinfo:
        product_create(actor=actor, name="", slug="nameless")

    assert "name" in excinfo.value.message_dict
    assert not Product.objects.exists()


def test_create_sets_the_many_to_many_links(actor):
    owner = UserFactory()
    product = product_create(actor=actor, name="Search", lifecycle_stage="mature", owners=[owner])
    team = team_create(actor=actor, name="Finders", products=[product])

    assert list(product.owners.all()) == [owner]
    assert list(team.products.all()) == [product]
    assert product.lifecycle_stage == Product.Stage.MATURE


def test_people_and_disciplines_are_created_with_their_rules(actor):
    engineer = discipline_create(actor=actor, name="Site reliability")
    assert engineer.slug == "site-reliability"

    person = person_create(
        actor=actor, name="Grace Hopper", email="grace@example.com", discipline=engineer
    )
    assert person.discipline == engineer

    with pytest.raises(ValidationError) as excinfo:
        person_create(actor=actor, name="Impostor", email="grace@example.com", discipline=engineer)
    assert "email" in excinfo.value.message_dict
    assert Person.objects.count() == 1


def test_model_update_saves_only_the_fields_that_changed(actor):
    product = ProductFactory(name="Checkout", description="Old")
    stale_copy = Product.objects.get(pk=product.pk)

    with CaptureQueriesContext(connection) as queries:
        _, changed = model_update(
            instance=product, fields=("name", "description"), data={"description": "New"}
        )

    assert changed is True
    updates = [q["sql"] for q in queries if q["sql"].startswith("UPDATE")]
    assert len(updates) == 1
    assert '"description"' in updates[0] and '"updated_at"' in updates[0]
    assert '"name"' not in updates[0].split("WHERE")[0]
    # A concurrent change to another field is not overwritten by the stale copy.
    model_update(instance=stale_copy, fields=("name", "description"), data={"name": "Pay"})
    product.refresh_from_db()
    assert (product.name, product.description) == ("Pay", "New")


def test_model_update_without_changes_writes_nothing(actor, django_assert_num_queries):
    product = ProductFactory(name="Checkout")
    before = product.updated_at

    with django_assert_num_queries(0):
        _, changed = model_update(instance=product, fields=("name",), data={"name": "Checkout"})

    assert changed is False
    product.refresh_from_db()
    assert product.updated_at == before


def test_update_validates_before_saving(actor):
    product = ProductFactory(name="Checkout")

    with pytest.raises(ValidationError):
        product_update(actor=actor, product=product, name="")

    product.refresh_from_db()
    assert product.name == "Checkout"


def test_update_changes_the_many_to_many_links(actor):
    first, second = ProductFactory(), ProductFactory()
    team = TeamFactory(products=[first])

    team_update(actor=actor, team=team, products=[second], mission="Find things")

    team.refresh_from_db()
    assert list(team.products.all()) == [second]
    assert team.mission == "Find things"
    assert Team.objects.get(pk=team.pk).mission == "Find things"


# --- two writers at once (PostgreSQL row lock) ---


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
def test_two_concurrent_memberships_cannot_together_exceed_1_fte():
    """Two connections each add 0.6 FTE for the same person at the same moment: one wins.

    The test holds the person's row until both writers are waiting, so they really run at
    once. Without the lock in membership_check_capacity both would read "no other
    memberships" and both would be saved.
    """
    actor = UserFactory(username="actor")
    person = PersonFactory(discipline=DisciplineFactory())
    teams = [TeamFactory(), TeamFactory()]
    outcomes: list[object] = []

    def add(team: Team) -> None:
        try:
            membership_create(actor=actor, person=person, team=team, fte=D("0.6"), start_date=JAN_1)
            outcomes.append("saved")
        except ValidationError as error:
            outcomes.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=add, args=(team,)) for team in teams]
    with transaction.atomic():
        Person.objects.select_for_update().get(pk=person.pk)
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while _waiting_for_locks() < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _waiting_for_locks() == 2, "both writers should be waiting for the person's row"
    for thread in threads:
        thread.join(timeout=20)

    assert outcomes.count("saved") == 1, outcomes
    refused = next(o for o in outcomes if isinstance(o, ValidationError))
    assert "1.2 FTE" in " ".join(refused.message_dict["fte"])
    assert TeamMembership.objects.filter(person=person).count() == 1
