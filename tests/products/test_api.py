"""The products API: products, teams, people, team memberships and disciplines under /api/v1/."""

import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from products.models import Discipline, Person, Product, Team, TeamMembership
from tests.products.factories import (
    DisciplineFactory,
    PersonFactory,
    ProductFactory,
    TeamFactory,
    TeamMembershipFactory,
    UserFactory,
)

API = "/api/v1"
REFUSED_ROLES = ("executive", "product_owner", "finance")
ALL_ROLES = ("executive", "portfolio_manager", "product_owner", "finance")


def db_state() -> dict[str, list[dict]]:
    """Every row of the products registry, links included: equal before and after means unchanged."""
    tables = {
        "products": Product.objects.all(),
        "owners": Product.owners.through.objects.all(),
        "teams": Team.objects.all(),
        "team_products": Team.products.through.objects.all(),
        "people": Person.objects.all(),
        "memberships": TeamMembership.objects.all(),
        "disciplines": Discipline.objects.all(),
    }
    return {name: list(qs.order_by("pk").values()) for name, qs in tables.items()}


@pytest.fixture
def registry(db):
    """One of everything: an owned product in a team, a person in it at 0.5 FTE, archived rows."""
    owner = UserFactory(username="owner", first_name="Olga", last_name="Owner")
    engineer = DisciplineFactory(name="Engineer", slug="engineer")
    designer = DisciplineFactory(name="Designer", slug="designer")
    product = ProductFactory(name="Checkout", slug="checkout", owners=[owner])
    team = TeamFactory(name="Payments", slug="payments", products=[product])
    person = PersonFactory(name="Ada Lovelace", email="ada@example.com", discipline=engineer)
    membership = TeamMembershipFactory(person=person, team=team, fte=Decimal("0.50"))
    old_product = ProductFactory(name="Legacy billing", slug="legacy-billing")
    old_team = TeamFactory(name="Mainframe", slug="mainframe")
    old_person = PersonFactory(name="Zed Former", discipline=designer)
    for row in (old_product, old_team, old_person):
        row.archived_at = timezone.now()
        row.save()
    return SimpleNamespace(
        owner=owner,
        engineer=engineer,
        designer=designer,
        product=product,
        team=team,
        person=person,
        membership=membership,
        old_product=old_product,
        old_team=old_team,
        old_person=old_person,
    )


@pytest.fixture
def pm_api(api_as, portfolio_manager):
    return api_as(portfolio_manager)


def _ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


# Round trips as the portfolio manager ----------------------------------------------------------


