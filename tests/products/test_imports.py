"""CSV import of measurements: every bad row reported with its line, and all or nothing written."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from products import services
from products.imports import MAX_ROWS, RowError, measurements_import
from products.management.commands.import_measurements import Command
from products.models import ChangeRecord, KeyResult, Measurement
from tests.products.factories import (
    KeyResultFactory,
    MeasurementFactory,
    OutcomeFactory,
    ProductFactory,
    outcome_rows,
)

D = Decimal
HEADER = "product,key_result,date,value,note"


@pytest.fixture
def owner(make_user):
    return make_user("owner", "product_owner")


@pytest.fixture
def other_owner(make_user):
    return make_user("other-owner", "product_owner")


@pytest.fixture
def checkout(owner):
    """The owner's product with two key results (0 -> 100 and a decrease, 10 -> 2)."""
    product = ProductFactory(name="Checkout", slug="checkout", owners=[owner])
    outcome = OutcomeFactory(product=product)
    KeyResultFactory(outcome=outcome, name="Conversion")
    KeyResultFactory(
        outcome=outcome,
        name="Time to pay",
        kind="time_to_market",
        direction="decrease",
        baseline=D(10),
        target=D(2),
    )
    return product


@pytest.fixture
def payments(other_owner):
    product = ProductFactory(name="Payments", slug="payments", owners=[other_owner])
    KeyResultFactory(outcome=OutcomeFactory(product=product), name="Settlement time")
    return product


def csv_file(*lines: str, encoding: str = "utf-8") -> io.BytesIO:
    return io.BytesIO("\n".join(lines).encode(encoding))


def run(actor, *lines: str):
    return measurements_import(actor=actor, file=csv_file(*lines))


# --- A good file ---------------------------------------------------------------------------------


def test_a_good_file_writes_every_row_and_moves_the_status(owner, checkout):
    result = run(
        owner,
        HEADER,
        "checkout,Conversion,2026-03-31,20,Q1 figure",
        "checkout,Conversion,2026-06-30,50,",
        "checkout,Time to pay,2026-06-30,6.5,From the tracker",
    )

    assert result.ok and result.errors == []
    assert (result.rows, result.written) == (3, 3)
    conversion = KeyResult.objects.get(name="Conversion")
    assert (conversion.latest_value, conversion.latest_date) == (D(50), datetime.date(2026, 6, 30))
    assert conversion.status == "on_track"
    time_to_pay = KeyResult.objects.get(name="Time to pay")
    assert (time_to_pay.latest_value, time_to_pay.progress) == (D("6.5"), D("43.75"))
    assert list(Measurement.objects.order_by("id").values_list("note", "recorded_by")) == [
        ("Q1 figure", owner.pk),
        ("", owner.pk),
        ("From the tracker", owner.pk),
    ]


def test_each_imported_row_is_in_the_history_as_imported(owner, checkout):
    run(owner, HEADER, "checkout,Conversion,2026-03-31,20,", "checkout,Conversion,2026-04-30,25,")

    records = ChangeRecord.objects.order_by("id")
    assert [(r.action, r.actor, r.product) for r in records] == [("imported", owner, checkout)] * 2
    assert records[0].after == {"date": "2026-03-31", "value": "20", "note": ""}


def test_the_note_column_is_optional_and_may_be_left_off_a_row(owner, checkout):
    assert run(owner, "product,key_result,date,value", "checkout,Conversion,2026-03-31,20").ok
    assert run(owner, HEADER, "checkout,Conversion,2026-04-30,30").ok
    assert Measurement.objects.count() == 2


def test_a_bom_semicolons_a_decimal_comma_and_loose_headings_are_read(owner, checkout):
    file = io.BytesIO(
        "\ufeffProduct; Key result ;Date;Value;Note\r\n"
        "checkout;Conversion;2026-03-31;20,5;first, with a comma\r\n"
        "\r\n"
        '"checkout";"Conversion";2026-04-30;"1234.25";\r\n'.encode()
    )

    result = measurements_import(actor=owner, file=file)

    assert result.ok, result.errors
    assert list(Measurement.objects.order_by("date").values_list("value", "note")) == [
        (D("20.5"), "first, with a comma"),
        (D("1234.25"), ""),
    ]


