"""``manage.py import_work_items --product SLUG --items items.csv --changes status_changes.csv``:
a tracker export (items and their status changes) into one product.

The same import as the page (``valuestreams.ingest.work_items_import_csv``): every line of both
files is checked first and any bad line writes nothing; bad lines go to stderr (file, line,
reason) and the command exits with status 1. After a good import it lists the statuses and
tracker types that no mapping covers, for a portfolio manager to map.
"""

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.text import slugify

from products.models import Product
from valuestreams.ingest import work_items_import_csv
from valuestreams.mappings import mapping_page_url, mapping_value_streams


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


class Command(BaseCommand):
    help = (
        "Import work items (key, tracker_type, title, created_at) and their status changes "
        "(key, from_status, to_status, at) from two CSV files into one product. A file with any "
        "bad line writes nothing; importing the same files again stores nothing new."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--product", required=True, help="Slug of the product.")
        parser.add_argument("--items", required=True, type=Path, help="items.csv")
        parser.add_argument("--changes", required=True, type=Path, help="status_changes.csv")
        parser.add_argument(
            "--source", default="csv", help="Slug of the tracker (created on first use)."
        )
        parser.add_argument(
            "--user",
            help="Username of a portfolio manager doing the import (optional; must be allowed "
            "to add work items when given).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        actor = None
        if options["user"]:
            actor = (
                get_user_model().objects.filter(username=options["user"], is_active=True).first()
            )
            if actor is None:
                raise CommandError(f"There is no active user “{options['user']}”.")
            if not actor.has_perm("valuestreams.add_workitem"):
                raise CommandError(f"“{options['user']}” may not import work items.")
        if slugify(options["source"]) != options["source"]:
            raise CommandError(f"--source “{options['source']}” must be a slug (jira, gitlab …).")
        product = Product.objects.filter(slug=options["product"]).first()
        if product is None:
            raise CommandError(f"There is no product “{options['product']}”.")
        items_path = Path(options["items"])
        changes_path = Path(options["changes"])
        try:
            with items_path.open("rb") as items, changes_path.open("rb") as changes:
                result = work_items_import_csv(
                    actor=actor,
                    product=product,
                    items_file=items,
                    changes_file=changes,
                    source=options["source"],
                )
        except OSError as error:
            raise CommandError(f"Cannot read {error.filename}: {error.strerror}") from error
        if not result.ok:
            for bad in result.errors:
                self.stderr.write(f"{bad.file}, line {bad.line}: {bad.reason}")
            raise CommandError(
                f"{len(result.errors)} bad line{'s' if len(result.errors) != 1 else ''}; "
                "nothing was imported."
            )
        assert result.written is not None
        counts = result.written.as_dict()
        self.stdout.write(
            self.style.SUCCESS(
                f"Items: {counts['items']['created']} created, {counts['items']['updated']} "
                f"updated, {counts['items']['unchanged']} unchanged. Status changes: "
                f"{counts['transitions']['created']} created, "
                f"{counts['transitions']['duplicates']} already stored."
            )
        )
        for row in result.unmapped_statuses:
            self.stdout.write(
                f"Unmapped status: {row['status']} ({_count(row['count'], 'change')})"
            )
        for row in result.unmapped_types:
            self.stdout.write(
                f"Unmapped tracker type: {row['tracker_type']} ({_count(row['count'], 'item')})"
            )
        if result.unmapped_statuses or result.unmapped_types:
            value_stream_id = mapping_value_streams([product.pk]).get(product.pk)
            self.stdout.write(f"Map them on {mapping_page_url(value_stream_id)}")
