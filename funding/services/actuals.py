"""Writes of actual spend: one team's month at a time, or a whole CSV file all or nothing.

An actual is a team's spend in one calendar month (``month`` is its first day). A month that
overlaps a closed period is refused: a closed period's figures are final.

The CSV import (the import page, ``POST /api/v1/actuals/import/`` and
``manage.py import_actuals``) reads a header naming the columns ``team`` (the team's slug or its
name), ``month`` (``YYYY-MM`` or ``YYYY-MM-01``), ``amount`` and, optionally, ``note``; commas or
semicolons separate them. An amount is a number of the installation's currency with at most two
decimals and a dot as the decimal mark; thousands may be grouped with commas (``12,345.67``, quoted
when commas separate the columns) and no currency symbol is read. Every row is checked first; each
bad row is reported with its line number (the header is line 1) and why, and a file with any bad
row writes nothing. A good file is written in one transaction: a team's month that already has an
actual is updated, so importing the same file again changes nothing.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO, Any, NamedTuple

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from funding.models import Actual, FiscalPeriod
from funding.services.allocations import lock_cells
from portfolio.common.csvfiles import UnreadableFile, column_name, header_problem, read_text
from products.models import Team

REQUIRED_COLUMNS = ("team", "month", "amount")
OPTIONAL_COLUMNS = ("note",)
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
MAX_ROWS = 10_000
MONTH = re.compile(r"(\d{4})-(\d{2})(?:-(\d{2}))?")
# Digits with an optional dot and at most two decimals; thousands optionally grouped by commas.
AMOUNT = re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d{1,2})?")
NOTE_MAX = Actual._meta.get_field("note").max_length


def month_end(month: datetime.date) -> datetime.date:
    """The last day of ``month``'s calendar month."""
    following = (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return following - datetime.timedelta(days=1)


def closed_period_of(month: datetime.date) -> FiscalPeriod | None:
    """The closed period that shares a day with ``month`` (its figures are read-only), if any."""
    return (
        FiscalPeriod.objects.filter(status=FiscalPeriod.Status.CLOSED)
        .overlapping(month, month_end(month))
        .first()
    )


def _ensure_month_open(month: datetime.date) -> None:
    closed = closed_period_of(month)
    if closed is not None:
        raise ValidationError(
            {
                "month": f"{month:%b %Y} is in {closed.name}, which is closed: its actuals are read-only."
            }
        )


@transaction.atomic
def actual_set(
    *,
    actor: AbstractBaseUser,
    team: Team,
    month: datetime.date,
    amount: Decimal,
    note: str = "",
) -> Actual:
    """Record a team's actual spend for a month (create, or change the month's amount and note).

    ``month`` must be a first day; a month inside a closed period is refused.
    """
    if month.day != 1:
        raise ValidationError({"month": "Give the month as its first day (YYYY-MM-01)."})
    _ensure_month_open(month)
    lock_cells(team_ids=[team.pk], value_stream_ids=())
    actual = Actual.objects.select_for_update().filter(team=team, month=month).first()
    if actual is None:
        actual = Actual(team=team, month=month, amount=amount, note=note)
        actual.full_clean()
        actual.save()
        return actual
    if actual.amount != amount or actual.note != note:
        actual.amount, actual.note = amount, note
        actual.full_clean()
        actual.save(update_fields=["amount", "note", "updated_at"])
    return actual


@transaction.atomic
def actual_delete(*, actor: AbstractBaseUser, actual: Actual) -> None:
    """Remove a month's actual (a month inside a closed period is refused)."""
    _ensure_month_open(actual.month)
    actual.delete()


# The CSV import.


class RowError(NamedTuple):
    """A line of the file (the header is line 1) and what is wrong with it."""

    line: int
    reason: str


@dataclass
class ActualsImportResult:
    """What an import did: counts of actuals created, updated and unchanged, or the ``errors``
    that stopped it (then nothing was written)."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, line: int, reason: str) -> None:
        self.errors.append(RowError(line, reason))

    def counts(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
        }


@dataclass
class _Row:
    line: int
    team: Team
    month: datetime.date
    amount: Decimal
    note: str | None  # None: the file has no note column (the stored note is kept)


def parse_month(text: str) -> datetime.date | None:
    """``YYYY-MM`` or ``YYYY-MM-01`` as the month's first day; None when it is neither."""
    match = MONTH.fullmatch(text)
    if match is None:
        return None
    year, month, day = match.groups()
    if day is not None and day != "01":
        return None
    try:
        return datetime.date(int(year), int(month), 1)
    except ValueError:
        return None


def parse_amount(text: str) -> Decimal | None:
    """``12345.67`` or ``12,345.67`` (at most two decimals, not negative); None otherwise."""
    if not AMOUNT.fullmatch(text):
        return None
    try:
        return Decimal(text.replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        return None


class _Teams:
    """Every team, read once, found by slug or (case-insensitive) name."""

    def __init__(self) -> None:
        teams = list(Team.objects.only("id", "name", "slug", "archived_at"))
        self.by_slug = {t.slug: t for t in teams}
        self.by_name: dict[str, list[Team]] = {}
        for team in teams:
            self.by_name.setdefault(team.name.casefold(), []).append(team)

    def find(self, ref: str) -> tuple[Team | None, str]:
        if ref in self.by_slug:
            return self.by_slug[ref], ""
        named = self.by_name.get(ref.casefold(), [])
        if len(named) == 1:
            return named[0], ""
        if named:
            return None, f'Several teams are named "{ref}"; give the team\'s slug.'
        return None, f'There is no team "{ref}" (give its slug or its name).'


class _Periods:
    """Every period, read once: which one closes a month, and whether a month is in ``within``."""

    def __init__(self, within: FiscalPeriod | None) -> None:
        self.closed = list(
            FiscalPeriod.objects.filter(status=FiscalPeriod.Status.CLOSED).only(
                "id", "name", "start", "end"
            )
        )
        self.within = within

    def problem(self, month: datetime.date) -> str:
        last = month_end(month)
        for period in self.closed:
            if period.start <= last and period.end >= month:
                return f"{month:%b %Y} is in {period.name}, which is closed: its actuals are read-only."
        if self.within is not None and not (self.within.start <= last and self.within.end >= month):
            return (
                f"{month:%b %Y} is outside {self.within.name} "
                f"({self.within.start:%d %b %Y} to {self.within.end:%d %b %Y})."
            )
        return ""


def _check_row(
    line: int, cells: dict[str, str], has_note: bool, teams: _Teams, periods: _Periods
) -> tuple[_Row | None, list[str]]:
    reasons = [f"{column} is empty." for column in REQUIRED_COLUMNS if not cells[column]]
    team = None
    if cells["team"]:
        team, problem = teams.find(cells["team"])
        if problem:
            reasons.append(problem)
    month = parse_month(cells["month"]) if cells["month"] else None
    if cells["month"]:
        if month is None:
            reasons.append(f'"{cells["month"]}" is not a month written YYYY-MM or YYYY-MM-01.')
        elif problem := periods.problem(month):
            reasons.append(problem)
    amount = parse_amount(cells["amount"]) if cells["amount"] else None
    if cells["amount"] and amount is None:
        reasons.append(
            f'"{cells["amount"]}" is not an amount such as 12345.67 or 12,345.67 '
            "(not negative, at most two decimals, no currency symbol)."
        )
    elif amount is not None and amount >= Decimal("1e12"):
        reasons.append(f'"{cells["amount"]}" is too large for an actual.')
    if len(cells["note"]) > (NOTE_MAX or 200):
        reasons.append(f"note is longer than {NOTE_MAX} characters.")
    if reasons or team is None or month is None or amount is None:
        return None, reasons
    return _Row(line, team, month, amount, cells["note"] if has_note else None), []


def _read_rows(
    reader: Any,
    header: list[str],
    teams: _Teams,
    periods: _Periods,
    result: ActualsImportResult,
) -> list[_Row]:
    rows: list[_Row] = []
    seen: dict[tuple[int, datetime.date], int] = {}
    has_note = "note" in header
    for cells_list in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells_list):
            continue
        result.rows += 1
        if result.rows > MAX_ROWS:
            result.error(line, f"A file may hold at most {MAX_ROWS:,} rows; split it.")
            break
        if len(cells_list) > len(header) or any(
            c not in OPTIONAL_COLUMNS for c in header[len(cells_list) :]
        ):
            result.error(line, f"Expected {len(header)} values, found {len(cells_list)}.")
            continue
        cells = dict.fromkeys(COLUMNS, "")
        cells.update(zip(header, (cell.strip() for cell in cells_list), strict=False))
        row, reasons = _check_row(line, cells, has_note, teams, periods)
        if row is None:
            result.error(line, " ".join(reasons))
            continue
        key = (row.team.pk, row.month)
        if key in seen:
            result.error(
                line, f"{row.team.name}, {row.month:%b %Y} is already on line {seen[key]}."
            )
            continue
        seen[key] = line
        rows.append(row)
    return rows


def _header(reader: Any, result: ActualsImportResult) -> list[str] | None:
    try:
        header = [column_name(h) for h in next(reader)]
    except csv.Error as error:
        result.error(1, f"The file cannot be read as CSV: {error}.")
        return None
    problem = header_problem(header, required=REQUIRED_COLUMNS, columns=COLUMNS)
    if problem is not None:
        result.error(1, problem)
        return None
    return header


def _write(rows: list[_Row], result: ActualsImportResult) -> None:
    # Two writers of the same team's months (two imports, or an import and an edit) take turns
    # on the teams' rows: the second sees the first's rows instead of failing on a month it
    # also creates.
    lock_cells(team_ids=[r.team.pk for r in rows], value_stream_ids=())
    stored = {
        (a.team_id, a.month): a
        for a in Actual.objects.select_for_update().filter(
            Q(team_id__in={r.team.pk for r in rows}) & Q(month__in={r.month for r in rows})
        )
    }
    new: list[Actual] = []
    changed: list[Actual] = []
    now = timezone.now()
    for row in rows:
        actual = stored.get((row.team.pk, row.month))
        note = row.note if row.note is not None else (actual.note if actual else "")
        if actual is None:
            new.append(Actual(team=row.team, month=row.month, amount=row.amount, note=note))
        elif actual.amount != row.amount or actual.note != note:
            actual.amount, actual.note, actual.updated_at = row.amount, note, now
            changed.append(actual)
        else:
            result.unchanged += 1
    for actual in new + changed:
        actual.full_clean(validate_unique=False, validate_constraints=False)
    Actual.objects.bulk_create(new)
    if changed:
        Actual.objects.bulk_update(changed, ["amount", "note", "updated_at"])
    result.created, result.updated = len(new), len(changed)


@transaction.atomic
def actuals_import(
    *,
    actor: AbstractBaseUser,
    file: IO[bytes] | IO[str],
    period: FiscalPeriod | None = None,
) -> ActualsImportResult:
    """Check every row of an actuals CSV, then write all of them or none.

    With ``period``, every month must fall in it (the import page of a period). Returns counts
    of actuals created, updated and unchanged, or every bad row's line and reason.
    """
    result = ActualsImportResult()
    try:
        text = read_text(file)
    except UnreadableFile as unreadable:
        result.error(unreadable.line, unreadable.message)
        return result
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        result.error(1, "The file is empty.")
        return result
    delimiter = ";" if lines[0].count(";") > lines[0].count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = _header(reader, result)
    if header is None:
        return result
    try:
        rows = _read_rows(reader, header, _Teams(), _Periods(period), result)
    except csv.Error as error:
        result.error(reader.line_num, f"The file cannot be read as CSV: {error}.")
        return result
    if not result.rows and result.ok:
        result.error(2, "The file has a header but no rows.")
    if not result.ok:
        return result
    _write(rows, result)
    return result