def test_a_text_file_is_read_as_well(owner, checkout):
    result = measurements_import(
        actor=owner, file=io.StringIO(f"{HEADER}\ncheckout,Conversion,2026-03-31,20,\n")
    )
    assert (result.ok, result.written) == (True, 1)


def test_a_key_result_name_matches_without_regard_to_case(owner, checkout):
    assert run(owner, HEADER, "checkout,time TO pay,2026-03-31,8,").ok
    assert Measurement.objects.get().key_result.name == "Time to pay"


# --- Bad rows ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("shop,Conversion,2026-03-31,20,", 'There is no product "shop".'),
        ("checkout,Refunds,2026-03-31,20,", '"Checkout" has no key result named "Refunds".'),
        (
            "checkout,Settlement time,2026-03-31,20,",
            '"Checkout" has no key result named "Settlement time".',
        ),
        ("checkout,Conversion,2026-13-01,20,", '"2026-13-01" is not a date written YYYY-MM-DD.'),
        ("checkout,Conversion,31/03/2026,20,", '"31/03/2026" is not a date written YYYY-MM-DD.'),
        ("checkout,Conversion,20260331,20,", '"20260331" is not a date written YYYY-MM-DD.'),
        ("checkout,Conversion,2026-02-30,20,", '"2026-02-30" is not a date written YYYY-MM-DD.'),
        ("checkout,Conversion,2026-03-31,twenty,", '"twenty" is not a number.'),
        ("checkout,Conversion,2026-03-31,NaN,", '"NaN" is not a number.'),
        ("checkout,Conversion,2026-03-31,Infinity,", '"Infinity" is not a number.'),
        ("checkout,Conversion,2026-03-31,1 000,", '"1 000" is not a number.'),
        (
            "checkout,Conversion,2026-03-31,1.23456,",
            "value: Ensure that there are no more than 4 decimal places.",
        ),
        (
            "checkout,Conversion,2026-03-31,20," + "x" * 501,
            "note: Ensure this value has at most 500 characters (it has 501).",
        ),
        ("checkout,Conversion,2026-03-31,,", "value is empty."),
        ("checkout,,2026-03-31,20,", "key_result is empty."),
        (",Conversion,2026-03-31,20,", "product is empty."),
        ("checkout,Conversion,2026-03-31,20,note,extra", "Expected 5 values, found 6."),
        ("checkout,Conversion,2026-03-31", "Expected 5 values, found 3."),
        (
            "shop,Conversion,yesterday,lots,",
            'There is no product "shop". "yesterday" is not a date written YYYY-MM-DD. '
            '"lots" is not a number.',
        ),
    ],
)
def test_each_bad_row_is_reported_with_its_line_and_reason(owner, checkout, payments, row, reason):
    result = run(owner, HEADER, "checkout,Conversion,2026-01-31,5,", row)

    assert result.errors == [RowError(3, reason)]
    assert (result.ok, result.written) == (False, 0)
    assert not Measurement.objects.exists()
    assert not ChangeRecord.objects.exists()


def test_blank_rows_are_skipped_but_counted_as_lines(owner, checkout):
    result = run(owner, HEADER, ",,,,", "  ", "checkout,Conversion,2026-13-01,5,")
    assert result.errors == [(4, '"2026-13-01" is not a date written YYYY-MM-DD.')]
    assert result.rows == 1


def test_an_archived_product_or_outcome_is_refused(owner, checkout):
    archived_outcome = OutcomeFactory(product=checkout, archived_at=timezone.now())
    KeyResultFactory(outcome=archived_outcome, name="Old metric")
    retired = ProductFactory(slug="retired", owners=[owner], archived_at=timezone.now())
    KeyResultFactory(outcome=OutcomeFactory(product=retired), name="Anything")

    result = run(
        owner, HEADER, "checkout,Old metric,2026-03-31,20,", "retired,Anything,2026-03-31,20,"
    )

    assert result.errors == [
        (2, 'The key result "Old metric" belongs to an archived outcome.'),
        (3, 'The product "retired" is archived.'),
    ]
    assert not Measurement.objects.exists()


