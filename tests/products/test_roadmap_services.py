"""Writes of the outcome-based roadmap: places in now / next / later / done stay exactly 0..n-1.

Adding appends, moving within and across horizons renumbers, deleting closes the gap; links go
only to the product's own key results; every change is recorded; only the product's owners and
portfolio managers may write; and concurrent moves on PostgreSQL never duplicate or lose a place.
"""

import datetime
import random
import threading
import time
from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone

from products import services
from products.models import ChangeRecord, KeyResult, Product, RoadmapItem
from tests.products.factories import (
    KeyResultFactory,
    OutcomeFactory,
    ProductFactory,
    RoadmapItemFactory,
    outcome_rows,
)

HORIZONS = RoadmapItem.Horizon.values  # now, next, later, done


@pytest.fixture
def owner(make_user):
    return make_user("owner", "product_owner")


@pytest.fixture
def product(owner):
    return ProductFactory(name="Checkout", slug="checkout", owners=[owner])


@pytest.fixture
def kr(product):
    return KeyResultFactory(outcome=OutcomeFactory(product=product), name="Conversion")


def board(product: Product) -> dict[str, list[str]]:
    """Each horizon's titles in position order, after checking positions are exactly 0..n-1."""
    result: dict[str, list[str]] = {}
    for horizon in HORIZONS:
        rows = list(
            RoadmapItem.objects.filter(product=product, horizon=horizon)
            .order_by("position")
            .values_list("position", "title")
        )
        assert [position for position, _ in rows] == list(range(len(rows))), (horizon, rows)
        if rows:
            result[horizon] = [title for _, title in rows]
    return result


def add(actor, product, *titles: str, horizon: str = "now") -> list[RoadmapItem]:
    return [
        services.roadmap_item_create(actor=actor, product=product, title=title, horizon=horizon)
        for title in titles
    ]


def item(title: str) -> RoadmapItem:
    return RoadmapItem.objects.get(title=title)


def history(**filters) -> list[ChangeRecord]:
    return list(ChangeRecord.objects.filter(subject_type="roadmap_item", **filters).order_by("id"))


# --- Adding -------------------------------------------------------------------------------------


def test_new_items_go_last_in_their_horizon(owner, product):
    add(owner, product, "A", "B", "C")
    add(owner, product, "X", horizon="next")
    services.roadmap_item_create(actor=owner, product=product, title="Someday")

    assert board(product) == {"now": ["A", "B", "C"], "next": ["X"], "later": ["Someday"]}


def test_an_item_is_linked_to_the_key_results_it_should_move(owner, product, kr):
    other = KeyResultFactory(outcome=kr.outcome, name="Basket size")
    new = services.roadmap_item_create(
        actor=owner, product=product, title="One-page checkout", key_results=[other, kr]
    )

    assert set(new.key_results.all()) == {kr, other}
    [record] = history()
    assert (record.action, record.actor, record.subject_label) == (
        "created",
        owner,
        "One-page checkout",
    )
    assert record.after == {
        "title": "One-page checkout",
        "description": "",
        "horizon": "later",
        "position": 0,
        "key_results": sorted([kr.pk, other.pk]),
    }


def test_a_key_result_of_another_product_cannot_be_linked(owner, product, kr):
    foreign = KeyResultFactory(outcome=OutcomeFactory(product=ProductFactory(owners=[owner])))
    existing = RoadmapItemFactory(product=product, title="Keep", key_results=[kr])
    before = outcome_rows()

    with pytest.raises(ValidationError) as excinfo:
        services.roadmap_item_create(
            actor=owner, product=product, title="Mixed", key_results=[kr, foreign]
        )
    assert excinfo.value.message_dict == {"key_results": ["Link only key results of this product."]}
    with pytest.raises(ValidationError) as excinfo:
        services.roadmap_item_update(actor=owner, item=existing, key_results=[foreign])
    assert list(excinfo.value.message_dict) == ["key_results"]

    assert outcome_rows() == before
    assert list(item("Keep").key_results.all()) == [kr]


