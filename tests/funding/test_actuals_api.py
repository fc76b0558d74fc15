"""API of actuals: read by every role, written by finance only (403 otherwise), through the
services (closed months refused), filters, constant query count, and the CSV import."""

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from funding.models import Actual, FiscalPeriod
from tests.conftest import ROLES
from tests.funding.factories import ActualFactory, FiscalPeriodFactory
from tests.products.factories import TeamFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/actuals/"
NOT_FINANCE = [r for r in ROLES if r != "finance"]


def upload(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("actuals.csv", text.encode(), content_type="text/csv")


@pytest.mark.parametrize("role_user", ROLES, indirect=True)
def test_every_role_reads_actuals(api_as, role_user):
    team = TeamFactory(name="Core", slug="core")
    actual = ActualFactory(team=team, month=datetime.date(2030, 1, 1), amount=Decimal("12.50"))
    response = api_as(role_user).get(URL)
    assert response.status_code == 200
    assert response.json()["results"] == [
        {
            "id": actual.pk,
            "team": {"id": team.pk, "slug": "core", "name": "Core"},
            "month": "2030-01-01",
            "amount": "12.50",
            "note": "",
            "created_at": response.json()["results"][0]["created_at"],
            "updated_at": response.json()["results"][0]["updated_at"],
        }
    ]
    assert api_as(role_user).get(f"{URL}{actual.pk}/").json()["amount"] == "12.50"


def test_list_query_count_is_constant(api_as, finance_user, django_assert_num_queries):
    client = api_as(finance_user)
    team = TeamFactory()
    for n in range(1, 3):
        ActualFactory(team=team, month=datetime.date(2030, n, 1))
    with django_assert_num_queries(4):  # session, user, count, page
        assert len(client.get(URL).json()["results"]) == 2
    for _ in range(18):
        ActualFactory(team=TeamFactory(), month=datetime.date(2030, 1, 1))
    with django_assert_num_queries(4):
        assert len(client.get(URL).json()["results"]) == 20


def test_filters_by_team_period_and_months(api_as, executive):
    core = TeamFactory(slug="core")
    other = TeamFactory(slug="other")
    period = FiscalPeriodFactory(start=datetime.date(2030, 4, 1), end=datetime.date(2031, 3, 31))
    for month in (datetime.date(2030, 3, 1), datetime.date(2030, 4, 1), datetime.date(2031, 3, 1)):
        ActualFactory(team=core, month=month)
    ActualFactory(team=other, month=datetime.date(2030, 4, 1))
    client = api_as(executive)

    def months(query: str) -> list[tuple[str, str]]:
        response = client.get(URL + query)
        assert response.status_code == 200, response.json()
        return [(r["team"]["slug"], r["month"]) for r in response.json()["results"]]

    assert months("?team=core") == [
        ("core", "2030-03-01"),
        ("core", "2030-04-01"),
        ("core", "2031-03-01"),
    ]
    assert months(f"?team={other.pk}") == [("other", "2030-04-01")]
    assert months(f"?period={period.pk}&team=core") == [
        ("core", "2030-04-01"),
        ("core", "2031-03-01"),
    ]
    assert months("?month_from=2030-04&month_to=2030-12") == [
        ("core", "2030-04-01"),
        ("other", "2030-04-01"),
    ]
    assert client.get(URL + "?month_from=April").status_code == 400


def test_finance_records_changes_and_removes_an_actual(api_as, finance_user):
    client = api_as(finance_user)
    team = TeamFactory()
    created = client.post(
        URL, {"team": team.pk, "month": "2030-01", "amount": "1000.00", "note": "ledger"}
    )
    assert created.status_code == 201, created.json()
    assert created.json()["month"] == "2030-01-01"
    again = client.post(URL, {"team": team.pk, "month": "2030-01-01", "amount": "1500"})
    assert again.status_code == 200
    assert again.json()["id"] == created.json()["id"]
    pk = created.json()["id"]
    patched = client.patch(f"{URL}{pk}/", {"note": "corrected"})
    assert patched.status_code == 200
    assert (patched.json()["amount"], patched.json()["note"]) == ("1500.00", "corrected")
    assert client.delete(f"{URL}{pk}/").status_code == 204
    assert not Actual.objects.exists()


def test_a_bad_month_or_amount_answers_400(api_as, finance_user):
    client = api_as(finance_user)
    team = TeamFactory()
    response = client.post(URL, {"team": team.pk, "month": "2030-01-15", "amount": "1"})
    assert response.status_code == 400
    assert response.json() == {"month": ["Give the month as its first day (YYYY-MM-01)."]}
    response = client.post(URL, {"team": team.pk, "month": "2030-01", "amount": "-1"})
    assert response.status_code == 400
    assert "amount" in response.json()
    assert not Actual.objects.exists()


def test_a_closed_month_answers_400_and_nothing_changes(api_as, finance_user):
    FiscalPeriodFactory(
        name="FY2030",
        start=datetime.date(2030, 1, 1),
        end=datetime.date(2030, 12, 31),
        status=FiscalPeriod.Status.CLOSED,
    )
    team = TeamFactory()
    actual = ActualFactory(team=team, month=datetime.date(2030, 1, 1), amount=Decimal("5.00"))
    client = api_as(finance_user)
    response = client.patch(f"{URL}{actual.pk}/", {"amount": "6"})
    assert response.status_code == 400
    assert "closed" in response.json()["month"][0]
    assert client.delete(f"{URL}{actual.pk}/").status_code == 400
    assert client.post(URL, {"team": team.pk, "month": "2030-02", "amount": "1"}).status_code == 400
    actual.refresh_from_db()
    assert actual.amount == Decimal("5.00")
    assert Actual.objects.count() == 1


@pytest.mark.parametrize("role_user", NOT_FINANCE, indirect=True)
def test_other_roles_may_not_write(api_as, role_user):
    client = api_as(role_user)
    team = TeamFactory(slug="core")
    actual = ActualFactory(team=team, month=datetime.date(2030, 1, 1), amount=Decimal("5.00"))
    assert client.post(URL, {"team": team.pk, "month": "2030-02", "amount": "1"}).status_code == 403
    assert client.patch(f"{URL}{actual.pk}/", {"amount": "6"}).status_code == 403
    assert client.delete(f"{URL}{actual.pk}/").status_code == 403
    response = client.post(
        URL + "import/", {"file": upload("team,month,amount\ncore,2030-03,1\n")}, format="multipart"
    )
    assert response.status_code == 403
    assert Actual.objects.count() == 1


def test_anonymous_is_refused(api_client):
    assert api_client.get(URL).status_code in (401, 403)


def test_import_answers_the_counts(api_as, finance_user):
    TeamFactory(slug="core")
    client = api_as(finance_user)
    text = 'team,month,amount\ncore,2030-01,"1,000.00"\ncore,2030-02,2000\n'
    response = client.post(URL + "import/", {"file": upload(text)}, format="multipart")
    assert response.status_code == 200, response.json()
    assert response.json() == {"rows": 2, "created": 2, "updated": 0, "unchanged": 0}
    again = client.post(URL + "import/", {"file": upload(text)}, format="multipart")
    assert again.json() == {"rows": 2, "created": 0, "updated": 0, "unchanged": 2}


def test_import_with_a_bad_row_answers_400_and_writes_nothing(api_as, finance_user):
    TeamFactory(slug="core")
    client = api_as(finance_user)
    text = "team,month,amount\ncore,2030-01,100\ncore,2030-02,lots\n"
    response = client.post(URL + "import/", {"file": upload(text)}, format="multipart")
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {
                "line": 3,
                "reason": '"lots" is not an amount such as 12345.67 or 12,345.67 (not negative, '
                "at most two decimals, no currency symbol).",
            }
        ]
    }
    assert not Actual.objects.exists()


def test_import_without_a_file_answers_400(api_as, finance_user):
    response = api_as(finance_user).post(URL + "import/", {}, format="multipart")
    assert response.status_code == 400
    assert "file" in response.json()


def test_actuals_are_in_the_openapi_schema(api_as, executive):
    response = api_as(executive).get("/api/schema/?format=json")
    paths = response.json()["paths"]
    assert "/api/v1/actuals/" in paths
    assert "/api/v1/actuals/import/" in paths