def test_one_bad_row_among_good_ones_writes_nothing(owner, checkout):
    MeasurementFactory(key_result=KeyResult.objects.get(name="Conversion"), value=D(1))
    before = outcome_rows()

    result = run(
        owner,
        HEADER,
        "checkout,Conversion,2026-03-31,20,",
        "checkout,Conversion,2026-04-30,25,",
        "",
        "checkout,Time to pay,2026-04-31,8,",
        "checkout,Conversion,2026-05-31,30,",
        "checkout,Conversion,2026-06-30,oops,",
    )

    # Line numbers count the blank line 4: the header is line 1.
    assert result.errors == [
        (5, '"2026-04-31" is not a date written YYYY-MM-DD.'),
        (7, '"oops" is not a number.'),
    ]
    assert (result.rows, result.written) == (5, 0)
    assert outcome_rows() == before


def test_a_row_repeated_in_the_file_or_already_recorded_is_refused(owner, checkout):
    lines = (HEADER, "checkout,Conversion,2026-03-31,20,", "checkout,Conversion,2026-04-30,25,")
    assert run(owner, *lines).ok

    again = run(owner, *lines, "checkout,Conversion,2026-05-31,30,", lines[-1])

    assert again.errors == [
        (2, '"Conversion" already has the value 20 on 2026-03-31.'),
        (3, '"Conversion" already has the value 25 on 2026-04-30.'),
        (5, "The same measurement as line 3."),
        (5, '"Conversion" already has the value 25 on 2026-04-30.'),
    ]
    assert Measurement.objects.count() == 2


# --- The file as a whole -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "The file is empty."),
        (b"\xef\xbb\xbf\n\n", "The file is empty."),
        (HEADER.encode() + b"\n\n", "The file has a header but no rows."),
        (
            b"checkout,Conversion,2026-03-31,20,\n",
            "The first line must name the columns product, key_result, date, value, note "
            "(note is optional): missing product, key_result, date, value; unknown checkout, "
            "conversion, 2026_03_31, 20, (empty heading).",
        ),
        (
            b"product,key result,day,value\ncheckout,Conversion,2026-03-31,20\n",
            "The first line must name the columns product, key_result, date, value, note "
            "(note is optional): missing date; unknown day.",
        ),
        (
            b"product,key_result,date,value,value\n",
            "The first line must name the columns product, key_result, date, value, note "
            "(note is optional): repeated value.",
        ),
    ],
)
def test_a_file_without_a_proper_header_or_rows_is_refused(owner, checkout, content, reason):
    result = measurements_import(actor=owner, file=io.BytesIO(content))
    assert result.errors == [(1, reason)]
    assert not Measurement.objects.exists()


def test_a_file_that_is_not_utf8_is_refused_at_the_line_it_breaks(owner, checkout):
    file = csv_file(
        HEADER,
        "checkout,Conversion,2026-03-31,20,",
        "checkout,Conversion,2026-04-30,25,Café",
        encoding="latin-1",
    )
    result = measurements_import(actor=owner, file=file)
    assert result.errors == [(3, "The file is not UTF-8 text (save it as CSV UTF-8).")]
    assert not Measurement.objects.exists()


def test_a_file_that_is_not_csv_is_refused_at_the_line_it_breaks(owner, checkout):
    huge = "x" * 200_000  # beyond the csv module's field limit
    result = run(
        owner,
        HEADER,
        "checkout,Conversion,2026-03-31,20,",
        f'checkout,Conversion,2026-04-30,25,"{huge}"',
    )
    assert result.errors == [
        (3, "The file cannot be read as CSV: field larger than field limit (131072).")
    ]
    assert not Measurement.objects.exists()


def test_a_file_with_too_many_rows_is_refused(owner, checkout, monkeypatch):
    monkeypatch.setattr("products.imports.MAX_ROWS", 2)
    result = run(owner, HEADER, *[f"checkout,Conversion,2026-03-0{d},{d}," for d in (1, 2, 3)])
    assert result.errors == [(4, "A file may hold at most 2 rows; split it.")]
    assert MAX_ROWS == 10_000
    assert not Measurement.objects.exists()


# --- Who may import what -------------------------------------------------------------------------


def test_rows_for_a_product_the_actor_does_not_own_are_refused(owner, checkout, payments):
    result = run(
        owner,
        HEADER,
        "checkout,Conversion,2026-03-31,20,",
        "payments,Settlement time,2026-03-31,3,",
        "payments,Nonexistent,2026-03-31,3,",
    )

    assert result.errors == [
        (3, 'You may not change the outcomes of "Payments".'),
        (4, 'You may not change the outcomes of "Payments".'),
    ]
    assert not Measurement.objects.exists()


