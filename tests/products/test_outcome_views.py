"""The product page's outcomes, key results, measurements and history, and their in-place edits.

Every write is tried by the product's owner and a portfolio manager (allowed) and by an executive,
finance and the owner of another product (403, nothing written), on GET and POST, as htmx and as
a plain form; invalid input comes back with the error beside the field and writes nothing.
"""

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from products import services
from products.charts import HEIGHT, key_result_chart, number_text, with_unit
from products.models import ChangeRecord, KeyResult, Measurement, Outcome
from tests.products.factories import (
    KeyResultFactory,
    MeasurementFactory,
    OutcomeFactory,
    ProductFactory,
    RoadmapItemFactory,
    UserFactory,
    outcome_rows,
)

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
WRITERS = ["owner", "portfolio_manager"]
REFUSED = ["executive", "finance", "other_owner"]
EVERYONE = WRITERS + REFUSED
TODAY = timezone.localdate()


def days(n: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=n)


@pytest.fixture
def people(make_user):
    """The product's owner, another product's owner, and one user per other role."""
    return {
        "owner": make_user("owner", "product_owner", first_name="Omar", last_name="Owner"),
        "other_owner": make_user("other-owner", "product_owner"),
        "portfolio_manager": make_user("pm", "portfolio_manager"),
        "executive": make_user("exec", "executive"),
        "finance": make_user("finance", "finance"),
    }


@pytest.fixture
def as_role(client, people):
    def sign_in(role: str):
        client.force_login(people[role])
        return client

    return sign_in


def make_key_result(outcome: Outcome, *, values=(), **fields) -> KeyResult:
    """A key result running from 100 days ago to 100 days ahead (0 -> 100 by default), with
    measurements (date, value) and its stored figures computed as the services store them."""
    fields.setdefault("start_date", days(-100))
    fields.setdefault("target_date", days(100))
    kr = KeyResultFactory(outcome=outcome, **fields)
    for day, value in values:
        MeasurementFactory(key_result=kr, date=day, value=Decimal(value))
    return services.key_result_refresh(kr)


@pytest.fixture
def product(people):
    product = ProductFactory(name="Onboarding", slug="onboarding", owners=[people["owner"]])
    ProductFactory(name="Ledger", slug="ledger", owners=[people["other_owner"]])
    return product


@pytest.fixture
def outcome(product):
    return OutcomeFactory(
        product=product,
        statement="Customers open an account in one go",
        period_start=datetime.date(2026, 1, 1),
        period_end=datetime.date(2026, 12, 31),
    )


@pytest.fixture
def kr(outcome):
    """On track: halfway through its time, halfway to its target."""
    return make_key_result(
        outcome,
        name="Completion rate",
        unit="%",
        baseline=Decimal("20"),
        target=Decimal("60"),
        values=[(days(-60), "26"), (days(0), "40")],
    )


def page(product) -> str:
    return reverse("products:product_detail", args=[product.slug])


# Reading: every role sees the outcomes; only the owner and a portfolio manager get edit controls.


def test_every_role_reads_outcomes_with_figures_badge_and_chart(as_role, product, kr):
    for role in EVERYONE:
        html = as_role(role).get(page(product)).content.decode()
        assert "Customers open an account in one go" in html
        assert "1 Jan 2026 \u2013 31 Dec 2026" in html
        assert f'id="kr-{kr.pk}"' in html
        assert "Completion rate" in html
        assert "20 % → 60 %" in html
        assert '<span class="badge badge-ok" data-status="on_track">On track</span>' in html
        assert '<span data-figure="progress">50 %</span>' in html
        assert '<span data-figure="expected_progress">50 %</span>' in html
        assert f'40 % <span class="muted">on {TODAY.day} {TODAY:%b %Y}</span>' in html
        assert "Customer-facing" in html  # adoption, by the factory


