"""Transition pages: the overview, a unit's page with its assessment form and history, and the
criteria that portfolio managers edit in place."""

import datetime
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portfolio import services
from portfolio.models import (
    AssessmentAnswer,
    TransitionAssessment,
    TransitionCriterion,
    TransitionUnit,
)
from portfolio.services import Answer
from tests.conftest import ROLES
from tests.products.factories import OutcomeFactory, ProductFactory
from tests.valuestreams.factories import ValueStreamFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
ASSESSORS = ["executive", "portfolio_manager"]
NOT_ASSESSORS = ["product_owner", "finance"]
NOT_EDITORS = [r for r in ROLES if r != "portfolio_manager"]
OVERVIEW = "/transition/"
ORGANISATION = "/transition/organisation/"
CRITERIA = "/transition/criteria/"


def criteria(stage: int) -> list[TransitionCriterion]:
    return list(TransitionCriterion.objects.filter(stage=stage, archived_at__isnull=True))


def assessment_post(stage: int = 1, *values: str, **extra) -> dict[str, str]:
    """A filled assessment form for the stage's checklist (all met unless ``values`` say)."""
    items = criteria(stage)
    values = values or ("met",) * len(items)
    data = {"stage": str(stage), "assessed_on": timezone.localdate().isoformat(), "notes": ""}
    for i, (criterion, value) in enumerate(zip(items, values, strict=True)):
        data[f"answer_{criterion.pk}"] = value
        data[f"note_{criterion.pk}"] = f"note {i + 1}"
    data.update(extra)
    return data


def record(actor, value_stream=None, *values: str, advance=False, reason="", on=None):
    unit = services.unit_for(value_stream)
    items = criteria(unit.stage)
    values = values or ("met",) * len(items)
    return services.assessment_record(
        actor=actor,
        unit=unit,
        answers=[Answer(c.pk, v, "seen") for c, v in zip(items, values, strict=True)],
        advance=advance,
        override_reason=reason,
        assessed_on=on,
    )


def unit_url(value_stream=None) -> str:
    if value_stream is None:
        return reverse("transition:unit")
    return reverse("transition:unit", kwargs={"slug": value_stream.slug})


def is_fragment(response) -> bool:
    return "<html" not in response.content.decode()


def test_urls_are_where_the_brief_puts_them():
    assert reverse("transition:overview") == OVERVIEW
    assert reverse("transition:unit") == ORGANISATION
    assert reverse("transition:unit", kwargs={"slug": "payments"}) == (
        "/transition/value-streams/payments/"
    )
    assert reverse("transition:criteria") == CRITERIA


# The overview.


@pytest.mark.parametrize("role_user", ROLES, indirect=True)
def test_every_role_reads_the_overview_and_reading_writes_nothing(client, role_user):
    ValueStreamFactory(name="Payments")
    client.force_login(role_user)
    response = client.get(OVERVIEW)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Not assessed yet: the organisation starts at stage 1." in html
    assert "(not assessed yet, stage 1)" in html
    assert 'aria-current="step"' in html
    assert not TransitionUnit.objects.exists()


def test_overview_shows_the_organisation_on_the_ladder_and_each_value_stream(
    exec_client, executive
):
    payments, onboarding = ValueStreamFactory(name="Payments"), ValueStreamFactory(name="Onboard")
    ValueStreamFactory(name="Gone", archived_at=timezone.now())
    on = timezone.localdate() - datetime.timedelta(days=3)
    record(executive, None, advance=True, on=on)
    record(executive, payments, "met", "partly", "met", "met")
    response = exec_client.get(OVERVIEW)
    html = response.content.decode()
    current = re.search(
        r'<li class="stage-rung is-current" aria-current="step">(.*?)</li>', html, re.S
    )
    assert current is not None
    assert "Experimentation" in current.group(1)
    assert "Current stage" in current.group(1)
    assert f"At stage 2 since {on:%-d %b %Y}." in html
    assert "Last assessed" in html and "advanced." in html
    rows = response.context["rows"]
    assert [r.value_stream.name for r in rows] == ["Onboard", "Payments"]
    assert [(r.stage, r.assessed, r.last_outcome) for r in rows] == [
        (1, False, ""),
        (1, True, "stayed"),
    ]
    assert unit_url(payments) in html and unit_url(onboarding) in html
    assert "Gone" not in html
    # Each rung counts the value streams on it.
    assert "2 value streams" in html


