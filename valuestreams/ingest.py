"""Work-item ingestion: the one write path of the bulk API, the CSV import and the webhook.

Everything sent is checked first; one bad entry rejects the whole request (``IngestRejected``
names each bad entry by its index and says why) and nothing is written. A good request is written
in one transaction with bulk statements: items are upserted by (source, key), status changes
inserted with conflicts ignored, so the same request twice stores nothing new (its changes are
counted as duplicates). After the commit the flow computation is told which products changed and
from when (``notify_ingested``).

An item names its item ``type`` (feature/defect/risk/debt) or the tracker's own ``tracker_type``,
which maps through the type mapping of its product's value stream, then the default; a tracker
type no mapping covers is stored with type '' and listed for mapping, never guessed.
"""

import csv
import datetime
import importlib
import io
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, NamedTuple, TypeVar

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.text import slugify

from portfolio.common.sql import array_literal
from products.models import Product
from valuestreams.flow.facts import FactsBusy, refresh_facts
from valuestreams.mappings import type_resolver
from valuestreams.models import StatusChange, WorkItem, WorkSource
from valuestreams.models.flow import ItemType, status_key

logger = logging.getLogger(__name__)

MAX_TRANSITIONS = 10_000
MAX_ITEMS = 10_000
DEFAULT_SOURCE = "api"
# SQLite allows 999 parameters a statement; lookups by key go in chunks below that.
CHUNK = 900
ITEM_FIELDS = ("product_id", "type", "tracker_type", "title", "created_at")

T = TypeVar("T")
Errors = dict[int, list[str]]


class IngestRejected(Exception):
    """A request with bad entries: ``items`` and ``transitions`` map an entry's index (0-based)
    to its reasons; ``general`` holds reasons about the request as a whole."""

    def __init__(self, items: Errors, transitions: Errors, general: list[str] | None = None):
        super().__init__("The work items were rejected; nothing was written.")
        self.items = items
        self.transitions = transitions
        self.general = general or []

    def as_dict(self) -> dict[str, Any]:
        detail: dict[str, Any] = {
            "items": {str(i): reasons for i, reasons in sorted(self.items.items())},
            "transitions": {str(i): reasons for i, reasons in sorted(self.transitions.items())},
        }
        if self.general:
            detail["non_field_errors"] = self.general
        return detail


class IngestBusy(IngestRejected):
    """The flow facts of the request's products are being rebuilt (the weekly run or a mapping
    change) for longer than an ingest waits: nothing was written; send the same request again."""

    retry_after = 60  # seconds

    def __init__(self) -> None:
        super().__init__(
            {},
            {},
            [
                "The flow figures of these products are being rebuilt; nothing was written. "
                "Send the same data again in a minute."
            ],
        )


@dataclass
class IngestResult:
    """What an ingest wrote: items created/updated/unchanged, changes created/duplicates."""

    items_created: int = 0
    items_updated: int = 0
    items_unchanged: int = 0
    transitions_created: int = 0
    transitions_duplicates: int = 0
    product_ids: list[int] = field(default_factory=list)
    earliest_at: datetime.datetime | None = None
    source: WorkSource | None = None

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {
            "items": {
                "created": self.items_created,
                "updated": self.items_updated,
                "unchanged": self.items_unchanged,
            },
            "transitions": {
                "created": self.transitions_created,
                "duplicates": self.transitions_duplicates,
            },
        }


def notify_ingested(product_ids: Sequence[int], since: datetime.datetime | None) -> None:
    """Ask the flow computation to recompute these products from ``since`` (None: everything,
    their items' flow facts rederived first).

    Queues ``valuestreams.tasks.recompute_flow_task`` when that task exists; without it (the flow
    computation not installed) nothing happens. Called from ``transaction.on_commit``.
    """
    try:
        tasks = importlib.import_module("valuestreams.tasks")
    except ImportError:
        return
    task = getattr(tasks, "recompute_flow_task", None)
    if task is None:
        return
    try:
        task.delay(
            product_ids=sorted(set(product_ids)),
            since=since.isoformat() if since is not None else None,
        )
    except Exception:
        # The data is committed; the nightly full recomputation catches up. Say so loudly.
        logger.exception("Could not queue the flow recomputation of products %s", product_ids)


