"""API of actual spend: ``actuals`` (CRUD through ``funding.services``) and ``actuals/import/``.

Everyone signed in reads; writes need finance's model permissions (403 otherwise). A month
inside a closed period answers 400 with nothing written. ``POST actuals/import/`` takes a CSV file
(multipart field ``file``; columns as ``funding.services.actuals`` describes) and answers the
counts, or 400 with every bad row's line and reason (nothing written).
"""

from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from funding import services
from funding.models import Actual, FiscalPeriod
from funding.services.actuals import parse_month
from portfolio.common.api import (
    ServiceCreateMixin,
    ServiceDestroyMixin,
    ServiceUpdateMixin,
    ServiceViewSet,
    service_errors,
    write_schemas,
)
from portfolio.common.permissions import ModelPermissionsOrReadOnly
from products.api.serializers import TeamBriefSerializer
from products.models import Team

IMPORT_MAX_BYTES = 5 * 1024 * 1024
MONTH_FORMATS = ["%Y-%m-%d", "%Y-%m"]


class ActualSerializer(serializers.ModelSerializer):
    team = TeamBriefSerializer(read_only=True)

    class Meta:
        model = Actual
        fields = ("id", "team", "month", "amount", "note", "created_at", "updated_at")
        read_only_fields = fields


class ActualInputSerializer(serializers.Serializer):
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all(), help_text="Team id.")
    month = serializers.DateField(
        input_formats=MONTH_FORMATS, help_text="YYYY-MM or the month's first day YYYY-MM-01."
    )
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class ActualUpdateSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True)


class ActualImportSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="CSV, UTF-8: team (slug or name), month (YYYY-MM or YYYY-MM-01), amount "
        "(12345.67 or 12,345.67), note (optional)."
    )


IMPORT_COUNTS = inline_serializer(
    "ActualsImportCounts",
    {
        "rows": serializers.IntegerField(),
        "created": serializers.IntegerField(),
        "updated": serializers.IntegerField(),
        "unchanged": serializers.IntegerField(),
    },
)
IMPORT_REJECTED = OpenApiResponse(
    description="Nothing written: {errors: [{line, reason}]} (the header is line 1), or "
    "{file: [message]} when no usable file was sent."
)


class ActualFilter(django_filters.FilterSet):
    team = django_filters.CharFilter(method="filter_team", label="Team (id or slug)")
    period = django_filters.ModelChoiceFilter(
        queryset=FiscalPeriod.objects.all(), method="filter_period", label="Fiscal period id"
    )
    month_from = django_filters.CharFilter(method="filter_month_from", label="From month (YYYY-MM)")
    month_to = django_filters.CharFilter(method="filter_month_to", label="To month (YYYY-MM)")

    class Meta:
        model = Actual
        fields = ["team", "period", "month_from", "month_to"]

    def filter_team(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        match = Q(team__slug=value)
        if value.isdigit():
            match |= Q(team_id=int(value))
        return queryset.filter(match)

    def filter_period(self, queryset: QuerySet, name: str, value: FiscalPeriod) -> QuerySet:
        return queryset.filter(month__gte=value.start.replace(day=1), month__lte=value.end)

    def _month(self, value: str) -> Any:
        month = parse_month(value) or parse_month(value[:7])
        if month is None:
            raise serializers.ValidationError({"month": [f'"{value}" is not a month (YYYY-MM).']})
        return month

    def filter_month_from(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(month__gte=self._month(value))

    def filter_month_to(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(month__lte=self._month(value))


@extend_schema_view(
    **write_schemas(
        read=ActualSerializer, create=ActualInputSerializer, update=ActualUpdateSerializer
    )
)
class ActualViewSet(ServiceCreateMixin, ServiceUpdateMixin, ServiceDestroyMixin, ServiceViewSet):
    """A team's actual spend per month. ``POST`` records a team's month (an existing one is
    changed); a month inside a closed period is read-only."""

    serializer_class = ActualSerializer
    input_serializer_class = ActualInputSerializer
    update_serializer_class = ActualUpdateSerializer
    filterset_class = ActualFilter
    permission_classes = [ModelPermissionsOrReadOnly]
    ordering_fields = ("month", "amount", "updated_at")
    ordering = ("month", "team__name", "id")
    action_permissions = {"import_file": "add"}

    def get_queryset(self) -> QuerySet[Actual]:
        return Actual.objects.select_related("team").order_by("month", "team__name", "id")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.validated_input(ActualInputSerializer)
        existed = Actual.objects.filter(team=data["team"], month=data["month"]).exists()
        with service_errors():
            actual = services.actual_set(actor=self.actor, **data)
        return self.rendered(
            actual, status_code=status.HTTP_200_OK if existed else status.HTTP_201_CREATED
        )

    def perform_service_update(self, instance: Actual, data: dict[str, Any]) -> Actual:
        return services.actual_set(
            actor=self.actor,
            team=instance.team,
            month=instance.month,
            amount=data.get("amount", instance.amount),
            note=data.get("note", instance.note),
        )

    def perform_service_destroy(self, instance: Actual) -> None:
        services.actual_delete(actor=self.actor, actual=instance)

    @extend_schema(
        request={"multipart/form-data": ActualImportSerializer},
        responses={200: IMPORT_COUNTS, 400: IMPORT_REJECTED},
        summary="Import actuals from CSV",
        description="Checks every row first; any bad row answers 400 naming each by its line "
        "and writes nothing. Otherwise writes all rows in one transaction; a team's month that "
        "already has an actual is updated, so importing the same file twice changes nothing.",
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[MultiPartParser, FormParser],
    )
    def import_file(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        upload = self.validated_input(ActualImportSerializer)["file"]
        if upload.size > IMPORT_MAX_BYTES:
            return Response(
                {"file": ["The file is larger than 5 MB; split it."]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        result = services.actuals_import(actor=self.actor, file=upload)
        if not result.ok:
            return Response(
                {"errors": [{"line": e.line, "reason": e.reason} for e in result.errors]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response(result.counts())