@pytest.mark.parametrize("n", [2, 10])
def test_overview_query_count_is_constant(exec_client, executive, django_assert_num_queries, n):
    streams = [ValueStreamFactory() for _ in range(n)]
    record(executive, None)
    for stream in streams[: n // 2]:
        record(executive, stream, advance=True)
        record(executive, stream)
    # session, user, the organisation's unit with its last assessment, the value streams with
    # their units and last assessments, the user's roles
    with django_assert_num_queries(5):
        response = exec_client.get(OVERVIEW)
    assert len(response.context["rows"]) == n


# A unit's page.


@pytest.mark.parametrize("role_user", ROLES, indirect=True)
def test_every_role_reads_a_unit_page_and_only_assessors_get_the_form(client, role_user):
    stream = ValueStreamFactory(name="Payments")
    client.force_login(role_user)
    for url in (ORGANISATION, unit_url(stream)):
        response = client.get(url)
        assert response.status_code == 200
        html = response.content.decode()
        assert "An executive sponsor is named" in html
        assert ("Record assessment" in html) is (role_user.groups.first().name in ASSESSORS)
        assert (response.context["form"] is not None) is (
            role_user.groups.first().name in ASSESSORS
        )
    assert not TransitionUnit.objects.exists()


def test_the_form_dates_the_assessment_today_in_the_date_input_format(exec_client):
    html = exec_client.get(ORGANISATION).content.decode()
    assert f'type="date" name="assessed_on" value="{timezone.localdate().isoformat()}"' in html


def test_unknown_value_stream_is_404(exec_client):
    assert exec_client.get("/transition/value-streams/nope/").status_code == 404


@pytest.mark.parametrize("role_user", NOT_ASSESSORS, indirect=True)
def test_other_roles_may_not_post_an_assessment(client, role_user):
    stream = ValueStreamFactory()
    client.force_login(role_user)
    for url in (ORGANISATION, unit_url(stream)):
        assert client.post(url, assessment_post(advance="on")).status_code == 403
    assert not TransitionUnit.objects.exists()
    assert not TransitionAssessment.objects.exists()


def test_unit_page_shows_the_data_evidence_beside_each_criterion(exec_client):
    stream = ValueStreamFactory(name="Payments")
    with_outcome, without = ProductFactory(), ProductFactory()
    stream.products.set([with_outcome, without])
    OutcomeFactory(product=with_outcome)
    html = exec_client.get(unit_url(stream)).content.decode()
    assert "1 of 2 products (50 %)" in html
    assert 'title="Active products that have at least one outcome' in html
    assert "<summary>How this is counted</summary>" in html
    assert f'href="{reverse("products:product_list")}"' in html
    # The three criteria without a figure say people judge them.
    assert html.count("People judge this") == 3
    # The other stages' checklists are there, collapsed.
    assert html.count('<details class="stage-checklist">') == 4


@pytest.mark.parametrize("role", ASSESSORS)
def test_assessors_advance_a_value_stream_when_every_criterion_is_met(client, make_user, role):
    stream = ValueStreamFactory(name="Payments")
    client.force_login(make_user(f"a-{role}", role))
    response = client.post(unit_url(stream), assessment_post(advance="on"))
    assert response.status_code == 302
    assert response["Location"] == unit_url(stream) + "#history"
    unit = TransitionUnit.objects.get(value_stream=stream)
    assert unit.stage == 2
    assessment = unit.assessments.get()
    assert (assessment.outcome, assessment.stage, assessment.stage_after) == ("advanced", 1, 2)
    assert sorted(assessment.answers.values_list("evidence_note", flat=True)) == [
        "note 1",
        "note 2",
        "note 3",
        "note 4",
    ]
    page = client.get(unit_url(stream)).content.decode()
    assert "Assessment recorded: Payments advanced to stage 2, Experimentation." in page
    assert "Stage 2 checklist: Experimentation" in page


def test_staying_records_the_answers_and_the_history_shows_them(exec_client, executive):
    evidence_key = criteria(1)[1]
    ProductFactory()  # an active product without an outcome: the figure is 0 of 1
    response = exec_client.post(
        ORGANISATION,
        assessment_post(1, "met", "not_met", "partly", "met", notes="First look"),
        headers=HTMX,
    )
    assert response.status_code == 200
    assert is_fragment(response)
    assert "HX-Request" in response["Vary"]
    html = response.content.decode()
    assert "stays at stage 1, Starting Out" in html
    unit = TransitionUnit.objects.get(value_stream=None)
    assert unit.stage == 1
    answer = AssessmentAnswer.objects.get(criterion=evidence_key)
    assert (answer.answer, answer.data_evidence) == ("not_met", "0 of 1 products (0 %)")
    history = html.split('id="history"')[1]
    assert "Erin Exec" in history
    assert "judged stage 1, Starting Out" in history
    assert "Stayed" in history and "First look" in history
    assert "Data then: 0 of 1 products (0 %)" in history
    assert "note 2" in history and "Not met" in history


def test_unmet_advance_without_reason_rerenders_with_the_message_and_saves_nothing(pm_client):
    stream = ValueStreamFactory(name="Payments")
    data = assessment_post(1, "met", "partly", "met", "not_met", advance="on")
    for headers in ({}, HTMX):
        response = pm_client.post(unit_url(stream), data, headers=headers)
        assert response.status_code == 200
        assert is_fragment(response) is bool(headers)
        html = response.content.decode()
        error = re.search(
            r'<p class="field-error" id="assess_override_reason_error">(.*?)</p>', html
        )
        assert error is not None
        assert "give a reason to advance anyway" in error.group(1)
        # The answers given are kept in the form.
        assert re.search(r'value="partly"[^>]*checked', html)
    assert not TransitionUnit.objects.exists()
    assert not TransitionAssessment.objects.exists()


def test_override_with_a_reason_advances_and_the_history_keeps_the_reason(pm_client):
    data = assessment_post(
        1, "met", "partly", "met", "not_met", advance="on", override_reason="Board mandate"
    )
    response = pm_client.post(ORGANISATION, data, headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "advanced by override to stage 2, Experimentation" in html
    assert "Override reason:</strong> Board mandate" in html
    unit = TransitionUnit.objects.get(value_stream=None)
    assert unit.stage == 2
    assert unit.assessments.get().outcome == "overridden"
    # The fresh form now asks stage 2's checklist.
    assert response.context["form"].unit.stage == 2
    assert 'name="stage" value="2"' in html


def test_a_missing_answer_is_shown_beside_the_criterion_and_nothing_is_saved(exec_client):
    data = assessment_post()
    first = criteria(1)[0]
    del data[f"answer_{first.pk}"]
    response = exec_client.post(ORGANISATION, data)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="assess_answer_{first.pk}_error">Choose met, partly met or not met.' in html
    assert not TransitionAssessment.objects.exists()
    assert not TransitionUnit.objects.exists()


def test_a_future_date_is_refused_beside_the_date(exec_client):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = exec_client.post(ORGANISATION, assessment_post(assessed_on=tomorrow.isoformat()))
    assert response.status_code == 200
    assert "An assessment cannot be dated in the future." in response.content.decode()
    assert not TransitionAssessment.objects.exists()


def test_a_form_for_a_stage_that_has_moved_on_is_refused(exec_client, executive):
    record(executive, None, advance=True)
    response = exec_client.post(ORGANISATION, assessment_post(1) | {"stage": "1"})
    assert response.status_code == 200
    assert "moved to stage 2, Experimentation, since this form was opened" in (
        response.content.decode()
    )
    assert TransitionAssessment.objects.count() == 1


def test_stage_five_offers_no_advance(exec_client, executive):
    for _ in range(4):
        record(executive, None, advance=True)
    response = exec_client.get(ORGANISATION)
    form = response.context["form"]
    assert "advance" not in form.fields
    assert "Stage 5 is the last stage" in response.content.decode()
    assert exec_client.post(ORGANISATION, assessment_post(5)).status_code == 302
    assert TransitionUnit.objects.get(value_stream=None).stage == 5


@pytest.mark.parametrize("n", [2, 10])
def test_unit_page_query_count_is_constant(exec_client, executive, django_assert_num_queries, n):
    for _ in range(n):
        record(executive, None, "met", "partly", "met", "met")
    # session, user, the permission check (user's and groups' permissions: 2), the unit, every
    # criterion, the stage-1 figure (outcomes stated), the assessments with their assessors,
    # their answers with criteria, the user's roles
    with django_assert_num_queries(10):
        response = exec_client.get(ORGANISATION)
    assert len(response.context["page"].history) == n


# The criteria.


@pytest.mark.parametrize("role_user", ROLES, indirect=True)
def test_every_role_reads_the_criteria_and_only_portfolio_managers_edit(client, role_user):
    client.force_login(role_user)
    response = client.get(CRITERIA)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Pilot product teams are formed" in html
    editor = role_user.groups.first().name == "portfolio_manager"
    assert ("Add a criterion" in html) is editor
    assert (">Edit<" in html) is editor


@pytest.mark.parametrize("role_user", NOT_EDITORS, indirect=True)
def test_other_roles_may_not_write_criteria(client, role_user):
    client.force_login(role_user)
    criterion = criteria(1)[0]
    edit = reverse("transition:criterion_edit", kwargs={"pk": criterion.pk})
    archive = reverse("transition:criterion_archive", kwargs={"pk": criterion.pk})
    create = reverse("transition:criterion_create")
    new = {"text": "Sneaky", "stage": "1", "order": "", "evidence": ""}
    for url in (create, edit, archive):
        assert client.get(url).status_code == 403
        assert client.post(url, new).status_code == 403
        assert client.post(url, new, headers=HTMX).status_code == 403
    criterion.refresh_from_db()
    assert criterion.archived_at is None
    assert not TransitionCriterion.objects.filter(text="Sneaky").exists()


def test_portfolio_manager_adds_a_criterion_with_a_plain_post(pm_client):
    response = pm_client.post(
        reverse("transition:criterion_create"),
        {"text": "  A transition backlog is kept  ", "stage": "2", "order": "", "evidence": ""},
    )
    criterion = TransitionCriterion.objects.get(text="A transition backlog is kept")
    assert response.status_code == 302
    assert response["Location"] == f"{CRITERIA}#criterion-{criterion.pk}"
    assert (criterion.stage, criterion.order) == (2, 5)


def test_portfolio_manager_adds_a_criterion_in_place(pm_client):
    response = pm_client.post(
        reverse("transition:criterion_create"),
        {"text": "Teams own their budget", "stage": "4", "order": "", "evidence": "durable_teams"},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert is_fragment(response)
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="criteria"')
    assert "Criterion added to stage 4" in html
    assert "Durable teams" in html
    assert TransitionCriterion.objects.get(text="Teams own their budget").evidence == (
        "durable_teams"
    )


def test_an_invalid_criterion_comes_back_with_its_errors(pm_client):
    before = TransitionCriterion.objects.count()
    response = pm_client.post(
        reverse("transition:criterion_create"),
        {"text": "", "stage": "9", "order": "", "evidence": "nonsense"},
        headers=HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "This field is required." in html
    assert "Select a valid choice." in html
    assert TransitionCriterion.objects.count() == before


def test_portfolio_manager_edits_a_criterion_in_place(pm_client):
    criterion = criteria(1)[0]
    edit = reverse("transition:criterion_edit", kwargs={"pk": criterion.pk})
    opened = pm_client.get(edit, headers=HTMX)
    assert is_fragment(opened)
    assert f'id="criterion-{criterion.pk}" class="criterion-edit"' in opened.content.decode()
    full = pm_client.get(edit)
    assert not is_fragment(full)
    response = pm_client.post(
        edit,
        {"text": "Reasons written and shared", "stage": "1", "order": "", "evidence": ""},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert "Criterion saved: “Reasons written and shared”." in response.content.decode()
    criterion.refresh_from_db()
    assert (criterion.text, criterion.order) == ("Reasons written and shared", 1)
    refused = pm_client.post(
        edit, {"text": " ", "stage": "1", "order": "2", "evidence": ""}, headers=HTMX
    )
    assert refused.status_code == 200
    assert "This field is required." in refused.content.decode()
    criterion.refresh_from_db()
    assert criterion.text == "Reasons written and shared"


def test_portfolio_manager_archives_a_criterion(pm_client):
    criterion = criteria(1)[0]
    archive = reverse("transition:criterion_archive", kwargs={"pk": criterion.pk})
    confirm = pm_client.get(archive)
    assert "past assessments keep their answers" in confirm.content.decode().lower()
    response = pm_client.post(archive, headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Criterion archived" in html
    assert "Archived criteria (1)" in html
    criterion.refresh_from_db()
    assert criterion.archived_at is not None
    # Archived: no longer editable, and off the unit page's checklist.
    assert pm_client.get(archive).status_code == 404
    assert (
        criterion.text not in pm_client.get(ORGANISATION).content.decode().split('id="history"')[0]
    )


def test_portfolio_manager_restores_an_archived_criterion(pm_client, executive):
    exec_client = Client()  # pm_client's own client is signed in as the portfolio manager
    exec_client.force_login(executive)
    criterion = criteria(1)[0]
    pm_client.post(reverse("transition:criterion_archive", kwargs={"pk": criterion.pk}))
    restore = reverse("transition:criterion_restore", kwargs={"pk": criterion.pk})
    assert f'hx-post="{restore}"' in pm_client.get(CRITERIA).content.decode()
    assert f'hx-post="{restore}"' not in exec_client.get(CRITERIA).content.decode()
    assert exec_client.post(restore).status_code == 403
    criterion.refresh_from_db()
    assert criterion.archived_at is not None
    assert pm_client.get(restore).status_code == 405

    response = pm_client.post(restore, headers=HTMX)

    assert response.status_code == 200
    assert "Criterion restored to stage 1" in response.content.decode()
    assert "Archived criteria" not in response.content.decode()
    criterion.refresh_from_db()
    assert criterion.archived_at is None
    assert pm_client.post(restore).status_code == 404  # not archived any more


def test_criteria_fragment_for_htmx_and_the_full_page_otherwise(pm_client):
    fragment = pm_client.get(CRITERIA, headers=HTMX)
    assert is_fragment(fragment)
    assert "HX-Request" in fragment["Vary"]
    assert not is_fragment(pm_client.get(CRITERIA))


def test_home_page_links_to_the_transition(exec_client):
    assert f'href="{OVERVIEW}"' in exec_client.get("/").content.decode()
