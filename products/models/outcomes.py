"""Outcomes over outputs: objectives, key results and their measurements, hypotheses, and the
outcome-based roadmap of a product."""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from portfolio.common.models import ArchivableModel, TimestampedModel
from products import progress as kr_progress
from products.models.registry import Product
from products.querysets import (
    HypothesisQuerySet,
    KeyResultQuerySet,
    MeasurementQuerySet,
    OutcomeQuerySet,
    RoadmapItemQuerySet,
)

STALE_AFTER_DAYS = 30


class Outcome(ArchivableModel):
    """An objective for a product ("Customers open an account in one sitting"), optionally for a period."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="outcomes")
    statement = models.TextField(help_text="The change in customer or business behaviour sought.")
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    order = models.PositiveIntegerField(default=0)

    objects = OutcomeQuerySet.as_manager()

    class Meta:
        ordering = ["product", "order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(statement=""),
                name="outcome_statement_not_empty",
                violation_error_message="An outcome needs a statement.",
            ),
            models.CheckConstraint(
                condition=Q(period_end__isnull=True)
                | Q(period_start__isnull=True)
                | Q(period_end__gt=F("period_start")),
                name="outcome_period_end_after_start",
                violation_error_message="The period must end after it starts.",
            ),
        ]

    def __str__(self) -> str:
        return self.statement[:80]

    def get_absolute_url(self) -> str:
        return f"{self.product.get_absolute_url()}#outcome-{self.pk}"

    def clean(self) -> None:
        # The check constraint reports under no field; name the field that is wrong.
        if self.period_start and self.period_end and self.period_end <= self.period_start:
            raise ValidationError({"period_end": "The period must end after it starts."})


class KeyResult(TimestampedModel):
    """A measurable result of an outcome, moving from a baseline towards a target between two dates.

    ``latest_*``, ``progress``, ``expected_progress`` and ``status`` are derived from the
    measurements by products.progress and stored by the services in the same transaction as the
    change that moves them, so every reader sees the same figures.
    """

    class Kind(models.TextChoices):
        ADOPTION = "adoption", "Adoption"
        NPS = "nps", "NPS"
        SATISFACTION = "satisfaction", "Customer satisfaction"
        REVENUE = "revenue", "Revenue"
        COST_REDUCTION = "cost_reduction", "Cost reduction"
        TIME_TO_MARKET = "time_to_market", "Time to market"
        PRODUCTIVITY = "productivity", "Productivity"
        OTHER = "other", "Other"

    CUSTOMER_FACING_KINDS = frozenset({Kind.ADOPTION, Kind.NPS, Kind.SATISFACTION})

    class Direction(models.TextChoices):
        INCREASE = "increase", "Increase"
        DECREASE = "decrease", "Decrease"

    class Status(models.TextChoices):
        ON_TRACK = kr_progress.ON_TRACK, "On track"
        AT_RISK = kr_progress.AT_RISK, "At risk"
        OFF_TRACK = kr_progress.OFF_TRACK, "Off track"
        NO_DATA = kr_progress.NO_DATA, "No data"

    outcome = models.ForeignKey(Outcome, on_delete=models.CASCADE, related_name="key_results")
    # The outcome's product, kept here so key results are unique by name per product and
    # readable per product without a join.
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="key_results", editable=False
    )
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.OTHER)
    customer_facing = models.BooleanField(
        default=False,
        help_text="Measures something customers experience (adoption, NPS, satisfaction...).",
    )
    unit = models.CharField(max_length=30, blank=True, help_text="%, users, days, EUR, points ...")
    direction = models.CharField(
        max_length=10, choices=Direction.choices, default=Direction.INCREASE
    )
    baseline = models.DecimalField(max_digits=16, decimal_places=4)
    target = models.DecimalField(max_digits=16, decimal_places=4)
    start_date = models.DateField()
    target_date = models.DateField()

    latest_value = models.DecimalField(max_digits=16, decimal_places=4, null=True, editable=False)
    latest_date = models.DateField(null=True, editable=False)
    progress = models.DecimalField(max_digits=7, decimal_places=2, null=True, editable=False)
    expected_progress = models.DecimalField(
        max_digits=7, decimal_places=2, null=True, editable=False
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.NO_DATA, editable=False
    )

    objects = KeyResultQuerySet.as_manager()

    class Meta:
        ordering = ["outcome", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "name"],
                name="key_result_name_unique_per_product",
                violation_error_message="This product already has a key result with this name.",
            ),
            models.CheckConstraint(
                condition=~Q(name=""),
                name="key_result_name_not_empty",
                violation_error_message="A key result needs a name.",
            ),
            models.CheckConstraint(
                condition=(Q(direction="increase") & Q(target__gt=F("baseline")))
                | (Q(direction="decrease") & Q(target__lt=F("baseline"))),
                name="key_result_direction_agrees_with_target",
                violation_error_message=(
                    "The target must differ from the baseline in the key result's direction: "
                    "above it to increase, below it to decrease."
                ),
            ),
            models.CheckConstraint(
                condition=Q(target_date__gt=F("start_date")),
                name="key_result_target_date_after_start",
                violation_error_message="The target date must be after the start date.",
            ),
        ]
        indexes = [models.Index(fields=["product", "status"])]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return (
            reverse("products:product_detail", kwargs={"slug": self.product.slug})
            + f"#kr-{self.pk}"
        )

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.baseline is not None and self.target is not None:
            if self.target == self.baseline:
                errors["target"] = "The target must differ from the baseline."
            elif self.direction == self.Direction.INCREASE and self.target < self.baseline:
                errors["target"] = "To increase, the target must be above the baseline."
            elif self.direction == self.Direction.DECREASE and self.target > self.baseline:
                errors["target"] = "To decrease, the target must be below the baseline."
        if self.start_date and self.target_date and self.target_date <= self.start_date:
            errors["target_date"] = "The target date must be after the start date."
        # The unique constraint reports a clash under no field; name the field that clashes.
        if (
            self.name
            and self.product_id
            and KeyResult.objects.filter(product_id=self.product_id, name=self.name)
            .exclude(pk=self.pk)
            .exists()
        ):
            errors["name"] = "This product already has a key result with this name."
        if errors:
            raise ValidationError(errors)

    def standing(self) -> kr_progress.Standing:
        """Progress, expected progress and status from the stored latest measurement."""
        return kr_progress.standing(
            baseline=self.baseline,
            target=self.target,
            start_date=self.start_date,
            target_date=self.target_date,
            latest=self.latest_value,
            latest_date=self.latest_date,
        )

    def is_stale(self, today: datetime.date | None = None) -> bool:
        """No measurement in the last 30 days while it runs (from 30 days after start to target date)."""
        today = today or timezone.localdate()
        cutoff = today - datetime.timedelta(days=STALE_AFTER_DAYS)
        if self.start_date > cutoff or self.target_date < today:
            return False
        return self.latest_date is None or self.latest_date < cutoff


class Measurement(TimestampedModel):
    """A dated value of a key result, and who recorded it."""

    key_result = models.ForeignKey(KeyResult, on_delete=models.CASCADE, related_name="measurements")
    date = models.DateField()
    value = models.DecimalField(max_digits=16, decimal_places=4)
    note = models.CharField(max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = MeasurementQuerySet.as_manager()

    class Meta:
        # "Latest" is the latest date; on a tie, the one recorded last.
        ordering = ["key_result", "-date", "-id"]
        indexes = [models.Index(fields=["key_result", "-date", "-id"])]

    def __str__(self) -> str:
        return f"{self.key_result}: {self.value} on {self.date:%d %b %Y}"


class Hypothesis(TimestampedModel):
    """We believe <change> will result in <outcome>; we will know when <key result> moves by <amount>."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        TESTING = "testing", "Testing"
        VALIDATED = "validated", "Validated"
        INVALIDATED = "invalidated", "Invalidated"

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="hypotheses")
    change = models.TextField(help_text="We believe <this change> ...")
    expected_outcome = models.TextField(help_text="... will result in <this outcome> ...")
    key_result = models.ForeignKey(
        KeyResult,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="hypotheses",
        help_text="... we will know when <this key result> ...",
    )
    expected_move = models.DecimalField(
        max_digits=16,
        decimal_places=4,
        null=True,
        blank=True,
        help_text="... moves by <this amount>.",
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PROPOSED)
    status_changed_at = models.DateTimeField(default=timezone.now)
    evidence = models.TextField(blank=True, help_text="What we have learnt so far.")

    objects = HypothesisQuerySet.as_manager()

    class Meta:
        ordering = ["product", "-created_at", "-id"]
        verbose_name_plural = "hypotheses"
        constraints = [
            models.CheckConstraint(
                condition=~Q(change="") & ~Q(expected_outcome=""),
                name="hypothesis_change_and_outcome_not_empty",
                violation_error_message="A hypothesis names the change and the outcome it should bring.",
            )
        ]

    def __str__(self) -> str:
        return f"We believe {self.change[:60]}"

    def clean(self) -> None:
        if (
            self.key_result is not None
            and self.product_id
            and self.key_result.product_id != self.product_id
        ):
            raise ValidationError({"key_result": "Choose a key result of this product."})


