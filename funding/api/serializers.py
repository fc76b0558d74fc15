"""API serializers of the funding app: periods, rate cards, envelopes, allocations and their trail.

Read serializers render rows as the viewsets fetch them, with related rows as small "brief"
objects and money as DRF renders ``Decimal`` (a string with two places). Computed figures (an
allocation's amount, an envelope's allocated and unfunded money) are read-only and come from the
serializer context, which the viewset fills once per response, so a page of rows costs the same
queries as one row. Input serializers check the shape of a write; the rules (limits, closed
periods, stale edits, reasons for approved allocations) are the services'.
"""

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from funding.models import (
    Allocation,
    AllocationChange,
    AllocationStatus,
    Envelope,
    FiscalPeriod,
    Rate,
)
from portfolio.common.api import UserBriefSerializer
from products.api.serializers import (
    DisciplineBriefSerializer,
    SlugOrIdRelatedField,
    TeamBriefSerializer,
)
from products.models import Discipline, Team
from valuestreams.api.maps import ValueStreamBriefSerializer
from valuestreams.models import ValueStream

TIMESTAMPS = ("created_at", "updated_at")
PLAN_STATUS_CHOICES = [("", "No allocations"), *AllocationStatus.choices]


def money_field(**kwargs: Any) -> serializers.DecimalField:
    """Money in the installation's currency: a string with two places (``"1234.50"``)."""
    return serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True, **kwargs)


def percent_field(**kwargs: Any) -> serializers.DecimalField:
    """A percent with two places, rendered like the stored percents (``"33.33"``)."""
    return serializers.DecimalField(max_digits=7, decimal_places=2, read_only=True, **kwargs)


# Brief shapes of related rows -------------------------------------------------------------------


class FiscalPeriodBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = FiscalPeriod
        fields = ("id", "name", "status")
        read_only_fields = fields


# Read serializers ------------------------------------------------------------------------------


class FiscalPeriodSerializer(serializers.ModelSerializer):
    days = serializers.IntegerField(
        read_only=True, help_text="Days in the period, both ends included."
    )
    plan_status = serializers.ChoiceField(
        choices=PLAN_STATUS_CHOICES,
        read_only=True,
        help_text="The least advanced status among the period's allocations; empty without any.",
    )
    allocation_count = serializers.IntegerField(
        source="allocated_cells", read_only=True, help_text="Allocations (matrix cells) set."
    )
    envelope_count = serializers.IntegerField(read_only=True)
    web_url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = FiscalPeriod
        fields = (
            "id",
            "name",
            "start",
            "end",
            "status",
            "days",
            "plan_status",
            "allocation_count",
            "envelope_count",
            "web_url",
            *TIMESTAMPS,
        )
        read_only_fields = fields


class RateSerializer(serializers.ModelSerializer):
    period = FiscalPeriodBriefSerializer(read_only=True)
    discipline = DisciplineBriefSerializer(read_only=True)

    class Meta:
        model = Rate
        fields = ("id", "period", "discipline", "annual_cost", *TIMESTAMPS)
        read_only_fields = fields


class EnvelopeSerializer(serializers.ModelSerializer):
    period = FiscalPeriodBriefSerializer(read_only=True)
    value_stream = ValueStreamBriefSerializer(read_only=True)
    allocated = serializers.SerializerMethodField(
        help_text="Money the period's allocations give the value stream (each cell to the cent)."
    )
    unfunded = serializers.SerializerMethodField(
        help_text="Envelope not yet allocated: amount - allocated."
    )

    class Meta:
        model = Envelope
        fields = (
            "id",
            "period",
            "value_stream",
            "amount",
            "min_debt_risk_percent",
            "notes",
            "allocated",
            "unfunded",
            *TIMESTAMPS,
        )
        read_only_fields = fields

    def _allocated(self, envelope: Envelope) -> Decimal:
        return self.context["envelope_allocated"][envelope.pk]

    @extend_schema_field(money_field())
    def get_allocated(self, envelope: Envelope) -> str:
        return money_field().to_representation(self._allocated(envelope))

    @extend_schema_field(money_field())
    def get_unfunded(self, envelope: Envelope) -> str:
        return money_field().to_representation(envelope.amount - self._allocated(envelope))