def test_an_item_needs_a_title(owner, product):
    with pytest.raises(ValidationError) as excinfo:
        services.roadmap_item_create(actor=owner, product=product, title="")
    assert list(excinfo.value.message_dict) == ["title"]
    assert outcome_rows() == [[] for _ in outcome_rows()]


# --- Editing ------------------------------------------------------------------------------------


def test_an_edit_changes_title_and_links_and_records_both(owner, product, kr):
    [a] = add(owner, product, "A")

    services.roadmap_item_update(
        actor=owner, item=a, title="Apple Pay", description="Wallet payments", key_results=[kr]
    )

    a = item("Apple Pay")
    assert (a.description, list(a.key_results.all())) == ("Wallet payments", [kr])
    record = history(action="updated")[0]
    assert sorted(record.changed_fields()) == [
        ("description", "", "Wallet payments"),
        ("key_results", [], [kr.pk]),
        ("title", "A", "Apple Pay"),
    ]


def test_links_are_kept_unless_given_and_cleared_by_an_empty_list(owner, product, kr):
    a = RoadmapItemFactory(product=product, title="A", key_results=[kr])

    services.roadmap_item_update(actor=owner, item=a, title="A2")
    assert list(a.key_results.all()) == [kr]

    services.roadmap_item_update(actor=owner, item=a, key_results=[])
    assert not a.key_results.exists()


def test_an_edit_that_changes_nothing_records_nothing(owner, product, kr):
    a = RoadmapItemFactory(product=product, title="A", key_results=[kr])
    services.roadmap_item_update(actor=owner, item=a, title="A", key_results=[kr])
    assert not ChangeRecord.objects.exists()


def test_an_edit_cannot_move_an_item(owner, product):
    [a] = add(owner, product, "A")
    with pytest.raises(TypeError, match="horizon"):
        services.roadmap_item_update(actor=owner, item=a, horizon="done")
    assert item("A").horizon == "now"


# --- Moving -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "position", "expected"),
    [
        ("D", 0, ["D", "A", "B", "C"]),
        ("A", 2, ["B", "C", "A", "D"]),
        ("B", 1, ["A", "B", "C", "D"]),  # where it already is
        ("A", None, ["B", "C", "D", "A"]),  # None: last
        ("B", 99, ["A", "C", "D", "B"]),  # beyond the end: last
        ("C", 3, ["A", "B", "D", "C"]),
    ],
)
def test_moving_within_a_horizon(owner, product, title, position, expected):
    add(owner, product, "A", "B", "C", "D")
    add(owner, product, "X", "Y", horizon="next")

    services.roadmap_item_move(actor=owner, item=item(title), horizon="now", position=position)

    assert board(product) == {"now": expected, "next": ["X", "Y"]}


def test_moving_across_horizons_closes_the_gap_behind(owner, product):
    add(owner, product, "A", "B", "C")
    add(owner, product, "X", "Y", horizon="next")

    services.roadmap_item_move(actor=owner, item=item("B"), horizon="next", position=1)
    assert board(product) == {"now": ["A", "C"], "next": ["X", "B", "Y"]}

    services.roadmap_item_move(actor=owner, item=item("A"), horizon="done")
    services.roadmap_item_move(actor=owner, item=item("Y"), horizon="now", position=0)
    services.roadmap_item_move(actor=owner, item=item("C"), horizon="later", position=5)
    assert board(product) == {"now": ["Y"], "next": ["X", "B"], "later": ["C"], "done": ["A"]}


def test_a_move_reads_the_places_as_they_are_not_as_the_caller_saw_them(owner, product):
    add(owner, product, "A", "B", "C")
    stale_copy = item("C")  # at now/2
    services.roadmap_item_move(actor=owner, item=item("C"), horizon="next")

    services.roadmap_item_move(actor=owner, item=stale_copy, horizon="next", position=0)
    services.roadmap_item_move(actor=owner, item=item("A"), horizon="next", position=0)

    assert board(product) == {"now": ["B"], "next": ["A", "C"]}