def parse_timestamp(value: Any) -> datetime.datetime | None:
    """An ISO 8601 instant with its offset (``2020-06-12T00:13:13.360Z``), else None."""
    if isinstance(value, str):
        try:
            parsed = datetime.datetime.fromisoformat(value)
        except ValueError:
            stripped = value.strip()
            if stripped == value:
                return None
            try:
                parsed = datetime.datetime.fromisoformat(stripped)
            except ValueError:
                return None
    elif isinstance(value, datetime.datetime):
        parsed = value
    else:
        return None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        return None
    return parsed.astimezone(datetime.UTC)


def _chunks(values: Sequence[T]) -> Iterator[Sequence[T]]:
    """Lookups by key in chunks below SQLite's parameter limit; PostgreSQL takes them at once."""
    size = CHUNK if connection.vendor == "sqlite" else max(len(values), 1)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _text(
    entry: Mapping[str, Any], name: str, reasons: list[str], *, required: bool, strip: bool = True
) -> str:
    value = entry.get(name)
    if value is None:
        value = ""
    if not isinstance(value, str):
        reasons.append(f"{name} must be text.")
        return ""
    if strip:
        value = value.strip()
    if required and not value.strip():
        reasons.append(f"{name} is missing.")
    return value


def _too_long(value: str, name: str, limit: int, reasons: list[str]) -> None:
    if len(value) > limit:
        reasons.append(f"{name} is longer than {limit} characters.")


class _Item(NamedTuple):
    key: str
    product_id: int
    type: str
    tracker_type: str
    title: str
    created_at: datetime.datetime


class _Change(NamedTuple):
    position: int  # in the request
    key: str
    from_status: str
    to_status: str
    status_key: str
    at: datetime.datetime


def _optional_text(value: Any) -> bool:
    return value is None or type(value) is str