def edit_controls(product, outcome, kr) -> list[str]:
    return [
        reverse("products:measurement_create", args=[kr.pk]),
        reverse("products:key_result_edit", args=[kr.pk]),
        reverse("products:key_result_delete", args=[kr.pk]),
        reverse("products:key_result_create", args=[outcome.pk]),
        reverse("products:outcome_edit", args=[outcome.pk]),
        reverse("products:outcome_archive", args=[outcome.pk]),
        reverse("products:outcome_create", args=[product.slug]),
        "Record a measurement",
        "Add an outcome",
    ]


@pytest.mark.parametrize("role", EVERYONE)
def test_edit_controls_only_for_the_owner_and_portfolio_managers(as_role, role, product, kr):
    html = as_role(role).get(page(product)).content.decode()
    controls = edit_controls(product, kr.outcome, kr)
    present = [control for control in controls if control in html]
    assert present == (controls if role in WRITERS else [])


def test_archived_product_offers_no_edit_controls(as_role, product, kr):
    product.archived_at = timezone.now()
    product.save()
    html = as_role("owner").get(page(product)).content.decode()
    assert "Record a measurement" not in html
    assert "Completion rate" in html


def test_status_badges_have_colour_and_label(as_role, outcome):
    make_key_result(outcome, name="At risk one", values=[(days(0), "35")])
    make_key_result(outcome, name="Off track one", values=[(days(0), "10")])
    make_key_result(outcome, name="Nothing yet", start_date=days(-10))
    html = as_role("executive").get(page(outcome.product)).content.decode()
    assert '<span class="badge badge-warn" data-status="at_risk">At risk</span>' in html
    assert '<span class="badge badge-bad" data-status="off_track">Off track</span>' in html
    assert '<span class="badge badge-none" data-status="no_data">No data</span>' in html
    summary = re.search(r'<p id="outcome-summary".*?</p>', html, re.S).group(0)
    assert "3 key results:" in summary
    assert ">0 on track<" in summary
    assert ">1 at risk<" in summary
    assert ">1 off track<" in summary
    assert ">1 no data<" in summary
    assert "stale" not in summary


def test_stale_key_results_are_flagged(as_role, outcome):
    stale = make_key_result(outcome, name="Forgotten", values=[(days(-45), "30")])
    fresh = make_key_result(outcome, name="Fresh", values=[(days(-5), "50")])
    html = as_role("finance").get(page(outcome.product)).content.decode()
    block = lambda kr: re.search(rf'<article id="kr-{kr.pk}".*?</article>', html, re.S).group(0)  # noqa: E731
    assert 'class="flag-stale" title="No measurement in the last 30 days">Stale<' in block(stale)
    assert "flag-stale" not in block(fresh)
    assert 'data-figure="stale">1 stale<' in html


def test_chart_is_inline_svg_with_a_title_and_its_numbers_as_a_table(as_role, product, kr):
    html = as_role("executive").get(page(product)).content.decode()
    chart = re.search(r'<figure class="kr-chart">.*?</figure>', html, re.S).group(0)
    assert 'role="img"' in chart
    assert f'aria-labelledby="kr-{kr.pk}-chart-title kr-{kr.pk}-chart-desc"' in chart
    assert "<title id" in chart and "Completion rate: measurements against the plan" in chart
    assert "2 measurements, the latest" in chart
    assert 'class="chart-plan"' in chart
    assert 'class="chart-actual"' in chart
    assert chart.count("<circle") == 2
    assert "style=" not in chart and "<script" not in chart
    table = re.search(r'<details class="kr-data">.*?</details>', html, re.S).group(0)
    assert "The 2 measurements as a table" in table
    # Latest first, with the plan's value on that date: halfway from 20 to 60 is 40.
    assert re.search(
        rf"{TODAY.day} {TODAY:%b %Y}</td><td class=\"num\">40 %</td><td class=\"num\">40 %</td>",
        table,
    )


