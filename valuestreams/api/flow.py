"""Flow-metric endpoints: the snapshots of a product or a value stream, a recompute request, and
the state of a recompute task.

``GET /api/v1/products/{slug or id}/flow-metrics/`` is served from here (a URL path only), so the
products app never imports valuestreams.
"""

import uuid

from celery.result import AsyncResult
from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portfolio.celery import app
from products.models import Product
from valuestreams.flow import flow_snapshot_list
from valuestreams.models import FlowSnapshot, ValueStream
from valuestreams.tasks import recompute_flow_task


class FlowQuerySerializer(serializers.Serializer):
    window = serializers.ChoiceField(
        choices=FlowSnapshot.Window.choices, default=FlowSnapshot.Window.WEEK
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # ``from`` is a Python keyword, so these two cannot be class attributes.
        self.fields["from"] = serializers.DateField(required=False)
        self.fields["to"] = serializers.DateField(required=False)

    def validate(self, attrs):
        if attrs.get("from") and attrs.get("to") and attrs["from"] > attrs["to"]:
            raise serializers.ValidationError({"to": ["Must not be before from."]})
        return attrs


class FlowSnapshotSerializer(serializers.ModelSerializer):
    flow_time_median_days = serializers.FloatField(read_only=True, allow_null=True)
    flow_time_p85_days = serializers.FloatField(read_only=True, allow_null=True)
    flow_efficiency = serializers.FloatField(
        read_only=True, allow_null=True, help_text="Percent of flow time spent active."
    )
    flow_load_avg = serializers.FloatField(read_only=True)
    distribution = serializers.DictField(
        child=serializers.FloatField(),
        read_only=True,
        help_text="Item type (or 'unmapped') -> percent of the items completed in the window.",
    )

    class Meta:
        model = FlowSnapshot
        fields = (
            "window",
            "window_start",
            "velocity",
            "flow_time_median_days",
            "flow_time_p85_days",
            "flow_efficiency",
            "flow_load_end",
            "flow_load_avg",
            "distribution",
            "computed_at",
        )


FLOW_PARAMETERS = [
    OpenApiParameter("window", str, enum=["week", "month"], description="Default: week."),
    OpenApiParameter(
        "from", OpenApiTypes.DATE, description="First window start included (YYYY-MM-DD)."
    ),
    OpenApiParameter(
        "to", OpenApiTypes.DATE, description="Last window start included (YYYY-MM-DD)."
    ),
]


class _FlowMetricsView(APIView):
    permission_classes = [IsAuthenticated]

    def snapshots(self, request: Request, **scope) -> Response:
        query = FlowQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = flow_snapshot_list(
            window=query.validated_data["window"],
            date_from=query.validated_data.get("from"),
            date_to=query.validated_data.get("to"),
            **scope,
        )
        return Response(FlowSnapshotSerializer(rows, many=True).data)


class ProductFlowMetricsView(_FlowMetricsView):
    """A product's flow metrics per calendar week or month, oldest first."""

    @extend_schema(parameters=FLOW_PARAMETERS, responses=FlowSnapshotSerializer(many=True))
    def get(self, request: Request, product_ref: str) -> Response:
        lookup = {"pk": int(product_ref)} if product_ref.isdigit() else {"slug": product_ref}
        product = get_object_or_404(Product.objects.only("id"), **lookup)
        return self.snapshots(request, product_id=product.pk)


class ValueStreamFlowMetricsView(_FlowMetricsView):
    """A value stream's flow metrics (all its products' items, its own mapping)."""

    @extend_schema(parameters=FLOW_PARAMETERS, responses=FlowSnapshotSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        value_stream = get_object_or_404(ValueStream.objects.only("id"), pk=pk)
        return self.snapshots(request, value_stream_id=value_stream.pk)


TASK_ACCEPTED = inline_serializer("FlowTaskAccepted", {"task_id": serializers.CharField()})


class ProductFlowRecomputeView(APIView):
    """Queue a recomputation of the product's flow metrics (and its value streams'); portfolio
    managers only. Answers 202 with the task id to follow at ``/api/v1/flow-tasks/{task_id}/``."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={202: TASK_ACCEPTED})
    def post(self, request: Request, pk: int) -> Response:
        if not request.user.has_perm("products.change_product"):
            raise PermissionDenied()
        product = get_object_or_404(Product.objects.only("id"), pk=pk)
        task_id = str(uuid.uuid4())
        transaction.on_commit(
            lambda: recompute_flow_task.apply_async(
                kwargs={"product_ids": [product.pk], "since": None}, task_id=task_id
            )
        )
        return Response({"task_id": task_id}, status=status.HTTP_202_ACCEPTED)


class FlowTaskView(APIView):
    """The state of a flow recompute task: PENDING, STARTED, PROGRESS ({done, total} scopes),
    SUCCESS (with what it wrote) or FAILURE."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses=inline_serializer(
            "FlowTaskState",
            {
                "task_id": serializers.CharField(),
                "state": serializers.CharField(),
                "progress": serializers.DictField(allow_null=True),
                "result": serializers.DictField(allow_null=True),
            },
        )
    )
    def get(self, request: Request, task_id: str) -> Response:
        result = AsyncResult(task_id, app=app)
        state = result.state
        info = result.info if isinstance(result.info, dict) else None
        return Response(
            {
                "task_id": task_id,
                "state": state,
                "progress": info if state == "PROGRESS" else None,
                "result": info if state == "SUCCESS" else None,
            }
        )
