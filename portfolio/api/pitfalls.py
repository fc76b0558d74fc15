"""API of the pitfall signals: ``GET /api/v1/portfolio/pitfalls/`` (every signal with its rule,
value, threshold, trend and offenders; the early warnings too with ``?warnings=1``) and the
thresholds (``GET /api/v1/portfolio/pitfall-thresholds/``; ``PATCH
/api/v1/portfolio/pitfall-thresholds/{key}/`` for executives and portfolio managers, 403 for the
other roles).
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from funding import selectors as funding_selectors
from funding.models import FiscalPeriod
from portfolio import pitfalls
from portfolio.common.api import UserBriefSerializer, service_errors
from portfolio.common.views import actor
from portfolio.models import PitfallThreshold
from portfolio.services_pitfalls import pitfall_threshold_set

NUMBER: dict[str, Any] = {"max_digits": 16, "decimal_places": 2, "coerce_to_string": False}
TRUE_WORDS = {"1", "true", "yes", "on"}


class PitfallOffenderSerializer(serializers.Serializer):
    label = serializers.CharField()  # type: ignore[assignment]
    url = serializers.CharField(help_text="The page of the offending item (a path of this site).")
    detail = serializers.CharField()
    value_stream_ids = serializers.SerializerMethodField(
        help_text="The value streams the item belongs to."
    )

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_value_stream_ids(self, offender: pitfalls.Offender) -> list[int]:
        return sorted(offender.value_stream_ids)


class PitfallTrendPointSerializer(serializers.Serializer):
    day = serializers.DateField()
    value = serializers.DecimalField(**NUMBER)


class PitfallSignalSerializer(serializers.Serializer):
    key = serializers.CharField()
    pitfall = serializers.ChoiceField(choices=list(pitfalls.PITFALLS))
    pitfall_name = serializers.CharField()
    title = serializers.CharField()
    rule = serializers.CharField(help_text="The rule in words, with the threshold.")
    value = serializers.DecimalField(
        **NUMBER, allow_null=True, help_text="The current value; null when too little data."
    )
    unit = serializers.CharField(help_text='What the value counts ("products", "%", ...).')
    threshold = serializers.DecimalField(
        **NUMBER, help_text="The signal fires when its value is above the threshold."
    )
    firing = serializers.BooleanField()
    enough_data = serializers.BooleanField()
    status = serializers.ChoiceField(choices=["firing", "ok", "no_data"])
    trend = serializers.SerializerMethodField(
        help_text="Recorded daily values of the last eight weeks, oldest first; empty when there "
        "is no history yet."
    )
    offenders = PitfallOffenderSerializer(many=True)
    computed_at = serializers.DateTimeField()

    @extend_schema_field(PitfallTrendPointSerializer(many=True))
    def get_trend(self, signal: pitfalls.Signal) -> Any:
        return PitfallTrendPointSerializer(
            [{"day": day, "value": value} for day, value in signal.trend], many=True
        ).data


class PitfallPeriodSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class PitfallNameSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()


class PitfallsSerializer(serializers.Serializer):
    period = PitfallPeriodSerializer(
        allow_null=True, help_text="The fiscal period the funding signals read; null when none."
    )
    pitfalls = PitfallNameSerializer(many=True)
    signals = PitfallSignalSerializer(many=True)
    warnings = PitfallSignalSerializer(
        many=True,
        allow_null=True,
        help_text="The early warnings from flow; null unless asked for with ?warnings=1.",
    )


class PitfallThresholdSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    unit = serializers.CharField()
    threshold = serializers.DecimalField(**NUMBER)
    default = serializers.DecimalField(**NUMBER)
    updated_by = UserBriefSerializer(allow_null=True)
    updated_at = serializers.DateTimeField(allow_null=True)


class PitfallThresholdInputSerializer(serializers.Serializer):
    threshold = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        min_value=0,
        help_text="At least 0; a percent at most 100; a count a whole number.",
    )


def _period(request: Request) -> FiscalPeriod | None:
    raw = request.query_params.get("period", "")
    if not raw:
        return funding_selectors.current_period()
    if not raw.isdigit():
        raise serializers.ValidationError({"period": ["A fiscal period id."]})
    period = FiscalPeriod.objects.filter(pk=int(raw)).first()
    if period is None:
        raise Http404("No such fiscal period.")
    return period


class PitfallsView(APIView):
    """Every pitfall signal, and on request the early warnings from flow."""

    @extend_schema(
        operation_id="portfolio_pitfalls",
        summary="Pitfall signals",
        description="Every signal of the four pitfalls: its rule in words, current value (null "
        "with too little data), threshold (it fires above it), status, the trend of recorded "
        "values of the last eight weeks and the offending items with links. The early warnings "
        "from flow (ageing work, rising flow load, teams spread over more than two value streams) "
        "come under `warnings` when `?warnings=1` asks for them (they read the whole status "
        "history and may be slower); otherwise `warnings` is null.",
        parameters=[
            OpenApiParameter(
                "period", int, description="Fiscal period id (default: the current period)."
            ),
            OpenApiParameter(
                "warnings", bool, description="1 to include the early warnings from flow."
            ),
        ],
        responses={200: PitfallsSerializer},
    )
    def get(self, request: Request) -> Response:
        period = _period(request)
        with_warnings = request.query_params.get("warnings", "").lower() in TRUE_WORDS
        data = {
            "period": period,
            "pitfalls": [{"key": k, "name": v} for k, v in pitfalls.PITFALLS.items()],
            "signals": pitfalls.pitfall_signals(period=period),
            "warnings": pitfalls.early_warnings(period=period) if with_warnings else None,
        }
        return Response(PitfallsSerializer(data).data)


def _threshold_rows(keys: list[str]) -> list[dict[str, Any]]:
    stored = {
        row.key: row
        for row in PitfallThreshold.objects.filter(key__in=keys).select_related("updated_by")
    }
    rows = []
    for key in keys:
        spec = pitfalls.SPEC_BY_KEY[key]
        row = stored.get(key)
        rows.append(
            {
                "key": key,
                "title": spec.title,
                "unit": spec.unit,
                "threshold": row.threshold if row else spec.default,
                "default": spec.default,
                "updated_by": row.updated_by if row else None,
                "updated_at": row.updated_at if row else None,
            }
        )
    return rows


class PitfallThresholdListView(APIView):
    """Every signal's threshold (the stored one, else the default)."""

    queryset = PitfallThreshold.objects.all()

    @extend_schema(
        operation_id="portfolio_pitfall_thresholds_list",
        summary="Pitfall thresholds",
        responses={200: PitfallThresholdSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        rows = _threshold_rows(list(pitfalls.SPEC_BY_KEY))
        return Response(PitfallThresholdSerializer(rows, many=True).data)


class PitfallThresholdView(APIView):
    """One signal's threshold: read it, or set it (executives and portfolio managers)."""

    queryset = PitfallThreshold.objects.all()  # the write permission: change_pitfallthreshold

    def _key(self, key: str) -> str:
        if key not in pitfalls.SPEC_BY_KEY:
            raise Http404("No such signal.")
        return key

    @extend_schema(
        operation_id="portfolio_pitfall_thresholds_retrieve",
        summary="A pitfall threshold",
        responses={200: PitfallThresholdSerializer},
    )
    def get(self, request: Request, key: str) -> Response:
        return Response(PitfallThresholdSerializer(_threshold_rows([self._key(key)])[0]).data)

    @extend_schema(
        operation_id="portfolio_pitfall_thresholds_partial_update",
        summary="Set a pitfall threshold",
        description="The signal fires when its value is above the threshold. Executives and "
        "portfolio managers only (others 403).",
        request=PitfallThresholdInputSerializer,
        responses={200: PitfallThresholdSerializer},
    )
    def patch(self, request: Request, key: str) -> Response:
        key = self._key(key)
        serializer = PitfallThresholdInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            pitfall_threshold_set(
                actor=actor(request), key=key, threshold=serializer.validated_data["threshold"]
            )
        return Response(PitfallThresholdSerializer(_threshold_rows([key])[0]).data)