def test_product_round_trip(pm_api, registry):
    created = pm_api.post(
        f"{API}/products/",
        {
            "name": "Loyalty",
            "description": "Points for purchases.",
            "lifecycle_stage": "discovery",
            "owners": [registry.owner.id],
        },
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["slug"] == "loyalty"
    assert body["owners"] == [{"id": registry.owner.id, "username": "owner", "name": "Olga Owner"}]
    assert body["team_count"] == 0
    assert body["archived_at"] is None
    product_id = body["id"]
    assert isinstance(product_id, int)
    assert body["web_url"] == Product.objects.get(pk=product_id).get_absolute_url()

    read = pm_api.get(f"{API}/products/{product_id}/")
    assert read.status_code == 200
    assert read.json() == body

    updated = pm_api.patch(
        f"{API}/products/{product_id}/", {"lifecycle_stage": "growth", "owners": []}
    )
    assert updated.status_code == 200, updated.json()
    assert updated.json()["lifecycle_stage"] == "growth"
    assert updated.json()["owners"] == []
    product = Product.objects.get(pk=product_id)
    assert product.lifecycle_stage == "growth"
    assert not product.owners.exists()

    replaced = pm_api.put(
        f"{API}/products/{product_id}/",
        {"name": "Loyalty points", "slug": "loyalty-points", "description": ""},
    )
    assert replaced.status_code == 200, replaced.json()
    assert replaced.json()["slug"] == "loyalty-points"

    archived = pm_api.post(f"{API}/products/{product_id}/archive/")
    assert archived.status_code == 200
    assert archived.json()["archived_at"] is not None
    assert Product.objects.get(pk=product_id).archived_at is not None
    assert product_id not in _ids(pm_api.get(f"{API}/products/"))
    assert product_id in _ids(pm_api.get(f"{API}/products/?archived=true"))
    assert pm_api.get(f"{API}/products/{product_id}/").json()["archived_at"] is not None

    restored = pm_api.post(f"{API}/products/{product_id}/restore/")
    assert restored.status_code == 200
    assert restored.json()["archived_at"] is None
    assert Product.objects.get(pk=product_id).archived_at is None


def test_team_round_trip(pm_api, registry):
    created = pm_api.post(
        f"{API}/teams/",
        {
            "name": "Growth squad",
            "mission": "Grow the loyal base.",
            "formed_on": "2025-03-01",
            "products": [registry.product.id],
        },
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    team_id = body["id"]
    assert body["slug"] == "growth-squad"
    assert body["formed_on"] == "2025-03-01"
    assert body["products"] == [{"id": registry.product.id, "slug": "checkout", "name": "Checkout"}]
    assert body["product_count"] == 1
    assert body["member_count"] == 0
    assert body["total_fte"] == "0.00"
    assert pm_api.get(f"{API}/teams/{team_id}/").json() == body
    assert pm_api.get(f"{API}/products/{registry.product.id}/").json()["team_count"] == 2

    updated = pm_api.patch(f"{API}/teams/{team_id}/", {"mission": "Keep them.", "products": []})
    assert updated.status_code == 200, updated.json()
    assert updated.json()["mission"] == "Keep them."
    assert updated.json()["products"] == []

    member = pm_api.post(
        f"{API}/team-memberships/",
        {"person": registry.person.id, "team": team_id, "fte": "0.25", "start_date": "2024-06-01"},
    )
    assert member.status_code == 201, member.json()
    read = pm_api.get(f"{API}/teams/{team_id}/").json()
    assert read["member_count"] == 1
    assert read["total_fte"] == "0.25"

    archived = pm_api.post(f"{API}/teams/{team_id}/archive/")
    assert archived.status_code == 200
    assert archived.json()["archived_at"] is not None
    # Archiving a team ends its current memberships today.
    assert TeamMembership.objects.get(pk=member.json()["id"]).end_date == timezone.localdate()

    restored = pm_api.post(f"{API}/teams/{team_id}/restore/")
    assert restored.status_code == 200
    assert restored.json()["archived_at"] is None
    assert Team.objects.get(pk=team_id).archived_at is None


def test_person_round_trip(pm_api, registry):
    account = UserFactory(username="grace")
    created = pm_api.post(
        f"{API}/people/",
        {"name": "Grace Hopper", "email": "grace@example.com", "discipline": "designer"},
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    person_id = body["id"]
    assert body["discipline"] == {
        "id": registry.designer.id,
        "slug": "designer",
        "name": "Designer",
    }
    assert body["user"] is None
    assert body["allocated_fte"] == "0.00"
    assert body["team_count"] == 0
    assert body["current_memberships"] == []
    assert pm_api.get(f"{API}/people/{person_id}/").json() == body

    # The discipline may be named by id as well as by slug.
    updated = pm_api.patch(
        f"{API}/people/{person_id}/", {"discipline": registry.engineer.id, "user": account.id}
    )
    assert updated.status_code == 200, updated.json()
    assert updated.json()["discipline"]["slug"] == "engineer"
    assert updated.json()["user"]["username"] == "grace"
    assert Person.objects.get(pk=person_id).user == account

    pm_api.post(
        f"{API}/team-memberships/",
        {"person": person_id, "team": registry.team.id, "fte": "0.80", "start_date": "2024-01-01"},
    )
    read = pm_api.get(f"{API}/people/{person_id}/").json()
    assert read["allocated_fte"] == "0.80"
    assert read["team_count"] == 1
    [current] = read["current_memberships"]
    assert current["team"] == {"id": registry.team.id, "slug": "payments", "name": "Payments"}
    assert current["fte"] == "0.80"

    archived = pm_api.post(f"{API}/people/{person_id}/archive/")
    assert archived.status_code == 200
    assert archived.json()["archived_at"] is not None
    # Archiving a person ends their memberships today (today is still their last day).
    assert TeamMembership.objects.get(person_id=person_id).end_date == timezone.localdate()

    restored = pm_api.post(f"{API}/people/{person_id}/restore/")
    assert restored.status_code == 200
    assert restored.json()["archived_at"] is None


def test_membership_round_trip(pm_api, registry):
    grace = PersonFactory(name="Grace Hopper")
    created = pm_api.post(
        f"{API}/team-memberships/",
        {"person": grace.id, "team": registry.team.id, "fte": "0.60", "start_date": "2024-02-01"},
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    membership_id = body["id"]
    assert body["person"] == {"id": grace.id, "name": "Grace Hopper"}
    assert body["team"] == {"id": registry.team.id, "slug": "payments", "name": "Payments"}
    assert body["fte"] == "0.60"
    assert body["start_date"] == "2024-02-01"
    assert body["end_date"] is None
    assert body["is_current"] is True
    assert pm_api.get(f"{API}/team-memberships/{membership_id}/").json() == body

    updated = pm_api.patch(f"{API}/team-memberships/{membership_id}/", {"fte": "1"})
    assert updated.status_code == 200, updated.json()
    assert updated.json()["fte"] == "1.00"
    assert TeamMembership.objects.get(pk=membership_id).fte == Decimal("1.00")

    ended = pm_api.post(f"{API}/team-memberships/{membership_id}/end/", {"end_date": "2024-12-31"})
    assert ended.status_code == 200, ended.json()
    assert ended.json()["end_date"] == "2024-12-31"
    assert ended.json()["is_current"] is False
    assert TeamMembership.objects.get(pk=membership_id).end_date == datetime.date(2024, 12, 31)


def test_membership_start_date_defaults_to_today(pm_api, registry):
    grace = PersonFactory()
    response = pm_api.post(
        f"{API}/team-memberships/", {"person": grace.id, "team": registry.team.id, "fte": "0.5"}
    )
    assert response.status_code == 201, response.json()
    assert response.json()["start_date"] == timezone.localdate().isoformat()


def test_memberships_are_never_deleted_or_replaced(pm_api, registry):
    url = f"{API}/team-memberships/{registry.membership.id}/"
    assert pm_api.delete(url).status_code == 405
    assert pm_api.put(url, {"fte": "0.5", "start_date": "2024-01-01"}).status_code == 405
    assert TeamMembership.objects.filter(pk=registry.membership.id).exists()


def test_discipline_round_trip(pm_api, registry):
    created = pm_api.post(f"{API}/disciplines/", {"name": "Data science", "order": 3})
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["slug"] == "data-science"
    assert body["people_count"] == 0
    assert pm_api.get(f"{API}/disciplines/{body['id']}/").json() == body
    updated = pm_api.patch(f"{API}/disciplines/{body['id']}/", {"name": "Data"})
    assert updated.status_code == 200, updated.json()
    assert updated.json()["name"] == "Data"
    assert Discipline.objects.get(pk=body["id"]).name == "Data"
    engineer = pm_api.get(f"{API}/disciplines/{registry.engineer.id}/").json()
    assert engineer["people_count"] == 1  # Ada; archived people do not count


def test_no_delete_anywhere(pm_api, registry):
    for url in (
        f"{API}/products/{registry.product.id}/",
        f"{API}/teams/{registry.team.id}/",
        f"{API}/people/{registry.person.id}/",
        f"{API}/disciplines/{registry.engineer.id}/",
    ):
        assert pm_api.delete(url).status_code == 405
    assert Product.objects.filter(pk=registry.product.id).exists()


# Permissions ----------------------------------------------------------------------------------


WRITES = {
    "product-create": lambda r: ("post", "/products/", {"name": "New product"}),
    "product-put": lambda r: ("put", f"/products/{r.product.id}/", {"name": "Renamed"}),
    "product-patch": lambda r: ("patch", f"/products/{r.product.id}/", {"name": "Renamed"}),
    "product-archive": lambda r: ("post", f"/products/{r.product.id}/archive/", None),
    "product-restore": lambda r: ("post", f"/products/{r.old_product.id}/restore/", None),
    "team-create": lambda r: ("post", "/teams/", {"name": "New team"}),
    "team-patch": lambda r: ("patch", f"/teams/{r.team.id}/", {"products": []}),
    "team-archive": lambda r: ("post", f"/teams/{r.team.id}/archive/", None),
    "team-restore": lambda r: ("post", f"/teams/{r.old_team.id}/restore/", None),
    "person-create": lambda r: (
        "post",
        "/people/",
        {"name": "New", "email": "new@example.com", "discipline": "engineer"},
    ),
    "person-patch": lambda r: ("patch", f"/people/{r.person.id}/", {"name": "Ada King"}),
    "person-archive": lambda r: ("post", f"/people/{r.person.id}/archive/", None),
    "person-restore": lambda r: ("post", f"/people/{r.old_person.id}/restore/", None),
    "membership-create": lambda r: (
        "post",
        "/team-memberships/",
        {"person": r.person.id, "team": r.team.id, "fte": "0.25", "start_date": "2025-01-01"},
    ),
    "membership-patch": lambda r: (
        "patch",
        f"/team-memberships/{r.membership.id}/",
        {"fte": "0.2"},
    ),
    "membership-end": lambda r: (
        "post",
        f"/team-memberships/{r.membership.id}/end/",
        {"end_date": "2025-01-31"},
    ),
    "discipline-create": lambda r: ("post", "/disciplines/", {"name": "QA"}),
    "discipline-patch": lambda r: ("patch", f"/disciplines/{r.engineer.id}/", {"name": "Eng"}),
}


@pytest.mark.parametrize("role_user", REFUSED_ROLES, indirect=True)
@pytest.mark.parametrize("write", WRITES.keys())
def test_writes_are_refused_for_roles_without_permission(api_as, role_user, registry, write):
    method, path, data = WRITES[write](registry)
    before = db_state()
    response = getattr(api_as(role_user), method)(f"{API}{path}", data)
    assert response.status_code == 403
    assert db_state() == before


@pytest.mark.parametrize("write", WRITES.keys())
def test_writes_are_allowed_for_the_portfolio_manager(pm_api, registry, write):
    method, path, data = WRITES[write](registry)
    before = db_state()
    response = getattr(pm_api, method)(f"{API}{path}", data)
    assert response.status_code in (200, 201), response.json()
    assert db_state() != before


@pytest.mark.parametrize("role_user", ALL_ROLES, indirect=True)
@pytest.mark.parametrize(
    "resource", ["products", "teams", "people", "team-memberships", "disciplines"]
)
def test_every_role_reads(api_as, role_user, registry, resource):
    client = api_as(role_user)
    listed = client.get(f"{API}/{resource}/")
    assert listed.status_code == 200
    assert listed.json()["count"] >= 1
    first = listed.json()["results"][0]["id"]
    assert client.get(f"{API}/{resource}/{first}/").status_code == 200


@pytest.mark.parametrize(
    "resource", ["products", "teams", "people", "team-memberships", "disciplines"]
)
def test_anonymous_is_refused(api_client, registry, resource):
    before = db_state()
    assert api_client.get(f"{API}/{resource}/").status_code == 403
    assert api_client.post(f"{API}/{resource}/", {"name": "x"}).status_code == 403
    assert db_state() == before


def test_a_wrong_token_is_refused(api_client, registry):
    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = api_client.get(f"{API}/products/")
    assert response.status_code == 403
    assert response.json() == {"detail": "Invalid token."}


@pytest.mark.parametrize(
    "method,path",
    [
        ("get", "/products/999999/"),
        ("patch", "/products/999999/"),
        ("post", "/products/999999/archive/"),
        ("get", "/teams/999999/"),
        ("post", "/teams/999999/restore/"),
        ("get", "/people/999999/"),
        ("get", "/team-memberships/999999/"),
        ("post", "/team-memberships/999999/end/"),
        ("get", "/disciplines/999999/"),
    ],
)
def test_unknown_ids_answer_404(pm_api, registry, method, path):
    assert getattr(pm_api, method)(f"{API}{path}", {}).status_code == 404


def test_rows_are_addressed_by_integer_id_not_slug(pm_api, registry):
    assert pm_api.get(f"{API}/products/checkout/").status_code == 404
    assert pm_api.get(f"{API}/teams/payments/").status_code == 404
    assert _ids(pm_api.get(f"{API}/teams/?slug=payments")) == [registry.team.id]


def test_session_writes_need_the_csrf_token(portfolio_manager, registry):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(portfolio_manager)
    before = db_state()
    response = client.post(f"{API}/products/", {"name": "Sneaky"}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert db_state() == before


# Bad input: 400 with field errors, nothing written ---------------------------------------------


BAD_INPUT = {
    "product-empty-name": (lambda r: ("post", "/products/", {"name": ""}), "name"),
    "product-blank-name-on-update": (
        lambda r: ("patch", f"/products/{r.product.id}/", {"name": ""}),
        "name",
    ),
    "product-duplicate-slug": (
        lambda r: ("post", "/products/", {"name": "Checkout two", "slug": "checkout"}),
        "slug",
    ),
    "product-duplicate-slug-on-update": (
        lambda r: ("patch", f"/products/{r.product.id}/", {"slug": "legacy-billing"}),
        "slug",
    ),
    "product-bad-stage": (
        lambda r: ("post", "/products/", {"name": "X", "lifecycle_stage": "eternal"}),
        "lifecycle_stage",
    ),
    "product-unknown-owner": (
        lambda r: ("post", "/products/", {"name": "X", "owners": [999999]}),
        "owners",
    ),
    "team-empty-name": (lambda r: ("post", "/teams/", {"name": "", "mission": "m"}), "name"),
    "team-duplicate-slug": (
        lambda r: (
            "post",
            "/teams/",
            {"name": "Pay", "slug": "payments", "products": [r.product.id]},
        ),
        "slug",
    ),
    "team-unknown-product": (
        lambda r: ("patch", f"/teams/{r.team.id}/", {"products": [999999]}),
        "products",
    ),
    "person-empty-name": (
        lambda r: (
            "post",
            "/people/",
            {"name": "", "email": "e@example.com", "discipline": "engineer"},
        ),
        "name",
    ),
    "person-duplicate-email": (
        lambda r: (
            "post",
            "/people/",
            {"name": "Ada Two", "email": "ada@example.com", "discipline": "engineer"},
        ),
        "email",
    ),
    "person-unknown-discipline": (
        lambda r: (
            "post",
            "/people/",
            {"name": "N", "email": "n@example.com", "discipline": "wizard"},
        ),
        "discipline",
    ),
    "membership-fte-over-one": (
        lambda r: (
            "post",
            "/team-memberships/",
            {"person": r.person.id, "team": r.team.id, "fte": "1.5"},
        ),
        "fte",
    ),
    "membership-fte-zero": (
        lambda r: ("patch", f"/team-memberships/{r.membership.id}/", {"fte": "0"}),
        "fte",
    ),
    "membership-patch-fte-over-one": (
        lambda r: ("patch", f"/team-memberships/{r.membership.id}/", {"fte": "1.5"}),
        "fte",
    ),
    "membership-person-over-one-fte": (
        lambda r: (
            "post",
            "/team-memberships/",
            {
                "person": r.person.id,
                "team": r.team.id,
                "fte": "0.6",
                "start_date": "2025-01-01",
            },
        ),
        "fte",
    ),
    "membership-end-before-start": (
        lambda r: ("post", f"/team-memberships/{r.membership.id}/end/", {"end_date": "2023-12-31"}),
        "end_date",
    ),
    "membership-end-missing": (
        lambda r: ("post", f"/team-memberships/{r.membership.id}/end/", {}),
        "end_date",
    ),
    "membership-archived-team": (
        lambda r: (
            "post",
            "/team-memberships/",
            {"person": r.person.id, "team": r.old_team.id, "fte": "0.1"},
        ),
        "team",
    ),
    "discipline-duplicate-name": (
        lambda r: ("post", "/disciplines/", {"name": "Engineer"}),
        "name",
    ),
}


@pytest.mark.parametrize("case", BAD_INPUT.keys())
def test_bad_input_answers_400_with_field_errors_and_writes_nothing(pm_api, registry, case):
    build, field = BAD_INPUT[case]
    method, path, data = build(registry)
    before = db_state()
    response = getattr(pm_api, method)(f"{API}{path}", data)
    assert response.status_code == 400
    errors = response.json()
    assert list(errors) == [field], errors
    assert all(isinstance(message, str) and message for message in errors[field])
    assert db_state() == before


def test_capacity_error_says_by_how_much(pm_api, registry):
    other = TeamFactory()
    response = pm_api.post(
        f"{API}/team-memberships/",
        {"person": registry.person.id, "team": other.id, "fte": "0.6", "start_date": "2025-01-01"},
    )
    assert response.status_code == 400
    [message] = response.json()["fte"]
    assert "1.1 FTE" in message
    assert "0.1 over" in message


def test_capacity_counts_only_overlapping_memberships(pm_api, registry):
    """Ada's 0.5 FTE ends; a 0.6 FTE membership after it is fine, one overlapping it is not."""
    pm_api.post(f"{API}/team-memberships/{registry.membership.id}/end/", {"end_date": "2024-12-31"})
    other = TeamFactory()
    after = pm_api.post(
        f"{API}/team-memberships/",
        {"person": registry.person.id, "team": other.id, "fte": "0.6", "start_date": "2025-01-01"},
    )
    assert after.status_code == 201, after.json()
    stretch = pm_api.patch(
        f"{API}/team-memberships/{registry.membership.id}/", {"end_date": "2025-01-01"}
    )
    assert stretch.status_code == 400
    assert list(stretch.json()) == ["fte"]
    assert TeamMembership.objects.get(pk=registry.membership.id).end_date == datetime.date(
        2024, 12, 31
    )


def test_a_product_with_owners_and_a_bad_slug_is_not_half_written(pm_api, registry):
    """The owners are valid, the slug is taken: neither the product nor its owner links appear."""
    before = db_state()
    response = pm_api.post(
        f"{API}/products/",
        {"name": "Dup", "slug": "checkout", "owners": [registry.owner.id]},
    )
    assert response.status_code == 400
    assert db_state() == before


# Token auth (the script flow) -----------------------------------------------------------------


@pytest.fixture
def fresh_throttle():
    cache.clear()
    yield
    cache.clear()


def test_a_script_gets_a_token_then_reads_and_writes(portfolio_manager, registry, fresh_throttle):
    script = APIClient()
    issued = script.post(
        f"{API}/auth/token/", {"username": "pm", "password": "pass-for-tests-1"}, format="json"
    )
    assert issued.status_code == 200
    token = issued.json()["token"]
    assert len(token) == 40

    script.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    listed = script.get(f"{API}/products/")
    assert listed.status_code == 200
    assert [row["slug"] for row in listed.json()["results"]] == ["checkout"]

    created = script.post(
        f"{API}/products/", {"name": "Scripted", "owners": [registry.owner.id]}, format="json"
    )
    assert created.status_code == 201, created.json()
    assert Product.objects.get(slug="scripted").owners.get() == registry.owner

    again = APIClient().post(
        f"{API}/auth/token/", {"username": "pm", "password": "pass-for-tests-1"}, format="json"
    )
    assert again.json()["token"] == token  # the same token until the user makes a new one


def test_a_token_of_a_read_only_role_reads_but_cannot_write(executive, registry, fresh_throttle):
    script = APIClient()
    token = script.post(
        f"{API}/auth/token/", {"username": "exec", "password": "pass-for-tests-1"}, format="json"
    ).json()["token"]
    script.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert script.get(f"{API}/teams/").status_code == 200
    before = db_state()
    assert script.post(f"{API}/teams/", {"name": "Nope"}, format="json").status_code == 403
    assert db_state() == before


@pytest.mark.parametrize(
    "payload,field",
    [
        ({"username": "pm", "password": "wrong"}, "non_field_errors"),
        ({"username": "pm"}, "password"),
        ({"password": "pass-for-tests-1"}, "username"),
    ],
)
def test_token_refused_without_valid_credentials(portfolio_manager, fresh_throttle, payload, field):
    response = APIClient().post(f"{API}/auth/token/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert "token" not in response.json()


# Filters, ordering, pagination ----------------------------------------------------------------


def test_product_filters(pm_api, registry):
    other_owner = UserFactory(username="other")
    apps = ProductFactory(
        name="Mobile app", slug="mobile-app", lifecycle_stage="mature", owners=[other_owner]
    )
    assert _ids(pm_api.get(f"{API}/products/")) == [registry.product.id, apps.id]
    assert _ids(pm_api.get(f"{API}/products/?q=mobile")) == [apps.id]
    assert _ids(pm_api.get(f"{API}/products/?lifecycle_stage=mature")) == [apps.id]
    assert _ids(pm_api.get(f"{API}/products/?team=payments")) == [registry.product.id]
    assert _ids(pm_api.get(f"{API}/products/?owner={other_owner.id}")) == [apps.id]
    assert _ids(pm_api.get(f"{API}/products/?slug=checkout")) == [registry.product.id]
    assert _ids(pm_api.get(f"{API}/products/?archived=true")) == [registry.old_product.id]
    assert _ids(pm_api.get(f"{API}/products/?archived=all")) == [
        registry.product.id,
        registry.old_product.id,
        apps.id,
    ]
    bad = pm_api.get(f"{API}/products/?lifecycle_stage=eternal")
    assert bad.status_code == 400
    assert "lifecycle_stage" in bad.json()


def test_team_people_and_membership_filters(pm_api, registry):
    other = TeamFactory(name="Search", slug="search")
    grace = PersonFactory(name="Grace Hopper", discipline=registry.designer)
    ended = TeamMembershipFactory(
        person=grace, team=other, fte=Decimal("0.5"), end_date=datetime.date(2024, 6, 30)
    )
    assert _ids(pm_api.get(f"{API}/teams/?product=checkout")) == [registry.team.id]
    assert _ids(pm_api.get(f"{API}/teams/?q=sear")) == [other.id]
    assert _ids(pm_api.get(f"{API}/teams/?slug=payments")) == [registry.team.id]
    assert _ids(pm_api.get(f"{API}/teams/?archived=true")) == [registry.old_team.id]
    assert _ids(pm_api.get(f"{API}/people/?discipline=designer")) == [grace.id]
    assert _ids(pm_api.get(f"{API}/people/?team=payments")) == [registry.person.id]
    assert _ids(pm_api.get(f"{API}/people/?q=ada@")) == [registry.person.id]
    assert _ids(pm_api.get(f"{API}/people/?archived=all")) == [
        registry.person.id,
        grace.id,
        registry.old_person.id,
    ]
    assert _ids(pm_api.get(f"{API}/team-memberships/?team=search")) == [ended.id]
    assert _ids(pm_api.get(f"{API}/team-memberships/?person={grace.id}")) == [ended.id]
    assert _ids(pm_api.get(f"{API}/team-memberships/?current=true")) == [registry.membership.id]
    assert _ids(pm_api.get(f"{API}/team-memberships/?current=false")) == [ended.id]


def test_ordering(pm_api, registry):
    ProductFactory(name="Analytics", slug="analytics")
    ProductFactory(name="Zebra", slug="zebra")
    names = lambda r: [row["name"] for row in r.json()["results"]]  # noqa: E731
    assert names(pm_api.get(f"{API}/products/")) == ["Analytics", "Checkout", "Zebra"]
    assert names(pm_api.get(f"{API}/products/?ordering=-name")) == [
        "Zebra",
        "Checkout",
        "Analytics",
    ]
    assert names(pm_api.get(f"{API}/products/?ordering=-team_count,name")) == [
        "Checkout",
        "Analytics",
        "Zebra",
    ]
    # An unknown ordering field is ignored, never an error or an injection.
    assert names(pm_api.get(f"{API}/products/?ordering=password")) == [
        "Analytics",
        "Checkout",
        "Zebra",
    ]


def test_pagination(pm_api, registry):
    for n in range(7):
        ProductFactory(name=f"Bulk {n}", slug=f"bulk-{n}")
    first = pm_api.get(f"{API}/products/?page_size=3").json()
    assert first["count"] == 8
    assert len(first["results"]) == 3
    assert first["previous"] is None
    assert "page=2" in first["next"]
    last = pm_api.get(f"{API}/products/?page_size=3&page=3").json()
    assert [row["name"] for row in last["results"]] == ["Bulk 6", "Checkout"]
    assert last["next"] is None
    assert pm_api.get(f"{API}/products/?page=9").status_code == 404


def test_page_size_is_capped_at_500(pm_api, registry):
    Product.objects.bulk_create(Product(name=f"P{n:03}", slug=f"p-{n:03}") for n in range(505))
    body = pm_api.get(f"{API}/products/?page_size=1000").json()
    assert body["count"] == 506
    assert len(body["results"]) == 500
    assert len(pm_api.get(f"{API}/products/").json()["results"]) == 50


# Query counts ---------------------------------------------------------------------------------

# Each request: the session and its user (2), then the page count and the rows.
LIST_QUERIES = {
    "products": 5,  # + owners prefetch
    "teams": 5,  # + products prefetch
    "people": 5,  # + current memberships (team joined)
    "team-memberships": 4,
    "disciplines": 4,
}
DETAIL_QUERIES = {
    "products": 4,
    "teams": 4,
    "people": 4,
    "team-memberships": 3,
    "disciplines": 3,
}


def _grow_registry(n: int) -> None:
    discipline = DisciplineFactory(name="Engineer", slug="engineer")
    owners = [UserFactory(), UserFactory()]
    for _ in range(n):
        product = ProductFactory(owners=owners)
        team = TeamFactory(products=[product])
        person = PersonFactory(discipline=discipline)
        TeamMembershipFactory(person=person, team=team, fte=Decimal("0.5"))
        DisciplineFactory()


@pytest.mark.parametrize("n", [2, 20])
@pytest.mark.parametrize("resource", LIST_QUERIES.keys())
def test_list_query_count_does_not_grow(pm_api, django_assert_num_queries, n, resource):
    _grow_registry(n)
    with django_assert_num_queries(LIST_QUERIES[resource]):
        response = pm_api.get(f"{API}/{resource}/")
    assert response.status_code == 200
    assert len(response.json()["results"]) >= n


@pytest.mark.parametrize("resource", DETAIL_QUERIES.keys())
def test_detail_query_count(pm_api, django_assert_num_queries, resource):
    _grow_registry(3)
    first = pm_api.get(f"{API}/{resource}/").json()["results"][0]["id"]
    with django_assert_num_queries(DETAIL_QUERIES[resource]):
        response = pm_api.get(f"{API}/{resource}/{first}/")
    assert response.status_code == 200
