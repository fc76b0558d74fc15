"""The value stream map pages: the map page with in-place step editing, the maps panel of the value
stream page, the map and outcome forms, and the comparison of current and future state."""

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from tests.conftest import ROLES
from tests.valuestreams.factories import ValueStreamFactory
from valuestreams import maps
from valuestreams.models import ImprovementOutcome, MapStep, ValueStreamMap

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
READ_ONLY_ROLES = [r for r in ROLES if r != "portfolio_manager"]
HAND = [("10", "60", "90"), ("0", "1440", "100"), ("30", "120", "80"), ("5", "10", "100")]
NAMES = ["Application", "Queue for ID check", "Credit check", "Welcome"]


def build_map(actor, rows, *, value_stream, state="current", names=None, mapped_on=None):
    vsm = maps.map_create(
        actor=actor,
        value_stream=value_stream,
        state=state,
        mapped_on=mapped_on or datetime.date(2026, 3, 12),
    )
    for i, (pt, lt, ca) in enumerate(rows):
        maps.step_add(
            actor=actor,
            vsm=vsm,
            name=names[i] if names else f"Step {i + 1}",
            process_time_minutes=Decimal(pt),
            lead_time_minutes=Decimal(lt),
            percent_complete_accurate=Decimal(ca),
        )
    return vsm


@pytest.fixture
def onboarding():
    return ValueStreamFactory(name="Customer onboarding", slug="customer-onboarding")


@pytest.fixture
def hand_map(portfolio_manager, onboarding):
    return build_map(portfolio_manager, HAND, value_stream=onboarding, names=NAMES)


def url(name, vsm, **extra):
    return reverse(
        f"valuestreams:{name}", kwargs={"slug": vsm.value_stream.slug, "pk": vsm.pk, **extra}
    )


def figure(html: str, name: str) -> str:
    match = re.search(rf'data-figure="{name}">([^<]*)<', html)
    assert match, name
    return match.group(1)


def step_names(vsm) -> list[str]:
    return list(MapStep.objects.filter(map=vsm).order_by("order").values_list("name", flat=True))


def step_post(**overrides):
    data = {
        "name": "Account set-up",
        "process_time_minutes": "20",
        "lead_time_minutes": "240",
        "percent_complete_accurate": "95",
        "performed_by": "Back office",
        "notes": "",
    }
    data.update(overrides)
    return data


# --- The map page ------------------------------------------------------------------------------


