"""Value Stream Mapping: current- and future-state maps of a value stream, their steps and the
improvement outcomes the mapping is meant to achieve (metrics in valuestreams.mapmetrics)."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from portfolio.common.models import TimestampedModel
from valuestreams.models.registry import ValueStream


class ValueStreamMap(TimestampedModel):
    """A dated map of a value stream in its current or its future (target) state."""

    class State(models.TextChoices):
        CURRENT = "current", "Current state"
        FUTURE = "future", "Future state"

    value_stream = models.ForeignKey(ValueStream, on_delete=models.CASCADE, related_name="maps")
    state = models.CharField(max_length=10, choices=State.choices, default=State.CURRENT)
    name = models.CharField(max_length=200, blank=True)
    mapped_on = models.DateField(default=timezone.localdate, help_text="When the mapping was done.")
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["value_stream", "-mapped_on", "state", "id"]

    def __str__(self) -> str:
        return (
            self.name
            or f"{self.value_stream} ({self.get_state_display().lower()}, {self.mapped_on:%d %b %Y})"
        )

    def get_absolute_url(self) -> str:
        return reverse(
            "valuestreams:map_detail", kwargs={"slug": self.value_stream.slug, "pk": self.pk}
        )


class MapStep(TimestampedModel):
    """One step of a map, in order: hands-on (process) time, lead time and %C&A, who does it.

    Times are minutes, fractions allowed; a pure queue has process time 0.
    """

    map = models.ForeignKey(ValueStreamMap, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveIntegerField()
    name = models.CharField(max_length=200)
    process_time_minutes = models.DecimalField(max_digits=14, decimal_places=2)
    lead_time_minutes = models.DecimalField(max_digits=14, decimal_places=2)
    percent_complete_accurate = models.DecimalField(max_digits=5, decimal_places=2, default=100)
    performed_by = models.CharField(max_length=200, blank=True, help_text="Who does this step.")
    notes = models.TextField(blank=True)
    statuses = models.JSONField(
        default=list,
        blank=True,
        help_text="Tracker statuses that this step corresponds to (for the measured value stream).",
    )

    class Meta:
        ordering = ["map", "order"]
        constraints = [
            models.UniqueConstraint(
                fields=["map", "order"],
                name="map_step_order_unique",
                violation_error_message="Two steps cannot share a place in the map.",
            ),
            models.CheckConstraint(
                condition=Q(process_time_minutes__gte=0),
                name="map_step_process_time_not_negative",
                violation_error_message="Process time cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Q(lead_time_minutes__gt=0)
                & Q(lead_time_minutes__gte=F("process_time_minutes")),
                name="map_step_lead_time_covers_process_time",
                violation_error_message="Lead time must be more than 0 and at least the process time.",
            ),
            models.CheckConstraint(
                condition=Q(percent_complete_accurate__gt=0)
                & Q(percent_complete_accurate__lte=100),
                name="map_step_pca_between_0_and_100",
                violation_error_message="%C&A must be more than 0 and at most 100.",
            ),
            models.CheckConstraint(
                condition=~Q(name=""),
                name="map_step_name_not_empty",
                violation_error_message="A step needs a name.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order}. {self.name}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.process_time_minutes is not None and self.process_time_minutes < 0:
            errors["process_time_minutes"] = "Process time cannot be negative."
        if self.lead_time_minutes is not None:
            if self.lead_time_minutes <= 0:
                errors["lead_time_minutes"] = "Lead time must be more than 0."
            elif (
                self.process_time_minutes is not None
                and self.lead_time_minutes < self.process_time_minutes
            ):
                errors["lead_time_minutes"] = "Lead time must be at least the process time."
        pca = self.percent_complete_accurate
        if pca is not None and not (0 < pca <= 100):
            errors["percent_complete_accurate"] = "%C&A must be more than 0 and at most 100."
        if errors:
            raise ValidationError(errors)

    @property
    def wait_minutes(self):
        return self.lead_time_minutes - self.process_time_minutes


class ImprovementOutcome(TimestampedModel):
    """What a mapping is meant to achieve, as a target on one of the map's metrics
    ("total lead time below 14400 minutes")."""

    class Metric(models.TextChoices):
        TOTAL_LEAD_TIME = "total_lead_time_minutes", "Total lead time (minutes)"
        TOTAL_PROCESS_TIME = "total_process_time_minutes", "Total process time (minutes)"
        TOTAL_WAIT = "total_wait_minutes", "Total wait (minutes)"
        ACTIVITY_RATIO = "activity_ratio", "Activity ratio (%)"
        ROLLED_PCA = "rolled_percent_complete_accurate", "Rolled %C&A (%)"

    class Comparator(models.TextChoices):
        BELOW = "below", "below"
        ABOVE = "above", "above"

    map = models.ForeignKey(
        ValueStreamMap, on_delete=models.CASCADE, related_name="improvement_outcomes"
    )
    description = models.CharField(max_length=300)
    metric = models.CharField(max_length=40, choices=Metric.choices)
    comparator = models.CharField(max_length=5, choices=Comparator.choices)
    target = models.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        ordering = ["map", "id"]

    def __str__(self) -> str:
        return self.description
