"""API of scenarios: named copies of a period's allocations to change, compare and promote.

``/api/v1/scenarios/``: list (``?period=``), read (with its cells), create (a copy of the period's
plan), rename, delete; ``POST {id}/cells/`` sets one cell (limits not enforced, only 0..100),
``GET {id}/compare/`` compares it with the plan and names the limits it would break, and
``POST {id}/promote/`` makes it the plan (limits enforced, a reason required). Everyone signed in
reads; writes need finance's scenario permissions, and promotion also
``funding.change_allocation``; a refusal answers 400 ``{field: [messages]}`` with nothing written.
"""

from typing import Any

import django_filters
from django.db.models import Count, Prefetch, QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from funding import services
from funding.api.serializers import FiscalPeriodBriefSerializer
from funding.models import FiscalPeriod, Scenario, ScenarioCell
from funding.services.scenarios import ScenarioComparison
from portfolio.common.api import (
    ServiceCreateMixin,
    ServiceDestroyMixin,
    ServiceUpdateMixin,
    ServiceViewSet,
    UserBriefSerializer,
    service_errors,
    write_schemas,
)
from portfolio.common.permissions import ModelPermissionsOrReadOnly
from products.api.serializers import SlugOrIdRelatedField, TeamBriefSerializer
from products.models import Team
from valuestreams.api.maps import ValueStreamBriefSerializer
from valuestreams.models import ValueStream

PROMOTE = "funding.change_allocation"


def money(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True, **kwargs)


def percent(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=7, decimal_places=2, read_only=True, **kwargs)


class ScenarioCellSerializer(serializers.ModelSerializer):
    team = TeamBriefSerializer(read_only=True)
    value_stream = ValueStreamBriefSerializer(read_only=True)

    class Meta:
        model = ScenarioCell
        fields = ("team", "value_stream", "percent")
        read_only_fields = fields


class ScenarioSerializer(serializers.ModelSerializer):
    period = FiscalPeriodBriefSerializer(read_only=True)
    created_by = UserBriefSerializer(read_only=True, allow_null=True)
    promoted_by = UserBriefSerializer(read_only=True, allow_null=True)
    cells = ScenarioCellSerializer(many=True, read_only=True)
    cell_count = serializers.IntegerField(read_only=True)
    web_url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = Scenario
        fields = (
            "id",
            "period",
            "name",
            "description",
            "created_by",
            "promoted_at",
            "promoted_by",
            "promotion_reason",
            "cell_count",
            "cells",
            "web_url",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class ScenarioCreateSerializer(serializers.Serializer):
    period = serializers.PrimaryKeyRelatedField(
        queryset=FiscalPeriod.objects.all(), help_text="The period whose plan is copied."
    )
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(required=False, allow_blank=True, default="")


class ScenarioUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(required=False, allow_blank=True, default="")


class ScenarioCellInputSerializer(serializers.Serializer):
    team = SlugOrIdRelatedField(queryset=Team.objects.all(), help_text="Team id or slug.")
    value_stream = SlugOrIdRelatedField(
        queryset=ValueStream.objects.all(), help_text="Value stream id or slug."
    )
    percent = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        allow_null=True,
        help_text="Percent of the team's capacity, 0 to 100; null or 0 empties the cell. "
        "Limits are not enforced in a scenario.",
    )


class ScenarioPromoteSerializer(serializers.Serializer):
    reason = serializers.CharField(
        allow_blank=True, help_text="Why the scenario becomes the plan (required)."
    )


# The comparison.


class CompareCellSerializer(serializers.Serializer):
    team = TeamBriefSerializer()
    value_stream = ValueStreamBriefSerializer()
    plan_percent = percent(allow_null=True)
    plan_amount = money(allow_null=True)
    scenario_percent = percent(allow_null=True)
    scenario_amount = money(allow_null=True)
    delta_percent = percent()
    delta_amount = money()