def test_a_move_is_recorded_with_the_place_before_and_after(owner, product):
    add(owner, product, "A", "B", "C")

    services.roadmap_item_move(actor=owner, item=item("C"), horizon="next")

    [record] = history(action="moved")
    assert (record.actor, record.subject_label) == (owner, "C")
    assert (record.before, record.after) == (
        {"horizon": "now", "position": 2},
        {"horizon": "next", "position": 0},
    )
    assert timezone.now() - record.at < datetime.timedelta(minutes=1)


def test_a_move_to_where_it_already_is_records_nothing(owner, product):
    add(owner, product, "A", "B")
    services.roadmap_item_move(actor=owner, item=item("A"), horizon="now", position=0)
    services.roadmap_item_move(actor=owner, item=item("B"), horizon="now")
    assert not history(action="moved")


@pytest.mark.parametrize(
    ("horizon", "position", "field"),
    [("soon", 0, "horizon"), ("", None, "horizon"), ("next", -1, "position")],
)
def test_a_bad_move_is_refused_and_writes_nothing(owner, product, horizon, position, field):
    add(owner, product, "A", "B")
    before = outcome_rows()
    with pytest.raises(ValidationError) as excinfo:
        services.roadmap_item_move(actor=owner, item=item("A"), horizon=horizon, position=position)
    assert list(excinfo.value.message_dict) == [field]
    assert outcome_rows() == before


# --- Deleting -----------------------------------------------------------------------------------


def test_deleting_closes_the_gap_and_is_recorded(owner, product, kr):
    add(owner, product, "A", "B", "C", "D")
    add(owner, product, "X", "Y", horizon="next")
    b = item("B")
    b.key_results.set([kr])
    b_id = b.pk

    services.roadmap_item_delete(actor=owner, item=b)

    assert board(product) == {"now": ["A", "C", "D"], "next": ["X", "Y"]}
    assert KeyResult.objects.filter(pk=kr.pk).exists()
    [record] = history(action="deleted")
    assert (record.subject_id, record.actor, record.after) == (b_id, owner, None)
    assert record.before == {
        "title": "B",
        "description": "",
        "horizon": "now",
        "position": 1,
        "key_results": [kr.pk],
    }


def test_positions_stay_exact_through_any_sequence_of_writes(owner, product):
    """Two hundred random adds, moves and deletes (a fixed seed): after each, every horizon's
    places are 0..n-1 and nothing was lost or duplicated."""
    rng = random.Random(3)
    alive: set[str] = set()
    for step in range(200):
        roll = rng.random()
        if roll < 0.3 or not alive:
            title = f"item {step}"
            services.roadmap_item_create(
                actor=owner, product=product, title=title, horizon=rng.choice(HORIZONS)
            )
            alive.add(title)
        elif roll < 0.85:
            services.roadmap_item_move(
                actor=owner,
                item=item(rng.choice(sorted(alive))),
                horizon=rng.choice(HORIZONS),
                position=rng.choice([None, 0, 1, 2, 5, 50]),
            )
        else:
            title = rng.choice(sorted(alive))
            services.roadmap_item_delete(actor=owner, item=item(title))
            alive.remove(title)
        titles = [t for column in board(product).values() for t in column]
        assert sorted(titles) == sorted(alive)


# --- Who may write ------------------------------------------------------------------------------


@dataclass
class World:
    product: Product
    key_result: KeyResult
    first: RoadmapItem
    second: RoadmapItem

    @classmethod
    def load(cls, product_id: int) -> "World":
        items = RoadmapItem.objects.filter(product_id=product_id).order_by("position")
        return cls(
            product=Product.objects.get(pk=product_id),
            key_result=KeyResult.objects.get(product_id=product_id),
            first=items[0],
            second=items[1],
        )


@pytest.fixture
def world(product, kr):
    RoadmapItemFactory(product=product, title="First", key_results=[kr])
    RoadmapItemFactory(product=product, title="Second")
    return World.load(product.pk)