def test_decrease_key_result_reads_the_same_way(as_role, outcome):
    make_key_result(
        outcome,
        name="Days to open",
        unit="days",
        kind=KeyResult.Kind.TIME_TO_MARKET,
        customer_facing=False,
        direction=KeyResult.Direction.DECREASE,
        baseline=Decimal("10"),
        target=Decimal("2"),
        values=[(days(0), "6")],
    )
    html = as_role("executive").get(page(outcome.product)).content.decode()
    assert "10 days → 2 days" in html
    assert "(decrease)" in html
    assert '<span data-figure="progress">50 %</span>' in html


def test_empty_states_say_what_to_do_next(as_role, product, outcome):
    owner_html = as_role("owner").get(page(product)).content.decode()
    assert "No key results yet: add the first one." in owner_html
    reader_html = as_role("executive").get(page(product)).content.decode()
    assert "No key results yet." in reader_html
    assert "add the first one" not in reader_html
    empty = ProductFactory(slug="empty", owners=[])
    assert "No outcomes yet." in as_role("executive").get(page(empty)).content.decode()
    pm_html = as_role("portfolio_manager").get(page(empty)).content.decode()
    assert "No outcomes yet: add the first one below." in pm_html


def test_archived_outcomes_leave_the_page(as_role, product, outcome, kr):
    outcome.archived_at = timezone.now()
    outcome.save()
    html = as_role("executive").get(page(product)).content.decode()
    assert "Completion rate" not in html
    assert "No outcomes yet." in html


# History panel.


def test_history_shows_who_when_what_and_fields_before_and_after(as_role, people, product, kr):
    owner = people["owner"]
    services.key_result_update(actor=owner, key_result=kr, target=Decimal("70"))
    services.measurement_record(actor=owner, key_result=kr, date=days(0), value=Decimal("45"))
    ChangeRecord.objects.filter(subject_type="key_result").update(
        at=timezone.now() - datetime.timedelta(minutes=3)
    )
    html = as_role("finance").get(page(product)).content.decode()
    history = re.search(r'<section id="history".*?</section>', html, re.S).group(0)
    items = re.findall(r'<li class="timeline-item.*?</li>\s*</ul>', history, re.S)
    newest, older = items[0], items[1]
    assert "<strong>Omar Owner</strong>" in newest
    assert "added measurement" in newest
    assert "Value</span>:\n          45" in newest
    assert "changed key result" in older and "“Completion rate”" in older
    assert "<del>60</del>" in older and "<ins>70</ins>" in older
    assert ">3 min ago</time>" in older
    local = timezone.localtime(ChangeRecord.objects.get(subject_type="key_result").at)
    assert f'title="{local.day} {local:%b %Y, %H:%M}"' in older


def test_history_empty_state(as_role, product):
    html = as_role("executive").get(page(product)).content.decode()
    assert "No changes yet." in html


# Writes: the owner and portfolio managers succeed; everyone else gets 403 and nothing changes.


