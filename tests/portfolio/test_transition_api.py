"""The transition API: ``transition-assessments``, ``transition-criteria`` and ``transition-units``."""

import datetime

import pytest
from django.utils import timezone

from portfolio import services
from portfolio.models import TransitionAssessment, TransitionCriterion, TransitionUnit
from portfolio.services import Answer
from tests.conftest import ROLES
from tests.products.factories import OutcomeFactory, ProductFactory
from tests.valuestreams.factories import ValueStreamFactory

pytestmark = pytest.mark.django_db

ASSESSMENTS = "/api/v1/transition-assessments/"
CRITERIA = "/api/v1/transition-criteria/"
UNITS = "/api/v1/transition-units/"
ASSESSORS = ["executive", "portfolio_manager"]
NOT_ASSESSORS = ["product_owner", "finance"]
NOT_EDITORS = [r for r in ROLES if r != "portfolio_manager"]


def criteria(stage: int) -> list[TransitionCriterion]:
    return list(TransitionCriterion.objects.filter(stage=stage, archived_at__isnull=True))


def body(value_stream=None, stage: int = 1, *values: str, **extra) -> dict:
    items = criteria(stage)
    values = values or ("met",) * len(items)
    return {
        "value_stream": value_stream.pk if value_stream else None,
        "answers": [
            {"criterion": c.pk, "answer": v, "note": f"note {i + 1}"}
            for i, (c, v) in enumerate(zip(items, values, strict=True))
        ],
        **extra,
    }


def record(actor, value_stream=None, *, advance=False):
    unit = services.unit_for(value_stream)
    return services.assessment_record(
        actor=actor,
        unit=unit,
        answers=[Answer(c.pk, "met", "seen") for c in criteria(unit.stage)],
        advance=advance,
    )


# Assessments.


@pytest.mark.parametrize("role_user", ROLES, indirect=True)
def test_every_role_lists_and_reads_assessments(api_as, role_user, executive):
    stream = ValueStreamFactory(name="Payments")
    org = record(executive, None, advance=True)
    record(executive, stream)
    api = api_as(role_user)
    response = api.get(ASSESSMENTS)
    assert response.status_code == 200
    assert response.json()["count"] == 2
    detail = api.get(f"{ASSESSMENTS}{org.pk}/").json()
    assert detail["unit"]["value_stream"] is None
    assert detail["unit"]["name"] == "The organisation"
    assert (detail["stage"], detail["outcome"], detail["stage_after"]) == (1, "advanced", 2)
    assert detail["stage_after_label"] == "Experimentation"
    assert detail["assessor"]["name"] == "Erin Exec"
    assert len(detail["answers"]) == 4
    assert {"criterion", "answer", "evidence_note", "data_evidence"} <= set(detail["answers"][0])


def test_assessments_filter_by_value_stream_or_organisation(api_as, executive):
    payments, onboarding = ValueStreamFactory(), ValueStreamFactory()
    record(executive, None)
    ours = record(executive, payments)
    record(executive, onboarding)
    api = api_as(executive)
    rows = api.get(ASSESSMENTS, {"value_stream": payments.pk}).json()["results"]
    assert [r["id"] for r in rows] == [ours.pk]
    assert rows[0]["unit"]["value_stream"] == {
        "id": payments.pk,
        "slug": payments.slug,
        "name": payments.name,
    }
    organisation = api.get(ASSESSMENTS, {"organisation": "true"}).json()["results"]
    assert [r["unit"]["value_stream"] for r in organisation] == [None]
    streams = api.get(ASSESSMENTS, {"organisation": "false"}).json()["results"]
    assert len(streams) == 2