def _check_items(
    items: Sequence[Mapping[str, Any]],
    product: Product | None,
    items_errors: Errors,
) -> tuple[list[_Item], set[str]]:
    """Check the items' shape and values: the good ones come back (resolution of the tracker
    type happens once the products are known), with the keys of every item sent (good or not).

    A well-formed entry takes the short path; any other gets the full check, which names each
    of its faults.
    """
    slugs = set()
    if product is None:
        for entry in items:
            if isinstance(entry, Mapping) and isinstance(entry.get("product"), str):
                slugs.add(entry["product"].strip())
    products = {
        p.slug: (p.pk, p.archived_at is None)
        for p in Product.objects.filter(slug__in=slugs).only("id", "slug", "archived_at")
    }
    good: list[_Item] = []
    seen: dict[str, int] = {}
    sent: set[str] = set()
    item_types = frozenset(ItemType.values)
    for index, entry in enumerate(items):
        if type(entry) is dict:
            key, slug, item_type, tracker_type, title, created = (
                entry.get("key"),
                entry.get("product"),
                entry.get("type"),
                entry.get("tracker_type"),
                entry.get("title"),
                entry.get("created_at"),
            )
            if (
                type(key) is str
                and (product is not None or type(slug) is str)
                and _optional_text(item_type)
                and _optional_text(tracker_type)
                and _optional_text(title)
            ):
                key = key.strip()
                item_type = item_type.strip() if item_type else ""
                tracker_type = tracker_type.strip() if tracker_type else ""
                title = title or ""
                # A product given by the caller (the CSV import) was checked by it.
                target = (
                    (product.pk, True)
                    if product is not None
                    else products.get(slug.strip())
                    if type(slug) is str
                    else None
                )
                when = parse_timestamp(created)
                if (
                    key
                    and len(key) <= 100
                    and key not in seen
                    and target is not None
                    and target[1]
                    and bool(item_type) != bool(tracker_type)
                    and (not item_type or item_type in item_types)
                    and len(tracker_type) <= 100
                    and len(title) <= 500
                    and when is not None
                ):
                    seen[key] = index
                    sent.add(key)
                    good.append(_Item(key, target[0], item_type, tracker_type, title, when))
                    continue
        # The full check, naming every fault of the entry.
        reasons: list[str] = []
        if not isinstance(entry, Mapping):
            items_errors[index] = ["An item must be an object."]
            continue
        key = _text(entry, "key", reasons, required=True)
        if isinstance(entry.get("key"), str):
            sent.add(key)
        _too_long(key, "key", 100, reasons)
        if key in seen:
            reasons.append(f"The key {key} is already item {seen[key]} of this request.")
        elif key:
            seen[key] = index
        target = (product.pk, True) if product is not None else None
        if product is None:
            slug = _text(entry, "product", reasons, required=True)
            if slug:
                target = products.get(slug)
                if target is None:
                    reasons.append(f"There is no product “{slug}”.")
                elif not target[1]:
                    reasons.append(f"The product “{slug}” is archived.")
                    target = None
        item_type = _text(entry, "type", reasons, required=False)
        tracker_type = _text(entry, "tracker_type", reasons, required=False)
        if item_type and tracker_type:
            reasons.append("Give type or tracker_type, not both.")
        elif not item_type and not tracker_type:
            reasons.append("type or tracker_type is missing.")
        elif item_type and item_type not in item_types:
            reasons.append(f"type must be one of {', '.join(ItemType.values)}, not “{item_type}”.")
        _too_long(tracker_type, "tracker_type", 100, reasons)
        # The title is kept as sent, invisible characters and trailing spaces included.
        title = _text(entry, "title", reasons, required=False, strip=False)
        _too_long(title, "title", 500, reasons)
        created_at = parse_timestamp(entry.get("created_at"))
        if created_at is None:
            reasons.append(
                "created_at is missing."
                if not entry.get("created_at")
                else f"created_at “{entry.get('created_at')}” is not an ISO 8601 time with an "
                "offset (2024-05-01T09:30:00Z)."
            )
        if reasons:
            items_errors[index] = reasons
            continue
        assert target is not None and created_at is not None
        good.append(_Item(key, target[0], item_type, tracker_type, title, created_at))
    return good, sent


def _check_changes(transitions: Sequence[Mapping[str, Any]], errors: Errors) -> list[_Change]:
    """Check the status changes' shape and values; the good ones come back with their index and
    status key. As for items, a well-formed entry takes the short path."""
    good: list[_Change] = []
    keys: dict[str, str] = {}  # status -> its status_key: a request repeats a few statuses
    for index, entry in enumerate(transitions):
        if type(entry) is dict:
            key, to_status, from_status, at = (
                entry.get("key"),
                entry.get("to_status"),
                entry.get("from_status"),
                entry.get("at"),
            )
            if type(key) is str and type(to_status) is str and _optional_text(from_status):
                key = key.strip()
                to_status = to_status.strip()
                from_status = from_status.strip() if from_status else ""
                when = parse_timestamp(at)
                if (
                    key
                    and to_status
                    and len(to_status) <= 100
                    and len(from_status) <= 100
                    and when is not None
                ):
                    skey = keys.get(to_status)
                    if skey is None:
                        skey = keys[to_status] = status_key(to_status)
                    good.append(_Change(index, key, from_status, to_status, skey, when))
                    continue
        # The full check, naming every fault of the entry.
        reasons: list[str] = []
        if not isinstance(entry, Mapping):
            errors[index] = ["A transition must be an object."]
            continue
        key = _text(entry, "key", reasons, required=True)
        to_status = _text(entry, "to_status", reasons, required=True)
        from_status = _text(entry, "from_status", reasons, required=False)
        _too_long(to_status, "to_status", 100, reasons)
        _too_long(from_status, "from_status", 100, reasons)
        when = parse_timestamp(entry.get("at"))
        if when is None:
            reasons.append(
                "at is missing."
                if not entry.get("at")
                else f"at “{entry.get('at')}” is not an ISO 8601 time with an offset "
                "(2024-05-01T09:30:00Z)."
            )
        if reasons:
            errors[index] = reasons
            continue
        assert when is not None
        good.append(_Change(index, key, from_status, to_status, status_key(to_status), when))
    return good


