"""API serializers of outcomes, key results, measurements, hypotheses, roadmap items and the
change history.

Read serializers render the rows the list selectors return, with the figures the services stored
(progress, expected progress, status, latest value): the API never recomputes them. Input
serializers check the shape of a write; the rules (direction agrees with the target, key results of
the same product, who may write) are the services' and the models'.
"""

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from portfolio.common.api import UserBriefSerializer
from products.api.serializers import ProductBriefSerializer, SlugOrIdRelatedField
from products.models import (
    ChangeRecord,
    Hypothesis,
    HypothesisStatusChange,
    KeyResult,
    Measurement,
    Outcome,
    Product,
    RoadmapItem,
)

TIMESTAMPS = ("created_at", "updated_at")


def percent_field(help_text: str) -> serializers.DecimalField:
    """A stored percentage (0..100, two places) as a JSON number; null without measurements."""
    return serializers.DecimalField(
        max_digits=7,
        decimal_places=2,
        coerce_to_string=False,
        read_only=True,
        allow_null=True,
        help_text=help_text,
    )


# Brief shapes of related rows -------------------------------------------------------------------


class OutcomeBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Outcome
        fields = ("id", "statement")
        read_only_fields = fields


class KeyResultBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = KeyResult
        fields = ("id", "name", "status")
        read_only_fields = fields


class KeyResultStandingSerializer(serializers.ModelSerializer):
    """A key result with its stored standing: what a new measurement moved."""

    progress = percent_field("Progress towards the target, in percent.")
    expected_progress = percent_field("Share of the time to the target date elapsed, in percent.")

    class Meta:
        model = KeyResult
        fields = ("id", "name", "progress", "expected_progress", "status")
        read_only_fields = fields


# Read serializers ------------------------------------------------------------------------------


class OutcomeSerializer(serializers.ModelSerializer):
    product = ProductBriefSerializer(read_only=True)
    web_url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = Outcome
        fields = (
            "id",
            "product",
            "statement",
            "period_start",
            "period_end",
            "order",
            "web_url",
            "archived_at",
            *TIMESTAMPS,
        )
        read_only_fields = fields


class KeyResultSerializer(serializers.ModelSerializer):
    product = ProductBriefSerializer(read_only=True)
    outcome = OutcomeBriefSerializer(read_only=True)
    progress = percent_field(
        "(latest - baseline) / (target - baseline) x 100, clamped to 0..100; null without data."
    )
    expected_progress = percent_field(
        "(latest's date - start date) / (target date - start date) x 100, clamped to 0..100; "
        "null without data."
    )
    is_stale = serializers.SerializerMethodField(
        help_text="Running (from 30 days after start to the target date) with no measurement "
        "in the last 30 days."
    )
    web_url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = KeyResult
        fields = (
            "id",
            "product",
            "outcome",
            "name",
            "kind",
            "customer_facing",
            "unit",
            "direction",
            "baseline",
            "target",
            "start_date",
            "target_date",
            "latest_value",
            "latest_date",
            "progress",
            "expected_progress",
            "status",
            "is_stale",
            "web_url",
            *TIMESTAMPS,
        )
        read_only_fields = fields

    def get_is_stale(self, key_result: KeyResult) -> bool:
        return key_result.is_stale()


class MeasurementSerializer(serializers.ModelSerializer):
    key_result = KeyResultStandingSerializer(read_only=True)
    product = ProductBriefSerializer(source="key_result.product", read_only=True)
    recorded_by = UserBriefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Measurement
        fields = (
            "id",
            "product",
            "key_result",
            "date",
            "value",
            "note",
            "recorded_by",
            *TIMESTAMPS,
        )
        read_only_fields = fields


class HypothesisStatusChangeSerializer(serializers.ModelSerializer):
    from_status = serializers.ChoiceField(
        choices=Hypothesis.Status.choices,
        allow_blank=True,
        read_only=True,
        help_text="Empty for the status the hypothesis was stated with.",
    )
    changed_by = UserBriefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = HypothesisStatusChange
        fields = ("id", "from_status", "to_status", "changed_at", "changed_by", "note")
        read_only_fields = fields


class HypothesisSerializer(serializers.ModelSerializer):
    product = ProductBriefSerializer(read_only=True)
    key_result = KeyResultBriefSerializer(read_only=True, allow_null=True)
    status_changes = HypothesisStatusChangeSerializer(
        many=True, read_only=True, help_text="Every status it has had, oldest first."
    )

    class Meta:
        model = Hypothesis
        fields = (
            "id",
            "product",
            "change",
            "expected_outcome",
            "key_result",
            "expected_move",
            "status",
            "status_changed_at",
            "evidence",
            "status_changes",
            *TIMESTAMPS,
        )
        read_only_fields = fields


class RoadmapItemSerializer(serializers.ModelSerializer):
    product = ProductBriefSerializer(read_only=True)
    key_results = KeyResultBriefSerializer(many=True, read_only=True)
    without_outcome = serializers.SerializerMethodField(
        help_text='Linked to no key result: "output without outcome".'
    )

    class Meta:
        model = RoadmapItem
        fields = (
            "id",
            "product",
            "title",
            "description",
            "horizon",
            "position",
            "key_results",
            "without_outcome",
            *TIMESTAMPS,
        )
        read_only_fields = fields

    def get_without_outcome(self, item: RoadmapItem) -> bool:
        return not item.key_results.all()  # prefetched by the selector


