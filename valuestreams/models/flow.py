"""Work items from trackers, their status history, how tracker statuses and types map onto flow
categories and item types, and the flow-metric snapshots computed from them (DESIGN.md, Flow)."""

import re
import secrets

from django.db import models
from django.db.models import Q

from portfolio.common.models import TimestampedModel
from products.models import Product
from valuestreams.models.registry import ValueStream

_SPACES = re.compile(r"\s+")


def status_key(name: str) -> str:
    """A status or type name as matched: case, surrounding and repeated inner spaces ignored
    (``"In  progress "`` is ``"in progress"``)."""
    return _SPACES.sub(" ", name).strip().casefold()


class ItemType(models.TextChoices):
    FEATURE = "feature", "Feature"
    DEFECT = "defect", "Defect"
    RISK = "risk", "Risk"
    DEBT = "debt", "Debt"


class FlowCategory(models.TextChoices):
    BACKLOG = "backlog", "Backlog"
    ACTIVE = "active", "Active"
    WAITING = "waiting", "Waiting"
    DONE = "done", "Done"


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(32)


class WorkSource(TimestampedModel):
    """A tracker (or a script) that sends work items; keys are unique per source, and the webhook
    signs its payloads with this source's secret."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=60, unique=True)
    webhook_secret = models.CharField(max_length=100, default=new_webhook_secret)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class WorkItem(TimestampedModel):
    """A unit of work of a product, as the tracker knows it: its key, type and title.

    ``type`` is empty while the tracker's own type (``tracker_type``) has no mapping: such items
    are listed for mapping, never guessed.
    """

    source = models.ForeignKey(WorkSource, on_delete=models.PROTECT, related_name="items")
    key = models.CharField(max_length=100)
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="work_items")
    type = models.CharField(max_length=10, choices=ItemType.choices, blank=True)
    tracker_type = models.CharField(max_length=100, blank=True)
    title = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["product", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "key"], name="work_item_key_unique_per_source"
            )
        ]
        indexes = [models.Index(fields=["product", "type"])]

    def __str__(self) -> str:
        return f"{self.key} {self.title[:60]}"


class StatusChange(models.Model):
    """A work item moved into a status at an instant. The status is kept as the tracker sent it;
    ``status_key`` is its matching form. The same change sent twice is stored once."""

    # No index of its own: the unique (item, status_key, at) and the (item, at) index both lead
    # with the item, and a third index on the largest table slows every bulk ingest.
    item = models.ForeignKey(
        WorkItem, on_delete=models.CASCADE, related_name="status_changes", db_index=False
    )
    from_status = models.CharField(max_length=100, blank=True)
    to_status = models.CharField(max_length=100)
    status_key = models.CharField(max_length=100)
    at = models.DateTimeField()

    class Meta:
        ordering = ["item", "at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["item", "status_key", "at"], name="status_change_once"),
        ]
        indexes = [models.Index(fields=["item", "at"]), models.Index(fields=["status_key"])]

    def __str__(self) -> str:
        return f"{self.item_id} -> {self.to_status} at {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        self.status_key = status_key(self.to_status)
        super().save(*args, **kwargs)


class StatusMapping(TimestampedModel):
    """A tracker status and its flow category: the organisation's default (no value stream) or a
    value stream's own, which wins for that value stream."""

    value_stream = models.ForeignKey(
        ValueStream, on_delete=models.CASCADE, null=True, blank=True, related_name="status_mappings"
    )
    status_key = models.CharField(max_length=100)
    status_name = models.CharField(max_length=100, help_text="The status as people write it.")
    category = models.CharField(max_length=10, choices=FlowCategory.choices)

    class Meta:
        ordering = ["value_stream", "category", "status_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["value_stream", "status_key"],
                condition=Q(value_stream__isnull=False),
                name="status_mapping_unique_per_value_stream",
            ),
            models.UniqueConstraint(
                fields=["status_key"],
                condition=Q(value_stream__isnull=True),
                name="status_mapping_default_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.status_name} -> {self.category}"

    def save(self, *args, **kwargs):
        self.status_key = status_key(self.status_name)
        super().save(*args, **kwargs)


class TypeMapping(TimestampedModel):
    """A tracker's issue type and the item type it counts as: the default or a value stream's own."""

    value_stream = models.ForeignKey(
        ValueStream, on_delete=models.CASCADE, null=True, blank=True, related_name="type_mappings"
    )
    tracker_type_key = models.CharField(max_length=100)
    tracker_type = models.CharField(max_length=100)
    type = models.CharField(max_length=10, choices=ItemType.choices)

    class Meta:
        ordering = ["value_stream", "type", "tracker_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["value_stream", "tracker_type_key"],
                condition=Q(value_stream__isnull=False),
                name="type_mapping_unique_per_value_stream",
            ),
            models.UniqueConstraint(
                fields=["tracker_type_key"],
                condition=Q(value_stream__isnull=True),
                name="type_mapping_default_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tracker_type} -> {self.type}"

    def save(self, *args, **kwargs):
        self.tracker_type_key = status_key(self.tracker_type)
        super().save(*args, **kwargs)


class FlowSnapshot(models.Model):
    """The flow metrics of a product or a value stream for one calendar week or month, as computed
    by the flow tasks. Recomputation replaces a scope's snapshots in one transaction."""

    class Window(models.TextChoices):
        WEEK = "week", "Week"
        MONTH = "month", "Month"

    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, null=True, blank=True, related_name="flow_snapshots"
    )
    value_stream = models.ForeignKey(
        ValueStream, on_delete=models.CASCADE, null=True, blank=True, related_name="flow_snapshots"
    )
    window = models.CharField(max_length=5, choices=Window.choices)
    window_start = models.DateField()
    velocity = models.PositiveIntegerField(default=0)
    flow_time_median_days = models.DecimalField(max_digits=10, decimal_places=3, null=True)
    flow_time_p85_days = models.DecimalField(max_digits=10, decimal_places=3, null=True)
    flow_efficiency = models.DecimalField(max_digits=6, decimal_places=2, null=True)
    flow_load_end = models.PositiveIntegerField(default=0)
    flow_load_avg = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    distribution = models.JSONField(default=dict)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["window", "window_start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(product__isnull=True, value_stream__isnull=False)
                | Q(product__isnull=False, value_stream__isnull=True),
                name="flow_snapshot_one_scope",
            ),
            models.UniqueConstraint(
                fields=["product", "window", "window_start"],
                condition=Q(product__isnull=False),
                name="flow_snapshot_unique_product_window",
            ),
            models.UniqueConstraint(
                fields=["value_stream", "window", "window_start"],
                condition=Q(value_stream__isnull=False),
                name="flow_snapshot_unique_value_stream_window",
            ),
        ]

    def __str__(self) -> str:
        scope = (
            self.product_id and f"product {self.product_id}"
        ) or f"value stream {self.value_stream_id}"
        return f"{scope} {self.window} {self.window_start}"


