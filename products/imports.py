"""CSV import of key-result measurements (the import page and ``manage.py import_measurements``).

A file has a header naming the columns ``product`` (the product's slug), ``key_result`` (its
name), ``date`` (YYYY-MM-DD), ``value`` and, optionally, ``note``; commas or semicolons separate
them (with semicolons a decimal comma is read as well). Every row is checked before anything is
written, and every bad row is reported with its line number (the header is line 1) and the
reason; a file with any bad row writes nothing. A good file is written through
``services.measurement_record`` in one transaction, so each measurement moves its key result's
status and is recorded in the product's history as imported by the acting user.
"""

import csv
import datetime
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO, Any, NamedTuple

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from portfolio.common.csvfiles import UnreadableFile, column_name, header_problem, read_text
from products import services
from products.models import KeyResult, Measurement, Product
from products.permissions import can_edit_outcomes

REQUIRED_COLUMNS = ("product", "key_result", "date", "value")
OPTIONAL_COLUMNS = ("note",)
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
MAX_ROWS = 10_000
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class RowError(NamedTuple):
    """A line of the file (the header is line 1) and what is wrong with it."""

    line: int
    reason: str


@dataclass
class ImportResult:
    """What an import did: ``written`` measurements, or the ``errors`` that stopped it."""

    rows: int = 0  # data rows read (blank lines not counted)
    written: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, line: int, reason: str) -> None:
        self.errors.append(RowError(line, reason))


@dataclass
class _Row:
    line: int
    key_result: KeyResult
    date: datetime.date
    value: Decimal
    note: str


def _delimiter(header_line: str) -> str:
    return ";" if header_line.count(";") > header_line.count(",") else ","


def _parse_value(text: str, delimiter: str) -> Decimal | None:
    if delimiter == ";" and "," in text and "." not in text:
        text = text.replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _parse_date(text: str) -> datetime.date | None:
    if not ISO_DATE.fullmatch(text):
        return None
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        return None


class _Lookups:
    """Products, key results and permissions, each fetched once per import."""

    def __init__(self, actor: User) -> None:
        self.actor = actor
        self.products: dict[str, Product | None] = {}
        self.key_results: dict[int, dict[str, KeyResult]] = {}
        self.may_edit: dict[int, bool] = {}

    def product(self, slug: str) -> Product | None:
        if slug not in self.products:
            self.products[slug] = (
                Product.objects.prefetch_related("owners").filter(slug=slug).first()
            )
        return self.products[slug]

    def key_result(self, product: Product, name: str) -> KeyResult | None:
        if product.pk not in self.key_results:
            self.key_results[product.pk] = {
                kr.name: kr
                for kr in KeyResult.objects.filter(product=product).select_related(
                    "outcome", "product"
                )
            }
        by_name = self.key_results[product.pk]
        if name in by_name:
            return by_name[name]
        folded = [kr for kr_name, kr in by_name.items() if kr_name.casefold() == name.casefold()]
        return folded[0] if len(folded) == 1 else None

    def can_edit(self, product: Product) -> bool:
        if product.pk not in self.may_edit:
            self.may_edit[product.pk] = can_edit_outcomes(
                self.actor, product, model=Measurement, action="add"
            )
        return self.may_edit[product.pk]


def _check_row(
    line: int, cells: dict[str, str], delimiter: str, lookups: _Lookups
) -> tuple[_Row | None, list[str]]:
    """The row ready to write, or every reason it cannot be."""
    reasons: list[str] = []
    for column in REQUIRED_COLUMNS:
        if not cells[column]:
            reasons.append(f"{column} is empty.")

    key_result: KeyResult | None = None
    slug, name = cells["product"], cells["key_result"]
    if slug:
        product = lookups.product(slug)
        if product is None:
            reasons.append(f'There is no product "{slug}".')
        elif product.archived_at is not None:
            reasons.append(f'The product "{slug}" is archived.')
        elif not lookups.can_edit(product):
            reasons.append(f'You may not change the outcomes of "{product.name}".')
        elif name:
            key_result = lookups.key_result(product, name)
            if key_result is None:
                reasons.append(f'"{product.name}" has no key result named "{name}".')
            elif key_result.outcome.archived_at is not None:
                reasons.append(f'The key result "{name}" belongs to an archived outcome.')
                key_result = None

    date = _parse_date(cells["date"]) if cells["date"] else None
    if cells["date"] and date is None:
        reasons.append(f'"{cells["date"]}" is not a date written YYYY-MM-DD.')
    value = _parse_value(cells["value"], delimiter) if cells["value"] else None
    if cells["value"] and value is None:
        reasons.append(f'"{cells["value"]}" is not a number.')

    if key_result is None or date is None or value is None:
        return None, reasons
    # The model's own rules (digits, note length), checked without writing.
    measurement = Measurement(key_result=key_result, date=date, value=value, note=cells["note"])
    try:
        measurement.full_clean(exclude=["recorded_by"])
    except ValidationError as error:
        for column, messages in error.message_dict.items():
            reasons.extend(f"{column}: {message}" for message in messages)
    if reasons:
        return None, reasons
    return _Row(line, key_result, date, value, cells["note"]), []