def kr_data(**changes) -> dict:
    data = {
        "name": "Accounts opened per week",
        "kind": "adoption",
        "customer_facing": "on",
        "unit": "accounts",
        "direction": "increase",
        "baseline": "100",
        "target": "250",
        "start_date": days(-30).isoformat(),
        "target_date": days(150).isoformat(),
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def write(name: str, product, outcome, kr) -> tuple[str, dict]:
    """The URL and a valid POST of each write view."""
    return {
        "outcome_create": (
            reverse("products:outcome_create", args=[product.slug]),
            {"statement": "Customers trust the app with their salary", "period_start": ""},
        ),
        "outcome_edit": (
            reverse("products:outcome_edit", args=[outcome.pk]),
            {"statement": "Customers open an account in one sitting"},
        ),
        "outcome_archive": (reverse("products:outcome_archive", args=[outcome.pk]), {}),
        "key_result_create": (
            reverse("products:key_result_create", args=[outcome.pk]),
            kr_data(customer_facing="unknown"),
        ),
        "key_result_edit": (
            reverse("products:key_result_edit", args=[kr.pk]),
            edit_data(target="80"),
        ),
        "key_result_delete": (reverse("products:key_result_delete", args=[kr.pk]), {}),
        "measurement_create": (
            reverse("products:measurement_create", args=[kr.pk]),
            {"date": days(0).isoformat(), "value": "44", "note": "Week 12"},
        ),
    }[name]


def edit_data(**changes) -> dict:
    """The fixture's key result as its edit form posts it, with ``changes``."""
    data = {
        "name": "Completion rate",
        "unit": "%",
        "baseline": "20",
        "target": "60",
        "start_date": days(-100).isoformat(),
        "target_date": days(100).isoformat(),
    }
    return kr_data(**{**data, **changes})


WRITES = [
    "outcome_create",
    "outcome_edit",
    "outcome_archive",
    "key_result_create",
    "key_result_edit",
    "key_result_delete",
    "measurement_create",
]


def written(name: str, product, outcome, kr) -> bool:
    """Whether the write of ``name`` is in the database."""
    return {
        "outcome_create": lambda: product.outcomes.filter(statement__contains="salary").exists(),
        "outcome_edit": lambda: Outcome.objects.get(pk=outcome.pk).statement.endswith("sitting"),
        "outcome_archive": lambda: Outcome.objects.get(pk=outcome.pk).archived_at is not None,
        "key_result_create": lambda: KeyResult.objects.filter(
            name="Accounts opened per week", customer_facing=True
        ).exists(),
        "key_result_edit": lambda: KeyResult.objects.get(pk=kr.pk).target == 80,
        "key_result_delete": lambda: not KeyResult.objects.filter(pk=kr.pk).exists(),
        "measurement_create": lambda: Measurement.objects.filter(value=44, note="Week 12").exists(),
    }[name]()


@pytest.mark.parametrize("role", WRITERS)
@pytest.mark.parametrize("name", WRITES)
def test_writers_write_without_javascript_and_return_to_the_product(
    as_role, role, name, product, outcome, kr
):
    url, data = write(name, product, outcome, kr)
    response = as_role(role).post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"].startswith(page(product) + "#")
    assert written(name, product, outcome, kr)
    assert ChangeRecord.objects.filter(product=product).exists()
    follow = as_role(role).get(response["Location"])
    assert follow.status_code == 200
    assert [m.level_tag for m in follow.context["messages"]] == ["success"]


@pytest.mark.parametrize("role", REFUSED)
@pytest.mark.parametrize("name", WRITES)
@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_other_roles_get_403_and_nothing_changes(
    as_role, role, name, headers, product, outcome, kr
):
    url, data = write(name, product, outcome, kr)
    client = as_role(role)
    before = outcome_rows()
    assert client.get(url, headers=headers).status_code == 403
    assert client.post(url, data, headers=headers).status_code == 403
    assert outcome_rows() == before


def test_unknown_rows_are_404(as_role):
    client = as_role("portfolio_manager")
    assert client.get(reverse("products:key_result_edit", args=[999])).status_code == 404
    assert client.get(reverse("products:outcome_edit", args=[999])).status_code == 404
    assert client.get(reverse("products:outcome_create", args=["nope"])).status_code == 404


def test_key_results_of_archived_outcomes_cannot_be_changed(as_role, outcome, kr):
    outcome.archived_at = timezone.now()
    outcome.save()
    url = reverse("products:measurement_create", args=[kr.pk])
    assert as_role("owner").post(url, {"date": "2026-01-01", "value": "1"}).status_code == 404


# In place with htmx: the fragment that changed, the figures and history out of band.


def oob(html: str, element_id: str) -> str:
    match = re.search(
        rf'<(\w+) id="{element_id}"[^>]*hx-swap-oob="[^"]+"[^>]*>.*?</\1>', html, re.S
    )
    assert match, f"no out-of-band #{element_id}"
    return match.group(0)


def test_record_a_measurement_in_place_moves_the_badge(as_role, product, kr):
    client = as_role("owner")
    url = reverse("products:measurement_create", args=[kr.pk])
    response = client.post(url, {"date": days(0).isoformat(), "value": "21"}, headers=HTMX)
    assert response.status_code == 200
    assert response["Vary"] == "HX-Request" or "HX-Request" in response["Vary"]
    html = response.content.decode()
    assert "<html" not in html
    assert html.lstrip().startswith(f'<article id="kr-{kr.pk}"')
    # 21 on the day the key result should stand at 40: 2.5 % done against 50 % expected.
    assert '<span class="badge badge-bad" data-status="off_track">Off track</span>' in html
    assert '<span data-figure="progress">2.5 %</span>' in html
    assert ">1 off track<" in oob(html, "outcome-summary")
    assert "Recorded 21 % for “Completion rate”" in html
    assert "added measurement" in oob(html, "history")
    kr.refresh_from_db()
    assert kr.status == KeyResult.Status.OFF_TRACK
    measurement = kr.measurements.latest("id")
    assert measurement.recorded_by.username == "owner"


def test_measurement_form_defaults_to_today(as_role, product, kr):
    html = as_role("owner").get(page(product)).content.decode()
    assert f'name="date" value="{TODAY.isoformat()}"' in html
    assert f'id="m{kr.pk}_value"' in html


@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "plain"])
def test_invalid_measurement_shows_the_error_beside_the_field_and_writes_nothing(
    as_role, headers, product, kr
):
    before = outcome_rows()
    url = reverse("products:measurement_create", args=[kr.pk])
    response = as_role("owner").post(url, {"date": "", "value": "lots"}, headers=headers)
    assert response.status_code == 200
    html = response.content.decode()
    assert ("<html" in html) == (headers == {})
    assert f'<p class="field-error" id="m{kr.pk}_value_error">Enter a number.</p>' in html
    assert f'<p class="field-error" id="m{kr.pk}_date_error">This field is required.</p>' in html
    assert '<details class="kr-measure" open>' in html
    assert 'value="lots"' in html
    assert outcome_rows() == before


