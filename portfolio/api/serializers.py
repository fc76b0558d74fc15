"""API serializers of the transition: units, criteria, assessments and their answers.

Read serializers render rows as the selectors return them; input serializers check the shape of a
write, which ``portfolio.services`` then makes (the rules: every criterion answered once, advancing
only when all are met or with an override reason).
"""

from rest_framework import serializers

from portfolio.common.api import UserBriefSerializer
from portfolio.evidence import EVIDENCE_CHOICES
from portfolio.models import (
    AssessmentAnswer,
    Stage,
    TransitionAssessment,
    TransitionCriterion,
    TransitionUnit,
)
from valuestreams.api.maps import ValueStreamBriefSerializer
from valuestreams.models import ValueStream

EVIDENCE_LABELS = dict(EVIDENCE_CHOICES)


class TransitionUnitSerializer(serializers.ModelSerializer):
    value_stream = ValueStreamBriefSerializer(
        read_only=True, allow_null=True, help_text="Null for the organisation as a whole."
    )
    name = serializers.CharField(read_only=True)
    stage_label = serializers.CharField(source="get_stage_display", read_only=True)

    class Meta:
        model = TransitionUnit
        fields = ("id", "value_stream", "name", "stage", "stage_label", "stage_since")
        read_only_fields = fields


class TransitionCriterionSerializer(serializers.ModelSerializer):
    stage_label = serializers.CharField(source="get_stage_display", read_only=True)
    evidence_label = serializers.SerializerMethodField(
        help_text="The data figure shown beside the answer; empty when people judge it."
    )

    class Meta:
        model = TransitionCriterion
        fields = (
            "id",
            "stage",
            "stage_label",
            "text",
            "order",
            "evidence",
            "evidence_label",
            "archived_at",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields

    def get_evidence_label(self, criterion: TransitionCriterion) -> str:
        return EVIDENCE_LABELS.get(criterion.evidence, "") if criterion.evidence else ""


class TransitionCriterionInputSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=Stage.choices)
    text = serializers.CharField(max_length=300)
    order = serializers.IntegerField(
        min_value=0,
        max_value=32767,
        required=False,
        help_text="Place in the stage's checklist; left out on create, it goes at the end.",
    )
    evidence = serializers.ChoiceField(
        choices=EVIDENCE_CHOICES,
        required=False,
        allow_blank=True,
        help_text="A figure the data computes for this criterion; empty when people judge it.",
    )


class CriterionBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = TransitionCriterion
        fields = ("id", "stage", "text")
        read_only_fields = fields


class AssessmentAnswerSerializer(serializers.ModelSerializer):
    criterion = CriterionBriefSerializer(read_only=True)

    class Meta:
        model = AssessmentAnswer
        fields = ("id", "criterion", "answer", "evidence_note", "data_evidence")
        read_only_fields = fields


class TransitionAssessmentSerializer(serializers.ModelSerializer):
    unit = TransitionUnitSerializer(read_only=True)
    assessor = UserBriefSerializer(read_only=True, allow_null=True)
    answers = AssessmentAnswerSerializer(many=True, read_only=True)
    stage_label = serializers.CharField(source="get_stage_display", read_only=True)
    # A plain number (1-5) rather than a second enum of the same stages.
    stage_after = serializers.IntegerField(
        read_only=True, help_text="The unit's stage after the assessment (1 to 5)."
    )
    stage_after_label = serializers.CharField(source="get_stage_after_display", read_only=True)

    class Meta:
        model = TransitionAssessment
        fields = (
            "id",
            "unit",
            "assessed_on",
            "assessor",
            "stage",
            "stage_label",
            "outcome",
            "stage_after",
            "stage_after_label",
            "notes",
            "override_reason",
            "recorded_at",
            "answers",
        )
        read_only_fields = fields


class AssessmentAnswerInputSerializer(serializers.Serializer):
    criterion = serializers.IntegerField(help_text="Id of a criterion of the unit's current stage.")
    answer = serializers.ChoiceField(choices=AssessmentAnswer.Answer.choices)
    note = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="The evidence people give."
    )


class TransitionAssessmentInputSerializer(serializers.Serializer):
    value_stream = serializers.PrimaryKeyRelatedField(
        queryset=ValueStream.objects.active(),
        allow_null=True,
        help_text="Id of the value stream assessed; null for the organisation as a whole.",
    )
    assessed_on = serializers.DateField(required=False, help_text="Today when left out.")
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    advance = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Advance to the next stage: when every criterion is met, or with a reason.",
    )
    override_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Why advance although not every criterion is met.",
    )
    answers = AssessmentAnswerInputSerializer(
        many=True, help_text="One answer per criterion of the unit's current stage."
    )
