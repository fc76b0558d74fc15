"""API endpoints of the transition: ``transition-assessments``, ``transition-criteria`` and
``transition-units``.

Everyone signed in reads. Executives and portfolio managers record assessments (the unit of a value
stream is made at stage 1 on its first one); portfolio managers add, change and archive criteria.
Writes go through ``portfolio.services`` with the signed-in user as the actor; a refusal answers 400
with field errors and writes nothing.
"""

from typing import Any

import django_filters
from django.db import transaction
from drf_spectacular.utils import extend_schema_view

from portfolio import selectors_transition as selectors
from portfolio import services
from portfolio.api.serializers import (
    TransitionAssessmentInputSerializer,
    TransitionAssessmentSerializer,
    TransitionCriterionInputSerializer,
    TransitionCriterionSerializer,
    TransitionUnitSerializer,
)
from portfolio.common.api import (
    ArchiveActionsMixin,
    ServiceCreateMixin,
    ServiceUpdateMixin,
    ServiceViewSet,
    write_schemas,
)
from portfolio.models import Stage, TransitionAssessment, TransitionCriterion, TransitionUnit


class TransitionAssessmentFilter(django_filters.FilterSet):
    value_stream = django_filters.NumberFilter(
        field_name="unit__value_stream", label="Value stream (id)"
    )
    organisation = django_filters.BooleanFilter(
        method="filter_organisation", label="Only the organisation's (true) or only value streams'"
    )
    outcome = django_filters.ChoiceFilter(choices=TransitionAssessment.Outcome.choices)

    class Meta:
        model = TransitionAssessment
        fields = ["value_stream", "organisation", "outcome"]

    def filter_organisation(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(unit__value_stream__isnull=value)


ARCHIVED_CHOICES = (("false", "Active"), ("true", "Archived"), ("all", "All"))


class TransitionCriterionFilter(django_filters.FilterSet):
    stage = django_filters.ChoiceFilter(choices=Stage.choices)
    archived = django_filters.ChoiceFilter(
        choices=ARCHIVED_CHOICES, method="filter_archived", label="Show (default: active)"
    )

    class Meta:
        model = TransitionCriterion
        fields = ["stage", "archived"]

    def filter_queryset(self, queryset):
        """Archived criteria stay out unless ``archived`` asks for them."""
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("archived"):
            queryset = queryset.filter(archived_at__isnull=True)
        return queryset

    def filter_archived(self, queryset, name, value):
        if value == "true":
            return queryset.filter(archived_at__isnull=False)
        if value == "all":
            return queryset
        return queryset.filter(archived_at__isnull=True)


class TransitionUnitFilter(django_filters.FilterSet):
    value_stream = django_filters.NumberFilter(field_name="value_stream", label="Value stream (id)")
    organisation = django_filters.BooleanFilter(
        field_name="value_stream", lookup_expr="isnull", label="Only the organisation (true)"
    )
    stage = django_filters.ChoiceFilter(choices=Stage.choices)

    class Meta:
        model = TransitionUnit
        fields = ["value_stream", "organisation", "stage"]


@extend_schema_view(
    **write_schemas(read=TransitionAssessmentSerializer, create=TransitionAssessmentInputSerializer)
)
class TransitionAssessmentViewSet(ServiceCreateMixin, ServiceViewSet):
    """Dated assessments of the organisation or a value stream against its current stage's
    criteria, each answer with its evidence note and the data's figure at the time, and the
    outcome: stayed, advanced (all met) or advanced by override (with its reason).

    ``POST`` answers every criterion of the unit's current stage once; ``advance`` moves the unit
    on when all are met, otherwise only with an ``override_reason``.
    """

    serializer_class = TransitionAssessmentSerializer
    input_serializer_class = TransitionAssessmentInputSerializer
    filterset_class = TransitionAssessmentFilter
    ordering_fields = ("assessed_on", "recorded_at", "stage")
    ordering = ("-assessed_on", "-recorded_at", "-id")
    http_method_names = ("get", "post", "head", "options")

    def get_queryset(self):
        return selectors.assessment_queryset()

    @transaction.atomic
    def perform_service_create(self, data: dict[str, Any]):
        # The unit's row and the assessment together: a refusal leaves no new unit behind.
        unit = services.unit_for(data["value_stream"])
        return services.assessment_record(
            actor=self.actor,
            unit=unit,
            answers=[
                services.Answer(criterion_id=a["criterion"], answer=a["answer"], note=a["note"])
                for a in data["answers"]
            ],
            assessed_on=data.get("assessed_on"),
            notes=data["notes"],
            advance=data["advance"],
            override_reason=data["override_reason"],
        )


@extend_schema_view(
    **write_schemas(
        read=TransitionCriterionSerializer,
        create=TransitionCriterionInputSerializer,
        update=TransitionCriterionInputSerializer,
    )
)
class TransitionCriterionViewSet(
    ArchiveActionsMixin, ServiceCreateMixin, ServiceUpdateMixin, ServiceViewSet
):
    """The checklist of each stage: the activities the product model prescribes, each with the
    data figure (``evidence``) shown beside people's answer. Archived ones with ``?archived=``."""

    serializer_class = TransitionCriterionSerializer
    input_serializer_class = TransitionCriterionInputSerializer
    filterset_class = TransitionCriterionFilter
    ordering_fields = ("stage", "order", "created_at")
    ordering = ("stage", "order", "id")
    http_method_names = ("get", "post", "put", "patch", "head", "options")

    def get_queryset(self):
        return TransitionCriterion.objects.all()

    def perform_service_create(self, data: dict[str, Any]):
        return services.criterion_create(actor=self.actor, **data)

    def perform_service_update(self, instance, data: dict[str, Any]):
        return services.criterion_update(actor=self.actor, criterion=instance, **data)

    def perform_archive(self, instance: TransitionCriterion) -> TransitionCriterion:
        return services.criterion_archive(actor=self.actor, criterion=instance)

    def perform_restore(self, instance: TransitionCriterion) -> TransitionCriterion:
        return services.criterion_restore(actor=self.actor, criterion=instance)


class TransitionUnitViewSet(ServiceViewSet):
    """Who moves through the five stages: the organisation (no value stream) and each value
    stream assessed so far, with the current stage and since when. A value stream without a row
    stands at stage 1; its first assessment makes the row. Read-only: assessments move stages."""

    serializer_class = TransitionUnitSerializer
    filterset_class = TransitionUnitFilter
    ordering_fields = ("stage", "stage_since", "value_stream__name")
    ordering = ("value_stream__name", "id")

    def get_queryset(self):
        return TransitionUnit.objects.select_related("value_stream")