class CompareTeamSerializer(serializers.Serializer):
    team = TeamBriefSerializer()
    capacity = money()
    capacity_complete = serializers.BooleanField()
    plan_percent = percent()
    scenario_percent = percent()
    plan_amount = money()
    scenario_amount = money()
    delta_amount = money()
    over = serializers.BooleanField(help_text="The scenario gives the team more than 100 %.")
    over_by = percent()


class CompareValueStreamSerializer(serializers.Serializer):
    value_stream = ValueStreamBriefSerializer()
    envelope = money(allow_null=True)
    plan_amount = money()
    scenario_amount = money()
    delta_amount = money()
    unfunded = money(allow_null=True, help_text="Envelope less the scenario's amount.")
    over = serializers.BooleanField(help_text="The scenario gives it more than its envelope.")
    over_by = money()


class CompareTotalsSerializer(serializers.Serializer):
    capacity = money()
    envelope = money()
    plan_amount = money()
    scenario_amount = money()
    delta_amount = money()


class BreachSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["team", "value_stream"])
    id = serializers.IntegerField(source="subject_id")
    name = serializers.CharField()
    over_by = serializers.DecimalField(max_digits=16, decimal_places=2)
    message = serializers.CharField()


class ScenarioCompareSerializer(serializers.Serializer):
    scenario = serializers.IntegerField()
    cells = CompareCellSerializer(many=True, help_text="Cells filled in the plan or the scenario.")
    teams = CompareTeamSerializer(many=True)
    value_streams = CompareValueStreamSerializer(many=True)
    totals = CompareTotalsSerializer()
    breaches = BreachSerializer(many=True, help_text="Limits a promotion would refuse.")
    changed_cells = serializers.IntegerField()


def comparison_data(comparison: ScenarioComparison) -> dict[str, Any]:
    streams = {c.value_stream.pk: c.value_stream for c in comparison.columns}
    return {
        "scenario": comparison.scenario.pk,
        "cells": [
            {
                "team": row.team,
                "value_stream": streams[cell.value_stream_id],
                "plan_percent": cell.plan_percent,
                "plan_amount": cell.plan_amount,
                "scenario_percent": cell.scenario_percent,
                "scenario_amount": cell.scenario_amount,
                "delta_percent": cell.delta_percent,
                "delta_amount": cell.delta_amount,
            }
            for row in comparison.rows
            for cell in row.cells
            if cell.plan_percent is not None or cell.scenario_percent is not None
        ],
        "teams": [
            {
                "team": row.team,
                "capacity": row.capacity.cost,
                "capacity_complete": row.capacity.complete,
                "plan_percent": row.plan_percent,
                "scenario_percent": row.scenario_percent,
                "plan_amount": row.plan_amount,
                "scenario_amount": row.scenario_amount,
                "delta_amount": row.delta_amount,
                "over": row.over,
                "over_by": row.over_by,
            }
            for row in comparison.rows
        ],
        "value_streams": [
            {
                "value_stream": column.value_stream,
                "envelope": column.envelope,
                "plan_amount": column.plan_amount,
                "scenario_amount": column.scenario_amount,
                "delta_amount": column.delta_amount,
                "unfunded": column.unfunded,
                "over": column.over,
                "over_by": column.over_by,
            }
            for column in comparison.columns
        ],
        "totals": {
            "capacity": comparison.capacity_cost,
            "envelope": comparison.envelope_amount,
            "plan_amount": comparison.plan_amount,
            "scenario_amount": comparison.scenario_amount,
            "delta_amount": comparison.delta_amount,
        },
        "breaches": comparison.breaches,
        "changed_cells": len(comparison.changed_cells()),
    }


# The endpoints.


class ScenarioFilter(django_filters.FilterSet):
    period = django_filters.NumberFilter(field_name="period_id", label="Period id")
    promoted = django_filters.BooleanFilter(
        field_name="promoted_at", lookup_expr="isnull", exclude=True, label="Promoted"
    )

    class Meta:
        model = Scenario
        fields = ["period", "promoted"]


