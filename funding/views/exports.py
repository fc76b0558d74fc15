"""Downloads of a period: the allocation matrix and the capacity breakdown, as CSV or Excel.

The figures are the pages' own (``selectors.allocation_matrix`` and ``capacity.team_capacities``),
with money to the cent. CSV gives plain numbers ("120000.00", percents as "50.00") so a
spreadsheet reads them as numbers; the workbook stores numbers with money and percent formats,
a bold frozen header row and sized columns. Everyone signed in may download what they may read.
"""

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import re_path
from django.utils.text import slugify
from django.views.decorators.http import require_GET
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from funding import selectors
from funding.capacity import TeamCapacity, team_capacities
from funding.models import FiscalPeriod
from products.models import Team

HUNDRED = Decimal("100")
FORMATS = ("csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NO_RATE = "no rate"

# A cell of an export: text, money (``Money``), a percent (``Percent``), a number or empty.


class Money(Decimal):
    """Money to the cent: written "1234.50" in CSV, as a number with the money format in Excel."""


class Percent(Decimal):
    """A percent such as 33.33: written "33.33" in CSV, as 0.3333 with the percent format in Excel."""


def money(value: Decimal | None) -> Money | None:
    return None if value is None else Money(value.quantize(Decimal("0.01")))


def pct(value: Decimal | None) -> Percent | None:
    return None if value is None else Percent(value.quantize(Decimal("0.01")))


Row = Sequence[Any]


def matrix_table(period: FiscalPeriod) -> tuple[list[str], list[Row]]:
    """The allocation matrix: one row per team, then the totals, envelopes and unfunded rows."""
    matrix = selectors.allocation_matrix(period=period)
    header = ["Team", "Capacity"]
    for column in matrix.columns:
        name = column.value_stream.name
        header += [f"{name} %", f"{name} amount"]
    header += ["Allocated %", "Allocated", "Unallocated %", "Unallocated", "Capacity note"]
    rows: list[Row] = []
    for row in matrix.rows:
        line: list[Any] = [row.team.name, money(row.capacity.cost)]
        for cell in row.cells:
            line += [pct(cell.percent), money(cell.amount)]
        unpriced = len(row.capacity.unpriced)
        line += [
            pct(row.allocated_percent),
            money(row.allocated_amount),
            pct(row.unallocated_percent),
            money(row.unallocated_amount),
            f"{unpriced} member{'s' if unpriced != 1 else ''} without a rate" if unpriced else "",
        ]
        rows.append(line)
    totals: list[Any] = ["Total", money(matrix.capacity_cost)]
    envelopes: list[Any] = ["Envelope", None]
    unfunded: list[Any] = ["Unfunded", None]
    for column in matrix.columns:
        totals += [None, money(column.allocated_amount)]
        envelopes += [None, money(column.envelope_amount)]
        unfunded += [None, money(column.unfunded)]
    totals += [None, money(matrix.allocated_amount), None, money(matrix.unallocated_amount), ""]
    envelopes += [None, money(matrix.envelope_amount), None, None, ""]
    unfunded += [
        None,
        money(sum((c.unfunded or Decimal(0) for c in matrix.columns), Decimal(0))),
        None,
        None,
        "",
    ]
    rows += [totals, envelopes, unfunded]
    return header, rows


def capacity_table(period: FiscalPeriod) -> tuple[list[str], list[Row]]:
    """Each team's members in the period: fte, discipline, annual rate, days and cost; a member
    whose discipline has no rate says "no rate" (never priced as zero)."""
    capacities = team_capacities(period=period)
    teams = list(
        Team.objects.filter(Q(archived_at__isnull=True) | Q(pk__in=list(capacities)))
        .only("id", "name")
        .order_by("name", "pk")
    )
    header = ["Team", "Person", "Discipline", "FTE", "Annual rate", "Days", "Cost"]
    rows: list[Row] = []
    total = Decimal("0.00")
    for team in teams:
        capacity = capacities.get(team.pk) or TeamCapacity(team_id=team.pk, period_days=period.days)
        for line in capacity.lines:
            rows.append(
                [
                    team.name,
                    line.person_name,
                    line.discipline_name,
                    line.fte,
                    money(line.annual_rate) if line.annual_rate is not None else NO_RATE,
                    line.days,
                    money(line.cost) if line.cost is not None else NO_RATE,
                ]
            )
        note = "" if capacity.complete else f" ({len(capacity.unpriced)} without a rate)"
        rows.append(
            [f"{team.name} total{note}", None, None, None, None, None, money(capacity.cost)]
        )
        total += capacity.cost
    rows.append(["Total", None, None, None, None, None, money(total)])
    return header, rows


# Writing the files.


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:f}"
    return str(value)


