"""Services of value stream maps: maps, steps kept in order 1..n, improvement outcomes."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError

from products.demo import seed_products
from tests.valuestreams.factories import ValueStreamFactory
from valuestreams import maps
from valuestreams.demo import seed_value_streams
from valuestreams.demo_maps import MAPS, seed_maps
from valuestreams.mapmetrics import map_metrics
from valuestreams.models import ImprovementOutcome, MapStep, ValueStreamMap

pytestmark = pytest.mark.django_db


@pytest.fixture
def vsm(portfolio_manager):
    return maps.map_create(
        actor=portfolio_manager,
        value_stream=ValueStreamFactory(),
        state="current",
        mapped_on=datetime.date(2026, 3, 12),
    )


def add(actor, vsm, name, pt="10", lt="60", ca="100", **extra):
    return maps.step_add(
        actor=actor,
        vsm=vsm,
        name=name,
        process_time_minutes=Decimal(pt),
        lead_time_minutes=Decimal(lt),
        percent_complete_accurate=Decimal(ca),
        **extra,
    )


def names(vsm) -> list[tuple[int, str]]:
    return list(MapStep.objects.filter(map=vsm).order_by("order").values_list("order", "name"))


def test_map_create_update_delete(portfolio_manager, vsm):
    assert vsm.state == ValueStreamMap.State.CURRENT
    assert vsm.mapped_on == datetime.date(2026, 3, 12)
    maps.map_update(actor=portfolio_manager, vsm=vsm, state="future", name="Target 2027")
    vsm.refresh_from_db()
    assert (vsm.state, vsm.name) == ("future", "Target 2027")
    add(portfolio_manager, vsm, "A")
    maps.improvement_outcome_create(
        actor=portfolio_manager,
        vsm=vsm,
        description="Faster",
        metric="total_lead_time_minutes",
        comparator="below",
        target=Decimal(100),
    )
    maps.map_delete(actor=portfolio_manager, vsm=vsm)
    assert not ValueStreamMap.objects.exists()
    assert not MapStep.objects.exists()
    assert not ImprovementOutcome.objects.exists()


def test_map_state_must_be_known(portfolio_manager):
    with pytest.raises(ValidationError) as error:
        maps.map_create(actor=portfolio_manager, value_stream=ValueStreamFactory(), state="past")
    assert "state" in error.value.message_dict


def test_steps_are_added_last_or_at_a_place(portfolio_manager, vsm):
    add(portfolio_manager, vsm, "A")
    add(portfolio_manager, vsm, "B")
    add(portfolio_manager, vsm, "C")
    assert names(vsm) == [(1, "A"), (2, "B"), (3, "C")]
    step = add(portfolio_manager, vsm, "First", order=1)
    assert step.order == 1
    add(portfolio_manager, vsm, "Third", order=3)
    add(portfolio_manager, vsm, "Beyond", order=99)
    assert names(vsm) == [
        (1, "First"),
        (2, "A"),
        (3, "Third"),
        (4, "B"),
        (5, "C"),
        (6, "Beyond"),
    ]


def test_moves_and_deletes_keep_the_order_without_gaps(portfolio_manager, vsm):
    a, b, c, d = (add(portfolio_manager, vsm, n) for n in "ABCD")
    maps.step_move(actor=portfolio_manager, step=d, order=1)
    assert names(vsm) == [(1, "D"), (2, "A"), (3, "B"), (4, "C")]
    maps.step_move(actor=portfolio_manager, step=d, order=10)
    assert names(vsm) == [(1, "A"), (2, "B"), (3, "C"), (4, "D")]
    maps.step_shift(actor=portfolio_manager, step=a, direction="up")  # first already: stays
    maps.step_shift(actor=portfolio_manager, step=a, direction="down")
    assert names(vsm) == [(1, "B"), (2, "A"), (3, "C"), (4, "D")]
    maps.step_shift(actor=portfolio_manager, step=d, direction="down")  # last already: stays
    maps.step_shift(actor=portfolio_manager, step=c, direction="up")
    assert names(vsm) == [(1, "B"), (2, "C"), (3, "A"), (4, "D")]
    maps.step_delete(actor=portfolio_manager, step=c)
    assert names(vsm) == [(1, "B"), (2, "A"), (3, "D")]
    maps.step_update(actor=portfolio_manager, step=b, order=3, name="B2")
    assert names(vsm) == [(1, "A"), (2, "D"), (3, "B2")]


def test_orders_of_other_maps_are_untouched(portfolio_manager, vsm):
    other = maps.map_create(actor=portfolio_manager, value_stream=vsm.value_stream, state="future")
    add(portfolio_manager, other, "X")
    add(portfolio_manager, other, "Y")
    add(portfolio_manager, vsm, "A")
    maps.step_delete(actor=portfolio_manager, step=MapStep.objects.get(name="X"))
    assert names(other) == [(1, "Y")]
    assert names(vsm) == [(1, "A")]


@pytest.mark.parametrize(
    ("pt", "lt", "ca", "field"),
    [
        ("30", "20", "100", "lead_time_minutes"),
        ("-1", "20", "100", "process_time_minutes"),
        ("0", "0", "100", "lead_time_minutes"),
        ("1", "2", "0", "percent_complete_accurate"),
        ("1", "2", "100.5", "percent_complete_accurate"),
    ],
)
def test_bad_steps_are_refused_by_field(portfolio_manager, vsm, pt, lt, ca, field):
    add(portfolio_manager, vsm, "A")
    with pytest.raises(ValidationError) as error:
        add(portfolio_manager, vsm, "B", pt=pt, lt=lt, ca=ca, order=1)
    assert field in error.value.message_dict
    assert names(vsm) == [(1, "A")]


def test_a_step_needs_a_name(portfolio_manager, vsm):
    with pytest.raises(ValidationError) as error:
        add(portfolio_manager, vsm, "")
    assert "name" in error.value.message_dict


def test_step_update_checks_lead_time_against_process_time(portfolio_manager, vsm):
    step = add(portfolio_manager, vsm, "A", pt="10", lt="60")
    with pytest.raises(ValidationError) as error:
        maps.step_update(actor=portfolio_manager, step=step, process_time_minutes=Decimal(90))
    assert error.value.message_dict == {
        "lead_time_minutes": ["Lead time must be at least the process time."]
    }
    step.refresh_from_db()
    assert step.process_time_minutes == 10
    maps.step_update(
        actor=portfolio_manager,
        step=step,
        process_time_minutes=Decimal(90),
        lead_time_minutes=Decimal(120),
    )
    step.refresh_from_db()
    assert (step.process_time_minutes, step.lead_time_minutes) == (90, 120)


def test_a_bad_place_is_refused(portfolio_manager, vsm):
    step = add(portfolio_manager, vsm, "A")
    with pytest.raises(ValidationError) as error:
        maps.step_move(actor=portfolio_manager, step=step, order=0)
    assert "order" in error.value.message_dict
    with pytest.raises(ValidationError):
        maps.step_shift(actor=portfolio_manager, step=step, direction="sideways")


def test_improvement_outcomes(portfolio_manager, vsm):
    outcome = maps.improvement_outcome_create(
        actor=portfolio_manager,
        vsm=vsm,
        description="Open an account within a day",
        metric="total_lead_time_minutes",
        comparator="below",
        target=Decimal(1440),
    )
    maps.improvement_outcome_update(
        actor=portfolio_manager, outcome=outcome, target=Decimal(720), description="Half a day"
    )
    outcome.refresh_from_db()
    assert (outcome.description, outcome.target) == ("Half a day", 720)
    with pytest.raises(ValidationError) as error:
        maps.improvement_outcome_update(
            actor=portfolio_manager, outcome=outcome, metric="activity_ratio", target=Decimal(120)
        )
    assert "target" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        maps.improvement_outcome_create(
            actor=portfolio_manager,
            vsm=vsm,
            description="x",
            metric="speed",
            comparator="below",
            target=Decimal(1),
        )
    assert "metric" in error.value.message_dict
    maps.improvement_outcome_delete(actor=portfolio_manager, outcome=outcome)
    assert not ImprovementOutcome.objects.exists()


def test_selectors_prefetch(portfolio_manager, vsm, django_assert_num_queries):
    for n in range(3):
        add(portfolio_manager, vsm, f"S{n}")
    with django_assert_num_queries(3):
        row = maps.map_detail_queryset(user=portfolio_manager).get(pk=vsm.pk)
        assert [s.name for s in row.steps.all()] == ["S0", "S1", "S2"]
        assert list(row.improvement_outcomes.all()) == []
        assert row.value_stream.name
    with django_assert_num_queries(1):
        listed = maps.maps_for_value_stream(user=portfolio_manager, value_stream=vsm.value_stream)
        assert [m.step_count for m in listed] == [3]


def test_demo_maps_are_believable_and_idempotent(portfolio_manager):
    seed_products(
        actor=portfolio_manager,
        product_owner=portfolio_manager,
        owner_group=Group.objects.get(name="product_owner"),
    )
    seed_value_streams(actor=portfolio_manager)
    first = seed_maps(actor=portfolio_manager)
    assert first.created["value stream maps"] == len(MAPS) == 8
    assert not first.skipped
    second = seed_maps(actor=portfolio_manager)
    assert not second.created and not second.updated
    mapped = set(ValueStreamMap.objects.values_list("value_stream__slug", flat=True))
    assert len(mapped) == 4 and "platform-data" not in mapped
    for slug in mapped:
        current = ValueStreamMap.objects.get(value_stream__slug=slug, state="current")
        future = ValueStreamMap.objects.get(value_stream__slug=slug, state="future")
        before, after = map_metrics(current.steps.all()), map_metrics(future.steps.all())
        # the future state improves on today in lead time, activity ratio and first-time right
        assert after.total_lead_time_minutes < before.total_lead_time_minutes
        assert after.activity_ratio > before.activity_ratio
        assert after.rolled_percent_complete_accurate > before.rolled_percent_complete_accurate
        assert future.improvement_outcomes.exists()
        assert list(current.steps.values_list("order", flat=True)) == [1, 2, 3, 4, 5]