class ChangeRecordSerializer(serializers.ModelSerializer):
    product = ProductBriefSerializer(read_only=True)
    actor = UserBriefSerializer(read_only=True, allow_null=True)
    before = serializers.JSONField(read_only=True, allow_null=True)
    after = serializers.JSONField(read_only=True, allow_null=True)

    class Meta:
        model = ChangeRecord
        fields = (
            "id",
            "product",
            "subject_type",
            "subject_id",
            "subject_label",
            "action",
            "actor",
            "at",
            "before",
            "after",
            "reason",
        )
        read_only_fields = fields


# Input serializers -----------------------------------------------------------------------------


@extend_schema_field(
    {
        "oneOf": [{"type": "integer"}, {"type": "string"}],
        "description": "The product's id or slug.",
    }
)
class ProductField(SlugOrIdRelatedField):
    """A product named by its id or slug; the services refuse archived ones (403)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(queryset=Product.objects.all(), **kwargs)


def key_result_field(**kwargs: Any) -> serializers.PrimaryKeyRelatedField:
    return serializers.PrimaryKeyRelatedField(
        queryset=KeyResult.objects.all(),
        error_messages={"does_not_exist": 'No key result with id "{pk_value}".'},
        **kwargs,
    )


class OutcomeUpdateSerializer(serializers.Serializer):
    statement = serializers.CharField()
    period_start = serializers.DateField(required=False, allow_null=True)
    period_end = serializers.DateField(required=False, allow_null=True)
    order = serializers.IntegerField(min_value=0, required=False)


class OutcomeCreateSerializer(OutcomeUpdateSerializer):
    product = ProductField()
    order = serializers.IntegerField(
        min_value=0, required=False, help_text="Last of the product's outcomes if not given."
    )


def decimal_field(**kwargs: Any) -> serializers.DecimalField:
    """A value as the models store it: up to 12 digits before the point, 4 after."""
    return serializers.DecimalField(max_digits=16, decimal_places=4, **kwargs)


class KeyResultUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=KeyResult.Kind.choices, required=False)
    customer_facing = serializers.BooleanField(required=False)
    unit = serializers.CharField(max_length=30, required=False, allow_blank=True)
    direction = serializers.ChoiceField(choices=KeyResult.Direction.choices, required=False)
    baseline = decimal_field()
    target = decimal_field(
        help_text="Differs from the baseline: above it to increase, below to decrease."
    )
    start_date = serializers.DateField()
    target_date = serializers.DateField(help_text="After the start date.")


class KeyResultCreateSerializer(KeyResultUpdateSerializer):
    outcome = serializers.PrimaryKeyRelatedField(
        queryset=Outcome.objects.active(),
        error_messages={"does_not_exist": 'No active outcome with id "{pk_value}".'},
        help_text="The outcome's id; the key result belongs to its product.",
    )
    customer_facing = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="True by default for adoption, NPS and customer satisfaction.",
    )
    direction = serializers.ChoiceField(
        choices=KeyResult.Direction.choices,
        required=False,
        help_text="The way the target lies from the baseline if not given.",
    )


class MeasurementUpdateSerializer(serializers.Serializer):
    date = serializers.DateField()
    value = decimal_field()
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)


class MeasurementCreateSerializer(MeasurementUpdateSerializer):
    key_result = key_result_field(help_text="The key result's id.")
    date = serializers.DateField(default=timezone.localdate, help_text="Today if not given.")


class HypothesisFieldsSerializer(serializers.Serializer):
    change = serializers.CharField(help_text="We believe <this change> ...")
    expected_outcome = serializers.CharField(help_text="... will result in <this outcome> ...")
    key_result = key_result_field(
        required=False,
        allow_null=True,
        help_text="... we will know when <this key result> (of the same product) ...",
    )
    expected_move = decimal_field(
        required=False, allow_null=True, help_text="... moves by <this amount>."
    )
    status = serializers.ChoiceField(choices=Hypothesis.Status.choices, required=False)
    evidence = serializers.CharField(required=False, allow_blank=True)


class HypothesisCreateSerializer(HypothesisFieldsSerializer):
    product = ProductField()


class HypothesisUpdateSerializer(HypothesisFieldsSerializer):
    status_note = serializers.CharField(
        required=False,
        allow_blank=True,
        write_only=True,
        help_text="Why the status changed; kept with the status change.",
    )


class RoadmapItemUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    key_results = key_result_field(
        many=True,
        required=False,
        help_text="Ids of the key results (of the same product) the item should move.",
    )


class RoadmapItemCreateSerializer(RoadmapItemUpdateSerializer):
    product = ProductField()
    horizon = serializers.ChoiceField(
        choices=RoadmapItem.Horizon.choices,
        default=RoadmapItem.Horizon.LATER,
        help_text="The item goes last in this horizon.",
    )


class RoadmapItemMoveSerializer(serializers.Serializer):
    horizon = serializers.ChoiceField(choices=RoadmapItem.Horizon.choices)
    position = serializers.IntegerField(
        min_value=0,
        required=False,
        allow_null=True,
        default=None,
        help_text="0 is first; past the end or not given: last.",
    )