class AllocationSerializer(serializers.ModelSerializer):
    period = FiscalPeriodBriefSerializer(read_only=True)
    team = TeamBriefSerializer(read_only=True)
    value_stream = ValueStreamBriefSerializer(read_only=True)
    amount = serializers.SerializerMethodField(
        help_text="percent x the team's capacity cost in the period / 100, to the cent (half-up)."
    )
    version = serializers.IntegerField(
        read_only=True, help_text="Grows with every change; send it back to refuse stale edits."
    )

    class Meta:
        model = Allocation
        fields = (
            "id",
            "period",
            "team",
            "value_stream",
            "percent",
            "amount",
            "status",
            "version",
            *TIMESTAMPS,
        )
        read_only_fields = fields

    @extend_schema_field(money_field())
    def get_amount(self, allocation: Allocation) -> str:
        return money_field().to_representation(self.context["allocation_amounts"][allocation.pk])


class AllocationChangeSerializer(serializers.ModelSerializer):
    actor = UserBriefSerializer(read_only=True, allow_null=True)
    percent_before = percent_field(allow_null=True, help_text="Empty when the cell was created.")
    percent_after = percent_field(allow_null=True, help_text="Empty when the cell was removed.")

    class Meta:
        model = AllocationChange
        fields = (
            "id",
            "action",
            "percent_before",
            "percent_after",
            "status_before",
            "status_after",
            "reason",
            "actor",
            "at",
        )
        read_only_fields = fields


class MoveResultSerializer(serializers.Serializer):
    moved = serializers.IntegerField(read_only=True, help_text="Allocations that moved a step.")
    plan_status = serializers.ChoiceField(choices=PLAN_STATUS_CHOICES, read_only=True)


# The period summary -----------------------------------------------------------------------------


class SummaryTeamSerializer(serializers.Serializer):
    team = TeamBriefSerializer(read_only=True)
    capacity = money_field(help_text="The team's capacity cost in the period.")
    capacity_complete = serializers.BooleanField(
        read_only=True, help_text="False when a member's discipline has no rate on the card."
    )
    unpriced_members = serializers.IntegerField(read_only=True)
    allocated_percent = percent_field()
    allocated = money_field()
    unallocated = money_field()
    actual_to_date = money_field()


class SummaryValueStreamSerializer(serializers.Serializer):
    value_stream = ValueStreamBriefSerializer(read_only=True)
    envelope = money_field(allow_null=True, help_text="Empty when it has no envelope.")
    allocated = money_field()
    unfunded = money_field(allow_null=True, help_text="Envelope - allocated; empty without one.")
    actual_to_date = money_field(
        help_text="Each team's actual spend x its percent in the value stream."
    )


class SummaryTotalsSerializer(serializers.Serializer):
    capacity = money_field()
    allocated = money_field()
    unallocated = money_field()
    envelope = money_field()
    actual_to_date = money_field()
    plan_status = serializers.ChoiceField(choices=PLAN_STATUS_CHOICES, read_only=True)


class PeriodSummarySerializer(serializers.Serializer):
    period = FiscalPeriodBriefSerializer(read_only=True)
    teams = SummaryTeamSerializer(many=True, read_only=True)
    value_streams = SummaryValueStreamSerializer(many=True, read_only=True)
    totals = SummaryTotalsSerializer(read_only=True)


# Input serializers -----------------------------------------------------------------------------


def period_field(**kwargs: Any) -> serializers.PrimaryKeyRelatedField:
    return serializers.PrimaryKeyRelatedField(
        queryset=FiscalPeriod.objects.all(),
        error_messages={"does_not_exist": 'No fiscal period with id "{pk_value}".'},
        **kwargs,
    )


