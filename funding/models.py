"""Capacity-based funding: periods, rate cards, envelopes, allocations, their history, actuals
and scenarios (DESIGN.md, "Funding").

Money is ``Decimal`` with two places in the installation's one currency (``settings.CURRENCY_CODE``).
A team's capacity cost is not stored: it follows from its memberships and the period's rate card
(``funding.capacity``), so an allocation's amount is always the percent of today's capacity.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from portfolio.common.models import TimestampedModel
from products.models import Discipline, Team
from valuestreams.models import ValueStream

ZERO = Decimal("0.00")
HUNDRED = Decimal("100")
PERCENT_VALIDATORS = [MinValueValidator(ZERO), MaxValueValidator(HUNDRED)]
MONEY_VALIDATORS = [MinValueValidator(ZERO)]


class FiscalPeriodQuerySet(models.QuerySet):
    def open(self):
        return self.exclude(status=FiscalPeriod.Status.CLOSED)

    def overlapping(self, start, end):
        """Periods that share at least one day with [start, end]."""
        return self.filter(start__lte=end, end__gte=start)

    def containing(self, day):
        return self.filter(start__lte=day, end__gte=day)


class FiscalPeriod(TimestampedModel):
    """A budgeting period (often a fiscal year or quarter). Periods never overlap.

    ``planning`` periods are prepared, the ``active`` one is spent, a ``closed`` one is read-only
    everywhere. ``plan_status`` is where the period's allocations stand in the approval workflow.
    """

    class Status(models.TextChoices):
        PLANNING = "planning", "Planning"
        ACTIVE = "active", "Active"
        CLOSED = "closed", "Closed"

    name = models.CharField(max_length=100, unique=True)
    start = models.DateField()
    end = models.DateField(help_text="The last day of the period (included).")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PLANNING)

    objects = FiscalPeriodQuerySet.as_manager()

    class Meta:
        ordering = ["-start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=F("start")),
                name="fiscal_period_end_after_start",
                violation_error_message="The period must end after it starts.",
            ),
            models.CheckConstraint(
                condition=~Q(name=""),
                name="fiscal_period_name_not_empty",
                violation_error_message="A period needs a name.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("funding:period_detail", kwargs={"pk": self.pk})

    @property
    def is_closed(self) -> bool:
        return self.status == self.Status.CLOSED

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def clean(self) -> None:
        if self.start and self.end and self.end <= self.start:
            raise ValidationError({"end": "The period must end after it starts."})

    def ensure_open(self) -> None:
        """Refuse any change to a closed period (its figures are final)."""
        if self.is_closed:
            raise ValidationError(f"{self.name} is closed: its figures are read-only.")


class Rate(TimestampedModel):
    """A period's rate card line: the annual fully-loaded cost of one person of a discipline."""

    period = models.ForeignKey(FiscalPeriod, on_delete=models.CASCADE, related_name="rates")
    discipline = models.ForeignKey(Discipline, on_delete=models.PROTECT, related_name="rates")
    annual_cost = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        validators=MONEY_VALIDATORS,
        help_text="Annual fully-loaded cost of one full-time person.",
    )

    class Meta:
        ordering = ["period", "discipline__order", "discipline__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["period", "discipline"],
                name="rate_one_per_discipline",
                violation_error_message="This period's rate card already has a rate for this discipline.",
            ),
            models.CheckConstraint(
                condition=Q(annual_cost__gte=0),
                name="rate_not_negative",
                violation_error_message="A rate cannot be negative.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.discipline} in {self.period}: {self.annual_cost}"


class Envelope(TimestampedModel):
    """A value stream's pooled budget for a period, with an optional debt-and-risk guardrail."""

    period = models.ForeignKey(FiscalPeriod, on_delete=models.CASCADE, related_name="envelopes")
    value_stream = models.ForeignKey(
        ValueStream, on_delete=models.PROTECT, related_name="envelopes"
    )
    amount = models.DecimalField(max_digits=14, decimal_places=2, validators=MONEY_VALIDATORS)
    min_debt_risk_percent = models.DecimalField(
        "minimum debt and risk %",
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=PERCENT_VALIDATORS,
        help_text="Guardrail: the least share of the funded capacity that should go to debt and "
        "risk work. Leave empty for none.",
    )
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["period", "value_stream__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["period", "value_stream"],
                name="envelope_one_per_value_stream",
                violation_error_message="This value stream already has an envelope for the period.",
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0),
                name="envelope_not_negative",
                violation_error_message="An envelope cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Q(min_debt_risk_percent__isnull=True)
                | (Q(min_debt_risk_percent__gte=0) & Q(min_debt_risk_percent__lte=100)),
                name="envelope_guardrail_percent",
                violation_error_message="The guardrail is a percent between 0 and 100.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.value_stream} in {self.period}: {self.amount}"


class AllocationStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PROPOSED = "proposed", "Proposed"
    APPROVED = "approved", "Approved"


class Allocation(TimestampedModel):
    """A percent of a team's capacity cost in a period, given to a value stream.

    ``version`` grows with every change, so an edit made on a stale page is refused rather than
    silently overwriting someone else's change. The limits (a team at most 100 %, a value stream
    at most its envelope) are checked by ``funding.services`` under row locks.
    """

    Status = AllocationStatus

    period = models.ForeignKey(FiscalPeriod, on_delete=models.CASCADE, related_name="allocations")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="allocations")
    value_stream = models.ForeignKey(
        ValueStream, on_delete=models.PROTECT, related_name="allocations"
    )
    percent = models.DecimalField(max_digits=5, decimal_places=2, validators=PERCENT_VALIDATORS)
    status = models.CharField(
        max_length=10, choices=AllocationStatus.choices, default=AllocationStatus.DRAFT
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["period", "team__name", "value_stream__name"]
        permissions = [("approve_allocation", "Can propose and approve a period's allocations")]
        constraints = [
            models.UniqueConstraint(
                fields=["period", "team", "value_stream"],
                name="allocation_one_per_cell",
                violation_error_message="This team already has an allocation to this value stream "
                "in the period.",
            ),
            models.CheckConstraint(
                condition=Q(percent__gte=0) & Q(percent__lte=100),
                name="allocation_percent_0_100",
                violation_error_message="A percent is between 0 and 100.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.team} -> {self.value_stream} in {self.period}: {self.percent} %"


class AllocationChange(models.Model):
    """One change to an allocation: who, when, before, after, why (the approval trail).

    Kept when the allocation is deleted, so the team's and value stream's timelines stay whole.
    """

    class Action(models.TextChoices):
        CREATED = "created", "Created"
        CHANGED = "changed", "Changed"
        DELETED = "deleted", "Removed"
        PROPOSED = "proposed", "Proposed"
        APPROVED = "approved", "Approved"
        RETURNED = "returned", "Returned to draft"
        PROMOTED = "promoted", "Set from a scenario"

    period = models.ForeignKey(FiscalPeriod, on_delete=models.CASCADE, related_name="changes")
    allocation = models.ForeignKey(
        Allocation, on_delete=models.SET_NULL, null=True, blank=True, related_name="changes"
    )
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="allocation_changes")
    value_stream = models.ForeignKey(
        ValueStream, on_delete=models.CASCADE, related_name="allocation_changes"
    )
    action = models.CharField(max_length=10, choices=Action.choices)
    percent_before = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    percent_after = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    status_before = models.CharField(max_length=10, blank=True)
    status_after = models.CharField(max_length=10, blank=True)
    reason = models.TextField(blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["period", "team", "-at"]),
            models.Index(fields=["period", "value_stream", "-at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.team} -> {self.value_stream} at {self.at}"


class Actual(TimestampedModel):
    """A team's actual spend in one calendar month (``month`` is the first day of the month)."""

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="actuals")
    month = models.DateField()
    amount = models.DecimalField(max_digits=14, decimal_places=2, validators=MONEY_VALIDATORS)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["team__name", "month"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "month"],
                name="actual_one_per_team_month",
                violation_error_message="This team already has an actual for this month.",
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0),
                name="actual_not_negative",
                violation_error_message="An actual cannot be negative.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.team} {self.month:%b %Y}: {self.amount}"

    def clean(self) -> None:
        if self.month and self.month.day != 1:
            raise ValidationError({"month": "Give the month as its first day (YYYY-MM-01)."})


class Scenario(TimestampedModel):
    """A named copy of a period's allocations to change freely and compare with the plan.

    Limits are shown, not enforced, while it is a scenario; promoting it to the plan enforces them.
    """

    period = models.ForeignKey(FiscalPeriod, on_delete=models.CASCADE, related_name="scenarios")
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    promoted_at = models.DateTimeField(null=True, blank=True)
    promoted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    promotion_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["period", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["period", "name"],
                name="scenario_name_per_period",
                violation_error_message="The period already has a scenario of this name.",
            ),
            models.CheckConstraint(
                condition=~Q(name=""),
                name="scenario_name_not_empty",
                violation_error_message="A scenario needs a name.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.period})"

    def get_absolute_url(self) -> str:
        return reverse("funding:scenario_detail", kwargs={"pk": self.pk})


class ScenarioCell(models.Model):
    """One cell of a scenario's matrix: a team's percent to a value stream."""

    scenario = models.ForeignKey(Scenario, on_delete=models.CASCADE, related_name="cells")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    value_stream = models.ForeignKey(ValueStream, on_delete=models.CASCADE, related_name="+")
    percent = models.DecimalField(max_digits=5, decimal_places=2, validators=PERCENT_VALIDATORS)

    class Meta:
        ordering = ["scenario", "team__name", "value_stream__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["scenario", "team", "value_stream"],
                name="scenario_cell_unique",
                violation_error_message="The scenario already has this cell.",
            ),
            models.CheckConstraint(
                condition=Q(percent__gte=0) & Q(percent__lte=100),
                name="scenario_cell_percent_0_100",
                violation_error_message="A percent is between 0 and 100.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scenario}: {self.team} -> {self.value_stream} {self.percent} %"