def test_a_portfolio_manager_imports_for_every_product(make_user, checkout, payments):
    pm = make_user("pm", "portfolio_manager")
    result = run(
        pm, HEADER, "checkout,Conversion,2026-03-31,20,", "payments,Settlement time,2026-03-31,3,"
    )
    assert (result.ok, result.written) == (True, 2)
    assert set(ChangeRecord.objects.values_list("actor__username", flat=True)) == {"pm"}


@pytest.mark.parametrize("role", ["executive", "finance", None])
def test_roles_that_do_not_write_outcomes_get_an_error_on_every_row(make_user, checkout, role):
    user = make_user("reader", role)
    result = run(
        user, HEADER, "checkout,Conversion,2026-03-31,20,", "checkout,Time to pay,2026-03-31,8,"
    )
    assert [line for line, _ in result.errors] == [2, 3]
    assert not Measurement.objects.exists()


def test_a_permission_lost_between_check_and_write_writes_nothing(owner, checkout, monkeypatch):
    """The check and the write are apart in time; if the owner loses the product in between,
    the service refuses and the whole transaction is rolled back."""
    real_record = services.measurement_record
    calls = []

    def record_then_lose_ownership(**kwargs):
        calls.append(kwargs["date"])
        if len(calls) == 2:
            checkout.owners.clear()
        return real_record(**kwargs)

    monkeypatch.setattr(services, "measurement_record", record_then_lose_ownership)
    result = run(
        owner, HEADER, "checkout,Conversion,2026-03-31,20,", "checkout,Conversion,2026-04-30,25,"
    )

    assert result.errors == [
        (3, "Only the product's owners and portfolio managers may change its outcomes.")
    ]
    assert result.written == 0
    assert not Measurement.objects.exists()
    assert not ChangeRecord.objects.exists()


# --- The management command -------------------------------------------------------------------


@pytest.fixture
def run_command(monkeypatch, capsys):
    """Run ``manage.py import_measurements`` as the shell does and give (exit code, out, err).

    Django closes the database connections after a command run from the command line; inside a
    test transaction that would end the test's connection, so that one step is skipped here.
    """
    from django.db import connections

    monkeypatch.setattr(connections, "close_all", lambda: None)

    def run_it(*args: str) -> tuple[int, str, str]:
        try:
            Command().run_from_argv(["manage.py", "import_measurements", *args])
            code = 0
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return run_it


def test_the_command_imports_a_good_file(run_command, tmp_path, owner, checkout):
    path = tmp_path / "q1.csv"
    path.write_text(
        f"{HEADER}\ncheckout,Conversion,2026-03-31,20,\ncheckout,Conversion,2026-04-30,25,\n"
    )

    code, out, err = run_command(str(path), "--user", "owner")

    assert (code, err) == (0, "")
    assert out.strip() == "Imported 2 measurements from q1.csv."
    assert Measurement.objects.count() == 2


def test_the_command_lists_bad_lines_and_exits_non_zero(run_command, tmp_path, owner, checkout):
    path = tmp_path / "q1.csv"
    path.write_text(
        f"{HEADER}\ncheckout,Conversion,2026-03-31,20,\nshop,Conversion,2026-04-30,25,\n"
        "checkout,Conversion,2026-04-31,25,\n"
    )

    code, out, err = run_command(str(path), "--user", "owner")

    assert code == 1
    assert out == ""
    assert err.splitlines() == [
        'q1.csv, line 3: There is no product "shop".',
        'q1.csv, line 4: "2026-04-31" is not a date written YYYY-MM-DD.',
        "CommandError: 2 bad lines in q1.csv; nothing was imported.",
    ]
    assert not Measurement.objects.exists()


def test_the_command_needs_a_known_user_and_a_readable_file(tmp_path, owner, checkout):
    path = tmp_path / "q1.csv"
    path.write_text(f"{HEADER}\n")
    with pytest.raises(CommandError, match='no active user "ghost"'):
        call_command("import_measurements", str(path), user="ghost")
    with pytest.raises(CommandError, match=r"Cannot read .*missing\.csv"):
        call_command("import_measurements", str(tmp_path / "missing.csv"), user="owner")
    with pytest.raises(CommandError, match=r"1 bad line in q1\.csv"):
        call_command("import_measurements", str(path), user="owner", stderr=io.StringIO())