WRITES = {
    "roadmap_item_create": lambda actor, w: services.roadmap_item_create(
        actor=actor, product=w.product, title="New", key_results=[w.key_result]
    ),
    "roadmap_item_update": lambda actor, w: services.roadmap_item_update(
        actor=actor, item=w.second, title="Renamed", key_results=[w.key_result]
    ),
    "roadmap_item_move": lambda actor, w: services.roadmap_item_move(
        actor=actor, item=w.second, horizon="now", position=0
    ),
    "roadmap_item_delete": lambda actor, w: services.roadmap_item_delete(actor=actor, item=w.first),
}


@pytest.fixture(params=["executive", "finance", "other product's owner", "no role"])
def refused_user(request, make_user):
    if request.param == "other product's owner":
        user = make_user("other-owner", "product_owner")
        ProductFactory(owners=[user])
        return user
    if request.param == "no role":
        return make_user("nobody")
    return make_user(f"user-{request.param}", request.param)


@pytest.fixture(params=["owner", "portfolio manager"])
def allowed_user(request, owner, make_user):
    return owner if request.param == "owner" else make_user("pm", "portfolio_manager")


@pytest.mark.parametrize("write", WRITES)
def test_a_user_who_may_not_change_the_product_is_refused(world, refused_user, write):
    before = outcome_rows()
    with pytest.raises(PermissionDenied, match="owners and portfolio managers"):
        WRITES[write](refused_user, world)
    assert outcome_rows() == before


@pytest.mark.parametrize("write", WRITES)
def test_the_owner_and_a_portfolio_manager_may_write(world, allowed_user, write):
    WRITES[write](allowed_user, world)
    [record] = history()
    assert (record.actor, record.product) == (allowed_user, world.product)
    board(world.product)


@pytest.mark.parametrize("write", WRITES)
def test_nobody_changes_the_roadmap_of_an_archived_product(world, allowed_user, write):
    Product.objects.filter(pk=world.product.pk).update(archived_at=timezone.now())
    archived = World.load(world.product.pk)
    before = outcome_rows()
    with pytest.raises(PermissionDenied, match="archived"):
        WRITES[write](allowed_user, archived)
    assert outcome_rows() == before


# --- Two people moving at once (PostgreSQL row lock) -------------------------------------------


def _waiting_for_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


WRITERS = 6
MOVES_EACH = 15


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_moves_keep_every_place_exactly_once(make_user):
    """Six connections move items of one product's roadmap at the same time, fifteen moves each.

    The test holds the product's row until all six are waiting for it, so their first moves
    really collide; the rest race freely. Without the lock each writer would renumber from
    the order it read, and the unique place constraint would fail or places would be lost.
    """
    owner = make_user("owner", "product_owner")
    product = ProductFactory(owners=[owner])
    for n in range(10):
        RoadmapItemFactory(product=product, title=f"item {n}", horizon=HORIZONS[n % 4])
    ids = sorted(RoadmapItem.objects.filter(product=product).values_list("pk", flat=True))
    errors: list[BaseException] = []
    moved: list[int] = []

    def writer(seed: int) -> None:
        try:
            rng = random.Random(seed)
            actor = get_user_model().objects.get(pk=owner.pk)
            for _ in range(MOVES_EACH):
                services.roadmap_item_move(
                    actor=actor,
                    item=RoadmapItem.objects.get(pk=rng.choice(ids)),
                    horizon=rng.choice(HORIZONS),
                    position=rng.choice([None, 0, 1, 2, 3]),
                )
                moved.append(seed)
        except BaseException as error:  # reported by the main thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(seed,)) for seed in range(WRITERS)]
    with transaction.atomic():
        Product.objects.select_for_update().get(pk=product.pk)
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while _waiting_for_locks() < WRITERS and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _waiting_for_locks() == WRITERS, "every writer should wait for the product's row"
    for thread in threads:
        thread.join(timeout=60)

    assert not errors, errors
    assert len(moved) == WRITERS * MOVES_EACH
    titles = [t for column in board(product).values() for t in column]
    assert sorted(titles) == sorted(f"item {n}" for n in range(10))
