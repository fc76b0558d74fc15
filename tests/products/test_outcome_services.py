"""Writes of outcomes, key results, measurements and hypotheses, on the real database.

Each write keeps the key result's stored figures (latest value and date, progress, expected
progress, status) exactly as products.progress computes them, refuses bad rows with field errors
and writes nothing then, records who changed what, and is refused to anyone who may not change
the product's outcomes.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
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
from tests.products.factories import (
    HypothesisFactory,
    KeyResultFactory,
    MeasurementFactory,
    OutcomeFactory,
    ProductFactory,
    RoadmapItemFactory,
    outcome_rows,
)

D = Decimal
START = datetime.date(2026, 1, 1)
TARGET = datetime.date(2026, 12, 27)  # 360 days after START: day 180 is half time


def day(n: int) -> datetime.date:
    return START + datetime.timedelta(days=n)


@pytest.fixture
def owner(make_user):
    return make_user("owner", "product_owner")


@pytest.fixture
def product(owner):
    return ProductFactory(name="Checkout", slug="checkout", owners=[owner])


@pytest.fixture
def outcome(product):
    return OutcomeFactory(product=product, statement="Customers pay in one step")


@pytest.fixture
def kr(outcome):
    """Weekly active users, from 0 to 100 over START..TARGET, no measurements yet."""
    return KeyResultFactory(outcome=outcome, name="Weekly active users")


def create_kr(actor, outcome, **overrides) -> KeyResult:
    data = {
        "name": "Sign-ups",
        "kind": KeyResult.Kind.ADOPTION,
        "unit": "%",
        "baseline": D(0),
        "target": D(100),
        "start_date": START,
        "target_date": TARGET,
        **overrides,
    }
    return services.key_result_create(actor=actor, outcome=outcome, **data)


def field_errors(excinfo) -> dict[str, list[str]]:
    return excinfo.value.message_dict


def figures(key_result: KeyResult) -> tuple:
    """The stored figures as read back from the database."""
    key_result.refresh_from_db()
    return (
        key_result.latest_value,
        key_result.latest_date,
        key_result.progress,
        key_result.expected_progress,
        key_result.status,
    )


def history(**filters) -> list[ChangeRecord]:
    return list(ChangeRecord.objects.filter(**filters).order_by("id"))


# --- Outcomes ---------------------------------------------------------------------------------


def test_outcomes_are_added_last_in_order_and_recorded(owner, product):
    first = services.outcome_create(actor=owner, product=product, statement="Pay in one step")
    second = services.outcome_create(actor=owner, product=product, statement="Never pay twice")

    assert (first.order, second.order) == (0, 1)
    [record] = history(subject_type="outcome", subject_id=second.pk)
    assert (record.action, record.actor, record.product) == ("created", owner, product)
    assert record.before is None
    assert record.after == {
        "statement": "Never pay twice",
        "period_start": None,
        "period_end": None,
        "order": 1,
    }


def test_an_outcome_needs_a_statement_and_a_period_that_ends_after_it_starts(owner, product):
    before = outcome_rows()
    with pytest.raises(ValidationError) as excinfo:
        services.outcome_create(actor=owner, product=product, statement="")
    assert "statement" in field_errors(excinfo)
    with pytest.raises(ValidationError, match="must end after it starts"):
        services.outcome_create(
            actor=owner,
            product=product,
            statement="Pay in one step",
            period_start=day(10),
            period_end=day(10),
        )
    assert outcome_rows() == before


def test_an_outcome_update_records_before_and_after(owner, outcome):
    services.outcome_update(actor=owner, outcome=outcome, statement="Pay in one tap")

    assert Outcome.objects.get(pk=outcome.pk).statement == "Pay in one tap"
    [record] = history(subject_type="outcome")
    assert record.action == "updated"
    assert record.changed_fields() == [("statement", "Customers pay in one step", "Pay in one tap")]


def test_archiving_and_restoring_an_outcome_is_recorded_once_each(owner, outcome):
    services.outcome_archive(actor=owner, outcome=outcome)
    services.outcome_archive(actor=owner, outcome=outcome)  # already archived: nothing to do
    assert Outcome.objects.get(pk=outcome.pk).archived_at is not None
    services.outcome_restore(actor=owner, outcome=outcome)

    assert Outcome.objects.get(pk=outcome.pk).archived_at is None
    assert [(r.before, r.after) for r in history(subject_type="outcome")] == [
        ({"archived": False}, {"archived": True}),
        ({"archived": True}, {"archived": False}),
    ]


# --- Key results: creating ----------------------------------------------------------------------


def test_a_new_key_result_has_no_data_and_is_recorded(owner, outcome, product):
    kr = create_kr(owner, outcome)

    assert kr.product == product
    assert figures(kr) == (None, None, None, None, "no_data")
    [record] = history(subject_type="key_result")
    assert (record.subject_id, record.subject_label, record.action) == (
        kr.pk,
        "Sign-ups",
        "created",
    )
    assert (record.actor, record.before) == (owner, None)
    assert record.after == {
        "name": "Sign-ups",
        "kind": "adoption",
        "customer_facing": True,
        "unit": "%",
        "direction": "increase",
        "baseline": "0",
        "target": "100",
        "start_date": "2026-01-01",
        "target_date": "2026-12-27",
    }
    assert timezone.now() - record.at < datetime.timedelta(minutes=1)


@pytest.mark.parametrize("kind", KeyResult.Kind.values)
def test_customer_facing_defaults_by_kind(owner, outcome, kind):
    kr = create_kr(owner, outcome, kind=kind)
    assert kr.customer_facing is (kind in {"adoption", "nps", "satisfaction"})
    assert KeyResult.objects.get(pk=kr.pk).customer_facing is kr.customer_facing


@pytest.mark.parametrize(("kind", "given"), [("revenue", True), ("nps", False)])
def test_customer_facing_can_be_set_against_the_default(owner, outcome, kind, given):
    kr = create_kr(owner, outcome, kind=kind, customer_facing=given)
    assert KeyResult.objects.get(pk=kr.pk).customer_facing is given


@pytest.mark.parametrize(
    ("baseline", "target", "direction"),
    [(0, 100, "increase"), (30, 10, "decrease"), ("-5", "-2", "increase")],
)
def test_direction_defaults_to_the_way_the_target_lies(owner, outcome, baseline, target, direction):
    kr = create_kr(owner, outcome, baseline=D(baseline), target=D(target))
    assert KeyResult.objects.get(pk=kr.pk).direction == direction


@pytest.mark.parametrize(
    ("direction", "baseline", "target", "message"),
    [
        ("increase", 100, 50, "To increase, the target must be above the baseline."),
        ("decrease", 10, 30, "To decrease, the target must be below the baseline."),
        ("increase", 50, 50, "The target must differ from the baseline."),
        ("decrease", 50, 50, "The target must differ from the baseline."),
        (None, 50, 50, "The target must differ from the baseline."),
    ],
)
def test_a_target_that_disagrees_with_the_direction_is_refused(
    owner, outcome, direction, baseline, target, message
):
    before = outcome_rows()
    with pytest.raises(ValidationError) as excinfo:
        create_kr(owner, outcome, direction=direction, baseline=D(baseline), target=D(target))
    assert field_errors(excinfo) == {"target": [message]}
    assert outcome_rows() == before


@pytest.mark.parametrize("target_date", [START, day(-1)])
def test_a_target_date_on_or_before_the_start_is_refused(owner, outcome, target_date):
    before = outcome_rows()
    with pytest.raises(ValidationError) as excinfo:
        create_kr(owner, outcome, target_date=target_date)
    assert field_errors(excinfo) == {
        "target_date": ["The target date must be after the start date."]
    }
    assert outcome_rows() == before


def test_an_empty_name_is_refused(owner, outcome):
    before = outcome_rows()
    with pytest.raises(ValidationError) as excinfo:
        create_kr(owner, outcome, name="")
    assert list(field_errors(excinfo)) == ["name"]
    assert outcome_rows() == before


def test_a_name_is_unique_per_product_not_per_outcome(owner, outcome, product):
    create_kr(owner, outcome, name="Sign-ups")
    second_outcome = OutcomeFactory(product=product)
    before = outcome_rows()

    with pytest.raises(ValidationError) as excinfo:
        create_kr(owner, second_outcome, name="Sign-ups")

    assert field_errors(excinfo) == {
        "name": ["This product already has a key result with this name."]
    }
    assert outcome_rows() == before
    # Another product may use the same name.
    elsewhere = OutcomeFactory(product=ProductFactory(owners=[owner]))
    assert create_kr(owner, elsewhere, name="Sign-ups").pk


def test_every_bad_field_is_reported_at_once(owner, outcome):
    with pytest.raises(ValidationError) as excinfo:
        create_kr(owner, outcome, name="", target=D(0), target_date=START)
    assert set(field_errors(excinfo)) == {"name", "target", "target_date"}
    assert not KeyResult.objects.exists()


# --- Key results: changing and deleting ---------------------------------------------------------


def test_changing_the_target_moves_progress_and_status_at_once(owner, kr):
    MeasurementFactory(key_result=kr, date=day(180), value=D(50))
    services.key_result_refresh(kr)
    assert figures(kr) == (D(50), day(180), D(50), D(50), "on_track")

    services.key_result_update(actor=owner, key_result=kr, target=D(200))

    # 50 of the way from 0 to 200 is 25 %, at half time: exactly expected - 25, at risk.
    assert figures(kr) == (D(50), day(180), D(25), D(50), "at_risk")
    [record] = history(subject_type="key_result", action="updated")
    assert record.changed_fields() == [("target", "100", "200")]
    assert record.actor == owner


def test_changing_the_dates_moves_expected_progress(owner, kr):
    MeasurementFactory(key_result=kr, date=day(180), value=D(30))
    services.key_result_refresh(kr)
    assert figures(kr)[2:] == (D(30), D(50), "at_risk")

    services.key_result_update(actor=owner, key_result=kr, target_date=day(720))

    assert figures(kr)[2:] == (D(30), D(25), "on_track")


def test_turning_a_key_result_into_a_decrease_recomputes_progress(owner, kr):
    MeasurementFactory(key_result=kr, date=day(90), value=D(70))
    services.key_result_refresh(kr)

    services.key_result_update(
        actor=owner, key_result=kr, direction="decrease", baseline=D(100), target=D(40)
    )

    # From 100 down to 40, now 70: half way, at a quarter of the time.
    assert figures(kr) == (D(70), day(90), D(50), D(25), "on_track")


def test_a_bad_update_is_refused_and_writes_nothing(owner, kr):
    MeasurementFactory(key_result=kr, date=day(180), value=D(50))
    services.key_result_refresh(kr)
    before = outcome_rows()

    with pytest.raises(ValidationError) as excinfo:
        services.key_result_update(actor=owner, key_result=kr, direction="decrease")

    assert list(field_errors(excinfo)) == ["target"]
    assert outcome_rows() == before


def test_renaming_to_a_name_the_product_uses_is_refused(owner, kr, outcome):
    KeyResultFactory(outcome=outcome, name="Net promoter score")
    with pytest.raises(ValidationError) as excinfo:
        services.key_result_update(actor=owner, key_result=kr, name="Net promoter score")
    assert list(field_errors(excinfo)) == ["name"]
    assert KeyResult.objects.get(pk=kr.pk).name == "Weekly active users"
    # Keeping its own name is no clash.
    services.key_result_update(actor=owner, key_result=kr, name="Weekly active users")


def test_an_update_that_changes_nothing_records_nothing(owner, kr):
    services.key_result_update(actor=owner, key_result=kr, target=D("100.00"), unit="%")
    assert not ChangeRecord.objects.exists()


def test_the_stored_figures_cannot_be_written_through_an_update(owner, kr):
    with pytest.raises(TypeError, match="status"):
        services.key_result_update(actor=owner, key_result=kr, status="on_track")
    with pytest.raises(TypeError, match="product"):
        services.key_result_update(actor=owner, key_result=kr, product=ProductFactory())
    assert figures(kr)[-1] == "no_data"


def test_deleting_a_key_result_takes_its_measurements_and_keeps_its_history(owner, kr, product):
    MeasurementFactory(key_result=kr, date=day(10), value=D(5))
    hypothesis = HypothesisFactory(product=product, key_result=kr)
    item = RoadmapItemFactory(product=product, key_results=[kr])
    kr_id = kr.pk

    services.key_result_delete(actor=owner, key_result=kr)

    assert not KeyResult.objects.filter(pk=kr_id).exists()
    assert not Measurement.objects.exists()
    assert Hypothesis.objects.get(pk=hypothesis.pk).key_result is None
    assert not RoadmapItem.objects.get(pk=item.pk).key_results.exists()
    [record] = history(subject_type="key_result")
    assert (record.action, record.subject_id, record.actor) == ("deleted", kr_id, owner)
    assert record.before["name"] == "Weekly active users"
    assert record.after is None


# --- Measurements ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "progress", "status"),
    [
        (50, D(50), "on_track"),
        (40, D(40), "on_track"),  # exactly expected - 10
        ("39.99", D("39.99"), "at_risk"),
        (25, D(25), "at_risk"),  # exactly expected - 25
        (20, D(20), "off_track"),
        (130, D(100), "on_track"),  # beyond the target: clamped
    ],
)
def test_recording_a_measurement_sets_the_stored_figures(owner, kr, value, progress, status):
    measurement = services.measurement_record(
        actor=owner, key_result=kr, date=day(180), value=D(value), note="From the dashboard"
    )

    assert figures(kr) == (D(value), day(180), progress, D(50), status)
    assert (measurement.recorded_by, measurement.note) == (owner, "From the dashboard")


def test_a_decrease_key_result_is_measured_the_same_way(owner, outcome):
    kr = create_kr(
        owner, outcome, name="Time to market", kind="time_to_market", baseline=D(30), target=D(10)
    )
    assert kr.direction == "decrease"

    services.measurement_record(actor=owner, key_result=kr, date=day(90), value=D(25))
    assert figures(kr) == (D(25), day(90), D(25), D(25), "on_track")

    services.measurement_record(actor=owner, key_result=kr, date=day(270), value=D(25))
    assert figures(kr) == (D(25), day(270), D(25), D(75), "off_track")


def test_progress_and_expected_are_stored_to_two_places(owner, outcome):
    kr = create_kr(owner, outcome, baseline=D(10), target=D(40))
    services.measurement_record(actor=owner, key_result=kr, date=day(120), value=D(20))
    # A third of the way, a third of the time.
    assert figures(kr)[2:] == (D("33.33"), D("33.33"), "on_track")


def test_an_earlier_measurement_recorded_later_does_not_displace_the_latest(owner, kr):
    services.measurement_record(actor=owner, key_result=kr, date=day(180), value=D(50))
    services.measurement_record(actor=owner, key_result=kr, date=day(90), value=D(5))

    assert figures(kr) == (D(50), day(180), D(50), D(50), "on_track")


def test_on_the_same_date_the_one_recorded_last_is_the_latest(owner, kr):
    services.measurement_record(actor=owner, key_result=kr, date=day(180), value=D(45))
    services.measurement_record(actor=owner, key_result=kr, date=day(180), value=D(20))
    assert figures(kr)[:2] == (D(20), day(180))
    assert figures(kr)[-1] == "off_track"

    services.measurement_record(actor=owner, key_result=kr, date=day(180), value=D(42))
    assert figures(kr) == (D(42), day(180), D(42), D(50), "on_track")


def test_a_corrected_value_moves_the_figures(owner, kr):
    m = services.measurement_record(actor=owner, key_result=kr, date=day(180), value=D(50))

    services.measurement_update(actor=owner, measurement=m, value=D(30), note="Typo fixed")

    assert figures(kr) == (D(30), day(180), D(30), D(50), "at_risk")
    [record] = history(subject_type="measurement", action="updated")
    # PostgreSQL keeps JSON keys in its own order, so compare without order.
    assert sorted(record.changed_fields()) == [("note", "", "Typo fixed"), ("value", "50", "30")]
    assert record.subject_label == "Weekly active users on 30 Jun 2026"


def test_moving_the_latest_back_in_time_makes_another_the_latest(owner, kr):
    older = services.measurement_record(actor=owner, key_result=kr, date=day(90), value=D(10))
    latest = services.measurement_record(actor=owner, key_result=kr, date=day(180), value=D(50))

    services.measurement_update(actor=owner, measurement=latest, date=day(30))
    assert figures(kr) == (D(10), day(90), D(10), D(25), "at_risk")

    services.measurement_update(actor=owner, measurement=older, date=day(270))
    assert figures(kr) == (D(10), day(270), D(10), D(75), "off_track")


def test_moving_an_older_one_onto_the_latest_date_keeps_the_one_recorded_last(owner, kr):
    older = services.measurement_record(actor=owner, key_result=kr, date=day(90), value=D(10))
    services.measurement_record(actor=owner, key_result=kr, date=day(180), value=D(50))

    services.measurement_update(actor=owner, measurement=older, date=day(180))

    assert figures(kr)[:2] == (D(50), day(180))


def test_deleting_the_latest_falls_back_to_the_previous(owner, kr):
    services.measurement_record(actor=owner, key_result=kr, date=day(90), value=D(20))
    first_on_day = services.measurement_record(
        actor=owner, key_result=kr, date=day(180), value=D(50)
    )
    latest = services.measurement_record(actor=owner, key_result=kr, date=day(180), value=D(10))

    services.measurement_delete(actor=owner, measurement=latest)
    # The tie on day 180 now has one member left.
    assert figures(kr) == (D(50), day(180), D(50), D(50), "on_track")

    services.measurement_delete(actor=owner, measurement=first_on_day)
    assert figures(kr) == (D(20), day(90), D(20), D(25), "on_track")


def test_deleting_an_older_measurement_leaves_the_figures(owner, kr):
    older = services.measurement_record(actor=owner, key_result=kr, date=day(90), value=D(20))
    services.measurement_record(actor=owner, key_result=kr, date=day(180), value=D(50))
    before = figures(kr)

    services.measurement_delete(actor=owner, measurement=older)

    assert figures(kr) == before


def test_deleting_the_only_measurement_leaves_no_data(owner, kr):
    m = services.measurement_record(actor=owner, key_result=kr, date=day(90), value=D(20))

    services.measurement_delete(actor=owner, measurement=m)

    assert figures(kr) == (None, None, None, None, "no_data")
    assert [r.action for r in history(subject_type="measurement")] == ["created", "deleted"]
    deleted = history(subject_type="measurement")[-1]
    assert deleted.before == {"date": "2026-04-01", "value": "20", "note": ""}
    assert deleted.after is None


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"value": D("1.23456")}, "value"),  # five decimal places
        ({"value": D("1234567890123")}, "value"),  # more than 12 digits before the point
        ({"note": "x" * 501}, "note"),
    ],
)
def test_a_bad_measurement_is_refused_and_writes_nothing(owner, kr, data, field):
    services.measurement_record(actor=owner, key_result=kr, date=day(90), value=D(20))
    before = outcome_rows()

    with pytest.raises(ValidationError) as excinfo:
        services.measurement_record(
            actor=owner, key_result=kr, **{"date": day(180), "value": D(50), **data}
        )

    assert list(field_errors(excinfo)) == [field]
    assert outcome_rows() == before


def test_a_measurement_update_that_changes_nothing_records_nothing(owner, kr):
    m = services.measurement_record(actor=owner, key_result=kr, date=day(90), value=D(20))
    services.measurement_update(actor=owner, measurement=m, value=D("20.000"), date=day(90))
    assert [r.action for r in history()] == ["created"]


def test_a_recorded_measurement_is_in_the_history(owner, kr, product):
    m = services.measurement_record(actor=owner, key_result=kr, date=day(180), value=D("42.5"))

    [record] = history(subject_type="measurement")
    assert (record.product, record.subject_id, record.actor) == (product, m.pk, owner)
    assert record.subject_label == "Weekly active users on 30 Jun 2026"
    assert (record.before, record.after) == (
        None,
        {"date": "2026-06-30", "value": "42.5", "note": ""},
    )


# --- Hypotheses ----------------------------------------------------------------------------------


def create_hypothesis(actor, product, **overrides) -> Hypothesis:
    data = {
        "change": "a one-page checkout",
        "expected_outcome": "more customers finish paying",
        **overrides,
    }
    return services.hypothesis_create(actor=actor, product=product, **data)


def test_a_new_hypothesis_starts_its_status_history(owner, product, kr):
    hypothesis = create_hypothesis(owner, product, key_result=kr, expected_move=D(10))

    [change] = hypothesis.status_changes.all()
    assert (change.from_status, change.to_status, change.changed_by) == ("", "proposed", owner)
    assert change.changed_at == hypothesis.status_changed_at
    [record] = history(subject_type="hypothesis")
    assert record.after == {
        "change": "a one-page checkout",
        "expected_outcome": "more customers finish paying",
        "key_result": kr.pk,
        "expected_move": "10",
        "status": "proposed",
        "evidence": "",
    }


def test_a_hypothesis_may_start_in_another_status(owner, product):
    hypothesis = create_hypothesis(owner, product, status="testing")
    assert list(hypothesis.status_changes.values_list("from_status", "to_status")) == [
        ("", "testing")
    ]


def test_a_status_change_is_dated_attributed_and_kept_with_its_note(owner, product, make_user):
    long_ago = timezone.now() - datetime.timedelta(days=40)
    hypothesis = HypothesisFactory(product=product, status_changed_at=long_ago)
    pm = make_user("pm", "portfolio_manager")

    services.hypothesis_update(
        actor=owner, hypothesis=hypothesis, status="testing", status_note="A/B test started"
    )
    services.hypothesis_update(
        actor=pm,
        hypothesis=hypothesis,
        status="validated",
        evidence="Conversion up 12 %",
        status_note="Four weeks of data",
    )

    hypothesis.refresh_from_db()
    assert hypothesis.status == "validated"
    assert hypothesis.status_changed_at > long_ago + datetime.timedelta(days=39)
    changes = list(HypothesisStatusChange.objects.filter(hypothesis=hypothesis).order_by("id"))
    assert [(c.from_status, c.to_status, c.changed_by, c.note) for c in changes] == [
        ("proposed", "testing", owner, "A/B test started"),
        ("testing", "validated", pm, "Four weeks of data"),
    ]
    assert changes[0].changed_at <= changes[1].changed_at == hypothesis.status_changed_at
    records = history(subject_type="hypothesis")
    assert [(r.actor, r.reason) for r in records] == [
        (owner, "A/B test started"),
        (pm, "Four weeks of data"),
    ]
    assert sorted(records[1].changed_fields()) == [
        ("evidence", "", "Conversion up 12 %"),
        ("status", "testing", "validated"),
    ]


def test_an_edit_without_a_status_change_keeps_the_status_date(owner, product):
    long_ago = timezone.now() - datetime.timedelta(days=40)
    hypothesis = HypothesisFactory(product=product, status_changed_at=long_ago)

    services.hypothesis_update(actor=owner, hypothesis=hypothesis, evidence="Early signs")

    hypothesis.refresh_from_db()
    assert hypothesis.status_changed_at == long_ago
    assert not hypothesis.status_changes.exists()
    assert [r.action for r in history()] == ["updated"]


def test_a_hypothesis_update_that_changes_nothing_records_nothing(owner, product):
    hypothesis = HypothesisFactory(product=product, evidence="Some")
    services.hypothesis_update(
        actor=owner, hypothesis=hypothesis, evidence="Some", status="proposed"
    )
    assert not ChangeRecord.objects.exists()
    assert not HypothesisStatusChange.objects.exists()


def test_a_key_result_of_another_product_is_refused(owner, product):
    foreign = KeyResultFactory(outcome=OutcomeFactory(product=ProductFactory(owners=[owner])))
    hypothesis = HypothesisFactory(product=product)
    before = outcome_rows()

    with pytest.raises(ValidationError) as excinfo:
        create_hypothesis(owner, product, key_result=foreign)
    assert field_errors(excinfo) == {"key_result": ["Choose a key result of this product."]}
    with pytest.raises(ValidationError) as excinfo:
        services.hypothesis_update(
            actor=owner, hypothesis=hypothesis, key_result=foreign, status="testing"
        )
    assert list(field_errors(excinfo)) == ["key_result"]

    assert outcome_rows() == before


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"change": ""}, "change"),
        ({"expected_outcome": ""}, "expected_outcome"),
        ({"status": "abandoned"}, "status"),
    ],
)
def test_a_bad_hypothesis_is_refused_and_writes_nothing(owner, product, data, field):
    with pytest.raises(ValidationError) as excinfo:
        create_hypothesis(owner, product, **data)
    assert list(field_errors(excinfo)) == [field]
    assert outcome_rows() == [[] for _ in outcome_rows()]


def test_deleting_a_hypothesis_is_recorded(owner, product):
    hypothesis = create_hypothesis(owner, product)
    hypothesis_id = hypothesis.pk

    services.hypothesis_delete(actor=owner, hypothesis=hypothesis)

    assert not Hypothesis.objects.exists()
    assert not HypothesisStatusChange.objects.exists()
    deleted = history(subject_type="hypothesis")[-1]
    assert (deleted.action, deleted.subject_id, deleted.after) == ("deleted", hypothesis_id, None)
    assert deleted.before["change"] == "a one-page checkout"


# --- Who may write: every service, every role -----------------------------------------------------


@dataclass
class World:
    """One product's outcome rows, fetched afresh so each object sees the product as stored."""

    product: Product
    outcome: Outcome
    archived_outcome: Outcome
    key_result: KeyResult
    measurement: Measurement
    hypothesis: Hypothesis

    @classmethod
    def load(cls, product_id: int) -> "World":
        return cls(
            product=Product.objects.get(pk=product_id),
            outcome=Outcome.objects.get(product_id=product_id, archived_at=None),
            archived_outcome=Outcome.objects.get(product_id=product_id, archived_at__isnull=False),
            key_result=KeyResult.objects.get(product_id=product_id),
            measurement=Measurement.objects.get(key_result__product_id=product_id),
            hypothesis=Hypothesis.objects.get(product_id=product_id),
        )


