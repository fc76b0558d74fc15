"""API endpoints of value stream maps: the maps, their steps, metrics and improvement outcomes.

- ``value-stream-maps``: CRUD, filterable by ``value_stream`` (id) and ``state``;
  ``{id}/metrics/`` the map's figures (DESIGN.md, "Value stream map"); ``{id}/steps/`` the steps
  in order (GET) or a new one (POST).
- ``map-steps``: a step read, changed (PATCH/PUT), removed (DELETE) or moved (``{id}/move/``).
- ``improvement-outcomes``: CRUD, filterable by ``map``, each with the map's figure and whether
  it meets the target.

Writes go through ``valuestreams.maps`` with the signed-in user as actor; times and percents are
JSON numbers. Portfolio managers write; everyone signed in reads (403 for other writes).
"""

from decimal import Decimal
from typing import Any

import django_filters
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from portfolio.common.api import (
    ServiceCreateMixin,
    ServiceUpdateMixin,
    ServiceViewSet,
    service_errors,
    write_schemas,
)
from valuestreams import maps
from valuestreams.mapmetrics import MapMetrics, map_metrics, outcome_met
from valuestreams.measured import MeasuredMap, measured_map, measured_window
from valuestreams.models import ImprovementOutcome, MapStep, ValueStream, ValueStreamMap

# Serializers ------------------------------------------------------------------------------------


def minutes_field(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=14, decimal_places=2, coerce_to_string=False, **kwargs
    )


class ValueStreamBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = ValueStream
        fields = ("id", "slug", "name")
        read_only_fields = fields


class ValueStreamMapSerializer(serializers.ModelSerializer):
    value_stream = ValueStreamBriefSerializer(read_only=True)
    step_count = serializers.IntegerField(read_only=True)
    web_url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = ValueStreamMap
        fields = (
            "id",
            "value_stream",
            "state",
            "name",
            "mapped_on",
            "notes",
            "step_count",
            "web_url",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class ValueStreamMapUpdateSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=ValueStreamMap.State.choices, required=False)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    mapped_on = serializers.DateField(required=False)
    notes = serializers.CharField(required=False, allow_blank=True)


class ValueStreamMapCreateSerializer(ValueStreamMapUpdateSerializer):
    value_stream = serializers.PrimaryKeyRelatedField(
        queryset=ValueStream.objects.all(), help_text="Id of the value stream mapped."
    )


class MapStepSerializer(serializers.ModelSerializer):
    process_time_minutes = minutes_field(read_only=True)
    lead_time_minutes = minutes_field(read_only=True)
    percent_complete_accurate = serializers.DecimalField(
        max_digits=5, decimal_places=2, coerce_to_string=False, read_only=True
    )
    wait_minutes = minutes_field(read_only=True, help_text="Lead time less process time.")

    class Meta:
        model = MapStep
        fields = (
            "id",
            "map",
            "order",
            "name",
            "process_time_minutes",
            "lead_time_minutes",
            "wait_minutes",
            "percent_complete_accurate",
            "performed_by",
            "notes",
        )
        read_only_fields = fields


class MapStepUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    process_time_minutes = minutes_field(required=False, help_text="Hands-on time; 0 for a queue.")
    lead_time_minutes = minutes_field(
        required=False, help_text="From work available to handed on; at least the process time."
    )
    percent_complete_accurate = serializers.DecimalField(
        max_digits=5, decimal_places=2, coerce_to_string=False, required=False
    )
    performed_by = serializers.CharField(max_length=200, required=False, allow_blank=True)
    notes = serializers.CharField(required=False, allow_blank=True)
    order = serializers.IntegerField(
        min_value=1, required=False, help_text="Place in the map, 1 = first; beyond the end: last."
    )


class MapStepCreateSerializer(MapStepUpdateSerializer):
    name = serializers.CharField(max_length=200)
    process_time_minutes = minutes_field(help_text="Hands-on time; 0 for a queue.")
    lead_time_minutes = minutes_field(
        help_text="From work available to handed on; at least the process time."
    )


