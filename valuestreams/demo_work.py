"""A year of work items for the demo products (``manage.py seed_demo``), and their flow snapshots.

Each product gets its items month by month over the twelve months before the anchor (the first
of the current month): mostly stories, some bugs, a little security work and tech debt, as a
tracker would send them (``tracker_type``, statuses by name). Histories go To Do -> In Progress
-> (In Review / Blocked / Ready for QA) -> Done with believable durations; some are reopened,
some are still in progress at the anchor, a few are closed straight from the backlog.

Everything is written through the ingest service (source ``demo-tracker``). An item's key, type
and history come from a random generator seeded by the product, the calendar month and the
item's place in it, and only the changes before the anchor are sent: a second run in the same
month sends exactly what is stored (nothing new); a run in a later month adds that month's items
and the changes that have "happened" since. The flow snapshots of the demo products (and the
value streams they serve) are recomputed when anything was written or a product has none yet.
"""

import datetime
import random
from collections.abc import Iterator
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from products.demo import PRODUCTS, SeedStats
from products.models import Product
from valuestreams.flow import flow_recompute
from valuestreams.ingest import MAX_TRANSITIONS, work_items_ingest
from valuestreams.models import FlowSnapshot, WorkItem

SOURCE = "demo-tracker"
MONTHS = 12
# Items a month by lifecycle stage (low, high): growing products are busy, sunsetting ones quiet.
RATE = {"discovery": (2, 3), "growth": (3, 5), "mature": (2, 4), "sunset": (2, 3)}
TYPES = (("Story", 64), ("Bug", 22), ("Security", 6), ("Tech Debt", 8))
TITLES = {
    "Story": ("Let customers {v} {o}", ("change", "see", "export", "confirm", "save")),
    "Bug": ("Fix {o} not loading after {v}", ("sign-in", "refresh", "upgrade", "timeout")),
    "Security": ("Patch {o} dependency ({v})", ("CVE review", "pen test", "audit")),
    "Tech Debt": ("Refactor {o} for {v}", ("readability", "speed", "the new API")),
}
OBJECTS = (
    "statements",
    "the address form",
    "notifications",
    "the payee list",
    "document upload",
    "limits",
    "the dashboard",
    "consent settings",
)
DAY = 86400.0