def test_edit_key_result_form_as_fragment_and_as_full_page(as_role, kr):
    client = as_role("portfolio_manager")
    url = reverse("products:key_result_edit", args=[kr.pk])
    fragment = client.get(url, headers=HTMX).content.decode()
    assert fragment.lstrip().startswith(f'<article id="kr-{kr.pk}"')
    assert "<html" not in fragment
    assert re.search(rf'<input [^>]*name="target" value="60" [^>]*id="kr{kr.pk}_target"', fragment)
    full = client.get(url).content.decode()
    assert "<html" in full and f'hx-post="{url}"' in full
    # Cancel restores the key result (htmx) or goes back to its place on the page.
    detail = reverse("products:key_result_detail", args=[kr.pk])
    assert 'class="kr-edit"' not in client.get(detail, headers=HTMX).content.decode()
    response = client.get(detail)
    assert response.status_code == 302 and response["Location"].endswith(f"#kr-{kr.pk}")


def test_edit_key_result_in_place_recomputes_the_status(as_role, kr):
    url = reverse("products:key_result_edit", args=[kr.pk])
    data = edit_data(target="100")
    html = as_role("owner").post(url, data, headers=HTMX).content.decode()
    # 40 of 20 -> 100 is 25 % against 50 % expected: at risk.
    assert '<span class="badge badge-warn" data-status="at_risk">At risk</span>' in html
    assert "20 % → 100 %" in html
    assert ">1 at risk<" in oob(html, "outcome-summary")
    assert "<del>60</del>" in oob(html, "history")


@pytest.mark.parametrize(
    "changes,field,message",
    [
        ({"target": "20"}, "target", "The target must differ from the baseline."),
        ({"target": "10"}, "target", "To increase, the target must be above the baseline."),
        ({"target_date": days(-120).isoformat()}, "target_date", "after the start date"),
        ({"name": ""}, "name", "This field is required."),
        ({"baseline": "x"}, "baseline", "Enter a number."),
    ],
)
@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "plain"])
def test_invalid_key_result_edit_shows_errors_and_writes_nothing(
    as_role, kr, changes, field, message, headers
):
    before = outcome_rows()
    url = reverse("products:key_result_edit", args=[kr.pk])
    data = edit_data(**changes)
    response = as_role("owner").post(url, data, headers=headers)
    assert response.status_code == 200
    html = response.content.decode()
    error = re.search(rf'<p class="field-error" id="kr{kr.pk}_{field}_error">(.*?)</p>', html)
    assert error and message in error.group(1)
    assert outcome_rows() == before