class FlowRow(models.Model):
    """What the per-item flow rows share: the item, the mapping it is seen through (a value
    stream serving its product; None when none does, the default mapping then), its product, and
    whether this is the row the product's own metrics read (the value stream with the lowest id).

    Derived rows, rewritten by the million in the weekly run: no database constraints (their
    checks at commit would cost more than the derivation); deletes cascade through Django.
    """

    item = models.ForeignKey(
        WorkItem, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    value_stream = models.ForeignKey(
        ValueStream,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    for_product = models.BooleanField()

    class Meta:
        abstract = True


class FlowFact(FlowRow):
    """What the flow metrics need of one work item, derived from its status history through one
    mapping and kept current by each ingest and the flow tasks (``valuestreams.flow.facts``).

    Times are epoch seconds as the flow SQL computes them; ``started_at`` is the start as an
    instant for queries. ``done_t`` is the completion when the item is complete (started, latest
    status ``done``), else None; ``category`` is the latest status's category ('' unmapped).
    """

    product = models.ForeignKey(
        Product,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,  # the (product, for_product, category) index leads with it
    )
    type = models.CharField(max_length=10, blank=True)
    stream_type = models.CharField(
        max_length=10, blank=True, help_text="The item's type through the value stream's mapping."
    )
    first_t = models.FloatField()
    start_t = models.FloatField(null=True)
    started_at = models.DateTimeField(null=True)
    done_t = models.FloatField(null=True)
    done_week = models.IntegerField(null=True, help_text="Epoch day of the completion's Monday.")
    done_month = models.IntegerField(null=True, help_text="year * 12 + month - 1")
    active_s = models.FloatField(default=0)
    category = models.CharField(max_length=10, blank=True)
    changes = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["product", "for_product", "category"])]

    def __str__(self) -> str:
        return f"item {self.item_id} through value stream {self.value_stream_id}"


class FlowSpan(FlowRow):
    """An interval an item was in progress (started, not in ``done``), as the epoch days whose
    midnights it covers: ``first_day`` to ``last_day`` (None: still in progress). Kept with the
    item's ``FlowFact`` rows, one set per mapping; the flow load sums them per day."""

    first_day = models.IntegerField()
    last_day = models.IntegerField(null=True)

    def __str__(self) -> str:
        return f"item {self.item_id} in progress days {self.first_day}-{self.last_day}"
