"""``manage.py import_measurements FILE --user USERNAME``: key-result measurements from a CSV file.

The same import as the page (products.imports): every row is checked first and a file with any
bad row writes nothing. Bad rows are listed on stderr and the command exits with status 1.
"""

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from products.imports import COLUMNS, measurements_import


class Command(BaseCommand):
    help = (
        f"Import key-result measurements from a CSV file with the columns {', '.join(COLUMNS)} "
        "(note optional), as the given user. A file with any bad row writes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="The CSV file (UTF-8, comma or semicolon).")
        parser.add_argument(
            "--user",
            required=True,
            help="Username of the person importing: they must own the products or be a "
            "portfolio manager, and are recorded in each product's history.",
        )

    def handle(self, *args: Any, file: Path, user: str, **options: Any) -> None:
        actor = get_user_model().objects.filter(username=user, is_active=True).first()
        if actor is None:
            raise CommandError(f'There is no active user "{user}".')
        try:
            with file.open("rb") as handle:
                result = measurements_import(actor=actor, file=handle)
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror or error}") from error
        if not result.ok:
            for line, reason in result.errors:
                self.stderr.write(f"{file.name}, line {line}: {reason}")
            rows = len({line for line, _ in result.errors})
            raise CommandError(
                f"{rows} bad {'line' if rows == 1 else 'lines'} in {file.name}; nothing was imported."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {result.written} measurement{'s' if result.written != 1 else ''} "
                f"from {file.name}."
            )
        )