def _ref_field(model: Any, what: str) -> Any:
    @extend_schema_field(
        {
            "oneOf": [{"type": "integer"}, {"type": "string"}],
            "description": f"The {what}'s id or slug.",
        }
    )
    class Field(SlugOrIdRelatedField):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(queryset=model.objects.all(), **kwargs)

    Field.__name__ = f"{model.__name__}RefField"
    return Field


TeamField = _ref_field(Team, "team")
ValueStreamField = _ref_field(ValueStream, "value stream")
DisciplineField = _ref_field(Discipline, "discipline")


def money_input(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=Decimal("0"), **kwargs
    )


PERCENT_MESSAGES: dict[str, Any] = {
    "min_value": "A percent is above 0 (delete the allocation to empty the cell).",
    "max_value": "A percent is between 0 and 100.",
}


def percent_input(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=Decimal("100"),
        error_messages=PERCENT_MESSAGES,
        **kwargs,
    )


class FiscalPeriodUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    start = serializers.DateField()
    end = serializers.DateField(help_text="The last day of the period (included).")


class FiscalPeriodCreateSerializer(FiscalPeriodUpdateSerializer):
    copy_rates_from = period_field(
        required=False,
        allow_null=True,
        help_text="Id of a period whose rate card the new period starts from.",
    )


class FiscalPeriodStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=FiscalPeriod.Status.choices,
        help_text="planning -> active -> closed; active may go back to planning; closed is final.",
    )


class RateUpdateSerializer(serializers.Serializer):
    annual_cost = money_input(help_text="Annual fully-loaded cost of one full-time person.")


class RateCreateSerializer(RateUpdateSerializer):
    period = period_field(help_text="The period's id.")
    discipline = DisciplineField()

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if Rate.objects.filter(period=data["period"], discipline=data["discipline"]).exists():
            raise serializers.ValidationError(
                {"discipline": "This period's rate card already has a rate for this discipline."}
            )
        return data


class EnvelopeUpdateSerializer(serializers.Serializer):
    amount = money_input(help_text="Not less than what is already allocated into the value stream.")
    min_debt_risk_percent = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        required=False,
        allow_null=True,
        help_text="Guardrail: the least share of the funded capacity for debt and risk work.",
    )
    notes = serializers.CharField(required=False, allow_blank=True)


class EnvelopeCreateSerializer(EnvelopeUpdateSerializer):
    period = period_field(help_text="The period's id.")
    value_stream = ValueStreamField()

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if Envelope.objects.filter(
            period=data["period"], value_stream=data["value_stream"]
        ).exists():
            raise serializers.ValidationError(
                {"value_stream": "This value stream already has an envelope for the period."}
            )
        return data


class AllocationUpdateSerializer(serializers.Serializer):
    percent = percent_input(help_text="Percent of the team's capacity cost, 0.01 to 100.")
    version = serializers.IntegerField(
        min_value=1,
        required=False,
        allow_null=True,
        help_text="The version the change is based on: refused as stale if the row moved on.",
    )
    reason = serializers.CharField(
        required=False, allow_blank=True, help_text="Why; required to change an approved one."
    )


class AllocationCreateSerializer(serializers.Serializer):
    period = period_field(help_text="The period's id.")
    team = TeamField()
    value_stream = ValueStreamField()
    percent = percent_input(help_text="Percent of the team's capacity cost, 0.01 to 100.")
    reason = serializers.CharField(required=False, allow_blank=True)

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if Allocation.objects.filter(
            period=data["period"], team=data["team"], value_stream=data["value_stream"]
        ).exists():
            raise serializers.ValidationError(
                {
                    "value_stream": "This team already has an allocation to this value stream in "
                    "the period; change that one."
                }
            )
        return data


class AllocationDeleteSerializer(serializers.Serializer):
    reason = serializers.CharField(
        required=False, allow_blank=True, help_text="Why; required to remove an approved one."
    )
    version = serializers.IntegerField(min_value=1, required=False, allow_null=True)


class AllocationMoveSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    team = TeamField(required=False, allow_null=True, help_text="Only this team's allocations.")
    value_stream = ValueStreamField(
        required=False, allow_null=True, help_text="Only this value stream's allocations."
    )
