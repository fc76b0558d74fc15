"""Actual spend: recording a team's month, the closed-period rule, and the all-or-nothing CSV
import (page, API and command share it)."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from funding.models import Actual, FiscalPeriod
from funding.services import actual_delete, actual_set, actuals_import
from funding.services.actuals import parse_amount, parse_month
from tests.funding.factories import ActualFactory, FiscalPeriodFactory
from tests.products.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

JAN = datetime.date(2030, 1, 1)
FEB = datetime.date(2030, 2, 1)


@pytest.fixture
def who():
    return UserFactory()


def csv_file(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode("utf-8"))


# Parsing.


@pytest.mark.parametrize(
    ("text", "month"),
    [
        ("2030-03", datetime.date(2030, 3, 1)),
        ("2030-03-01", datetime.date(2030, 3, 1)),
        ("2030-03-15", None),
        ("2030-13", None),
        ("03/2030", None),
        ("2030-3", None),
    ],
)
def test_parse_month_takes_a_month_or_its_first_day(text, month):
    assert parse_month(text) == month


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("12345.67", Decimal("12345.67")),
        ("12,345.67", Decimal("12345.67")),
        ("1,234,567", Decimal("1234567")),
        ("0", Decimal("0")),
        ("12345.6", Decimal("12345.6")),
        ("12,34", None),  # a decimal comma is ambiguous: refused
        ("1234,567.00", None),
        ("12345.678", None),
        ("-10", None),
        ("€100", None),
        ("", None),
        ("1e3", None),
    ],
)
def test_parse_amount_accepts_dot_decimals_and_comma_thousands(text, amount):
    assert parse_amount(text) == amount


# Recording one month.


def test_actual_set_creates_then_changes_the_month(who):
    team = TeamFactory()
    first = actual_set(actor=who, team=team, month=JAN, amount=Decimal("1000.00"), note="ledger")
    again = actual_set(actor=who, team=team, month=JAN, amount=Decimal("1250.50"))
    assert again.pk == first.pk
    stored = Actual.objects.get()
    assert (stored.amount, stored.note) == (Decimal("1250.50"), "")


def test_actual_set_refuses_a_day_that_is_not_the_first(who):
    with pytest.raises(ValidationError) as error:
        actual_set(actor=who, team=TeamFactory(), month=datetime.date(2030, 1, 15), amount=1)
    assert "first day" in str(error.value)
    assert not Actual.objects.exists()


def test_actual_set_refuses_a_negative_amount(who):
    with pytest.raises(ValidationError):
        actual_set(actor=who, team=TeamFactory(), month=JAN, amount=Decimal("-1"))
    assert not Actual.objects.exists()


def test_a_month_of_a_closed_period_is_read_only(who):
    FiscalPeriodFactory(
        name="FY2030",
        start=datetime.date(2030, 1, 1),
        end=datetime.date(2030, 12, 31),
        status=FiscalPeriod.Status.CLOSED,
    )
    team = TeamFactory()
    stored = ActualFactory(team=team, month=JAN, amount=Decimal("10.00"))
    with pytest.raises(ValidationError) as error:
        actual_set(actor=who, team=team, month=JAN, amount=Decimal("20.00"))
    assert "FY2030, which is closed" in str(error.value)
    with pytest.raises(ValidationError):
        actual_set(actor=who, team=team, month=FEB, amount=Decimal("20.00"))
    with pytest.raises(ValidationError):
        actual_delete(actor=who, actual=stored)
    stored.refresh_from_db()
    assert stored.amount == Decimal("10.00")
    assert Actual.objects.count() == 1


def test_a_month_that_only_touches_a_closed_period_is_refused(who):
    # The closed period ends mid-January: January's figures are final.
    FiscalPeriodFactory(
        start=datetime.date(2029, 1, 16),
        end=datetime.date(2030, 1, 15),
        status=FiscalPeriod.Status.CLOSED,
    )
    with pytest.raises(ValidationError):
        actual_set(actor=who, team=TeamFactory(), month=JAN, amount=Decimal("1"))
    actual_set(actor=who, team=TeamFactory(), month=FEB, amount=Decimal("1"))
    assert Actual.objects.count() == 1


def test_open_and_planning_periods_accept_actuals(who):
    FiscalPeriodFactory(start=JAN, end=datetime.date(2030, 12, 31))
    actual_set(actor=who, team=TeamFactory(), month=JAN, amount=Decimal("1"))
    assert Actual.objects.count() == 1


def test_actual_delete_removes_the_month(who):
    stored = ActualFactory()
    actual_delete(actor=who, actual=stored)
    assert not Actual.objects.exists()


# The import.


def test_import_writes_every_row_and_counts_them(who):
    core = TeamFactory(name="Payments core", slug="payments-core")
    TeamFactory(name="Lending", slug="lending")
    result = actuals_import(
        actor=who,
        file=csv_file(
            "team,month,amount,note\n"
            'payments-core,2030-01,"12,345.67",January ledger\n'
            "Payments Core,2030-02-01,12000,\n"
            "lending,2030-01,500.5,\n"
        ),
    )
    assert result.ok, result.errors
    assert result.counts() == {"rows": 3, "created": 3, "updated": 0, "unchanged": 0}
    assert Actual.objects.get(team=core, month=JAN).amount == Decimal("12345.67")
    assert Actual.objects.get(team=core, month=JAN).note == "January ledger"
    assert Actual.objects.get(team=core, month=FEB).amount == Decimal("12000.00")
    assert Actual.objects.get(team__slug="lending").amount == Decimal("500.50")


def test_reimporting_the_same_file_changes_nothing_and_a_changed_amount_updates(who):
    TeamFactory(slug="core")
    text = "team,month,amount,note\ncore,2030-01,100,a\ncore,2030-02,200,b\n"
    actuals_import(actor=who, file=csv_file(text))
    again = actuals_import(actor=who, file=csv_file(text))
    assert again.counts() == {"rows": 2, "created": 0, "updated": 0, "unchanged": 2}
    changed = actuals_import(
        actor=who, file=csv_file("team,month,amount,note\ncore,2030-01,150,a\ncore,2030-02,200,b\n")
    )
    assert changed.counts() == {"rows": 2, "created": 0, "updated": 1, "unchanged": 1}
    assert Actual.objects.get(month=JAN).amount == Decimal("150.00")
    assert Actual.objects.count() == 2


def test_import_without_a_note_column_keeps_the_recorded_notes(who):
    team = TeamFactory(slug="core")
    ActualFactory(team=team, month=JAN, amount=Decimal("1.00"), note="kept")
    result = actuals_import(actor=who, file=csv_file("team,month,amount\ncore,2030-01,2\n"))
    assert result.updated == 1
    assert Actual.objects.get().note == "kept"


def test_one_bad_row_writes_nothing_and_is_reported_with_its_line(who):
    team = TeamFactory(slug="core")
    ActualFactory(team=team, month=JAN, amount=Decimal("1.00"))
    result = actuals_import(
        actor=who,
        file=csv_file(
            "team,month,amount,note\ncore,2030-01,999,\ncore,2030-02,200,\ncore,2030-03,12,34,\n"
        ),
    )
    assert not result.ok
    assert [e.line for e in result.errors] == [4]
    assert result.errors[0].reason == "Expected 4 values, found 5."
    # Nothing written: January keeps its old amount, February was not created.
    assert Actual.objects.get().amount == Decimal("1.00")


def test_every_bad_row_is_reported_with_its_reason(who):
    TeamFactory(slug="core")
    TeamFactory(name="Twins", slug="twins-a")
    TeamFactory(name="Twins", slug="twins-b")
    result = actuals_import(
        actor=who,
        file=csv_file(
            "team,month,amount,note\n"
            "core,2030-01,100,\n"  # 2: good
            "nobody,2030-01,100,\n"  # 3
            "core,2030-01-15,100,\n"  # 4
            "core,2030-02,-5,\n"  # 5
            "core,2030-03,1.234,\n"  # 6
            ",,,\n"  # blank: skipped
            "core,,100,\n"  # 8
            "Twins,2030-01,1,\n"  # 9
            "core,2030-01,100,\n"  # 10: repeats line 2
            f"core,2030-04,1,{'x' * 201}\n"  # 11
        ),
    )
    reasons = dict(result.errors)
    assert sorted(reasons) == [3, 4, 5, 6, 8, 9, 10, 11]
    assert reasons[3] == 'There is no team "nobody" (give its slug or its name).'
    assert reasons[4] == '"2030-01-15" is not a month written YYYY-MM or YYYY-MM-01.'
    assert reasons[5].startswith('"-5" is not an amount such as 12345.67 or 12,345.67')
    assert reasons[6].startswith('"1.234" is not an amount')
    assert reasons[8] == "month is empty."
    assert reasons[9] == 'Several teams are named "Twins"; give the team\'s slug.'
    assert "is already on line 2" in reasons[10]
    assert reasons[11] == "note is longer than 200 characters."
    assert result.rows == 9  # the blank line is not a row
    assert not Actual.objects.exists()


def test_import_refuses_a_month_of_a_closed_period_and_months_outside_the_given_period(who):
    TeamFactory(slug="core")
    FiscalPeriodFactory(
        name="FY2029",
        start=datetime.date(2029, 1, 1),
        end=datetime.date(2029, 12, 31),
        status=FiscalPeriod.Status.CLOSED,
    )
    period = FiscalPeriodFactory(name="FY2030", start=JAN, end=datetime.date(2030, 12, 31))
    result = actuals_import(
        actor=who,
        file=csv_file("team,month,amount\ncore,2029-12,1\ncore,2031-01,1\ncore,2030-05,1\n"),
        period=period,
    )
    reasons = dict(result.errors)
    assert reasons[2] == "Dec 2029 is in FY2029, which is closed: its actuals are read-only."
    assert reasons[3] == "Jan 2031 is outside FY2030 (01 Jan 2030 to 31 Dec 2030)."
    assert 4 not in reasons
    assert not Actual.objects.exists()


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("", 1, "The file is empty."),
        ("team,month\ncore,2030-01\n", 1, "missing amount"),
        ("team,month,amount,cost\n", 1, "unknown cost"),
        ("team,month,amount,amount\n", 1, "repeated amount"),
        ("team,month,amount\n", 2, "The file has a header but no rows."),
    ],
)
def test_import_checks_the_file_shape(who, text, line, reason):
    result = actuals_import(actor=who, file=csv_file(text))
    assert result.errors[0].line == line
    assert reason in result.errors[0].reason


def test_import_reads_semicolons_and_a_byte_order_mark(who):
    TeamFactory(slug="core")
    result = actuals_import(
        actor=who, file=io.BytesIO("\ufeffTeam;Month;Amount\ncore;2030-01;1,000.00\n".encode())
    )
    assert result.ok, result.errors
    assert Actual.objects.get().amount == Decimal("1000.00")


def test_import_refuses_a_file_that_is_not_utf8(who):
    result = actuals_import(actor=who, file=io.BytesIO(b"team,month,amount\n\xe9quipe,2030-01,1\n"))
    assert result.errors[0].line == 2
    assert "not UTF-8" in result.errors[0].reason


# The command.


def test_import_actuals_command_imports_a_good_file(tmp_path, capsys):
    TeamFactory(slug="core")
    path = tmp_path / "actuals.csv"
    path.write_text("team,month,amount\ncore,2030-01,100\n")
    call_command("import_actuals", str(path))
    assert "1 row: 1 created, 0 updated, 0 unchanged." in capsys.readouterr().out
    assert Actual.objects.count() == 1


def test_import_actuals_command_prints_each_bad_row_and_fails(tmp_path, capsys):
    TeamFactory(slug="core")
    path = tmp_path / "actuals.csv"
    path.write_text("team,month,amount\ncore,2030-01,100\nnobody,2030-01,1\ncore,2030-02,x\n")
    with pytest.raises(CommandError) as error:
        call_command("import_actuals", str(path))
    assert str(error.value) == "2 bad rows; nothing was imported."
    assert error.value.returncode == 1
    err = capsys.readouterr().err
    assert 'line 3: There is no team "nobody"' in err
    assert 'line 4: "x" is not an amount' in err
    assert not Actual.objects.exists()


def test_import_actuals_command_refuses_a_missing_file_or_period(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_actuals", str(tmp_path / "missing.csv"))
    path = tmp_path / "actuals.csv"
    path.write_text("team,month,amount\n")
    with pytest.raises(CommandError, match="no fiscal period"):
        call_command("import_actuals", str(path), "--period", "999999")


def test_import_actuals_command_checks_the_user(tmp_path, make_user):
    make_user("exec-user", "executive")
    make_user("fin-user", "finance")
    TeamFactory(slug="core")
    path = tmp_path / "actuals.csv"
    path.write_text("team,month,amount\ncore,2030-01,100\n")
    with pytest.raises(CommandError, match="may not record actuals"):
        call_command("import_actuals", str(path), "--user", "exec-user")
    with pytest.raises(CommandError, match="no active user"):
        call_command("import_actuals", str(path), "--user", "ghost")
    call_command("import_actuals", str(path), "--user", "fin-user")
    assert Actual.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_imports_of_the_same_new_months_at_once_take_turns():
    """Both create the team's January: the second waits for the first (the team's row lock)
    and then finds its month stored, instead of failing on the duplicate."""
    import threading

    from django.db import connection

    who = UserFactory()
    TeamFactory(slug="core")
    barrier = threading.Barrier(2)
    results: list = []
    errors: list[BaseException] = []

    def run(amount: str) -> None:
        try:
            barrier.wait(timeout=10)
            text = f"team,month,amount,note\ncore,2030-01,{amount},\ncore,2030-02,{amount},\n"
            results.append(actuals_import(actor=who, file=csv_file(text)).counts())
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(a,)) for a in ("100", "200")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert sorted(r["created"] for r in results) == [0, 2]
    assert sorted(r["updated"] for r in results) == [0, 2]
    assert Actual.objects.filter(team__slug="core").count() == 2