def test_name_taken_by_another_key_result_of_the_product_is_a_field_error(as_role, outcome, kr):
    other = make_key_result(outcome, name="Accounts opened per week")
    url = reverse("products:key_result_edit", args=[other.pk])
    html = (
        as_role("owner").post(url, kr_data(name="Completion rate"), headers=HTMX).content.decode()
    )
    assert "already has a key result with this name" in html


def test_add_key_result_in_place(as_role, outcome):
    url = reverse("products:key_result_create", args=[outcome.pk])
    response = as_role("owner").post(url, kr_data(customer_facing="unknown"), headers=HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith(f'<article id="outcome-{outcome.pk}"')
    assert "Accounts opened per week" in html
    assert '<span class="badge badge-none" data-status="no_data">No data</span>' in html
    assert "1 key result:" in oob(html, "outcome-summary")
    assert "added key result" in oob(html, "history")
    created = KeyResult.objects.get(name="Accounts opened per week")
    assert created.customer_facing  # left to the kind: adoption is customer-facing
    assert created.product_id == outcome.product_id


def test_add_key_result_can_say_not_customer_facing(as_role, outcome):
    url = reverse("products:key_result_create", args=[outcome.pk])
    as_role("owner").post(url, kr_data(customer_facing="false"))
    assert not KeyResult.objects.get(name="Accounts opened per week").customer_facing


def test_invalid_new_key_result_reopens_the_form_with_errors(as_role, outcome):
    before = outcome_rows()
    url = reverse("products:key_result_create", args=[outcome.pk])
    data = kr_data(direction="decrease")
    html = as_role("owner").post(url, data, headers=HTMX).content.decode()
    assert '<details class="add-kr" open>' in html
    assert f'id="o{outcome.pk}-kr_target_error">To decrease, the target must be below' in html
    assert outcome_rows() == before


def test_add_key_result_form_opens_without_javascript(as_role, outcome):
    url = reverse("products:key_result_create", args=[outcome.pk])
    html = as_role("owner").get(url).content.decode()
    assert "<html" in html and '<details class="add-kr" open>' in html


def test_delete_key_result_asks_once_then_deletes(as_role, outcome, kr):
    client = as_role("owner")
    url = reverse("products:key_result_delete", args=[kr.pk])
    confirm = client.get(url).content.decode()
    assert "Delete the key result “Completion rate”?" in confirm
    assert "its 2 measurements are deleted" in confirm
    page_html = client.get(page(outcome.product)).content.decode()
    assert (
        'hx-confirm="Delete the key result “Completion rate” and its 2 measurements?' in page_html
    )
    html = client.post(url, headers=HTMX).content.decode()
    assert html.lstrip().startswith(f'<article id="outcome-{outcome.pk}"')
    assert f'id="kr-{kr.pk}"' not in html
    assert "No key results yet: add the first one." in html
    assert "deleted key result" in oob(html, "history")
    assert not KeyResult.objects.filter(pk=kr.pk).exists()
    assert not Measurement.objects.filter(key_result_id=kr.pk).exists()


def test_add_outcome_in_place(as_role, product, outcome):
    url = reverse("products:outcome_create", args=[product.slug])
    data = {"statement": "Customers trust the app", "period_start": "2026-01-01", "period_end": ""}
    html = as_role("portfolio_manager").post(url, data, headers=HTMX).content.decode()
    assert html.lstrip().startswith('<section id="outcomes"')
    assert "Customers trust the app" in html
    assert "Customers open an account in one go" in html
    assert (
        'id="outcomes-notice" class="notice" role="status">Outcome “Customers trust the app” added.'
        in html
    )
    assert "added outcome" in oob(html, "history")
    new = product.outcomes.get(statement="Customers trust the app")
    assert new.order == 1 and new.period_start == datetime.date(2026, 1, 1)


def test_invalid_outcome_shows_errors_and_writes_nothing(as_role, product, outcome):
    before = outcome_rows()
    client = as_role("owner")
    url = reverse("products:outcome_create", args=[product.slug])
    html = client.post(url, {"statement": ""}, headers=HTMX).content.decode()
    assert '<details class="add-outcome" open>' in html
    assert 'id="new-outcome_statement_error">This field is required.' in html
    edit = reverse("products:outcome_edit", args=[outcome.pk])
    data = {"statement": "x", "period_start": "2026-06-01", "period_end": "2026-05-01"}
    html = client.post(edit, data, headers=HTMX).content.decode()
    assert f'id="o{outcome.pk}_period_end_error">The period must end after it starts.' in html
    assert outcome_rows() == before


def test_edit_outcome_in_place(as_role, outcome, kr):
    client = as_role("owner")
    url = reverse("products:outcome_edit", args=[outcome.pk])
    form = client.get(url, headers=HTMX).content.decode()
    assert form.lstrip().startswith(f'<article id="outcome-{outcome.pk}"')
    assert "Edit the outcome" in form
    data = {
        "statement": "Customers open an account in one sitting",
        "period_start": "",
        "period_end": "",
    }
    html = client.post(url, data, headers=HTMX).content.decode()
    assert "Customers open an account in one sitting" in html
    assert "No period set" in html
    assert "Completion rate" in html  # its key results stay
    assert "changed outcome" in oob(html, "history")
    cancel = client.get(reverse("products:outcome_detail", args=[outcome.pk]), headers=HTMX)
    assert "Edit the outcome" not in cancel.content.decode()


def test_archive_outcome_asks_once_then_archives(as_role, outcome, kr):
    client = as_role("owner")
    url = reverse("products:outcome_archive", args=[outcome.pk])
    confirm = client.get(url).content.decode()
    assert "Archive Customers open an account in one go?" in confirm
    assert "It and its 1 key result leave the page of Onboarding." in confirm
    html = client.post(url, headers=HTMX).content.decode()
    assert html.lstrip().startswith('<section id="outcomes"')
    assert "No outcomes yet: add the first one below." in html
    assert "changed outcome" in oob(html, "history")
    assert KeyResult.objects.filter(pk=kr.pk).exists()  # archived, not deleted


def test_readers_fragments_have_no_edit_controls(as_role, product, kr):
    html = (
        as_role("executive")
        .get(reverse("products:key_result_detail", args=[kr.pk]), headers=HTMX)
        .content.decode()
    )
    assert f'<article id="kr-{kr.pk}"' in html
    assert "Record a measurement" not in html and "key_result_edit" not in html
    assert reverse("products:key_result_edit", args=[kr.pk]) not in html


# Query counts: constant however many outcomes, key results and measurements a product has.


def product_with_outcomes(n: int, owner) -> str:
    product = ProductFactory(slug="big", owners=[owner])
    for i in range(n):
        outcome = OutcomeFactory(product=product)
        kr = make_key_result(outcome, values=[(days(-j * 5), str(10 + j)) for j in range(n)])
        RoadmapItemFactory(product=product, key_results=[kr] if i % 2 else [])
        services.hypothesis_create(
            actor=owner,
            product=product,
            change=f"change {i}",
            expected_outcome="more",
            key_result=kr,
        )
        services.measurement_record(actor=owner, key_result=kr, date=days(0), value=Decimal(40))
    return page(product)


# session, user, role labels (3); the product with owners and teams (3); the user's permissions
# (2); outcomes, key results, measurements (3); history with actors (1); hypotheses with their
# status changes (2); roadmap items with their key results (2). An editor's forms add none.
PRODUCT_PAGE_QUERIES = {"owner": 16, "executive": 16}


@pytest.mark.parametrize("n", [2, 20])
@pytest.mark.parametrize("role", ["owner", "executive"])
def test_product_page_query_count_is_constant(as_role, people, django_assert_num_queries, role, n):
    url = product_with_outcomes(n, people["owner"])
    client = as_role(role)
    with django_assert_num_queries(PRODUCT_PAGE_QUERIES[role]):
        response = client.get(url)
    assert len(response.context["key_results"]) == n
    assert sum(len(kr.chart.points) for kr in response.context["key_results"]) == n * (n + 1)


# A fragment re-renders from the page's context: session, user, role labels (3); the key result
# (1) and its product with owners (2) as the view looks them up; then the page's reads without
# the teams: permissions (2), outcomes (3), history (1), hypotheses (2), roadmap (2).
FRAGMENT_QUERIES = 16


@pytest.mark.parametrize("n", [2, 20])
def test_fragment_query_count_is_constant(as_role, people, django_assert_num_queries, n):
    product_with_outcomes(n, people["owner"])
    kr = KeyResult.objects.filter(product__slug="big").first()
    url = reverse("products:key_result_detail", args=[kr.pk])
    client = as_role("owner")
    with django_assert_num_queries(FRAGMENT_QUERIES):
        assert client.get(url, headers=HTMX).status_code == 200


def test_other_users_of_the_history_are_named(as_role, people, product, kr):
    someone = UserFactory(username="zed", first_name="", last_name="")
    someone.groups.add(*people["portfolio_manager"].groups.all())
    services.measurement_record(actor=someone, key_result=kr, date=days(0), value=Decimal(41))
    html = as_role("executive").get(page(product)).content.decode()
    assert "<strong>zed</strong>" in html


# The chart's geometry and the numbers' wording.


def test_numbers_read_as_a_person_writes_them():
    assert number_text(Decimal("50.0000")) == "50"
    assert number_text(Decimal("1234.5000")) == "1,234.5"
    assert number_text(Decimal("-3.25")) == "\u22123.25"
    assert number_text(Decimal("100").normalize()) == "100"
    assert with_unit(Decimal("42.5"), "%") == "42.5 %"
    assert with_unit(None, "%") == "—"


def test_chart_plots_the_plan_and_the_measurements_in_its_frame(outcome):
    kr = make_key_result(
        outcome,
        direction=KeyResult.Direction.DECREASE,
        baseline=Decimal("10"),
        target=Decimal("2"),
        values=[(days(-100), "10"), (days(0), "4")],
    )
    chart = key_result_chart(kr, list(kr.measurements.order_by("date", "id")), today=TODAY)
    x1, y1, x2, y2 = chart.plan
    assert x1 == chart.plot_left and x2 == chart.plot_right
    assert y1 < y2  # the plan falls: the baseline is drawn above the target
    first, latest = chart.points
    assert (first.x, first.y) == (x1, y1)  # measured at the baseline on the start date
    assert latest.x == chart.today_x == round((x1 + x2) / 2, 1)
    assert latest.plan == Decimal("6.00")  # halfway from 10 to 2
    assert latest.y > y1 + (y2 - y1) / 2  # 4 is below the plan's 6: ahead, for a decrease
    assert all(0 <= p.y <= HEIGHT for p in chart.points)
    assert [label.text for label in chart.labels][:2] == ["10 %", "2 %"]


def test_a_new_status_reaches_the_roadmap_chips_in_the_same_response(as_role, product, kr):
    # The roadmap shows each linked key result's status; recording a measurement swaps it too.
    services.roadmap_item_create(
        actor=product.owners.first(),
        product=product,
        title="Faster sign-up",
        horizon="now",
        key_results=[kr],
    )
    client = as_role("owner")
    response = client.post(
        reverse("products:measurement_create", args=[kr.pk]),
        {"date": days(180).isoformat(), "value": "50", "note": ""},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    roadmap = body[body.index('<section id="roadmap"') :]
    assert 'hx-swap-oob="true"' in roadmap[:300]
    assert "Faster sign-up" in roadmap
    kr.refresh_from_db()
    assert kr.get_status_display() in roadmap