@pytest.fixture
def world(product):
    outcome = OutcomeFactory(product=product)
    OutcomeFactory(product=product, archived_at=timezone.now())
    kr = KeyResultFactory(outcome=outcome, name="Weekly active users")
    MeasurementFactory(key_result=kr, date=day(100), value=D(30))
    services.key_result_refresh(kr)
    HypothesisFactory(product=product, key_result=kr)
    return World.load(product.pk)


WRITES = {
    "outcome_create": lambda actor, w: services.outcome_create(
        actor=actor, product=w.product, statement="Never pay twice"
    ),
    "outcome_update": lambda actor, w: services.outcome_update(
        actor=actor, outcome=w.outcome, statement="Reworded"
    ),
    "outcome_archive": lambda actor, w: services.outcome_archive(actor=actor, outcome=w.outcome),
    "outcome_restore": lambda actor, w: services.outcome_restore(
        actor=actor, outcome=w.archived_outcome
    ),
    "key_result_create": lambda actor, w: create_kr(actor, w.outcome),
    "key_result_update": lambda actor, w: services.key_result_update(
        actor=actor, key_result=w.key_result, target=D(200)
    ),
    "key_result_delete": lambda actor, w: services.key_result_delete(
        actor=actor, key_result=w.key_result
    ),
    "measurement_record": lambda actor, w: services.measurement_record(
        actor=actor, key_result=w.key_result, date=day(120), value=D(40)
    ),
    "measurement_update": lambda actor, w: services.measurement_update(
        actor=actor, measurement=w.measurement, value=D(35)
    ),
    "measurement_delete": lambda actor, w: services.measurement_delete(
        actor=actor, measurement=w.measurement
    ),
    "hypothesis_create": lambda actor, w: create_hypothesis(actor, w.product),
    "hypothesis_update": lambda actor, w: services.hypothesis_update(
        actor=actor, hypothesis=w.hypothesis, status="testing"
    ),
    "hypothesis_delete": lambda actor, w: services.hypothesis_delete(
        actor=actor, hypothesis=w.hypothesis
    ),
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


@pytest.mark.parametrize("write", WRITES)
def test_a_user_who_may_not_change_the_product_is_refused(world, refused_user, write):
    before = outcome_rows()
    with pytest.raises(PermissionDenied, match="owners and portfolio managers"):
        WRITES[write](refused_user, world)
    assert outcome_rows() == before


@pytest.fixture(params=["owner", "portfolio manager"])
def allowed_user(request, owner, make_user):
    return owner if request.param == "owner" else make_user("pm", "portfolio_manager")


@pytest.mark.parametrize("write", WRITES)
def test_the_owner_and_a_portfolio_manager_may_write(world, allowed_user, write):
    WRITES[write](allowed_user, world)
    [record] = history()
    assert (record.actor, record.product) == (allowed_user, world.product)


@pytest.mark.parametrize("write", WRITES)
def test_nobody_changes_the_outcomes_of_an_archived_product(world, allowed_user, write):
    Product.objects.filter(pk=world.product.pk).update(archived_at=timezone.now())
    archived = World.load(world.product.pk)
    before = outcome_rows()
    with pytest.raises(PermissionDenied, match="archived"):
        WRITES[write](allowed_user, archived)
    assert outcome_rows() == before