def _stored_items(source: WorkSource | None, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The stored items of ``source`` with these keys, by key."""
    if source is None or source.pk is None:
        return {}
    found: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(sorted(set(keys))):
        for row in WorkItem.objects.filter(source=source, key__in=chunk).values(
            "id", "key", *ITEM_FIELDS
        ):
            found[row["key"]] = row
    return found


def source_for(slug: str, *, create: bool) -> WorkSource | None:
    """The work source with this slug; created (named after the slug) when ``create``."""
    source = WorkSource.objects.filter(slug=slug).first()
    if source is None and create:
        source, _ = WorkSource.objects.get_or_create(
            slug=slug, defaults={"name": slug.replace("-", " ").title() or slug}
        )
    return source


def work_items_ingest(
    *,
    actor: AbstractBaseUser | None,
    source: str | WorkSource = DEFAULT_SOURCE,
    items: Sequence[Mapping[str, Any]] = (),
    transitions: Sequence[Mapping[str, Any]] = (),
    product: Product | None = None,
    check_only: bool = False,
) -> IngestResult:
    """Check, then write work items and their status changes, all or nothing.

    ``items`` carry ``key``, ``type`` or ``tracker_type``, ``product`` (a slug; omitted when
    ``product`` is given, as the CSV import does), ``title`` and ``created_at``; ``transitions``
    carry ``key``, ``to_status``, ``at`` and optionally ``from_status``. A transition's key names
    an item of this request or one already stored for the source. Raises ``IngestRejected``
    (nothing written) on any bad entry. ``actor`` is the person or script (None: the webhook,
    authenticated by its signature). ``check_only`` checks and writes nothing.
    """
    items_errors: Errors = {}
    changes_errors: Errors = {}
    general: list[str] = []
    if len(items) > MAX_ITEMS:
        general.append(f"At most {MAX_ITEMS} items a request; split it.")
    if len(transitions) > MAX_TRANSITIONS:
        general.append(f"At most {MAX_TRANSITIONS} transitions a request; split it.")
    if isinstance(source, str):
        slug = source.strip() or DEFAULT_SOURCE
        if slugify(slug) != slug or len(slug) > 60:
            general.append(f"source “{slug}” must be a slug (lower-case letters, digits, hyphens).")
            source_row = None
        else:
            source_row = source_for(slug, create=False)
    else:
        slug, source_row = source.slug, source
    if general:
        raise IngestRejected({}, {}, general)

    good_items, sent_keys = _check_items(items, product, items_errors)
    good_changes = _check_changes(transitions, changes_errors)
    stored = _stored_items(source_row, sent_keys | {c.key for c in good_changes})
    for change in good_changes:
        if change.key not in sent_keys and change.key not in stored:
            changes_errors.setdefault(change.position, []).append(
                f"No item {change.key} in this request or stored for the source {slug}."
            )
    if items_errors or changes_errors:
        raise IngestRejected(items_errors, changes_errors)
    if check_only:
        return IngestResult()

    try:
        with transaction.atomic():
            if source_row is None:
                source_row = source_for(slug, create=True)
            assert source_row is not None
            result = _write(source_row, good_items, good_changes, stored)
    except FactsBusy as busy:
        raise IngestBusy() from busy
    result.source = source_row
    if result.product_ids:
        product_ids, since = result.product_ids, result.earliest_at
        transaction.on_commit(lambda: notify_ingested(product_ids, since))
    return result


def _upsert_items(source: WorkSource, rows: list[_Item]) -> dict[str, tuple[int, int]]:
    """Insert or update these items of ``source``; each one's id and product id, by key.

    On PostgreSQL one ``INSERT … SELECT FROM unnest(arrays) ON CONFLICT DO UPDATE … RETURNING``
    statement; elsewhere ``bulk_create`` with ``update_conflicts``.
    """
    if not rows:
        return {}
    now = timezone.now()
    if connection.vendor == "postgresql":
        keys, product_ids, types, tracker_types, titles, created = zip(*rows, strict=True)
        columns = [
            array_literal(keys, text=True),
            array_literal(product_ids),
            array_literal(types, text=True),
            array_literal(tracker_types, text=True),
            array_literal(titles, text=True),
            array_literal(created),
        ]
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {WorkItem._meta.db_table} (source_id, updated_at, key, product_id, "
                "type, tracker_type, title, created_at) "
                "SELECT %s, %s, * FROM unnest(%s::varchar[], %s::bigint[], %s::varchar[], "
                "%s::varchar[], %s::varchar[], %s::timestamptz[]) "
                "ON CONFLICT (source_id, key) DO UPDATE SET product_id = EXCLUDED.product_id, "
                "type = EXCLUDED.type, tracker_type = EXCLUDED.tracker_type, "
                "title = EXCLUDED.title, created_at = EXCLUDED.created_at, "
                "updated_at = EXCLUDED.updated_at "
                "RETURNING key, id, product_id",
                [source.pk, now, *columns],
            )
            return {key: (pk, product_id) for key, pk, product_id in cursor.fetchall()}
    upserts = [
        WorkItem(
            source=source,
            key=item.key,
            product_id=item.product_id,
            type=item.type,
            tracker_type=item.tracker_type,
            title=item.title,
            created_at=item.created_at,
            updated_at=now,
        )
        for item in rows
    ]
    WorkItem.objects.bulk_create(
        upserts,
        update_conflicts=True,
        unique_fields=["source", "key"],
        update_fields=[*ITEM_FIELDS, "updated_at"],
    )
    if all(item.pk is not None for item in upserts):
        return {item.key: (item.pk, item.product_id) for item in upserts}
    ids: dict[str, tuple[int, int]] = {}
    for chunk in _chunks(sorted(item.key for item in rows)):
        for key, pk, product_id in WorkItem.objects.filter(
            source=source, key__in=chunk
        ).values_list("key", "id", "product_id"):
            ids[key] = (pk, product_id)
    return ids


def _insert_changes(rows: list[tuple[int, str, str, str, datetime.datetime]]) -> None:
    """Insert status changes (item_id, from_status, to_status, status_key, at), ignoring any that
    a concurrent request stored meanwhile.

    On PostgreSQL one ``INSERT … SELECT FROM unnest(arrays)`` statement, each column one array
    literal: building 10,000 model instances and their SQL costs several times what the database
    needs for them (issue 4 asks for 20,000 changes a second). Elsewhere ``bulk_create``.
    """
    if not rows:
        return
    if connection.vendor == "postgresql":
        item_ids, from_statuses, to_statuses, keys, ats = zip(*rows, strict=True)
        columns = [
            array_literal(item_ids),
            array_literal(from_statuses, text=True),
            array_literal(to_statuses, text=True),
            array_literal(keys, text=True),
            array_literal(ats),
        ]
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {StatusChange._meta.db_table} "
                "(item_id, from_status, to_status, status_key, at) "
                "SELECT * FROM unnest(%s::bigint[], %s::varchar[], %s::varchar[], "
                "%s::varchar[], %s::timestamptz[]) ON CONFLICT DO NOTHING",
                columns,
            )
        return
    StatusChange.objects.bulk_create(
        [
            StatusChange(item_id=pk, from_status=old, to_status=to, status_key=key, at=at)
            for pk, old, to, key, at in rows
        ],
        ignore_conflicts=True,
    )


def _write(
    source: WorkSource,
    items: list[_Item],
    changes: list[_Change],
    stored: dict[str, dict[str, Any]],
) -> IngestResult:
    result = IngestResult()
    resolver = type_resolver({i.product_id for i in items})
    touched_products: set[int] = set()
    earliest: list[datetime.datetime] = []
    upserts: list[_Item] = []
    for item in items:
        if not item.type:
            item = item._replace(type=resolver.resolve(item.product_id, item.tracker_type))
        before = stored.get(item.key)
        if before is not None and all(before[f] == getattr(item, f) for f in ITEM_FIELDS):
            result.items_unchanged += 1
            continue
        if before is None:
            result.items_created += 1
        else:
            result.items_updated += 1
            touched_products.add(before["product_id"])
            earliest.append(min(before["created_at"], item.created_at))
        touched_products.add(item.product_id)
        earliest.append(item.created_at)
        upserts.append(item)
    # Items stored before and unchanged keep their ids; the upserted ones answer theirs.
    ids = {key: (row["id"], row["product_id"]) for key, row in stored.items()}
    ids.update(_upsert_items(source, upserts))
    touched_items = {ids[item.key][0] for item in upserts}

    if changes:
        # Only items stored before this request can hold its changes already.
        existing: set[tuple[int, str, datetime.datetime]] = set()
        stored_ids = sorted({ids[c.key][0] for c in changes if c.key in stored})
        for id_chunk in _chunks(stored_ids):
            existing.update(
                StatusChange.objects.filter(item_id__in=id_chunk).values_list(
                    "item_id", "status_key", "at"
                )
            )
        new: list[tuple[int, str, str, str, datetime.datetime]] = []
        changed_products: set[int] = set()
        for change in changes:
            pk, product_id = ids[change.key]
            identity = (pk, change.status_key, change.at)
            if identity in existing:
                result.transitions_duplicates += 1
                continue
            existing.add(identity)
            new.append((pk, change.from_status, change.to_status, change.status_key, change.at))
            changed_products.add(product_id)
            touched_items.add(pk)
        _insert_changes(new)
        result.transitions_created = len(new)
        touched_products |= changed_products
        if new:
            earliest.append(min(row[4] for row in new))
    # The flow facts of what changed, derived again in this transaction: the flow tasks then
    # only aggregate. A reopen takes away the completion the facts held: recompute from it.
    earliest_done = refresh_facts(item_ids=sorted(touched_items), products=sorted(touched_products))
    if earliest_done is not None:
        earliest.append(datetime.datetime.fromtimestamp(earliest_done, tz=datetime.UTC))
    result.product_ids = sorted(touched_products)
    result.earliest_at = min(earliest) if earliest else None
    return result


# CSV import of a tracker export: items.csv and status_changes.csv into one product.

ITEM_COLUMNS = ("key", "tracker_type", "title", "created_at")
ITEM_REQUIRED = ("key", "tracker_type", "created_at")
CHANGE_COLUMNS = ("key", "from_status", "to_status", "at")
CHANGE_REQUIRED = ("key", "to_status", "at")
ITEMS_FILE = "items.csv"
CHANGES_FILE = "status_changes.csv"


class FileError(NamedTuple):
    """A bad line of an imported file (the header is line 1) and what is wrong with it."""

    file: str
    line: int
    reason: str


@dataclass
class CsvImportResult:
    """What an import did (``written``), or the bad lines that stopped it (nothing written), and
    the statuses and tracker types of the product's items that no mapping covers."""

    written: IngestResult | None = None
    errors: list[FileError] = field(default_factory=list)
    unmapped_statuses: list[dict[str, Any]] = field(default_factory=list)
    unmapped_types: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _read_csv(
    file: IO[bytes] | IO[str],
    name: str,
    columns: tuple[str, ...],
    required: tuple[str, ...],
    errors: list[FileError],
) -> tuple[list[dict[str, str]], list[int]] | None:
    """The rows of a CSV file as dicts of the known columns, and each row's line number; None
    (the reason in ``errors``) when the file as a whole cannot be read.

    Columns beyond ``columns`` are ignored (a tracker export carries many); blank lines skipped.
    """
    raw = file.read()
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            line = raw[: error.start].count(b"\n") + 1
            errors.append(
                FileError(name, line, "The file is not UTF-8 text (save it as CSV UTF-8).")
            )
            return None
    else:
        text = raw.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text))
    rows: list[dict[str, str]] = []
    lines: list[int] = []
    try:
        header = [h.strip().lower() for h in next(reader, [])]
        missing = [c for c in required if c not in header]
        if not header or missing:
            errors.append(
                FileError(
                    name,
                    1,
                    f"The first line must name the columns {', '.join(columns)}"
                    + (f": missing {', '.join(missing)}." if header else "; the file is empty."),
                )
            )
            return None
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(header):
                errors.append(
                    FileError(
                        name, reader.line_num, f"Expected {len(header)} values, found {len(cells)}."
                    )
                )
                continue
            row = dict(zip(header, cells, strict=True))
            rows.append({c: row.get(c, "") for c in columns})
            lines.append(reader.line_num)
    except csv.Error as error:
        errors.append(FileError(name, reader.line_num, f"The file cannot be read as CSV: {error}."))
        return None
    return rows, lines