class ScenarioPermissions(ModelPermissionsOrReadOnly):
    """The scenario model's permissions; promoting also needs ``funding.change_allocation``."""

    def has_permission(self, request: Any, view: Any) -> bool:
        if not super().has_permission(request, view):
            return False
        if getattr(view, "action", None) == "promote":
            return bool(request.user.has_perm(PROMOTE))
        return True


def scenario_queryset() -> QuerySet[Scenario]:
    """Scenarios with their period, authors and cells (three queries for any page)."""
    return (
        Scenario.objects.select_related("period", "created_by", "promoted_by")
        .annotate(cell_count=Count("cells"))
        .prefetch_related(
            Prefetch(
                "cells",
                queryset=ScenarioCell.objects.select_related("team", "value_stream")
                .only(
                    "id",
                    "scenario_id",
                    "percent",
                    "team__id",
                    "team__slug",
                    "team__name",
                    "value_stream__id",
                    "value_stream__slug",
                    "value_stream__name",
                )
                .order_by("team__name", "value_stream__name", "pk"),
            )
        )
    )


@extend_schema_view(
    **write_schemas(
        read=ScenarioSerializer, create=ScenarioCreateSerializer, update=ScenarioUpdateSerializer
    )
)
class ScenarioViewSet(ServiceCreateMixin, ServiceUpdateMixin, ServiceDestroyMixin, ServiceViewSet):
    """Scenarios of fiscal periods: copies of the plan to change freely, compare and promote."""

    serializer_class = ScenarioSerializer
    input_serializer_class = ScenarioCreateSerializer
    update_serializer_class = ScenarioUpdateSerializer
    filterset_class = ScenarioFilter
    permission_classes = [ScenarioPermissions]
    action_permissions = {"cells": "change", "promote": "change"}
    ordering_fields = ("name", "created_at", "promoted_at")
    ordering = ("period__start", "name", "id")

    def get_queryset(self) -> QuerySet[Scenario]:
        return scenario_queryset()

    def perform_service_create(self, data: dict[str, Any]) -> Scenario:
        return services.scenario_create(actor=self.actor, **data)

    def perform_service_update(self, instance: Scenario, data: dict[str, Any]) -> Scenario:
        data.setdefault("name", instance.name)
        data.setdefault("description", instance.description)
        return services.scenario_update(actor=self.actor, scenario=instance, **data)

    def perform_service_destroy(self, instance: Scenario) -> None:
        services.scenario_delete(actor=self.actor, scenario=instance)

    @extend_schema(
        request=ScenarioCellInputSerializer,
        responses={200: ScenarioSerializer},
        summary="Set a cell",
        description="Set one team's percent to one value stream in the scenario (null or 0 "
        "empties it). Limits are not enforced here: see compare/.",
    )
    @action(detail=True, methods=["post"])
    def cells(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        scenario = self.get_object()
        data = self.validated_input(ScenarioCellInputSerializer)
        with service_errors():
            services.scenario_set_cell(actor=self.actor, scenario=scenario, **data)
        return self.rendered(scenario)

    @extend_schema(
        responses={200: ScenarioCompareSerializer},
        summary="Compare with the plan",
        description="Cell by cell and in totals per team, per value stream and overall, with "
        "the limits a promotion would refuse (team over 100 %, value stream over its envelope).",
    )
    @action(detail=True, methods=["get"])
    def compare(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        scenario = self.get_object()
        comparison = services.scenario_compare(scenario=scenario)
        return Response(ScenarioCompareSerializer(comparison_data(comparison)).data)

    @extend_schema(
        request=ScenarioPromoteSerializer,
        responses={200: ScenarioSerializer},
        summary="Promote to the plan",
        description="Replace the period's allocations with the scenario's cells in one "
        "transaction. Refused (400, nothing written) without a reason or when a limit would "
        "break; created or changed allocations become drafts.",
    )
    @action(detail=True, methods=["post"])
    def promote(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        scenario = self.get_object()
        data = self.validated_input(ScenarioPromoteSerializer)
        with service_errors():
            services.scenario_promote(actor=self.actor, scenario=scenario, reason=data["reason"])
        return self.rendered(scenario)