@pytest.mark.parametrize("role", ASSESSORS)
def test_assessors_record_an_advancing_assessment(api_as, make_user, role):
    stream = ValueStreamFactory(name="Payments")
    with_outcome, without = ProductFactory(), ProductFactory()
    stream.products.set([with_outcome, without])
    OutcomeFactory(product=with_outcome)
    api = api_as(make_user(f"a-{role}", role))
    response = api.post(ASSESSMENTS, body(stream, advance=True, notes="All done"), format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert (data["outcome"], data["stage"], data["stage_after"]) == ("advanced", 1, 2)
    assert data["unit"]["stage"] == 2
    assert data["notes"] == "All done"
    assert data["assessed_on"] == timezone.localdate().isoformat()
    stated = next(a for a in data["answers"] if a["criterion"]["text"].startswith("The expected"))
    assert stated["data_evidence"] == "1 of 2 products (50 %)"
    assert sorted(a["evidence_note"] for a in data["answers"]) == [
        "note 1",
        "note 2",
        "note 3",
        "note 4",
    ]
    assert TransitionUnit.objects.get(value_stream=stream).stage == 2


def test_override_through_the_api_keeps_the_reason(api_as, portfolio_manager):
    response = api_as(portfolio_manager).post(
        ASSESSMENTS,
        body(None, 1, "met", "partly", "not_met", "met", advance=True, override_reason="Mandate"),
        format="json",
    )
    assert response.status_code == 201
    data = response.json()
    assert (data["outcome"], data["override_reason"], data["stage_after"]) == (
        "overridden",
        "Mandate",
        2,
    )
    assert TransitionUnit.objects.get(value_stream=None).stage == 2


@pytest.mark.parametrize("role_user", NOT_ASSESSORS, indirect=True)
def test_other_roles_may_not_record_assessments(api_as, role_user):
    response = api_as(role_user).post(ASSESSMENTS, body(None, advance=True), format="json")
    assert response.status_code == 403
    assert not TransitionUnit.objects.exists()
    assert not TransitionAssessment.objects.exists()


def test_refusals_answer_400_with_field_errors_and_write_nothing(api_as, executive):
    stream = ValueStreamFactory()
    api = api_as(executive)
    unmet = api.post(
        ASSESSMENTS, body(stream, 1, "met", "partly", "met", "met", advance=True), format="json"
    )
    assert unmet.status_code == 400
    assert "give a reason to advance anyway" in unmet.json()["override_reason"][0]
    missing = body(stream)
    missing["answers"] = missing["answers"][:3]
    refused = api.post(ASSESSMENTS, missing, format="json")
    assert refused.status_code == 400
    assert refused.json()["answers"][0].startswith("Answer every criterion")
    future = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    dated = api.post(ASSESSMENTS, body(stream, assessed_on=future), format="json")
    assert dated.status_code == 400
    assert "assessed_on" in dated.json()
    shape = api.post(ASSESSMENTS, {"answers": [{"criterion": 1, "answer": "maybe"}]}, format="json")
    assert shape.status_code == 400
    assert set(shape.json()) == {"value_stream", "answers"}
    assert not TransitionUnit.objects.exists()
    assert not TransitionAssessment.objects.exists()


def test_assessments_cannot_be_changed_or_deleted(api_as, executive):
    assessment = record(executive, None)
    api = api_as(executive)
    assert api.patch(f"{ASSESSMENTS}{assessment.pk}/", {"notes": "x"}).status_code == 405
    # No role holds the delete permission, so the permission check answers first.
    assert api.delete(f"{ASSESSMENTS}{assessment.pk}/").status_code == 403
    assert TransitionAssessment.objects.filter(pk=assessment.pk).exists()


@pytest.mark.parametrize("n", [2, 10])
def test_assessment_list_query_count_is_constant(api_as, executive, django_assert_num_queries, n):
    streams = [ValueStreamFactory() for _ in range(n)]
    for stream in streams:
        record(executive, stream)
    api = api_as(executive)
    # session, user, count, the page's assessments with units, value streams and assessors,
    # their answers with criteria
    with django_assert_num_queries(5):
        response = api.get(ASSESSMENTS)
    assert response.json()["count"] == n


# Criteria.


@pytest.mark.parametrize("role_user", ROLES, indirect=True)
def test_every_role_reads_the_criteria(api_as, role_user):
    api = api_as(role_user)
    response = api.get(CRITERIA, {"stage": 1})
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [r["order"] for r in rows] == [1, 2, 3, 4]
    stated = rows[1]
    assert (stated["evidence"], stated["evidence_label"], stated["stage_label"]) == (
        "outcomes_stated",
        "Outcomes stated",
        "Starting Out",
    )
    assert api.get(f"{CRITERIA}{stated['id']}/").status_code == 200


def test_portfolio_manager_creates_updates_and_archives_a_criterion(api_as, portfolio_manager):
    api = api_as(portfolio_manager)
    created = api.post(
        CRITERIA, {"stage": 2, "text": " Pilot teams report monthly ", "evidence": ""}
    )
    assert created.status_code == 201
    data = created.json()
    assert (data["text"], data["order"], data["archived_at"]) == (
        "Pilot teams report monthly",
        5,
        None,
    )
    url = f"{CRITERIA}{data['id']}/"
    changed = api.patch(url, {"evidence": "durable_teams", "order": 1})
    assert changed.status_code == 200
    assert (changed.json()["evidence"], changed.json()["order"]) == ("durable_teams", 1)
    bad = api.patch(url, {"evidence": "nonsense", "stage": 7})
    assert bad.status_code == 400
    assert set(bad.json()) == {"evidence", "stage"}
    archived = api.post(f"{url}archive/")
    assert archived.status_code == 200
    assert archived.json()["archived_at"] is not None
    listed = api.get(CRITERIA, {"stage": 2}).json()["results"]
    assert data["id"] not in [r["id"] for r in listed]
    every = api.get(CRITERIA, {"stage": 2, "archived": "all"}).json()["results"]
    assert data["id"] in [r["id"] for r in every]
    restored = api.post(f"{url}restore/")
    assert restored.status_code == 200
    assert restored.json()["archived_at"] is None
    listed = api.get(CRITERIA, {"stage": 2}).json()["results"]
    assert data["id"] in [r["id"] for r in listed]


@pytest.mark.parametrize("role_user", NOT_EDITORS, indirect=True)
def test_other_roles_may_not_write_criteria(api_as, role_user):
    api = api_as(role_user)
    criterion = criteria(1)[0]
    url = f"{CRITERIA}{criterion.pk}/"
    assert api.post(CRITERIA, {"stage": 1, "text": "Sneaky"}).status_code == 403
    assert api.patch(url, {"text": "Sneaky"}).status_code == 403
    assert api.post(f"{url}archive/").status_code == 403
    assert api.post(f"{url}restore/").status_code == 403
    criterion.refresh_from_db()
    assert (criterion.text, criterion.archived_at) != ("Sneaky", None)
    assert criterion.archived_at is None
    assert not TransitionCriterion.objects.filter(text="Sneaky").exists()


def test_criteria_list_query_count(api_as, portfolio_manager, django_assert_num_queries):
    api = api_as(portfolio_manager)
    # session, user, count, the page of criteria
    with django_assert_num_queries(4):
        response = api.get(CRITERIA)
    assert response.json()["count"] == 18


# Units.


@pytest.mark.parametrize("role_user", ROLES, indirect=True)
def test_every_role_reads_units_and_none_writes_them(api_as, role_user, executive):
    stream = ValueStreamFactory(name="Payments")
    record(executive, None, advance=True)
    record(executive, stream)
    api = api_as(role_user)
    response = api.get(UNITS)
    assert response.status_code == 200
    rows = {r["name"]: r for r in response.json()["results"]}
    organisation = rows["The organisation"]
    assert organisation["value_stream"] is None
    assert (organisation["stage"], organisation["stage_label"]) == (2, "Experimentation")
    assert organisation["stage_since"] == timezone.localdate().isoformat()
    assert rows["Payments"]["value_stream"]["slug"] == stream.slug
    assert set(organisation) == {
        "id",
        "value_stream",
        "name",
        "stage",
        "stage_label",
        "stage_since",
    }
    only = api.get(UNITS, {"organisation": "true"}).json()["results"]
    assert [r["name"] for r in only] == ["The organisation"]
    assert api.post(UNITS, {"stage": 5}).status_code in (403, 405)
    unit_url = f"{UNITS}{organisation['id']}/"
    assert api.patch(unit_url, {"stage": 5}).status_code in (403, 405)
    assert TransitionUnit.objects.get(value_stream=None).stage == 2


@pytest.mark.parametrize("n", [2, 10])
def test_unit_list_query_count_is_constant(api_as, executive, django_assert_num_queries, n):
    for _ in range(n):
        record(executive, ValueStreamFactory())
    api = api_as(executive)
    # session, user, count, the page of units with their value streams
    with django_assert_num_queries(4):
        response = api.get(UNITS)
    assert response.json()["count"] == n


def test_schema_documents_the_transition_endpoints(api_as, executive):
    paths = api_as(executive).get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    assert set(paths[ASSESSMENTS]) == {"get", "post"}
    assert set(paths[f"{ASSESSMENTS}{{id}}/"]) == {"get"}
    assert set(paths[f"{CRITERIA}{{id}}/archive/"]) == {"post"}
    assert set(paths[UNITS]) == {"get"}
    assert set(paths[f"{UNITS}{{id}}/"]) == {"get"}