@pytest.mark.parametrize("role_user", ROLES, indirect=True)
def test_map_page_for_every_role(client, role_user, hand_map):
    client.force_login(role_user)
    response = client.get(hand_map.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert figure(html, "lead-time") == "1.1 d"
    assert figure(html, "process-time") == "45 min"
    assert figure(html, "wait") == "1.1 d"
    assert figure(html, "activity-ratio") == "2.8 %"
    assert figure(html, "rolled-pca") == "72 %"
    assert figure(html, "bottleneck") == "Queue for ID check"
    assert "<svg" in html and "<title id=" in html
    editor = role_user.groups.filter(name="portfolio_manager").exists()
    assert (url("step_add", hand_map) in html) is editor
    assert (url("map_edit", hand_map) in html) is editor


def test_the_svg_is_csp_clean_and_marks_the_bottleneck(pm_client, hand_map):
    html = pm_client.get(hand_map.get_absolute_url()).content.decode()
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert "style=" not in svg and "<script" not in svg
    assert not re.search(r"\son[a-z]+=", svg)
    assert svg.count('class="vsm-step is-bottleneck"') == 1
    assert "Bottleneck" in svg
    bottleneck = svg[svg.index('class="vsm-step is-bottleneck"') :]
    assert "Queue for ID check" in bottleneck[: bottleneck.index("</g>")]
    assert "PT 10 min" in svg and "LT 1 h" in svg and "%C&amp;A 90 %" in svg
    assert "wait 1 d" in svg  # the ladder's wait of the queue
    assert 'class="vsm-ladder is-bottleneck"' in svg


def test_unknown_map_is_404(pm_client, hand_map):
    other = ValueStreamFactory()
    wrong = reverse("valuestreams:map_detail", kwargs={"slug": other.slug, "pk": hand_map.pk})
    assert pm_client.get(wrong).status_code == 404
    missing = reverse("valuestreams:map_detail", kwargs={"slug": other.slug, "pk": 999})
    assert pm_client.get(missing).status_code == 404


# --- In-place step editing ---------------------------------------------------------------------


def test_edit_a_step_with_htmx_recomputes_everything(pm_client, hand_map):
    queue = MapStep.objects.get(map=hand_map, order=2)
    edit = url("step_edit", hand_map, step_pk=queue.pk)
    response = pm_client.get(edit, headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="map-steps"')
    assert f'id="step-{queue.pk}_lead_time_minutes"' in html
    response = pm_client.post(
        edit,
        step_post(name="Queue for ID check", process_time_minutes="0", lead_time_minutes="60"),
        headers=HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="map-steps"')
    assert (
        'id="map-metrics" class="tiles map-metrics" aria-label="Map figures" hx-swap-oob="true"'
        in html
    )
    assert 'id="map-picture"' in html and 'id="map-outcomes"' in html
    # LT 60 + 60 + 120 + 10 = 250; the credit check (wait 90) is the bottleneck now
    assert figure(html, "lead-time") == "4.2 h"
    assert figure(html, "bottleneck") == "Credit check"
    assert figure(html, "activity-ratio") == "18 %"
    queue.refresh_from_db()
    assert queue.lead_time_minutes == 60
    assert queue.performed_by == "Back office"


def test_an_invalid_step_comes_back_with_its_errors(pm_client, hand_map):
    first = MapStep.objects.get(map=hand_map, order=1)
    response = pm_client.post(
        url("step_edit", hand_map, step_pk=first.pk),
        step_post(process_time_minutes="90", lead_time_minutes="30"),
        headers=HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Lead time must be at least the process time." in html
    assert "hx-swap-oob" not in html
    first.refresh_from_db()
    assert (first.name, first.lead_time_minutes) == ("Application", 60)
    # the same without JavaScript: the whole page with the form and its error
    response = pm_client.post(url("step_add", hand_map), step_post(percent_complete_accurate="0"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html and "%C&amp;A must be more than 0 and at most 100." in html
    assert MapStep.objects.filter(map=hand_map).count() == 4


def test_add_move_and_remove_steps_with_htmx(pm_client, hand_map):
    response = pm_client.post(url("step_add", hand_map), step_post(), headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert figure(html, "lead-time") == "1.3 d"  # 1630 + 240 = 1870
    assert step_names(hand_map)[-1] == "Account set-up"
    added = MapStep.objects.get(map=hand_map, name="Account set-up")
    response = pm_client.post(
        url("step_move", hand_map, step_pk=added.pk), {"direction": "up"}, headers=HTMX
    )
    assert response.status_code == 200
    assert step_names(hand_map) == [*NAMES[:3], "Account set-up", "Welcome"]
    response = pm_client.post(url("step_delete", hand_map, step_pk=added.pk), headers=HTMX)
    assert response.status_code == 200
    assert figure(response.content.decode(), "lead-time") == "1.1 d"
    assert step_names(hand_map) == NAMES
    assert list(
        MapStep.objects.filter(map=hand_map).order_by("order").values_list("order", flat=True)
    ) == [1, 2, 3, 4]


def test_everything_works_as_plain_posts(pm_client, hand_map):
    detail = hand_map.get_absolute_url()
    response = pm_client.post(url("step_add", hand_map), step_post())
    assert response.status_code == 302 and response.url.startswith(detail)
    added = MapStep.objects.get(map=hand_map, name="Account set-up")
    response = pm_client.get(url("step_edit", hand_map, step_pk=added.pk))
    assert response.status_code == 200 and "<html" in response.content.decode()
    response = pm_client.post(
        url("step_edit", hand_map, step_pk=added.pk), step_post(lead_time_minutes="300")
    )
    assert response.status_code == 302
    response = pm_client.post(url("step_move", hand_map, step_pk=added.pk), {"direction": "up"})
    assert response.status_code == 302
    assert step_names(hand_map) == [*NAMES[:3], "Account set-up", "Welcome"]
    assert (
        pm_client.post(
            url("step_move", hand_map, step_pk=added.pk), {"direction": "around"}
        ).status_code
        == 400
    )
    response = pm_client.get(url("step_delete", hand_map, step_pk=added.pk))
    assert response.status_code == 200 and "Remove the step" in response.content.decode()
    response = pm_client.post(url("step_delete", hand_map, step_pk=added.pk))
    assert response.status_code == 302
    assert step_names(hand_map) == NAMES
    response = pm_client.get(detail)
    assert "removed" in response.content.decode()


# --- Maps and improvement outcomes -------------------------------------------------------------


def test_create_edit_delete_a_map(pm_client, onboarding):
    create = reverse("valuestreams:map_create", kwargs={"slug": onboarding.slug})
    assert pm_client.get(create).status_code == 200
    response = pm_client.post(
        create, {"state": "future", "name": "", "mapped_on": "2026-05-01", "notes": ""}
    )
    vsm = ValueStreamMap.objects.get()
    assert response.status_code == 302 and response.url == vsm.get_absolute_url()
    assert (vsm.state, vsm.mapped_on) == ("future", datetime.date(2026, 5, 1))
    response = pm_client.post(
        url("map_edit", vsm), {"state": "sideways", "mapped_on": "2026-05-01"}
    )
    assert response.status_code == 200 and "field-error" in response.content.decode()
    response = pm_client.post(
        url("map_edit", vsm), {"state": "current", "name": "Today", "mapped_on": "2026-05-02"}
    )
    assert response.status_code == 302
    vsm.refresh_from_db()
    assert (vsm.state, vsm.name) == ("current", "Today")
    assert pm_client.get(url("map_delete", vsm)).status_code == 200
    response = pm_client.post(url("map_delete", vsm))
    assert response.status_code == 302 and response.url == onboarding.get_absolute_url()
    assert not ValueStreamMap.objects.exists()


def test_improvement_outcomes_in_place(pm_client, hand_map):
    add = url("outcome_add", hand_map)
    data = {
        "description": "Open an account within a day",
        "metric": "total_lead_time_minutes",
        "comparator": "below",
        "target": "1440",
    }
    response = pm_client.post(add, data, headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="map-outcomes"')
    assert "Not met" in html
    outcome = ImprovementOutcome.objects.get()
    edit = url("outcome_edit", hand_map, outcome_pk=outcome.pk)
    response = pm_client.post(edit, {**data, "target": "2000"}, headers=HTMX)
    assert ">Met<" in response.content.decode()
    response = pm_client.post(
        edit, {**data, "metric": "activity_ratio", "target": "120"}, headers=HTMX
    )
    assert response.status_code == 200
    assert "A percent target lies between 0 and 100." in response.content.decode()
    outcome.refresh_from_db()
    assert outcome.target == 2000
    response = pm_client.post(url("outcome_delete", hand_map, outcome_pk=outcome.pk))
    assert response.status_code == 302
    assert not ImprovementOutcome.objects.exists()


# --- Permissions -------------------------------------------------------------------------------


@pytest.mark.parametrize("role_user", READ_ONLY_ROLES, indirect=True)
def test_other_roles_get_403_and_change_nothing(client, role_user, portfolio_manager, hand_map):
    outcome = maps.improvement_outcome_create(
        actor=portfolio_manager,
        vsm=hand_map,
        description="Faster",
        metric="total_lead_time_minutes",
        comparator="below",
        target=Decimal(1000),
    )
    step = MapStep.objects.get(map=hand_map, order=1)
    client.force_login(role_user)
    create = reverse("valuestreams:map_create", kwargs={"slug": hand_map.value_stream.slug})
    pages = [
        create,
        url("map_edit", hand_map),
        url("map_delete", hand_map),
        url("step_add", hand_map),
        url("step_edit", hand_map, step_pk=step.pk),
        url("step_move", hand_map, step_pk=step.pk),
        url("step_delete", hand_map, step_pk=step.pk),
        url("outcome_add", hand_map),
        url("outcome_edit", hand_map, outcome_pk=outcome.pk),
        url("outcome_delete", hand_map, outcome_pk=outcome.pk),
    ]
    for page in pages:
        assert client.get(page).status_code == 403, page
        assert client.get(page, headers=HTMX).status_code == 403, page
        assert client.post(page, {**step_post(), "direction": "down"}).status_code == 403, page
        assert client.post(page, step_post(), headers=HTMX).status_code == 403, page
    assert ValueStreamMap.objects.count() == 1
    assert step_names(hand_map) == NAMES
    step.refresh_from_db()
    assert step.lead_time_minutes == 60
    outcome.refresh_from_db()
    assert outcome.description == "Faster"


# --- The value stream page's maps panel --------------------------------------------------------


def test_value_stream_page_loads_the_maps_panel(exec_client, hand_map):
    vs = hand_map.value_stream
    panel = reverse("valuestreams:value_stream_maps", kwargs={"slug": vs.slug})
    html = exec_client.get(vs.get_absolute_url()).content.decode()
    assert f'hx-get="{panel}"' in html and f'href="{panel}"' in html
    response = exec_client.get(panel, headers=HTMX)
    assert response.status_code == 200
    fragment = response.content.decode()
    assert "<html" not in fragment and hand_map.get_absolute_url() in fragment
    full = exec_client.get(panel)
    assert "<html" in full.content.decode()
    assert reverse("valuestreams:map_create", kwargs={"slug": vs.slug}) not in fragment


def test_maps_panel_offers_new_map_to_portfolio_managers(pm_client, onboarding):
    panel = reverse("valuestreams:value_stream_maps", kwargs={"slug": onboarding.slug})
    html = pm_client.get(panel, headers=HTMX).content.decode()
    assert "No maps yet" in html
    assert reverse("valuestreams:map_create", kwargs={"slug": onboarding.slug}) in html


# --- Compare -----------------------------------------------------------------------------------


def test_compare_current_and_future(exec_client, portfolio_manager, onboarding):
    current = build_map(
        portfolio_manager,
        [("60", "1000", "50")],
        value_stream=onboarding,
        mapped_on=datetime.date(2026, 1, 5),
    )
    future = build_map(
        portfolio_manager,
        [("87", "580", "80")],
        value_stream=onboarding,
        state="future",
        mapped_on=datetime.date(2026, 1, 6),
    )
    maps.improvement_outcome_create(
        actor=portfolio_manager,
        vsm=future,
        description="Lead time below 500 minutes",
        metric="total_lead_time_minutes",
        comparator="below",
        target=Decimal(500),
    )
    compare = reverse("valuestreams:map_compare", kwargs={"slug": onboarding.slug})
    response = exec_client.get(compare)
    assert response.status_code == 200
    html = response.content.decode()
    assert "\u221242 %" in html  # lead time 1000 -> 580
    assert "+9 points" in html  # activity ratio 6 % -> 15 %
    assert "+30 points" in html  # rolled %C&A 50 % -> 80 %
    # lead time from 1000 toward 500: at 580, 84 % of the way, not met yet
    assert "84 %" in html and "Not met" in html
    assert html.count("<svg") == 2
    assert response.context["current"] == current and response.context["future"] == future
    swapped = exec_client.get(compare, {"current": future.pk, "future": current.pk})
    assert "+72 %" in swapped.content.decode()


def test_compare_without_both_states_says_what_to_do(pm_client, hand_map):
    compare = reverse("valuestreams:map_compare", kwargs={"slug": hand_map.value_stream.slug})
    html = pm_client.get(compare).content.decode()
    assert "needs a current-state and a future-state map" in html
    assert "?state=future" in html


# --- Query counts ------------------------------------------------------------------------------

# session, user, map + value stream, steps, outcomes, the user's roles, the permission checks (2)
MAP_PAGE_QUERIES = 8
# session, user, value stream, its maps, their steps, their outcomes, the user's roles
COMPARE_QUERIES = 7


@pytest.mark.parametrize("n", [2, 20])
def test_map_page_query_count(
    pm_client, portfolio_manager, onboarding, django_assert_num_queries, n
):
    rows = (HAND * 5)[:n]
    vsm = build_map(portfolio_manager, rows, value_stream=onboarding)
    future = build_map(portfolio_manager, rows, value_stream=onboarding, state="future")
    for target in (1000, 2000):
        maps.improvement_outcome_create(
            actor=portfolio_manager,
            vsm=vsm,
            description="Faster",
            metric="total_lead_time_minutes",
            comparator="below",
            target=Decimal(target),
        )
    with django_assert_num_queries(MAP_PAGE_QUERIES):
        response = pm_client.get(vsm.get_absolute_url())
    assert len(response.context["steps"]) == n
    with django_assert_num_queries(COMPARE_QUERIES):
        response = pm_client.get(
            reverse("valuestreams:map_compare", kwargs={"slug": onboarding.slug})
        )
    assert response.context["future"] == future
    panel = reverse("valuestreams:value_stream_maps", kwargs={"slug": onboarding.slug})
    # session, user, value stream, maps with their step counts, the permission checks (2), the
    # user's roles
    with django_assert_num_queries(7):
        pm_client.get(panel, headers=HTMX)


@pytest.mark.parametrize("n", [2, 20])
def test_step_edit_answer_query_count(
    pm_client, portfolio_manager, onboarding, django_assert_num_queries, n
):
    vsm = build_map(portfolio_manager, (HAND * 5)[:n], value_stream=onboarding)
    step = MapStep.objects.get(map=vsm, order=1)
    edit = url("step_edit", vsm, step_pk=step.pk)
    # Before the write: session, user, the permission checks (2), map, steps, outcomes (7).
    # The write (19): savepoint, lock, refresh of the place, full_clean()'s check that the map
    # exists and that the place is free (2), its four check constraints asked of the database
    # (savepoint, check, release: 12), the update, release.
    # The answer: map, steps, outcomes, the user's roles (4).
    with django_assert_num_queries(30):
        response = pm_client.post(edit, step_post(lead_time_minutes="90"), headers=HTMX)
    assert response.status_code == 200
    assert len(response.context["steps"]) == n