def work_items_import_csv(
    *,
    actor: AbstractBaseUser | None,
    product: Product,
    items_file: IO[bytes] | IO[str],
    changes_file: IO[bytes] | IO[str],
    source: str = "csv",
) -> CsvImportResult:
    """Import a tracker export into ``product``: every line of both files is checked first, and
    any bad line (reported with its file, line number and reason) writes nothing.

    Tracker types map through the product's value stream's type mapping, then the default;
    unmapped types and statuses are stored as sent and listed in the result. Re-importing the
    same files stores nothing new.
    """
    from valuestreams.mappings import unmapped_for_product

    result = CsvImportResult()
    read_items = _read_csv(items_file, ITEMS_FILE, ITEM_COLUMNS, ITEM_REQUIRED, result.errors)
    read_changes = _read_csv(
        changes_file, CHANGES_FILE, CHANGE_COLUMNS, CHANGE_REQUIRED, result.errors
    )
    if read_items is None or read_changes is None:
        return result  # a file that cannot be read at all: its rows cannot be checked
    (items, item_lines), (changes, change_lines) = read_items, read_changes
    if product.archived_at is not None:
        result.errors.append(FileError(ITEMS_FILE, 1, f"The product “{product.slug}” is archived."))
    if len(items) > MAX_ITEMS:
        result.errors.append(
            FileError(ITEMS_FILE, 1, f"At most {MAX_ITEMS} items a file; split it.")
        )
    if len(changes) > MAX_TRANSITIONS:
        result.errors.append(
            FileError(
                CHANGES_FILE, 1, f"At most {MAX_TRANSITIONS} status changes a file; split it."
            )
        )
    if any(error.line == 1 for error in result.errors):
        return result  # a file without its columns: its rows cannot be read
    try:
        # Lines that could not be read are reported with the others; then nothing is written.
        written = work_items_ingest(
            actor=actor,
            source=source,
            items=items,
            transitions=changes,
            product=product,
            check_only=bool(result.errors),
        )
    except IngestRejected as rejected:
        result.errors.extend(FileError(ITEMS_FILE, 1, reason) for reason in rejected.general)
        for index, reasons in rejected.items.items():
            result.errors.append(FileError(ITEMS_FILE, item_lines[index], " ".join(reasons)))
        for index, reasons in rejected.transitions.items():
            result.errors.append(FileError(CHANGES_FILE, change_lines[index], " ".join(reasons)))
    result.errors.sort(key=lambda e: (e.file != ITEMS_FILE, e.line))
    if result.errors:
        return result
    result.written = written
    result.unmapped_statuses, result.unmapped_types = unmapped_for_product(product)
    return result


# Reads.


def work_item_list() -> QuerySet[WorkItem]:
    """Work items with their source and product, and their status changes in time order."""
    return (
        WorkItem.objects.select_related("source", "product")
        .prefetch_related(
            Prefetch(
                "status_changes",
                queryset=StatusChange.objects.only(
                    "id", "item_id", "from_status", "to_status", "status_key", "at"
                ).order_by("at", "id"),
            )
        )
        .order_by("product_id", "created_at", "id")
    )
