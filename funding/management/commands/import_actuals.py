"""``manage.py import_actuals FILE [--period ID] [--user NAME]``: teams' monthly actual spend.

The same import as the page and the API (``funding.services.actuals_import``): every row is
checked first and any bad row writes nothing; bad rows go to stderr (line and reason) and the
command exits with status 1. A team's month already recorded is updated, so the same file
imported twice changes nothing.
"""

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.management.base import BaseCommand, CommandError, CommandParser

from funding.models import FiscalPeriod
from funding.services import actuals_import


class Command(BaseCommand):
    help = (
        "Import actual spend from a CSV file with the columns team (slug or name), month "
        "(YYYY-MM or YYYY-MM-01), amount (12345.67 or 12,345.67) and optionally note. A file "
        "with any bad row writes nothing; importing the same file again changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="The CSV file.")
        parser.add_argument(
            "--period", type=int, help="Id of a fiscal period every month must fall in (optional)."
        )
        parser.add_argument(
            "--user",
            help="Username of the finance user doing the import (optional; must be allowed to "
            "record actuals when given).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        actor: Any = AnonymousUser()
        if options["user"]:
            actor = (
                get_user_model().objects.filter(username=options["user"], is_active=True).first()
            )
            if actor is None:
                raise CommandError(f"There is no active user “{options['user']}”.")
            if not (
                actor.has_perm("funding.add_actual") and actor.has_perm("funding.change_actual")
            ):
                raise CommandError(f"“{options['user']}” may not record actuals.")
        period = None
        if options["period"] is not None:
            period = FiscalPeriod.objects.filter(pk=options["period"]).first()
            if period is None:
                raise CommandError(f"There is no fiscal period with id {options['period']}.")
        path = Path(options["file"])
        try:
            with path.open("rb") as file:
                result = actuals_import(actor=actor, file=file, period=period)
        except OSError as error:
            raise CommandError(f"Cannot read {error.filename}: {error.strerror}") from error
        if not result.ok:
            for bad in result.errors:
                self.stderr.write(f"line {bad.line}: {bad.reason}")
            count = len(result.errors)
            raise CommandError(f"{count} bad row{'s' if count != 1 else ''}; nothing was imported.")
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.rows} row{'s' if result.rows != 1 else ''}: {result.created} created, "
                f"{result.updated} updated, {result.unchanged} unchanged."
            )
        )
