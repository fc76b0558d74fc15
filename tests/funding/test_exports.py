"""Exports of a period: the allocation matrix and the capacity breakdown, as CSV and as Excel."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from tests.conftest import ROLES
from tests.funding.factories import (
    AllocationFactory,
    EnvelopeFactory,
    FiscalPeriodFactory,
    RateFactory,
)
from tests.products.factories import (
    DisciplineFactory,
    PersonFactory,
    TeamFactory,
    TeamMembershipFactory,
)
from tests.valuestreams.factories import ValueStreamFactory

pytestmark = pytest.mark.django_db

D = datetime.date
P = Decimal


@pytest.fixture
def period(db):
    """FY 2030: Checkout costs 120,000.00 + half a year of a 0.5 designer (no rate);
    Search 60,000.00. Payments (envelope 100,000.00) and Growth (no envelope)."""
    period = FiscalPeriodFactory(name="FY 2030", start=D(2030, 1, 1), end=D(2030, 12, 31))
    engineer = DisciplineFactory(name="Engineer", slug="engineer")
    designer = DisciplineFactory(name="Designer", slug="designer")
    RateFactory(period=period, discipline=engineer, annual_cost=P("120000.00"))
    checkout, search = TeamFactory(name="Checkout"), TeamFactory(name="Search")
    TeamMembershipFactory(
        team=checkout,
        person=PersonFactory(name="Ada Byte", discipline=engineer),
        fte=P("1"),
        start_date=D(2029, 6, 1),
    )
    TeamMembershipFactory(
        team=checkout,
        person=PersonFactory(name="Dee Zine", discipline=designer),
        fte=P("0.5"),
        start_date=D(2030, 7, 1),
    )
    TeamMembershipFactory(
        team=search,
        person=PersonFactory(name="Sam Query", discipline=engineer),
        fte=P("0.5"),
        start_date=D(2029, 1, 1),
    )
    payments, growth = ValueStreamFactory(name="Payments"), ValueStreamFactory(name="Growth")
    EnvelopeFactory(period=period, value_stream=payments, amount=P("100000.00"))
    AllocationFactory(period=period, team=checkout, value_stream=payments, percent=P("33.33"))
    AllocationFactory(period=period, team=checkout, value_stream=growth, percent=P("50.00"))
    AllocationFactory(period=period, team=search, value_stream=payments, percent=P("40.00"))
    return period


def read_csv(response) -> list[list[str]]:
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


def read_xlsx(response):
    return load_workbook(io.BytesIO(response.content))


def test_matrix_csv_has_every_figure_with_cents(client, finance_user, period):
    client.force_login(finance_user)
    response = client.get(f"/funding/periods/{period.pk}/allocations.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="fy-2030-allocations.csv"'
    rows = read_csv(response)
    assert rows[0] == [
        "Team",
        "Capacity",
        "Growth %",
        "Growth amount",
        "Payments %",
        "Payments amount",
        "Allocated %",
        "Allocated",
        "Unallocated %",
        "Unallocated",
        "Capacity note",
    ]
    # Checkout: 120,000.00 (the designer has no rate); 33.33 % = 39,996.00, 50 % = 60,000.00.
    assert rows[1] == [
        "Checkout",
        "120000.00",
        "50.00",
        "60000.00",
        "33.33",
        "39996.00",
        "83.33",
        "99996.00",
        "16.67",
        "20004.00",
        "1 member without a rate",
    ]
    assert rows[2] == [
        "Search",
        "60000.00",
        "",
        "",
        "40.00",
        "24000.00",
        "40.00",
        "24000.00",
        "60.00",
        "36000.00",
        "",
    ]
    assert rows[3] == [
        "Total",
        "180000.00",
        "",
        "60000.00",
        "",
        "63996.00",
        "",
        "123996.00",
        "",
        "56004.00",
        "",
    ]
    assert rows[4] == ["Envelope", "", "", "", "", "100000.00", "", "100000.00", "", "", ""]
    assert rows[5] == ["Unfunded", "", "", "", "", "36004.00", "", "36004.00", "", "", ""]


def test_matrix_workbook_has_numbers_formats_and_a_frozen_bold_header(client, exec_client, period):
    response = exec_client.get(f"/funding/periods/{period.pk}/allocations.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert response["Content-Disposition"] == 'attachment; filename="fy-2030-allocations.xlsx"'
    workbook = read_xlsx(response)
    assert workbook.sheetnames == ["Allocations"]
    ws = workbook["Allocations"]
    assert ws["A1"].value == "Team" and ws["A1"].font.b
    assert all(cell.font.b for cell in ws[1])
    assert ws.freeze_panes == "B2"
    assert ws["A2"].value == "Checkout"
    assert ws["B2"].value == 120000
    assert ws["B2"].number_format == '"€"#,##0.00;-"€"#,##0.00'
    assert ws["E2"].value == pytest.approx(0.3333)
    assert ws["E2"].number_format == "0.00%"
    assert ws["F2"].value == 39996
    assert ws["C3"].value is None  # Search gives Growth nothing
    assert ws["K2"].value == "1 member without a rate"
    assert (ws["A4"].value, ws["F4"].value) == ("Total", 63996)
    assert (ws["A5"].value, ws["F5"].value) == ("Envelope", 100000)
    assert (ws["A6"].value, ws["F6"].value) == ("Unfunded", 36004)
    assert ws["A4"].font.b
    assert ws.column_dimensions["A"].width >= len("Checkout")


def test_capacity_csv_lists_members_and_marks_those_without_a_rate(exec_client, period):
    response = exec_client.get(f"/funding/periods/{period.pk}/capacity.csv")
    assert response["Content-Disposition"] == 'attachment; filename="fy-2030-capacity.csv"'
    rows = read_csv(response)
    assert rows == [
        ["Team", "Person", "Discipline", "FTE", "Annual rate", "Days", "Cost"],
        ["Checkout", "Ada Byte", "Engineer", "1.00", "120000.00", "365", "120000.00"],
        ["Checkout", "Dee Zine", "Designer", "0.50", "no rate", "184", "no rate"],
        ["Checkout total (1 without a rate)", "", "", "", "", "", "120000.00"],
        ["Search", "Sam Query", "Engineer", "0.50", "120000.00", "365", "60000.00"],
        ["Search total", "", "", "", "", "", "60000.00"],
        ["Total", "", "", "", "", "", "180000.00"],
    ]


def test_capacity_workbook(exec_client, period):
    response = exec_client.get(f"/funding/periods/{period.pk}/capacity.xlsx")
    assert response["Content-Disposition"] == 'attachment; filename="fy-2030-capacity.xlsx"'
    ws = read_xlsx(response)["Capacity"]
    assert [c.value for c in ws[1]] == [
        "Team",
        "Person",
        "Discipline",
        "FTE",
        "Annual rate",
        "Days",
        "Cost",
    ]
    assert ws.freeze_panes == "A2"
    assert (ws["B2"].value, ws["D2"].value, ws["E2"].value, ws["F2"].value, ws["G2"].value) == (
        "Ada Byte",
        1,
        120000,
        365,
        120000,
    )
    assert ws["G2"].number_format.startswith('"€"#,##0.00')
    assert (ws["E3"].value, ws["G3"].value) == ("no rate", "no rate")
    assert (ws["A7"].value, ws["G7"].value) == ("Total", 180000)


@pytest.mark.parametrize("role_user", ROLES, indirect=True)
@pytest.mark.parametrize("what", ["allocations", "capacity"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_every_role_may_download(client, role_user, period, what, fmt):
    client.force_login(role_user)
    response = client.get(f"/funding/periods/{period.pk}/{what}.{fmt}")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")


def test_unknown_period_or_format_and_anonymous(client, finance_user, period):
    assert client.get(f"/funding/periods/{period.pk}/allocations.csv").status_code == 302
    client.force_login(finance_user)
    assert client.get("/funding/periods/999999/allocations.csv").status_code == 404
    assert client.get(f"/funding/periods/{period.pk}/allocations.pdf").status_code == 404
    assert client.post(f"/funding/periods/{period.pk}/capacity.csv").status_code == 405


def _grow(period, n):
    engineer = DisciplineFactory(name=f"Eng {n}", slug=f"eng-{n}")
    for i in range(n):
        team = TeamFactory(name=f"Team {n}-{i}")
        stream = ValueStreamFactory(name=f"Stream {n}-{i}")
        TeamMembershipFactory(team=team, person=PersonFactory(discipline=engineer))
        AllocationFactory(period=period, team=team, value_stream=stream, percent=P("10.00"))


@pytest.mark.parametrize("what", ["allocations", "capacity"])
def test_exports_read_in_a_fixed_number_of_queries(
    exec_client, period, what, django_assert_num_queries
):
    url = f"/funding/periods/{period.pk}/{what}.xlsx"
    # session, user, period, then the matrix (6) or the capacity (rates, memberships, teams)
    expected = {"allocations": 9, "capacity": 6}[what]
    with django_assert_num_queries(expected):
        exec_client.get(url)
    _grow(period, 18)
    with django_assert_num_queries(expected):
        response = exec_client.get(url)
    assert response.status_code == 200