class HypothesisStatusChange(models.Model):
    """When a hypothesis moved to a status, who moved it and on what evidence."""

    hypothesis = models.ForeignKey(
        Hypothesis, on_delete=models.CASCADE, related_name="status_changes"
    )
    from_status = models.CharField(max_length=12, choices=Hypothesis.Status.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=Hypothesis.Status.choices)
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["hypothesis", "changed_at", "id"]

    def __str__(self) -> str:
        return f"{self.hypothesis_id}: {self.from_status or '-'} -> {self.to_status}"


class RoadmapItem(TimestampedModel):
    """A piece of work on a product's now/next/later roadmap, linked to the key results it should move.

    Positions within a product's horizon are 0, 1, 2, ... without gaps or duplicates; the services
    renumber under a lock on the product row, so concurrent moves keep that exactly.
    """

    class Horizon(models.TextChoices):
        NOW = "now", "Now"
        NEXT = "next", "Next"
        LATER = "later", "Later"
        DONE = "done", "Done"

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="roadmap_items")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    horizon = models.CharField(max_length=5, choices=Horizon.choices, default=Horizon.LATER)
    position = models.PositiveIntegerField(default=0)
    key_results = models.ManyToManyField(KeyResult, related_name="roadmap_items", blank=True)

    objects = RoadmapItemQuerySet.as_manager()

    class Meta:
        ordering = ["product", "horizon", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "horizon", "position"],
                name="roadmap_position_unique",
                violation_error_message="Two roadmap items cannot share a place.",
            ),
            models.CheckConstraint(
                condition=~Q(title=""),
                name="roadmap_item_title_not_empty",
                violation_error_message="A roadmap item needs a title.",
            ),
        ]

    def __str__(self) -> str:
        return self.title