def _check_duplicates(rows: list[_Row], result: ImportResult) -> None:
    """A row that repeats an earlier one, or a measurement already recorded, is most likely the
    same file imported twice: refuse it rather than count the value twice."""
    seen: dict[tuple[int, datetime.date, Decimal], int] = {}
    for row in rows:
        key = (row.key_result.pk, row.date, row.value)
        if key in seen:
            result.error(row.line, f"The same measurement as line {seen[key]}.")
        else:
            seen[key] = row.line
    if not rows:
        return
    recorded = set(
        Measurement.objects.filter(
            key_result__in={row.key_result.pk for row in rows},
            date__in={row.date for row in rows},
        ).values_list("key_result_id", "date", "value")
    )
    for row in rows:
        if (row.key_result.pk, row.date, row.value) in recorded:
            result.error(
                row.line,
                f'"{row.key_result.name}" already has the value {row.value} on {row.date}.',
            )


def _check_rows(
    reader: Any,
    header: list[str],
    delimiter: str,
    lookups: _Lookups,
    rows: list[_Row],
    result: ImportResult,
) -> None:
    """Check each data row, collecting the good ones in ``rows`` and the bad in ``result``."""
    for cells_list in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells_list):
            continue
        result.rows += 1
        if result.rows > MAX_ROWS:
            result.error(line, f"A file may hold at most {MAX_ROWS} rows; split it.")
            return
        # A row may leave out trailing optional columns (a note), not more.
        short_by = header[len(cells_list) :]
        if len(cells_list) > len(header) or any(c not in OPTIONAL_COLUMNS for c in short_by):
            result.error(line, f"Expected {len(header)} values, found {len(cells_list)}.")
            continue
        cells = dict.fromkeys(COLUMNS, "")
        cells.update(zip(header, (cell.strip() for cell in cells_list), strict=False))
        row, reasons = _check_row(line, cells, delimiter, lookups)
        if row is None:
            result.error(line, " ".join(reasons))
        else:
            rows.append(row)


def measurements_import(*, actor: User, file: IO[bytes] | IO[str]) -> ImportResult:
    """Check every row of a measurements CSV, then write all of them or none.

    Returns the rows read and written, or every bad row's line and reason (nothing written).
    """
    result = ImportResult()
    try:
        text = read_text(file)
    except UnreadableFile as unreadable:
        result.error(unreadable.line, unreadable.message)
        return result
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        result.error(1, "The file is empty.")
        return result
    delimiter = _delimiter(lines[0])
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = [column_name(h) for h in next(reader)]
    except csv.Error as error:
        result.error(1, f"The file cannot be read as CSV: {error}.")
        return result
    problem = header_problem(header, required=REQUIRED_COLUMNS, columns=COLUMNS)
    if problem is not None:
        result.error(1, problem)
        return result

    lookups = _Lookups(actor)
    rows: list[_Row] = []
    try:
        _check_rows(reader, header, delimiter, lookups, rows, result)
    except csv.Error as error:
        result.error(reader.line_num, f"The file cannot be read as CSV: {error}.")
        return result
    if result.rows == 0 and not result.errors:
        result.error(1, "The file has a header but no rows.")
    _check_duplicates(rows, result)
    if result.errors:
        result.errors.sort(key=lambda e: e.line)
        return result

    line = 0
    try:
        with transaction.atomic():
            for good in rows:
                line = good.line
                services.measurement_record(
                    actor=actor,
                    key_result=good.key_result,
                    date=good.date,
                    value=good.value,
                    note=good.note,
                    imported=True,
                )
    except (ValidationError, PermissionDenied) as error:
        # Something changed between the check and the write (an owner removed, say).
        result.error(line, " ".join(getattr(error, "messages", [str(error)])))
        return result
    result.written = len(rows)
    return result