class MapStepMoveSerializer(serializers.Serializer):
    order = serializers.IntegerField(min_value=1, help_text="The new place, 1 = first.")


class ImprovementOutcomeSerializer(serializers.ModelSerializer):
    target = minutes_field(read_only=True)
    value = serializers.SerializerMethodField(
        method_name="get_figure", help_text="The map's figure today."
    )
    met = serializers.SerializerMethodField(
        help_text="Whether the figure is below/above the target; null for a map without steps."
    )

    class Meta:
        model = ImprovementOutcome
        fields = ("id", "map", "description", "metric", "comparator", "target", "value", "met")
        read_only_fields = fields

    def _metrics(self, outcome: ImprovementOutcome) -> MapMetrics:
        return map_metrics(outcome.map.steps.all())

    def get_figure(self, outcome: ImprovementOutcome) -> float | None:
        value = self._metrics(outcome).value(outcome.metric)
        return float(value) if value is not None else None

    def get_met(self, outcome: ImprovementOutcome) -> bool | None:
        value = self._metrics(outcome).value(outcome.metric)
        return outcome_met(outcome.comparator, outcome.target, value)


class ImprovementOutcomeUpdateSerializer(serializers.Serializer):
    description = serializers.CharField(max_length=300, required=False)
    metric = serializers.ChoiceField(choices=ImprovementOutcome.Metric.choices, required=False)
    comparator = serializers.ChoiceField(
        choices=ImprovementOutcome.Comparator.choices, required=False
    )
    target = minutes_field(required=False)


class ImprovementOutcomeCreateSerializer(serializers.Serializer):
    map = serializers.PrimaryKeyRelatedField(queryset=ValueStreamMap.objects.all())
    description = serializers.CharField(max_length=300)
    metric = serializers.ChoiceField(choices=ImprovementOutcome.Metric.choices)
    comparator = serializers.ChoiceField(choices=ImprovementOutcome.Comparator.choices)
    target = minutes_field()


class StepBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class StepWaitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    order = serializers.IntegerField()
    wait_minutes = serializers.FloatField()


class MapMetricsSerializer(serializers.Serializer):
    total_lead_time_minutes = serializers.FloatField()
    total_process_time_minutes = serializers.FloatField()
    total_wait_minutes = serializers.FloatField()
    activity_ratio = serializers.FloatField(
        allow_null=True, help_text="Total process time / total lead time x 100; null without steps."
    )
    rolled_percent_complete_accurate = serializers.FloatField(
        allow_null=True, help_text="Product of each step's %C&A / 100, x 100; null without steps."
    )
    bottleneck_step = StepBriefSerializer(
        allow_null=True, help_text="The step with the largest wait; ties: the earliest."
    )
    steps = StepWaitSerializer(many=True)


def metrics_data(metrics: MapMetrics) -> dict[str, Any]:
    """The metrics endpoint's answer."""

    def number(value: Decimal | None) -> float | None:
        return float(value) if value is not None else None

    bottleneck = metrics.bottleneck
    return {
        "total_lead_time_minutes": number(metrics.total_lead_time_minutes),
        "total_process_time_minutes": number(metrics.total_process_time_minutes),
        "total_wait_minutes": number(metrics.total_wait_minutes),
        "activity_ratio": number(metrics.activity_ratio),
        "rolled_percent_complete_accurate": number(metrics.rolled_percent_complete_accurate),
        "bottleneck_step": {"id": bottleneck.id, "name": bottleneck.name} if bottleneck else None,
        "steps": [
            {"id": s.id, "name": s.name, "order": s.order, "wait_minutes": float(s.wait_minutes)}
            for s in metrics.steps
        ],
    }


class MeasuredStepSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    order = serializers.IntegerField()
    statuses = serializers.ListField(child=serializers.CharField())
    items = serializers.IntegerField(help_text="Items that spent time in the step's statuses.")
    process_time_minutes = serializers.FloatField(allow_null=True)
    wait_minutes = serializers.FloatField(allow_null=True)
    lead_time_minutes = serializers.FloatField(allow_null=True)


class MeasuredMapSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    steps = MeasuredStepSerializer(many=True)
    metrics = MapMetricsSerializer(allow_null=True)


def measured_data(measured: MeasuredMap) -> dict[str, Any]:
    """The measured endpoint's answer."""

    def number(value: Decimal | None) -> float | None:
        return float(value) if value is not None else None

    return {
        "start": measured.start.isoformat(),
        "end": measured.end.isoformat(),
        "steps": [
            {
                "id": m.step.id,
                "name": m.step.name,
                "order": m.step.order,
                "statuses": list(m.step.statuses or []),
                "items": m.items,
                "process_time_minutes": number(m.process_time_minutes),
                "wait_minutes": number(m.wait_minutes),
                "lead_time_minutes": number(m.lead_time_minutes),
            }
            for m in measured.steps
        ],
        "metrics": metrics_data(measured.metrics) if measured.metrics is not None else None,
    }


# Filters ----------------------------------------------------------------------------------------


class ValueStreamMapFilter(django_filters.FilterSet):
    value_stream = django_filters.NumberFilter(
        field_name="value_stream_id", label="Value stream id"
    )
    state = django_filters.ChoiceFilter(choices=ValueStreamMap.State.choices)

    class Meta:
        model = ValueStreamMap
        fields = ["value_stream", "state"]


class MapScopedFilter(django_filters.FilterSet):
    map = django_filters.NumberFilter(field_name="map_id", label="Map id")


class MapStepFilter(MapScopedFilter):
    class Meta:
        model = MapStep
        fields = ["map"]


class ImprovementOutcomeFilter(MapScopedFilter):
    class Meta:
        model = ImprovementOutcome
        fields = ["map"]


# ViewSets ---------------------------------------------------------------------------------------


class ServiceDestroyMixin(mixins.DestroyModelMixin):
    """``DELETE`` through the row's service (204)."""

    def perform_service_destroy(self, instance: Any) -> None:
        raise NotImplementedError

    def perform_destroy(self, instance: Any) -> None:
        with service_errors():
            self.perform_service_destroy(instance)


