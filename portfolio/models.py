"""The portfolio level: the five-stage transition (criteria, units, assessments) and the worker
heartbeat the health check reads."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from portfolio.common.models import TimestampedModel
from valuestreams.models import ValueStream


class Heartbeat(models.Model):
    """When a background process (the Celery worker) last proved it was alive."""

    name = models.CharField(max_length=50, unique=True)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.seen_at:%Y-%m-%d %H:%M:%S}"


class Stage(models.IntegerChoices):
    """The five stages of the move from projects to products (DESIGN.md)."""

    STARTING_OUT = 1, "Starting Out"
    EXPERIMENTATION = 2, "Experimentation"
    EXPANSION = 3, "Expansion"
    OPERATIONALIZING = 4, "Operationalizing"
    APPROACHING_MATURITY = 5, "Approaching Maturity"


class TransitionCriterion(TimestampedModel):
    """One activity the product model prescribes for a stage, judged in every assessment.

    ``evidence`` names a figure the data can show beside the human answer (see
    ``portfolio.evidence``); empty when only people can judge it.
    """

    stage = models.PositiveSmallIntegerField(choices=Stage.choices)
    text = models.CharField(max_length=300)
    order = models.PositiveSmallIntegerField(default=0)
    evidence = models.CharField(max_length=40, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["stage", "order", "pk"]
        verbose_name_plural = "transition criteria"
        constraints = [
            models.CheckConstraint(
                condition=Q(stage__gte=1) & Q(stage__lte=5),
                name="criterion_stage_1_to_5",
                violation_error_message="A stage is 1 to 5.",
            ),
            models.CheckConstraint(
                condition=~Q(text=""),
                name="criterion_text_not_empty",
                violation_error_message="A criterion needs a text.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.stage}. {self.text}"


class TransitionUnit(TimestampedModel):
    """Who moves through the stages: the organisation as a whole (no value stream) or one value stream.

    Holds the current stage; assessments move it.
    """

    value_stream = models.OneToOneField(
        ValueStream,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="transition",
    )
    stage = models.PositiveSmallIntegerField(choices=Stage.choices, default=Stage.STARTING_OUT)
    stage_since = models.DateField(default=timezone.localdate)
    target_end = models.DateField(
        null=True,
        blank=True,
        help_text="A fixed end date for the transition plan; a transition that keeps evolving has "
        "none (a fixed end is a sign of treating it as a project).",
    )

    class Meta:
        ordering = ["value_stream__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["stage"],
                condition=Q(value_stream__isnull=True),
                name="one_organisation_unit",
                violation_error_message="The organisation already has its transition record.",
            ),
            models.CheckConstraint(
                condition=Q(stage__gte=1) & Q(stage__lte=5),
                name="unit_stage_1_to_5",
                violation_error_message="A stage is 1 to 5.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.value_stream.name if self.value_stream is not None else "The organisation"

    @property
    def is_organisation(self) -> bool:
        return self.value_stream_id is None


class TransitionAssessment(models.Model):
    """A dated judgement of a unit against its current stage's criteria, and what followed:
    it stayed, advanced (all criteria met) or was advanced by an override with a reason."""

    class Outcome(models.TextChoices):
        STAYED = "stayed", "Stayed"
        ADVANCED = "advanced", "Advanced"
        OVERRIDDEN = "overridden", "Advanced by override"

    unit = models.ForeignKey(TransitionUnit, on_delete=models.CASCADE, related_name="assessments")
    assessed_on = models.DateField(default=timezone.localdate)
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    stage = models.PositiveSmallIntegerField(
        choices=Stage.choices, help_text="The stage whose criteria were judged."
    )
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.STAYED)
    stage_after = models.PositiveSmallIntegerField(choices=Stage.choices)
    notes = models.TextField(blank=True)
    override_reason = models.TextField(blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-assessed_on", "-recorded_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(outcome="overridden") | ~Q(override_reason=""),
                name="override_needs_reason",
                violation_error_message="An override needs a reason.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.unit} on {self.assessed_on}: {self.get_outcome_display()}"


class AssessmentAnswer(models.Model):
    """One criterion's answer in an assessment, with the evidence people gave and what the data
    showed at the time."""

    class Answer(models.TextChoices):
        MET = "met", "Met"
        PARTLY = "partly", "Partly met"
        NOT_MET = "not_met", "Not met"

    assessment = models.ForeignKey(
        TransitionAssessment, on_delete=models.CASCADE, related_name="answers"
    )
    criterion = models.ForeignKey(
        TransitionCriterion, on_delete=models.PROTECT, related_name="answers"
    )
    answer = models.CharField(max_length=10, choices=Answer.choices)
    evidence_note = models.TextField(blank=True)
    data_evidence = models.CharField(
        max_length=200, blank=True, help_text="The data's figure for this criterion when assessed."
    )

    class Meta:
        ordering = ["criterion__order", "criterion__pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "criterion"],
                name="one_answer_per_criterion",
                violation_error_message="The assessment already answers this criterion.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.criterion}: {self.get_answer_display()}"


class PitfallThreshold(models.Model):
    """A pitfall signal's threshold as the organisation set it (``portfolio.pitfalls`` holds the
    defaults): the signal fires when its value is above the threshold."""

    key = models.CharField(max_length=60, unique=True)
    threshold = models.DecimalField(max_digits=10, decimal_places=2)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]
        constraints = [
            models.CheckConstraint(
                condition=Q(threshold__gte=0),
                name="pitfall_threshold_not_negative",
                violation_error_message="A threshold cannot be negative.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.key} > {self.threshold}"


class PitfallRecord(models.Model):
    """A pitfall signal's value on a day, recorded daily by ``record_pitfalls_task``: the trend."""

    key = models.CharField(max_length=60)
    day = models.DateField()
    value = models.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        ordering = ["key", "day"]
        constraints = [
            models.UniqueConstraint(
                fields=["key", "day"],
                name="pitfall_record_once_per_day",
                violation_error_message="This signal already has a value for the day.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.key} on {self.day}: {self.value}"