def csv_response(filename: str, header: list[str], rows: Iterable[Row]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    response.write("\ufeff")  # lets Excel open UTF-8 (names with accents) as such
    writer = csv.writer(response)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_csv_value(v) for v in row])
    return response


def _money_format() -> str:
    return f'"{settings.CURRENCY_SYMBOL}"#,##0.00;-"{settings.CURRENCY_SYMBOL}"#,##0.00'


def xlsx_response(
    filename: str, sheet: str, header: list[str], rows: Iterable[Row], *, freeze: str
) -> HttpResponse:
    workbook = Workbook()
    ws = workbook.active
    ws.title = sheet
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    widths = [len(h) for h in header]
    money_format = _money_format()
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row, start=1):
            cell = ws.cell(row=r, column=c)
            text = _csv_value(value)
            if isinstance(value, Percent):
                cell.value = float(value / HUNDRED)
                cell.number_format = "0.00%"
            elif isinstance(value, Money):
                cell.value = float(value)
                cell.number_format = money_format
                text = f"{settings.CURRENCY_SYMBOL}{value:,.2f}"
            elif isinstance(value, Decimal):
                cell.value = float(value)
            else:
                cell.value = value
            if value is not None and c <= len(widths):
                widths[c - 1] = max(widths[c - 1], len(text))
        if row and isinstance(row[0], str) and row[0].startswith(("Total", "Envelope", "Unfunded")):
            ws.cell(row=r, column=1).font = Font(bold=True)
    for c, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(c)].width = min(max(width + 2, 8), 48)
    ws.freeze_panes = freeze
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
    return response


def _period(pk: str, fmt: str) -> FiscalPeriod:
    if fmt not in FORMATS:
        raise Http404
    return get_object_or_404(FiscalPeriod, pk=int(pk))


@require_GET
def matrix_export(request: HttpRequest, pk: str, fmt: str) -> HttpResponse:
    """The period's allocation matrix with team totals, unallocated capacity, envelopes and
    unfunded envelope, as ``allocations.csv`` or ``allocations.xlsx``."""
    period = _period(pk, fmt)
    header, rows = matrix_table(period)
    filename = f"{slugify(period.name) or period.pk}-allocations"
    if fmt == "csv":
        return csv_response(filename, header, rows)
    return xlsx_response(filename, "Allocations", header, rows, freeze="B2")


@require_GET
def capacity_export(request: HttpRequest, pk: str, fmt: str) -> HttpResponse:
    """Each team's capacity in the period, member by member, as ``capacity.csv`` or ``.xlsx``."""
    period = _period(pk, fmt)
    header, rows = capacity_table(period)
    filename = f"{slugify(period.name) or period.pk}-capacity"
    if fmt == "csv":
        return csv_response(filename, header, rows)
    return xlsx_response(filename, "Capacity", header, rows, freeze="A2")


urlpatterns = [
    re_path(
        r"^periods/(?P<pk>\d+)/allocations\.(?P<fmt>csv|xlsx)$",
        matrix_export,
        name="matrix_export",
    ),
    re_path(
        r"^periods/(?P<pk>\d+)/capacity\.(?P<fmt>csv|xlsx)$",
        capacity_export,
        name="capacity_export",
    ),
]