@extend_schema_view(
    **write_schemas(
        read=ValueStreamMapSerializer,
        create=ValueStreamMapCreateSerializer,
        update=ValueStreamMapUpdateSerializer,
    )
)
class ValueStreamMapViewSet(
    ServiceCreateMixin, ServiceUpdateMixin, ServiceDestroyMixin, ServiceViewSet
):
    """Current- and future-state maps of the value streams."""

    serializer_class = ValueStreamMapSerializer
    input_serializer_class = ValueStreamMapCreateSerializer
    update_serializer_class = ValueStreamMapUpdateSerializer
    filterset_class = ValueStreamMapFilter
    ordering_fields = ("mapped_on", "state", "name", "created_at", "updated_at")
    # Adding a step changes the map: portfolio managers' change permission on maps.
    action_permissions = {"steps": "change"}

    def get_queryset(self):
        return maps.map_list(user=self.request.user)

    def perform_service_create(self, data: dict[str, Any]):
        return maps.map_create(actor=self.actor, **data)

    def perform_service_update(self, instance, data: dict[str, Any]):
        return maps.map_update(actor=self.actor, vsm=instance, **data)

    def perform_service_destroy(self, instance) -> None:
        maps.map_delete(actor=self.actor, vsm=instance)

    def _detailed(self) -> ValueStreamMap:
        return get_object_or_404(
            maps.map_detail_queryset(user=self.request.user), pk=self.kwargs["pk"]
        )

    @extend_schema(
        responses=MapMetricsSerializer,
        summary="Map metrics",
        description="Totals, activity ratio, rolled %C&A, the bottleneck and each step's wait, "
        "computed as DESIGN.md defines them. Times in minutes, ratios in percent.",
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def metrics(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        vsm = self._detailed()
        return Response(metrics_data(map_metrics(vsm.steps.all())))

    @extend_schema(
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, description="First day (UTC)."),
            OpenApiParameter("to", OpenApiTypes.DATE, description="Last day (UTC), included."),
        ],
        responses=MeasuredMapSerializer,
        summary="Measured map",
        description="Each step measured from the status history of the value stream's items "
        "in [from, to] (default: the last 90 days): median process time and wait in minutes "
        "over the items that spent time in the step's statuses, and the map metrics of the "
        "measured figures (null without any measured step).",
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def measured(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        vsm = self._detailed()
        with service_errors():
            start, end = measured_window(
                request.query_params.get("from"),
                request.query_params.get("to"),
                today=timezone.now().date(),
            )
        return Response(measured_data(measured_map(value_stream_map=vsm, start=start, end=end)))

    @extend_schema(
        methods=["GET"],
        responses=MapStepSerializer(many=True),
        summary="Steps of a map",
        description="The map's steps in order.",
    )
    @extend_schema(
        methods=["POST"],
        request=MapStepCreateSerializer,
        responses={201: MapStepSerializer},
        summary="Add a step",
        description="Add a step at place `order` (1 = first; left out: last).",
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def steps(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        vsm = self._detailed()
        if request.method == "GET":
            return Response(MapStepSerializer(vsm.steps.all(), many=True).data)
        data = self.validated_input(MapStepCreateSerializer)
        with service_errors():
            step = maps.step_add(actor=self.actor, vsm=vsm, **data)
        return Response(MapStepSerializer(step).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    **write_schemas(read=MapStepSerializer, update=MapStepUpdateSerializer),
)
class MapStepViewSet(ServiceUpdateMixin, ServiceDestroyMixin, ServiceViewSet):
    """The steps of the maps (add them through ``value-stream-maps/{id}/steps/``)."""

    serializer_class = MapStepSerializer
    input_serializer_class = MapStepUpdateSerializer
    filterset_class = MapStepFilter
    ordering_fields = ("order",)
    action_permissions = {"move": "change"}

    def get_queryset(self):
        return maps.step_list(user=self.request.user).select_related("map")

    def perform_service_update(self, instance, data: dict[str, Any]):
        return maps.step_update(actor=self.actor, step=instance, **data)

    def perform_service_destroy(self, instance) -> None:
        maps.step_delete(actor=self.actor, step=instance)

    @extend_schema(
        request=MapStepMoveSerializer,
        responses=MapStepSerializer,
        summary="Move a step",
        description="Move the step to another place; the others close up.",
    )
    @action(detail=True, methods=["post"])
    def move(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        step = self.get_object()
        data = self.validated_input(MapStepMoveSerializer)
        with service_errors():
            step = maps.step_move(actor=self.actor, step=step, order=data["order"])
        return self.rendered(step)


@extend_schema_view(
    **write_schemas(
        read=ImprovementOutcomeSerializer,
        create=ImprovementOutcomeCreateSerializer,
        update=ImprovementOutcomeUpdateSerializer,
    )
)
class ImprovementOutcomeViewSet(
    ServiceCreateMixin, ServiceUpdateMixin, ServiceDestroyMixin, ServiceViewSet
):
    """What each mapping is meant to achieve, with the map's figure and whether it is met."""

    serializer_class = ImprovementOutcomeSerializer
    input_serializer_class = ImprovementOutcomeCreateSerializer
    update_serializer_class = ImprovementOutcomeUpdateSerializer
    filterset_class = ImprovementOutcomeFilter
    ordering_fields = ("id",)

    def get_queryset(self):
        return maps.improvement_outcome_list(user=self.request.user).prefetch_related("map__steps")

    def perform_service_create(self, data: dict[str, Any]):
        return maps.improvement_outcome_create(actor=self.actor, vsm=data.pop("map"), **data)

    def perform_service_update(self, instance, data: dict[str, Any]):
        return maps.improvement_outcome_update(actor=self.actor, outcome=instance, **data)

    def perform_service_destroy(self, instance) -> None:
        maps.improvement_outcome_delete(actor=self.actor, outcome=instance)