def _month_start(anchor: datetime.date, back: int) -> datetime.date:
    index = anchor.year * 12 + anchor.month - 1 - back
    return datetime.date(index // 12, index % 12 + 1, 1)


def _prefix(slug: str) -> str:
    """A tracker project key from the slug: the first two letters of each word (CUPR, INPA)."""
    return "".join(part[:2] for part in slug.split("-")).upper()[:8]


def _at(start: datetime.datetime, days: float) -> datetime.datetime:
    return (start + datetime.timedelta(days=days)).replace(second=0, microsecond=0)


def _history(rng: random.Random, tracker_type: str, created: datetime.datetime) -> list[Any]:
    """(status, at) in order: the item's whole life, wherever it ends."""
    events: list[tuple[str, datetime.datetime]] = [("To Do", created)]
    t = created
    urgent = tracker_type in ("Bug", "Security")
    t = _at(t, rng.expovariate(1 / (3 if urgent else 12)) + 0.1)
    if rng.random() < 0.05:  # dropped from the backlog
        events.append(("Done", t))
        return events
    scale = 0.5 if urgent else 1.0
    rounds = 2 if rng.random() < 0.08 else 1  # some are reopened after done
    for round_ in range(rounds):
        events.append(("In Progress", t))
        t = _at(t, rng.lognormvariate(1.0, 0.6) * scale + 0.2)
        if rng.random() < 0.18:
            events.append(("Blocked", t))
            t = _at(t, rng.uniform(1, 7))
            events.append(("In Progress", t))
            t = _at(t, rng.uniform(0.5, 3))
        events.append(("In Review", t))
        t = _at(t, rng.uniform(0.2, 2))
        if rng.random() < 0.6:
            events.append(("Ready for QA", t))
            t = _at(t, rng.expovariate(1 / 2.5) + 0.2)
        events.append(("Done", t))
        if round_ + 1 < rounds:
            t = _at(t, rng.uniform(3, 20))
    return events


def demo_work(
    product: Product, stage: str, anchor: datetime.date
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The product's items and their status changes before ``anchor`` (deterministic)."""
    items: list[dict[str, Any]] = []
    transitions: list[dict[str, Any]] = []
    cutoff = datetime.datetime.combine(anchor, datetime.time(), tzinfo=datetime.UTC)
    low, high = RATE.get(stage, (2, 4))
    names = [name for name, _ in TYPES]
    weights = [weight for _, weight in TYPES]
    for back in range(MONTHS, 0, -1):
        month = _month_start(anchor, back)
        month_rng = random.Random(f"{product.slug}:{month:%Y-%m}")
        days = (_month_start(month, -1) - month).days
        for n in range(1, month_rng.randint(low, high) + 1):
            rng = random.Random(f"{product.slug}:{month:%Y-%m}:{n}")
            tracker_type = rng.choices(names, weights)[0]
            created = datetime.datetime.combine(
                month, datetime.time(8, 0), tzinfo=datetime.UTC
            ) + datetime.timedelta(days=rng.randrange(days), minutes=rng.randrange(9 * 60))
            key = f"{_prefix(product.slug)}-{month:%y%m}-{n:02d}"
            pattern, fillers = TITLES[tracker_type]
            items.append(
                {
                    "key": key,
                    "product": product.slug,
                    "tracker_type": tracker_type,
                    "title": pattern.format(v=rng.choice(fillers), o=rng.choice(OBJECTS)),
                    "created_at": created,
                }
            )
            previous = ""
            for status, at in _history(rng, tracker_type, created):
                if at >= cutoff:
                    break
                transitions.append(
                    {"key": key, "from_status": previous, "to_status": status, "at": at}
                )
                previous = status
    return items, transitions


def _batches(
    work: list[tuple[list[dict[str, Any]], list[dict[str, Any]]]],
) -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    """Products' work grouped into requests within the ingest limits."""
    items: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    for product_items, product_changes in work:
        if changes and len(changes) + len(product_changes) > MAX_TRANSITIONS:
            yield items, changes
            items, changes = [], []
        items.extend(product_items)
        changes.extend(product_changes)
    if items or changes:
        yield items, changes


def seed_work_items(*, actor: AbstractBaseUser, today: datetime.date | None = None) -> SeedStats:
    """A year of work items of every demo product, then their flow snapshots (needs the products
    and value streams first). ``today`` (default: today) fixes the anchor, the first of its month.
    """
    anchor = (today or timezone.localdate()).replace(day=1)
    stats = SeedStats()
    stages = {p.slug: str(p.stage) for p in PRODUCTS}
    products = list(Product.objects.filter(slug__in=stages, archived_at=None).order_by("slug"))
    for slug in sorted(set(stages) - {p.slug for p in products}):
        stats.skipped.append(f"work items of {slug}: no such active product")
    work = [demo_work(product, stages[product.slug], anchor) for product in products]
    written = False
    for items, changes in _batches(work):
        result = work_items_ingest(actor=actor, source=SOURCE, items=items, transitions=changes)
        stats.created["work items"] += result.items_created
        stats.updated["work items"] += result.items_updated
        stats.unchanged["work items"] += result.items_unchanged
        stats.created["status changes"] += result.transitions_created
        stats.unchanged["status changes"] += result.transitions_duplicates
        written = written or bool(result.product_ids)
    with_items = set(
        WorkItem.objects.filter(source__slug=SOURCE).values_list("product_id", flat=True)
    )
    with_snapshots = set(
        FlowSnapshot.objects.filter(product_id__in=with_items).values_list("product_id", flat=True)
    )
    if with_items and (written or with_items - with_snapshots):
        done = flow_recompute(product_ids=sorted(with_items))
        stats.created["flow snapshots"] += done.snapshots
    return stats
