"""``GET /api/v1/portfolio/summary/?period=<id>``: every figure of the CIO dashboard.

The view serialises the same ``selectors_dashboard.Dashboard`` the home page renders, so the API
and the page always agree. Everyone signed in may read it.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portfolio import selectors_dashboard as selectors


class FigureSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    value = serializers.DecimalField(
        max_digits=16, decimal_places=2, allow_null=True, help_text="Null when too little data."
    )
    note = serializers.CharField()
    definition = serializers.CharField()
    window = serializers.CharField()
    url = serializers.CharField()
    computed_at = serializers.DateTimeField(allow_null=True)
    enough_data = serializers.BooleanField()
    trend = serializers.DecimalField(max_digits=10, decimal_places=1, allow_null=True)


class BriefSignalSerializer(serializers.Serializer):
    key = serializers.CharField()
    pitfall = serializers.CharField()
    title = serializers.CharField()


class ValueStreamRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    products = serializers.IntegerField()
    envelope = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    allocated = serializers.DecimalField(max_digits=14, decimal_places=2)
    outcomes = serializers.DictField(child=serializers.IntegerField())
    months = serializers.ListField(child=serializers.DateField())
    velocity = serializers.ListField(child=serializers.IntegerField(allow_null=True))
    flow_time = serializers.ListField(
        child=serializers.DecimalField(max_digits=10, decimal_places=3, allow_null=True)
    )
    stage = serializers.IntegerField(allow_null=True, help_text="Null: never assessed (stage 1).")
    signals = BriefSignalSerializer(many=True)


class SeriesSerializer(serializers.Serializer):
    label = serializers.CharField()  # type: ignore[assignment]
    data = serializers.ListField(child=serializers.FloatField())  # type: ignore[assignment]


class ChartSerializer(serializers.Serializer):
    labels = serializers.ListField(child=serializers.CharField())
    unit = serializers.CharField()
    series = SeriesSerializer(many=True)


class PeriodBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()


class ChartsSerializer(serializers.Serializer):
    funding = ChartSerializer()
    distribution = ChartSerializer()
    outcomes = ChartSerializer()


class TransitionSummarySerializer(serializers.Serializer):
    organisation_stage = serializers.IntegerField(allow_null=True)
    value_stream_stages = serializers.DictField(
        child=serializers.IntegerField(), help_text='Value streams per stage; "0": not assessed.'
    )


class PortfolioSummarySerializer(serializers.Serializer):
    period = PeriodBriefSerializer(allow_null=True)
    tiles = FigureSerializer(many=True)
    value_streams = ValueStreamRowSerializer(many=True, source="rows")
    charts = serializers.SerializerMethodField()
    transition = serializers.SerializerMethodField()
    pitfall_counts = serializers.DictField(
        child=serializers.IntegerField(), help_text="Firing signals per pitfall."
    )
    flow_computed_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(ChartsSerializer)
    def get_charts(self, board: selectors.Dashboard) -> dict:
        return {
            "funding": board.funding_chart,
            "distribution": board.distribution_chart,
            "outcomes": board.outcome_chart,
        }

    @extend_schema_field(TransitionSummarySerializer)
    def get_transition(self, board: selectors.Dashboard) -> dict:
        return {
            "organisation_stage": board.organisation_stage,
            "value_stream_stages": {str(k): v for k, v in board.stage_counts.items()},
        }


class PortfolioSummaryView(APIView):
    """Every figure of the CIO dashboard for a fiscal period (default: the current one)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="portfolio_summary",
        parameters=[
            OpenApiParameter(
                "period",
                OpenApiTypes.INT,
                description="Fiscal period id; default: the current period.",
            )
        ],
        responses=PortfolioSummarySerializer,
    )
    def get(self, request: Request) -> Response:
        period, periods = selectors.resolve_period(request.query_params.get("period"))
        board = selectors.dashboard(user=request.user, period=period, periods=periods)
        return Response(PortfolioSummarySerializer(board).data)
