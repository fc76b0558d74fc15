"""The registry's pages: products, teams, people, disciplines and in-place membership edits."""

import datetime
from decimal import Decimal

import pytest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from products.models import Discipline, Person, Product, Team, TeamMembership
from tests.conftest import ROLES
from tests.products.factories import (
    DisciplineFactory,
    PersonFactory,
    ProductFactory,
    TeamFactory,
    TeamMembershipFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

READERS = [role for role in ROLES if role != "portfolio_manager"]
HTMX = {"HX-Request": "true"}
TODAY = timezone.localdate()
LAST_YEAR = TODAY - datetime.timedelta(days=365)


@pytest.fixture
def signed_in(client, role_user):
    client.force_login(role_user)
    return client


@pytest.fixture
def registry(portfolio_manager):
    """A small organisation: two products, a team owning both, two people in it."""
    engineer = DisciplineFactory(name="Engineer", slug="engineer")
    payments = ProductFactory(
        name="Payments", slug="payments", lifecycle_stage="growth", owners=[portfolio_manager]
    )
    ledger = ProductFactory(name="Ledger", slug="ledger", lifecycle_stage="mature")
    team = TeamFactory(name="Money Movers", slug="money-movers", products=[payments, ledger])
    ada = PersonFactory(name="Ada Lovelace", email="ada@example.com", discipline=engineer)
    bob = PersonFactory(name="Bob Builder", email="bob@example.com", discipline=engineer)
    ada_in_team = TeamMembershipFactory(
        person=ada, team=team, fte=Decimal("0.5"), start_date=LAST_YEAR
    )
    bob_in_team = TeamMembershipFactory(
        person=bob, team=team, fte=Decimal("1"), start_date=LAST_YEAR
    )
    return {
        "engineer": engineer,
        "payments": payments,
        "ledger": ledger,
        "team": team,
        "ada": ada,
        "bob": bob,
        "ada_in_team": ada_in_team,
        "bob_in_team": bob_in_team,
    }


def page_url(name: str, registry: dict) -> str:
    """The URL of a page by its short name, pointing at the registry fixture's rows."""
    return {
        "product_list": reverse("products:product_list"),
        "product_detail": reverse("products:product_detail", args=["payments"]),
        "team_list": reverse("products:team_list"),
        "team_detail": reverse("products:team_detail", args=["money-movers"]),
        "person_list": reverse("products:person_list"),
        "person_detail": reverse("products:person_detail", args=[registry["ada"].pk]),
        "discipline_list": reverse("products:discipline_list"),
    }[name]


READ_PAGES = [
    "product_list",
    "product_detail",
    "team_list",
    "team_detail",
    "person_list",
    "person_detail",
    "discipline_list",
]


# Every role reads every page.


@pytest.mark.parametrize("role_user", ROLES, indirect=True)
@pytest.mark.parametrize("view_name", READ_PAGES)
def test_every_role_reads_every_page(signed_in, registry, view_name):
    response = signed_in.get(page_url(view_name, registry))
    assert response.status_code == 200
    assert b"<html" in response.content


def test_pages_need_sign_in(client, registry):
    response = client.get(reverse("products:product_list"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def edit_controls(view_name: str, registry: dict) -> list[str]:
    """What a portfolio manager sees on each page and no other role does."""
    membership = registry["ada_in_team"].pk
    return {
        "product_list": ["New product"],
        "product_detail": ["Edit product", "Archive product"],
        "team_list": ["New team"],
        "team_detail": [
            "Edit team",
            "Archive team",
            "Add member",
            "End membership",
            reverse("products:membership_edit", args=[membership]),
        ],
        "person_list": ["New person"],
        "person_detail": ["Edit person", "Archive person"],
        "discipline_list": [
            "New discipline",
            reverse("products:discipline_edit", args=[registry["engineer"].pk]),
        ],
    }[view_name]


@pytest.mark.parametrize("role_user", ROLES, indirect=True)
@pytest.mark.parametrize("view_name", READ_PAGES)
def test_edit_controls_only_for_the_portfolio_manager(signed_in, role_user, registry, view_name):
    html = signed_in.get(page_url(view_name, registry)).content.decode()
    controls = edit_controls(view_name, registry)
    present = [control for control in controls if control in html]
    if role_user.groups.filter(name="portfolio_manager").exists():
        assert present == controls
    else:
        assert present == []


def test_unknown_rows_are_404(pm_client):
    for url in [
        reverse("products:product_detail", args=["nope"]),
        reverse("products:product_edit", args=["nope"]),
        reverse("products:team_detail", args=["nope"]),
        reverse("products:team_archive", args=["nope"]),
        reverse("products:person_detail", args=[999999]),
        reverse("products:person_edit", args=[999999]),
        reverse("products:discipline_edit", args=[999999]),
        reverse("products:membership_edit", args=[999999]),
    ]:
        assert pm_client.get(url).status_code == 404, url


# Product list: search, filters, sorting, paging, htmx fragment.


def names_in(response) -> list[str]:
    return [row.name for row in response.context["rows"]]


def test_product_list_searches_and_filters(pm_client, registry, portfolio_manager):
    url = reverse("products:product_list")
    assert names_in(pm_client.get(url)) == ["Ledger", "Payments"]
    assert names_in(pm_client.get(url, {"q": "pay"})) == ["Payments"]
    assert names_in(pm_client.get(url, {"lifecycle_stage": "mature"})) == ["Ledger"]
    assert names_in(pm_client.get(url, {"owner": portfolio_manager.pk})) == ["Payments"]
    other_team = TeamFactory(products=[registry["ledger"]])
    assert names_in(pm_client.get(url, {"team": other_team.slug})) == ["Ledger"]


def test_product_list_sorts_by_teams_and_stage(pm_client, registry):
    url = reverse("products:product_list")
    TeamFactory(products=[registry["payments"]])
    assert names_in(pm_client.get(url, {"ordering": "-team_count"})) == ["Payments", "Ledger"]
    assert names_in(pm_client.get(url, {"ordering": "team_count"})) == ["Ledger", "Payments"]
    assert names_in(pm_client.get(url, {"ordering": "-lifecycle_stage"})) == [
        "Ledger",
        "Payments",
    ]
    # An ordering that is not offered falls back to the name.
    assert names_in(pm_client.get(url, {"ordering": "description"})) == ["Ledger", "Payments"]


def test_product_list_pages_by_25(pm_client):
    ProductFactory.create_batch(30)
    url = reverse("products:product_list")
    first = pm_client.get(url)
    assert len(first.context["rows"]) == 25
    assert "Page 1 of 2" in first.content.decode()
    assert len(pm_client.get(url, {"page": 2}).context["rows"]) == 5


def test_product_list_filter_answers_htmx_with_the_results_fragment(pm_client, registry):
    url = reverse("products:product_list")
    full = pm_client.get(url, {"q": "led"})
    fragment = pm_client.get(url, {"q": "led"}, headers=HTMX)
    assert b"<html" in full.content
    assert b'id="product-filters"' in full.content
    body = fragment.content.decode()
    assert "<html" not in body
    assert 'id="product-filters"' not in body
    assert body.lstrip().startswith('<div id="results"')
    assert "Ledger" in body and "Payments" not in body
    assert "HX-Request" in fragment["Vary"]


def test_product_list_filter_form_works_without_javascript(pm_client, registry):
    html = pm_client.get(reverse("products:product_list")).content.decode()
    assert 'method="get"' in html and 'action="/products/"' in html
    assert 'hx-get="/products/"' in html and 'hx-push-url="true"' in html
    assert 'hx-target="#results"' in html
    for label in ('for="id_q"', 'for="id_lifecycle_stage"', 'for="id_team"', 'for="id_owner"'):
        assert label in html


def test_product_list_hides_archived_unless_asked(pm_client, registry):
    registry["ledger"].archived_at = timezone.now()
    registry["ledger"].save()
    url = reverse("products:product_list")
    assert names_in(pm_client.get(url)) == ["Payments"]
    assert names_in(pm_client.get(url, {"archived": "true"})) == ["Ledger"]
    response = pm_client.get(url, {"archived": "all"})
    assert names_in(response) == ["Ledger", "Payments"]
    assert "Archived" in response.content.decode()


def test_empty_states_say_what_to_do_next(client, portfolio_manager, product_owner):
    client.force_login(portfolio_manager)
    html = client.get(reverse("products:product_list")).content.decode()
    assert "add the first product" in html
    html = client.get(reverse("products:product_list"), {"q": "zzz"}).content.decode()
    assert "No products match these filters" in html
    client.force_login(product_owner)
    html = client.get(reverse("products:team_list")).content.decode()
    assert "A portfolio manager forms them" in html


# Team and people lists.


def test_team_list_shows_members_fte_and_products_today(pm_client, registry):
    TeamMembershipFactory(  # ended last month: not counted today
        team=registry["team"],
        person=PersonFactory(),
        fte=Decimal("0.5"),
        start_date=LAST_YEAR,
        end_date=TODAY - datetime.timedelta(days=30),
    )
    response = pm_client.get(reverse("products:team_list"))
    (team,) = response.context["rows"]
    assert team.member_count == 2
    # 0.5 + 1, not multiplied by the team's two products.
    assert team.total_fte == Decimal("1.5")
    html = response.content.decode()
    assert ">1.5<" in html
    assert 'href="/products/payments/"' in html and 'href="/products/ledger/"' in html


def test_team_list_filters_by_product_and_search(pm_client, registry):
    TeamFactory(name="Search Squad", slug="search-squad")
    url = reverse("products:team_list")
    assert names_in(pm_client.get(url, {"product": "payments"})) == ["Money Movers"]
    assert names_in(pm_client.get(url, {"q": "squad"})) == ["Search Squad"]
    assert names_in(pm_client.get(url, {"ordering": "-total_fte"})) == [
        "Money Movers",
        "Search Squad",
    ]


def test_team_list_fragment_for_htmx(pm_client, registry):
    response = pm_client.get(reverse("products:team_list"), {"q": "money"}, headers=HTMX)
    assert b"<html" not in response.content
    assert b"Money Movers" in response.content


def test_person_list_shows_allocation_today(pm_client, registry):
    response = pm_client.get(reverse("products:person_list"))
    people = {person.name: person for person in response.context["rows"]}
    assert people["Bob Builder"].allocated_fte == Decimal("1")
    assert people["Ada Lovelace"].allocated_fte == Decimal("0.5")
    html = response.content.decode()
    assert "Fully allocated" in html
    assert "0.5 free" in html
    assert "Money Movers · 0.5" in html


def test_person_list_filters(pm_client, registry):
    designer = DisciplineFactory(name="Designer", slug="designer")
    PersonFactory(name="Cleo Designer", discipline=designer)
    url = reverse("products:person_list")
    assert names_in(pm_client.get(url, {"discipline": "designer"})) == ["Cleo Designer"]
    assert names_in(pm_client.get(url, {"team": "money-movers"})) == [
        "Ada Lovelace",
        "Bob Builder",
    ]
    assert names_in(pm_client.get(url, {"q": "ada@"})) == ["Ada Lovelace"]
    assert names_in(pm_client.get(url, {"ordering": "-allocated_fte"}))[0] == "Bob Builder"


def test_discipline_list_counts_people(pm_client, registry):
    response = pm_client.get(reverse("products:discipline_list"))
    (engineer,) = response.context["disciplines"]
    assert engineer.people_count == 2


# Detail pages.


def test_product_detail_shows_owners_teams_and_lazy_value_streams(pm_client, registry):
    html = pm_client.get(page_url("product_detail", registry)).content.decode()
    assert "<h1>Payments</h1>" in html
    assert "Growth" in html
    assert "Paula Manager" in html
    assert 'href="/teams/money-movers/"' in html
    # The value streams card: a plain link to the value streams list, upgraded to a panel that
    # the valuestreams app serves once its URL exists.
    assert 'id="value-streams-heading"' in html
    assert "/value-streams/?product=payments" in html
    try:
        panel = reverse("valuestreams:product_value_streams", args=["payments"])
    except NoReverseMatch:
        panel = None
    if panel is not None:
        assert f'hx-get="{panel}" hx-trigger="load"' in html
    assert ("Products", "/products/") in pm_client.get(
        page_url("product_detail", registry)
    ).context["breadcrumbs"]


def test_team_detail_shows_members_with_status(pm_client, registry):
    future = TeamMembershipFactory(
        team=registry["team"],
        person=PersonFactory(name="Fay Future"),
        fte=Decimal("0.2"),
        start_date=TODAY + datetime.timedelta(days=10),
    )
    TeamMembershipFactory(
        team=registry["team"],
        person=PersonFactory(name="Ed Ended"),
        fte=Decimal("0.2"),
        start_date=LAST_YEAR,
        end_date=TODAY - datetime.timedelta(days=1),
    )
    response = pm_client.get(page_url("team_detail", registry))
    statuses = {row["membership"].person.name: row["status"] for row in response.context["rows"]}
    assert statuses == {
        "Ada Lovelace": "current",
        "Bob Builder": "current",
        "Fay Future": "future",
        "Ed Ended": "ended",
    }
    html = response.content.decode()
    assert 'id="team-fte-total">1.5<' in html
    assert f'id="membership-{future.pk}"' in html


def test_person_detail_shows_memberships_and_account(pm_client, registry, product_owner):
    ada = registry["ada"]
    ada.user = product_owner
    ada.save()
    TeamMembershipFactory(
        person=ada,
        team=TeamFactory(name="Old Team"),
        fte=Decimal("0.5"),
        start_date=LAST_YEAR - datetime.timedelta(days=365),
        end_date=LAST_YEAR - datetime.timedelta(days=1),
    )
    response = pm_client.get(page_url("person_detail", registry))
    html = response.content.decode()
    assert "Signs in as <strong>po</strong>" in html
    assert "Old Team" in html and "Money Movers" in html
    assert [row["status"] for row in response.context["memberships"]] == ["current", "ended"]


# Writes: the portfolio manager succeeds; the other roles get 403 and nothing changes.


def test_create_and_edit_pages_are_403_for_readers(client, registry, make_user):
    urls = [
        reverse("products:product_create"),
        reverse("products:product_edit", args=["payments"]),
        reverse("products:product_archive", args=["payments"]),
        reverse("products:team_create"),
        reverse("products:team_edit", args=["money-movers"]),
        reverse("products:team_archive", args=["money-movers"]),
        reverse("products:person_create"),
        reverse("products:person_edit", args=[registry["ada"].pk]),
        reverse("products:person_archive", args=[registry["ada"].pk]),
        reverse("products:discipline_create"),
        reverse("products:discipline_edit", args=[registry["engineer"].pk]),
        reverse("products:membership_edit", args=[registry["ada_in_team"].pk]),
    ]
    for role in READERS:
        client.force_login(make_user(f"reader-{role}", role))
        for url in urls:
            assert client.get(url).status_code == 403, (role, url)


def test_create_and_edit_pages_open_for_the_portfolio_manager(pm_client, registry):
    for url in [
        reverse("products:product_create"),
        reverse("products:product_edit", args=["payments"]),
        reverse("products:team_create"),
        reverse("products:team_edit", args=["money-movers"]),
        reverse("products:person_create"),
        reverse("products:person_edit", args=[registry["ada"].pk]),
        reverse("products:discipline_create"),
        reverse("products:discipline_edit", args=[registry["engineer"].pk]),
    ]:
        response = pm_client.get(url)
        assert response.status_code == 200, url
        assert response.context["breadcrumbs"], url
        assert b'<label for="id_name">' in response.content, url


def snapshot(registry) -> dict:
    """Everything a write might change, to prove a refused write changed nothing."""
    return {
        "products": sorted(
            Product.objects.values_list("name", "slug", "lifecycle_stage", "archived_at")
        ),
        "owners": sorted(Product.owners.through.objects.values_list("product_id", "user_id")),
        "teams": sorted(Team.objects.values_list("name", "slug", "mission", "archived_at")),
        "team_products": sorted(Team.products.through.objects.values_list("team_id", "product_id")),
        "people": sorted(Person.objects.values_list("name", "email", "user_id", "archived_at")),
        "memberships": sorted(
            TeamMembership.objects.values_list(
                "person_id", "team_id", "fte", "start_date", "end_date"
            )
        ),
        "disciplines": sorted(Discipline.objects.values_list("name", "slug", "order")),
    }


def write_cases(registry, portfolio_manager) -> dict:
    """Each write view: (url, POST data, a check that the write happened)."""
    r = registry
    return {
        "product_create": (
            reverse("products:product_create"),
            {"name": "Mortgage calculator", "lifecycle_stage": "discovery", "description": "x"},
            lambda: Product.objects.filter(slug="mortgage-calculator").exists(),
        ),
        "product_edit": (
            reverse("products:product_edit", args=["payments"]),
            {"name": "Payments Hub", "slug": "payments", "lifecycle_stage": "mature"},
            lambda: Product.objects.get(slug="payments").name == "Payments Hub",
        ),
        "product_archive": (
            reverse("products:product_archive", args=["payments"]),
            {},
            lambda: Product.objects.get(slug="payments").is_archived,
        ),
        "team_create": (
            reverse("products:team_create"),
            {"name": "Search Squad", "formed_on": "2025-01-06", "products": [r["ledger"].pk]},
            lambda: (
                list(
                    Product.objects.filter(teams__slug="search-squad").values_list(
                        "slug", flat=True
                    )
                )
                == ["ledger"]
            ),
        ),
        "team_edit": (
            reverse("products:team_edit", args=["money-movers"]),
            {
                "name": "Money Movers",
                "slug": "money-movers",
                "mission": "Move money safely.",
                "formed_on": "2024-01-01",
                "products": [r["payments"].pk],
            },
            lambda: (
                Team.objects.get(slug="money-movers").mission == "Move money safely."
                and Team.objects.get(slug="money-movers").products.count() == 1
            ),
        ),
        "team_archive": (
            reverse("products:team_archive", args=["money-movers"]),
            {},
            lambda: Team.objects.get(slug="money-movers").is_archived,
        ),
        "person_create": (
            reverse("products:person_create"),
            {"name": "Cleo", "email": "cleo@example.com", "discipline": r["engineer"].pk},
            lambda: Person.objects.filter(email="cleo@example.com").exists(),
        ),
        "person_edit": (
            reverse("products:person_edit", args=[r["ada"].pk]),
            {
                "name": "Ada King",
                "email": "ada@example.com",
                "discipline": r["engineer"].pk,
                "user": portfolio_manager.pk,
            },
            lambda: Person.objects.get(pk=r["ada"].pk).user_id == portfolio_manager.pk,
        ),
        "person_archive": (
            reverse("products:person_archive", args=[r["ada"].pk]),
            {},
            lambda: Person.objects.get(pk=r["ada"].pk).is_archived,
        ),
        "discipline_create": (
            reverse("products:discipline_create"),
            {"name": "Designer", "slug": "", "order": "2"},
            lambda: Discipline.objects.filter(slug="designer").exists(),
        ),
        "discipline_edit": (
            reverse("products:discipline_edit", args=[r["engineer"].pk]),
            {"name": "Software engineer", "slug": "engineer", "order": "1"},
            lambda: Discipline.objects.get(pk=r["engineer"].pk).name == "Software engineer",
        ),
        "membership_create": (
            reverse("products:membership_create", args=["money-movers"]),
            {
                "person": PersonFactory(name="Cleo", discipline=r["engineer"]).pk,
                "fte": "0.8",
                "start_date": TODAY.isoformat(),
            },
            lambda: TeamMembership.objects.filter(person__name="Cleo", fte="0.8").exists(),
        ),
        "membership_edit": (
            reverse("products:membership_edit", args=[r["ada_in_team"].pk]),
            {"fte": "0.25", "start_date": LAST_YEAR.isoformat(), "end_date": ""},
            lambda: TeamMembership.objects.get(pk=r["ada_in_team"].pk).fte == Decimal("0.25"),
        ),
        "membership_end": (
            reverse("products:membership_end", args=[r["ada_in_team"].pk]),
            {},
            lambda: TeamMembership.objects.get(pk=r["ada_in_team"].pk).end_date == TODAY,
        ),
    }


WRITES = [
    "product_create",
    "product_edit",
    "product_archive",
    "team_create",
    "team_edit",
    "team_archive",
    "person_create",
    "person_edit",
    "person_archive",
    "discipline_create",
    "discipline_edit",
    "membership_create",
    "membership_edit",
    "membership_end",
]


@pytest.mark.parametrize("write", WRITES)
def test_portfolio_manager_writes(pm_client, registry, portfolio_manager, write):
    url, data, happened = write_cases(registry, portfolio_manager)[write]
    response = pm_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[-2000:]
    assert happened()


@pytest.mark.parametrize("role_user", READERS, indirect=True)
@pytest.mark.parametrize("write", WRITES)
def test_other_roles_get_403_and_nothing_changes(signed_in, registry, portfolio_manager, write):
    url, data, happened = write_cases(registry, portfolio_manager)[write]
    before = snapshot(registry)
    assert signed_in.post(url, data).status_code == 403
    assert signed_in.post(url, data, headers=HTMX).status_code == 403
    assert snapshot(registry) == before
    assert not happened()


@pytest.mark.parametrize("role_user", READERS, indirect=True)
@pytest.mark.parametrize("view", ["product_restore", "team_restore", "person_restore"])
def test_other_roles_cannot_restore(signed_in, registry, view):
    row = {"product_restore": "payments", "team_restore": "money-movers"}.get(view)
    arg = row or registry["ada"].pk
    for obj in (registry["payments"], registry["team"], registry["ada"]):
        obj.archived_at = timezone.now()
        obj.save()
    before = snapshot(registry)
    assert signed_in.post(reverse(f"products:{view}", args=[arg])).status_code == 403
    assert snapshot(registry) == before


# Bad input: a clear message beside the field, nothing written.


@pytest.mark.parametrize(
    "view_name", ["product_create", "team_create", "person_create", "discipline_create"]
)
def test_empty_name_is_refused(pm_client, registry, view_name):
    before = snapshot(registry)
    response = pm_client.post(reverse(f"products:{view_name}"), {"name": "", "slug": ""})
    assert response.status_code == 200
    assert response.context["form"].errors["name"] == ["This field is required."]
    assert '<p class="field-error" id="id_name_error">This field is required.</p>' in (
        response.content.decode()
    )
    assert snapshot(registry) == before


def test_blank_name_on_edit_is_refused(pm_client, registry):
    before = snapshot(registry)
    response = pm_client.post(
        reverse("products:product_edit", args=["payments"]),
        {"name": "   ", "slug": "payments", "lifecycle_stage": "growth"},
    )
    assert response.context["form"].errors["name"] == ["This field is required."]
    assert snapshot(registry) == before


def test_duplicate_slug_is_a_field_error(pm_client, registry):
    before = snapshot(registry)
    response = pm_client.post(
        reverse("products:product_create"),
        {"name": "Payments two", "slug": "payments", "lifecycle_stage": "growth"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["slug"] == [
        "Another product already uses this slug. Choose another."
    ]
    assert "Another product already uses this slug" in response.content.decode()
    assert snapshot(registry) == before


def test_duplicate_slug_on_edit_and_for_teams(pm_client, registry):
    TeamFactory(name="Other", slug="other")
    before = snapshot(registry)
    response = pm_client.post(
        reverse("products:team_edit", args=["other"]),
        {"name": "Other", "slug": "money-movers", "formed_on": "2024-01-01"},
    )
    assert response.context["form"].errors["slug"] == [
        "Another team already uses this slug. Choose another."
    ]
    response = pm_client.post(
        reverse("products:product_edit", args=["ledger"]),
        {"name": "Ledger", "slug": "payments", "lifecycle_stage": "mature"},
    )
    assert "slug" in response.context["form"].errors
    assert snapshot(registry) == before


def test_slug_is_made_from_the_name_when_left_empty(pm_client, registry):
    pm_client.post(
        reverse("products:product_create"), {"name": "Payments", "lifecycle_stage": "growth"}
    )
    assert Product.objects.filter(name="Payments").count() == 2
    assert Product.objects.filter(slug="payments-2").exists()


def test_duplicate_email_is_a_field_error(pm_client, registry):
    before = snapshot(registry)
    response = pm_client.post(
        reverse("products:person_create"),
        {"name": "Ada again", "email": "ada@example.com", "discipline": registry["engineer"].pk},
    )
    assert response.status_code == 200
    assert "email" in response.context["form"].errors
    assert snapshot(registry) == before


@pytest.mark.parametrize("fte", ["1.5", "0", "-0.5"])
def test_fte_out_of_range_is_refused(pm_client, registry, fte):
    cleo = PersonFactory(name="Cleo", discipline=registry["engineer"])
    before = snapshot(registry)
    response = pm_client.post(
        reverse("products:membership_create", args=["money-movers"]),
        {"person": cleo.pk, "fte": fte, "start_date": TODAY.isoformat()},
    )
    assert response.status_code == 200
    assert response.context["add_form"].errors["fte"] == [
        "FTE must be more than 0 and at most 1 (a full-time week)."
    ]
    assert b"<html" in response.content  # no JavaScript: the full team page with the error
    assert snapshot(registry) == before


def test_person_over_one_fte_is_refused_with_the_reason(pm_client, registry):
    other = TeamFactory(name="Other", slug="other")
    before = snapshot(registry)
    response = pm_client.post(
        reverse("products:membership_create", args=["other"]),
        {"person": registry["ada"].pk, "fte": "0.75", "start_date": TODAY.isoformat()},
        headers=HTMX,
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body
    assert body.lstrip().startswith('<section id="members"')
    assert "Ada Lovelace would be at 1.25 FTE" in body
    assert "0.25 over the limit of 1" in body
    assert "hx-swap-oob" not in body
    assert snapshot(registry) == before
    assert not other.memberships.exists()


def test_membership_edit_over_the_limit_is_refused(pm_client, registry):
    TeamMembershipFactory(
        person=registry["ada"], team=TeamFactory(), fte=Decimal("0.5"), start_date=LAST_YEAR
    )
    before = snapshot(registry)
    response = pm_client.post(
        reverse("products:membership_edit", args=[registry["ada_in_team"].pk]),
        {"fte": "0.6", "start_date": LAST_YEAR.isoformat()},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert "would be at 1.1 FTE" in response.content.decode()
    assert snapshot(registry) == before


def test_membership_end_before_start_is_refused(pm_client, registry):
    before = snapshot(registry)
    response = pm_client.post(
        reverse("products:membership_end", args=[registry["ada_in_team"].pk]),
        {"end_date": (LAST_YEAR - datetime.timedelta(days=1)).isoformat()},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert "it cannot end before that" in response.content.decode()
    assert snapshot(registry) == before


# In-place membership editing with htmx.


def test_membership_create_with_htmx_returns_members_and_totals(pm_client, registry):
    cleo = PersonFactory(name="Cleo Coder", discipline=registry["engineer"])
    response = pm_client.post(
        reverse("products:membership_create", args=["money-movers"]),
        {"person": cleo.pk, "fte": "0.5", "start_date": TODAY.isoformat()},
        headers=HTMX,
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body
    assert body.lstrip().startswith('<section id="members"')
    assert "Cleo Coder" in body
    assert "Cleo Coder joined Money Movers at 0.5 FTE." in body
    assert 'id="team-figures" hx-swap-oob="true"' in body
    assert 'id="team-fte-total">2<' in body


def test_membership_create_without_javascript_redirects_to_the_team(pm_client, registry):
    cleo = PersonFactory(name="Cleo Coder", discipline=registry["engineer"])
    response = pm_client.post(
        reverse("products:membership_create", args=["money-movers"]),
        {"person": cleo.pk, "fte": "0.5", "start_date": TODAY.isoformat()},
        follow=True,
    )
    assert response.redirect_chain == [("/teams/money-movers/", 302)]
    assert "Cleo Coder joined Money Movers at 0.5 FTE." in response.content.decode()


def test_membership_edit_form_as_fragment_and_as_full_page(pm_client, registry):
    url = reverse("products:membership_edit", args=[registry["ada_in_team"].pk])
    fragment = pm_client.get(url, headers=HTMX).content.decode()
    assert "<html" not in fragment
    assert fragment.lstrip().startswith('<section id="members"')
    assert f'hx-post="{url}"' in fragment
    assert 'name="fte"' in fragment and 'value="0.50"' in fragment
    full = pm_client.get(url).content.decode()
    assert "<html" in full and f'action="{url}"' in full


def test_membership_edit_with_htmx_updates_row_and_total(pm_client, registry):
    membership = registry["ada_in_team"]
    response = pm_client.post(
        reverse("products:membership_edit", args=[membership.pk]),
        {"fte": "0.25", "start_date": LAST_YEAR.isoformat(), "end_date": ""},
        headers=HTMX,
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert 'id="team-fte-total">1.25<' in body
    assert 'hx-swap-oob="true"' in body
    membership.refresh_from_db()
    assert membership.fte == Decimal("0.25")


def test_membership_edit_invalid_fte_rerenders_the_form(pm_client, registry):
    membership = registry["ada_in_team"]
    response = pm_client.post(
        reverse("products:membership_edit", args=[membership.pk]),
        {"fte": "1.5", "start_date": LAST_YEAR.isoformat()},
        headers=HTMX,
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "FTE must be more than 0 and at most 1" in body
    assert f'hx-post="{reverse("products:membership_edit", args=[membership.pk])}"' in body
    assert "hx-swap-oob" not in body
    membership.refresh_from_db()
    assert membership.fte == Decimal("0.5")
    # Without JavaScript, the full team page with the row open and its error.
    response = pm_client.post(
        reverse("products:membership_edit", args=[membership.pk]),
        {"fte": "1.5", "start_date": LAST_YEAR.isoformat()},
    )
    assert b"<html" in response.content
    assert b"FTE must be more than 0 and at most 1" in response.content


def test_membership_end_defaults_to_today(pm_client, registry):
    membership = registry["bob_in_team"]
    response = pm_client.post(
        reverse("products:membership_end", args=[membership.pk]), headers=HTMX
    )
    assert response.status_code == 200
    membership.refresh_from_db()
    assert membership.end_date == TODAY
    # Bob ends today, so he still counts today.
    assert 'id="team-fte-total">1.5<' in response.content.decode()


# Archive and restore.


def test_team_archive_confirmation_says_what_will_happen(pm_client, registry):
    response = pm_client.get(reverse("products:team_archive", args=["money-movers"]))
    assert response.status_code == 200
    assert "Archiving a team ends its 2 current memberships today" in response.content.decode()
    assert not Team.objects.get(slug="money-movers").is_archived


def test_archive_confirmation_counts_planned_memberships(pm_client, registry):
    TeamMembershipFactory(
        team=registry["team"],
        person=PersonFactory(),
        fte=Decimal("0.5"),
        start_date=TODAY + datetime.timedelta(days=30),
    )
    html = pm_client.get(reverse("products:team_archive", args=["money-movers"])).content.decode()
    assert (
        "ends its 2 current memberships today and cuts its 1 planned membership to their "
        "first day" in html
    )


BREADCRUMB_PAGES = [
    ("products:product_detail", ["payments"], ["Products", "Payments"], "Payments"),
    ("products:product_edit", ["payments"], ["Products", "Payments", "Edit"], "Edit Payments"),
    (
        "products:product_archive",
        ["payments"],
        ["Products", "Payments", "Archive"],
        "Archive Payments",
    ),
    ("products:product_create", [], ["Products", "New product"], "New product"),
    ("products:team_detail", ["money-movers"], ["Teams", "Money Movers"], "Money Movers"),
    (
        "products:team_edit",
        ["money-movers"],
        ["Teams", "Money Movers", "Edit"],
        "Edit Money Movers",
    ),
    ("products:team_create", [], ["Teams", "New team"], "New team"),
    ("products:person_create", [], ["People", "New person"], "New person"),
    ("products:discipline_create", [], ["Disciplines", "New discipline"], "New discipline"),
]


@pytest.mark.parametrize("name,args,labels,title", BREADCRUMB_PAGES)
def test_pages_below_the_lists_have_breadcrumbs_and_titles(
    pm_client, registry, name, args, labels, title
):
    response = pm_client.get(reverse(name, args=args))
    crumbs = response.context["breadcrumbs"]
    assert [label for label, _ in crumbs] == labels
    assert crumbs[-1][1] is None  # the current page is not a link
    assert all(url for _, url in crumbs[:-1])
    html = response.content.decode()
    assert 'aria-label="Breadcrumb"' in html
    assert f"<title>{title} · Portfolio manager</title>" in html


def test_person_breadcrumbs(pm_client, registry):
    response = pm_client.get(page_url("person_detail", registry))
    assert response.context["breadcrumbs"] == [("People", "/people/"), ("Ada Lovelace", None)]


def test_team_archive_and_restore(pm_client, registry):
    response = pm_client.post(reverse("products:team_archive", args=["money-movers"]), follow=True)
    assert response.redirect_chain == [("/teams/money-movers/", 302)]
    html = response.content.decode()
    assert "archived; 2 memberships ended" in html
    assert "Archived" in html and "Restore" in html
    assert "Edit team" not in html
    assert set(
        TeamMembership.objects.filter(team__slug="money-movers").values_list("end_date", flat=True)
    ) == {TODAY}
    assert names_in(pm_client.get(reverse("products:team_list"))) == []

    response = pm_client.post(reverse("products:team_restore", args=["money-movers"]), follow=True)
    assert "restored" in response.content.decode()
    assert not Team.objects.get(slug="money-movers").is_archived
    assert names_in(pm_client.get(reverse("products:team_list"))) == ["Money Movers"]


def test_product_archive_and_restore(pm_client, registry):
    confirm = pm_client.get(reverse("products:product_archive", args=["payments"]))
    assert "Its 1 team and its history stay" in confirm.content.decode()
    pm_client.post(reverse("products:product_archive", args=["payments"]))
    assert Product.objects.get(slug="payments").is_archived
    detail = pm_client.get(reverse("products:product_detail", args=["payments"]))
    assert b"Restore" in detail.content
    pm_client.post(reverse("products:product_restore", args=["payments"]))
    assert not Product.objects.get(slug="payments").is_archived


def test_person_archive_and_restore(pm_client, registry):
    ada = registry["ada"]
    confirm = pm_client.get(reverse("products:person_archive", args=[ada.pk]))
    assert "ends their 1 current membership today" in confirm.content.decode()
    pm_client.post(reverse("products:person_archive", args=[ada.pk]))
    ada.refresh_from_db()
    assert ada.is_archived
    assert TeamMembership.objects.get(pk=registry["ada_in_team"].pk).end_date == TODAY
    assert "Ada Lovelace" not in names_in(pm_client.get(reverse("products:person_list")))
    pm_client.post(reverse("products:person_restore", args=[ada.pk]))
    ada.refresh_from_db()
    assert not ada.is_archived


def test_restore_is_post_only(pm_client, registry):
    assert pm_client.get(reverse("products:team_restore", args=["money-movers"])).status_code == 405


def test_archived_people_are_not_offered_as_members(pm_client, registry):
    gone = PersonFactory(name="Gone Person", discipline=registry["engineer"])
    gone.archived_at = timezone.now()
    gone.save()
    html = pm_client.get(page_url("team_detail", registry)).content.decode()
    assert "Ada Lovelace (Engineer, 0.5 FTE free today)" in html
    assert "Gone Person" not in html
    response = pm_client.post(
        reverse("products:membership_create", args=["money-movers"]),
        {"person": gone.pk, "fte": "0.5", "start_date": TODAY.isoformat()},
    )
    assert "person" in response.context["add_form"].errors
    assert not gone.memberships.exists()


# Query counts: constant as the data grows.


def make_products(n: int, owner) -> None:
    for _ in range(n):
        product = ProductFactory(owners=[owner, UserFactory()])
        TeamFactory(products=[product])


def make_teams(n: int) -> None:
    for _ in range(n):
        team = TeamFactory(products=[ProductFactory(), ProductFactory()])
        TeamMembershipFactory(team=team, fte=Decimal("0.5"))
        TeamMembershipFactory(team=team, fte=Decimal("0.5"))


def make_people(n: int) -> None:
    team = TeamFactory()
    for _ in range(n):
        person = PersonFactory(user=UserFactory())
        TeamMembershipFactory(person=person, team=team, fte=Decimal("0.5"))
        TeamMembershipFactory(person=person, fte=Decimal("0.5"))


# Every page: session, user, role labels (3). Lists: count, rows, one prefetch (3); the full page
# adds the user's permissions (2) and the filter pickers (products: teams and owners; teams:
# products; people: disciplines and teams). The htmx fragment skips both.
LIST_QUERIES = {
    "product_list": {"page": 10, "fragment": 6},
    "team_list": {"page": 9, "fragment": 6},
    "person_list": {"page": 10, "fragment": 6},
}


@pytest.mark.parametrize("n", [2, 20])
@pytest.mark.parametrize(
    "view_name,make",
    [
        ("product_list", lambda n, pm: make_products(n, pm)),
        ("team_list", lambda n, pm: make_teams(n)),
        ("person_list", lambda n, pm: make_people(n)),
    ],
)
def test_list_query_counts_are_constant(
    pm_client, portfolio_manager, django_assert_num_queries, view_name, make, n
):
    make(n, portfolio_manager)
    url = reverse(f"products:{view_name}")
    with django_assert_num_queries(LIST_QUERIES[view_name]["page"]):
        response = pm_client.get(url)
    assert len(response.context["rows"]) >= n
    with django_assert_num_queries(LIST_QUERIES[view_name]["fragment"]):
        response = pm_client.get(url, headers=HTMX)
    assert b"<html" not in response.content


# session, user, role labels, permissions x2, then the row and its prefetches: product (owners,
# teams, and its outcomes, hypotheses, roadmap items and history: one query each while they are
# empty; tests/products/test_outcome_views.py pins the page with them), team (products,
# memberships with person and discipline, and the member picker), person (memberships with team).
DETAIL_QUERIES = {"product_detail": 12, "team_detail": 9, "person_detail": 7}


def product_with(n: int, owner) -> str:
    product = ProductFactory(slug="big", owners=[owner, *UserFactory.create_batch(n - 1)])
    for _ in range(n):
        TeamFactory(products=[product])
    return reverse("products:product_detail", args=["big"])


def team_with(n: int, owner) -> str:
    team = TeamFactory(slug="big", products=ProductFactory.create_batch(n))
    for _ in range(n):
        TeamMembershipFactory(team=team, fte=Decimal("0.5"))
    return reverse("products:team_detail", args=["big"])


def person_with(n: int, owner) -> str:
    person = PersonFactory(user=owner)
    for i in range(n):
        start = LAST_YEAR + datetime.timedelta(days=10 * i)
        TeamMembershipFactory(person=person, fte=Decimal("0.5"), start_date=start, end_date=start)
    return reverse("products:person_detail", args=[person.pk])


@pytest.mark.parametrize("n", [2, 20])
@pytest.mark.parametrize(
    "view_name,make",
    [("product_detail", product_with), ("team_detail", team_with), ("person_detail", person_with)],
)
def test_detail_query_counts_are_constant(
    pm_client, portfolio_manager, django_assert_num_queries, view_name, make, n
):
    url = make(n, portfolio_manager)
    with django_assert_num_queries(DETAIL_QUERIES[view_name]):
        assert pm_client.get(url).status_code == 200


def test_detail_pages_show_a_planned_end_only_when_there_is_one(pm_client, registry):
    product, team = registry["payments"], registry["team"]
    assert "Planned end" not in pm_client.get(page_url("product_detail", registry)).content.decode()
    assert "Planned end" not in pm_client.get(page_url("team_detail", registry)).content.decode()
    product.planned_end = datetime.date(2027, 3, 31)
    product.save(update_fields=["planned_end"])
    team.planned_end = datetime.date(2027, 6, 30)
    team.save(update_fields=["planned_end"])

    product_html = pm_client.get(page_url("product_detail", registry)).content.decode()
    team_html = pm_client.get(page_url("team_detail", registry)).content.decode()

    assert "<dt>Planned end</dt>" in product_html and "31 Mar 2027" in product_html
    assert "<dt>Planned end</dt>" in team_html and "30 Jun 2027" in team_html
