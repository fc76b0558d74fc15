"""API of work-item ingestion and the status and type mappings.

- ``work-items``: read-only list and detail (each with its status changes), and
  ``POST work-items/ingest/``: items and transitions in bulk, all or nothing (portfolio managers).
- ``work-items/webhook/<source>/``: one "item changed" event, signed with the source's secret
  (HMAC-SHA256 of the raw body in ``X-Signature: sha256=<hex>``); the signature is the
  authentication, so no session, token or CSRF token is needed.
- ``status-mappings`` and ``type-mappings``: CRUD through the mapping services.
- ``value-streams/{id}/unmapped/``: the statuses and tracker types no mapping covers.
"""

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Mapping
from typing import Any

import django_filters
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portfolio.common.api import (
    ServiceCreateMixin,
    ServiceUpdateMixin,
    ServiceViewSet,
    service_errors,
    write_schemas,
)
from products.api.serializers import ProductBriefSerializer
from valuestreams import mappings
from valuestreams.ingest import (
    DEFAULT_SOURCE,
    MAX_ITEMS,
    MAX_TRANSITIONS,
    IngestBusy,
    IngestRejected,
    work_item_list,
    work_items_ingest,
)
from valuestreams.models import (
    StatusChange,
    StatusMapping,
    TypeMapping,
    ValueStream,
    WorkItem,
    WorkSource,
)
from valuestreams.models.flow import FlowCategory, ItemType

webhook_log = logging.getLogger("valuestreams.webhook")
# What DRF's SlugField of 60 characters accepts; the ingest service then asks for a lower-case slug.
SOURCE_SLUG = re.compile(r"[-a-zA-Z0-9_]{1,60}")


# Serializers.


class MappingValueStreamSerializer(serializers.ModelSerializer):
    class Meta:
        model = ValueStream
        fields = ("id", "slug", "name")
        read_only_fields = fields


class StatusChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = StatusChange
        fields = ("id", "from_status", "to_status", "status_key", "at")
        read_only_fields = fields


class WorkItemSerializer(serializers.ModelSerializer):
    source = serializers.SlugRelatedField(slug_field="slug", read_only=True)  # type: ignore[assignment,var-annotated]
    product = ProductBriefSerializer(read_only=True)
    status_changes = StatusChangeSerializer(many=True, read_only=True)

    class Meta:
        model = WorkItem
        fields = (
            "id",
            "source",
            "key",
            "product",
            "type",
            "tracker_type",
            "title",
            "created_at",
            "status_changes",
            "updated_at",
        )
        read_only_fields = fields


class IngestInputSerializer(serializers.Serializer):
    source = serializers.SlugField(  # type: ignore[assignment]
        max_length=60,
        required=False,
        default="api",
        help_text="Slug of the sending tracker; created on first use.",
    )
    items = serializers.ListField(
        child=serializers.JSONField(),
        required=False,
        default=list,
        max_length=MAX_ITEMS,
        help_text="Each {key, type (feature/defect/risk/debt) or tracker_type, product (slug), "
        "title, created_at (ISO 8601 with offset)}.",
    )
    transitions = serializers.ListField(
        child=serializers.JSONField(),
        required=False,
        default=list,
        max_length=MAX_TRANSITIONS,
        help_text="Each {key, to_status, at, from_status (optional)}; at most 10,000.",
    )


def ingest_input(data: Any) -> tuple[str, list[Any], list[Any], dict[str, list[str]]]:
    """The request's ``source``, ``items`` and ``transitions``, and its faults by field.

    This checks only the envelope, as ``IngestInputSerializer`` (the documented shape) says; the
    entries are checked by ``work_items_ingest``, which names each bad one by its index. Plain
    Python rather than the serializer: a ``ListField`` of ``JSONField`` runs a child field per
    entry, a fifth of the whole request's time at 10,000 entries.
    """
    if not isinstance(data, Mapping):
        return "", [], [], {"non_field_errors": ["Send a JSON object."]}
    errors: dict[str, list[str]] = {}
    source = data.get("source", DEFAULT_SOURCE)
    if source is None or not isinstance(source, str):
        errors["source"] = ["Give the source as a slug (text)."]
    elif not SOURCE_SLUG.fullmatch(source):
        errors["source"] = [
            "The source must be a slug of at most 60 letters, digits, hyphens or underscores."
        ]
    lists: dict[str, list[Any]] = {}
    for name, limit in (("items", MAX_ITEMS), ("transitions", MAX_TRANSITIONS)):
        value = data.get(name, [])
        if not isinstance(value, list):
            errors[name] = [f"Expected a list of {name}, not {type(value).__name__}."]
        elif len(value) > limit:
            errors[name] = [f"At most {limit:,} {name} a request, not {len(value):,}; split it."]
        lists[name] = value
    return source, lists["items"], lists["transitions"], errors


COUNTS = inline_serializer(
    "IngestCounts",
    {
        "items": inline_serializer(
            "IngestItemCounts",
            {
                "created": serializers.IntegerField(),
                "updated": serializers.IntegerField(),
                "unchanged": serializers.IntegerField(),
            },
        ),
        "transitions": inline_serializer(
            "IngestTransitionCounts",
            {"created": serializers.IntegerField(), "duplicates": serializers.IntegerField()},
        ),
    },
)
REJECTED = OpenApiResponse(
    description="Nothing written: {items: {index: [reasons]}, transitions: {index: [reasons]}}."
)
BUSY = OpenApiResponse(
    description="Nothing written: the flow figures of these products are being rebuilt (the "
    "weekly run). Send the same request again after Retry-After seconds."
)


class StatusMappingSerializer(serializers.ModelSerializer):
    value_stream = MappingValueStreamSerializer(read_only=True, allow_null=True)

    class Meta:
        model = StatusMapping
        fields = (
            "id",
            "value_stream",
            "status_name",
            "status_key",
            "category",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class StatusMappingInputSerializer(serializers.Serializer):
    value_stream = serializers.PrimaryKeyRelatedField(
        queryset=ValueStream.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text="Id of the value stream; empty for the organisation default.",
    )
    status_name = serializers.CharField(max_length=100)
    category = serializers.ChoiceField(choices=FlowCategory.choices)


class StatusMappingUpdateSerializer(serializers.Serializer):
    status_name = serializers.CharField(max_length=100, required=False)
    category = serializers.ChoiceField(choices=FlowCategory.choices, required=False)


class TypeMappingSerializer(serializers.ModelSerializer):
    value_stream = MappingValueStreamSerializer(read_only=True, allow_null=True)

    class Meta:
        model = TypeMapping
        fields = (
            "id",
            "value_stream",
            "tracker_type",
            "tracker_type_key",
            "type",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class TypeMappingInputSerializer(serializers.Serializer):
    value_stream = serializers.PrimaryKeyRelatedField(
        queryset=ValueStream.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text="Id of the value stream; empty for the organisation default.",
    )
    tracker_type = serializers.CharField(max_length=100)
    type = serializers.ChoiceField(choices=ItemType.choices)


class TypeMappingUpdateSerializer(serializers.Serializer):
    tracker_type = serializers.CharField(max_length=100, required=False)
    type = serializers.ChoiceField(choices=ItemType.choices, required=False)


class UnmappedSerializer(serializers.Serializer):
    statuses = inline_serializer(
        "UnmappedStatus",
        {
            "status": serializers.CharField(),
            "status_key": serializers.CharField(),
            "count": serializers.IntegerField(help_text="Status changes into it."),
        },
        many=True,
    )
    tracker_types = inline_serializer(
        "UnmappedTrackerType",
        {
            "tracker_type": serializers.CharField(),
            "count": serializers.IntegerField(help_text="Items of this type."),
        },
        many=True,
    )


# Filters.


class WorkItemFilter(django_filters.FilterSet):
    product = django_filters.CharFilter(field_name="product__slug", label="Product slug")
    source = django_filters.CharFilter(field_name="source__slug", label="Source slug")
    type = django_filters.ChoiceFilter(
        choices=[*ItemType.choices, ("unmapped", "Unmapped")],
        method="filter_type",
        label="Type (unmapped: no mapping covers its tracker type)",
    )
    key = django_filters.CharFilter(field_name="key")

    class Meta:
        model = WorkItem
        fields = ["product", "source", "type", "key"]

    def filter_type(self, queryset, name: str, value: str):
        return queryset.filter(type="" if value == "unmapped" else value)


class MappingFilter(django_filters.FilterSet):
    value_stream = django_filters.NumberFilter(
        field_name="value_stream_id", label="Value stream id"
    )
    default = django_filters.BooleanFilter(
        field_name="value_stream", lookup_expr="isnull", label="Only the default mapping"
    )


class StatusMappingFilter(MappingFilter):
    class Meta:
        model = StatusMapping
        fields = ["value_stream", "default", "category"]


class TypeMappingFilter(MappingFilter):
    class Meta:
        model = TypeMapping
        fields = ["value_stream", "default", "type"]


# Views.


class WorkItemViewSet(ServiceViewSet):
    """Work items with their status history; ``ingest`` writes them in bulk."""

    serializer_class = WorkItemSerializer
    filterset_class = WorkItemFilter
    ordering_fields = ("created_at", "key", "updated_at")
    ordering = ("product_id", "created_at", "id")
    action_permissions = {"ingest": "add"}

    def get_queryset(self):
        return work_item_list()

    @extend_schema(
        request=IngestInputSerializer,
        responses={200: COUNTS, 400: REJECTED, 503: BUSY},
        summary="Ingest work items and status changes",
        description="Checks every entry first; any bad one answers 400 naming each by its index "
        "and writes nothing. Otherwise writes all in one transaction. Idempotent: entries already "
        "stored are counted as unchanged or duplicates.",
    )
    @action(detail=False, methods=["post"])
    def ingest(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        source, items, transitions, errors = ingest_input(request.data)
        if errors:
            return Response(errors, status=status.HTTP_400_BAD_REQUEST)
        try:
            result = work_items_ingest(
                actor=self.actor, source=source, items=items, transitions=transitions
            )
        except IngestRejected as rejected:
            return rejected_response(rejected)
        return Response(result.as_dict())


def rejected_response(rejected: IngestRejected) -> Response:
    """400 with each bad entry's reasons; 503 with ``Retry-After`` while the flow facts of the
    request's products are being rebuilt (the same request succeeds later)."""
    if isinstance(rejected, IngestBusy):
        return Response(
            rejected.as_dict(),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(rejected.retry_after)},
        )
    return Response(rejected.as_dict(), status=status.HTTP_400_BAD_REQUEST)


def signature_of(body: bytes, secret: str) -> str:
    """The ``X-Signature`` header a sender puts on ``body``: ``sha256=<hex HMAC-SHA256>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WorkItemWebhookView(APIView):
    """One "item changed" event from a tracker, signed with its source's secret.

    Body: ``{"key", "type" | "tracker_type", "product", "title", "created_at", "status", "at"}``
    (``from_status`` optional). The item part is written when ``product`` is given; the status
    change when ``status`` is. Idempotent like the bulk endpoint.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def _refuse(self, request: Request, slug: str, reason: str) -> Response:
        webhook_log.warning(
            "Webhook refused for source %s from %s: %s",
            slug,
            request.META.get("REMOTE_ADDR", "?"),
            reason,
        )
        return Response({"detail": "Invalid signature."}, status=status.HTTP_403_FORBIDDEN)

    @extend_schema(
        request=inline_serializer(
            "WorkItemEvent",
            {
                "key": serializers.CharField(),
                "type": serializers.ChoiceField(choices=ItemType.choices, required=False),
                "tracker_type": serializers.CharField(required=False),
                "product": serializers.CharField(required=False, help_text="Product slug."),
                "title": serializers.CharField(required=False),
                "created_at": serializers.DateTimeField(required=False),
                "status": serializers.CharField(required=False),
                "from_status": serializers.CharField(required=False),
                "at": serializers.DateTimeField(required=False),
            },
        ),
        responses={
            200: COUNTS,
            400: REJECTED,
            403: OpenApiResponse(description="Bad signature."),
            503: BUSY,
        },
        summary="Work-item webhook",
        description="Authenticated by `X-Signature: sha256=<hex HMAC-SHA256 of the raw body>` "
        "with the source's webhook secret.",
    )
    def post(self, request: Request, source: str) -> Response:
        body = request.body
        given = request.headers.get("X-Signature", "")
        row = WorkSource.objects.filter(slug=source).first()
        if row is None:
            return self._refuse(request, source, "unknown source")
        if not given:
            return self._refuse(request, source, "missing signature")
        expected = signature_of(body, row.webhook_secret).encode()
        if not hmac.compare_digest(expected, given.strip().encode("utf-8", "replace")):
            return self._refuse(request, source, "bad signature")
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return Response({"detail": "The body is not JSON."}, status=400)
        if not isinstance(payload, dict):
            return Response({"detail": "The body must be a JSON object."}, status=400)
        items, transitions = [], []
        if "product" in payload:
            items.append(
                {
                    k: payload.get(k)
                    for k in ("key", "type", "tracker_type", "product", "title", "created_at")
                    if k in payload
                }
            )
        if "status" in payload:
            transitions.append(
                {
                    "key": payload.get("key"),
                    "to_status": payload.get("status"),
                    "from_status": payload.get("from_status"),
                    "at": payload.get("at"),
                }
            )
        if not items and not transitions:
            return Response(
                {"detail": "Send product (the item) or status (a change), or both."}, status=400
            )
        try:
            result = work_items_ingest(actor=None, source=row, items=items, transitions=transitions)
        except IngestRejected as rejected:
            return rejected_response(rejected)
        return Response(result.as_dict())


@extend_schema_view(
    **write_schemas(
        read=StatusMappingSerializer,
        create=StatusMappingInputSerializer,
        update=StatusMappingUpdateSerializer,
    )
)
class StatusMappingViewSet(
    ServiceCreateMixin, ServiceUpdateMixin, mixins.DestroyModelMixin, ServiceViewSet
):
    """Tracker statuses and their flow category: the default (``default=true``) or a value
    stream's own. A change re-runs the flow computation of the products it covers."""

    serializer_class = StatusMappingSerializer
    input_serializer_class = StatusMappingInputSerializer
    update_serializer_class = StatusMappingUpdateSerializer
    filterset_class = StatusMappingFilter
    ordering_fields = ("status_name", "category", "created_at")

    def get_queryset(self):
        return mappings.status_mapping_list()

    def perform_service_create(self, data: dict[str, Any]):
        return mappings.status_mapping_create(actor=self.actor, **data)

    def perform_service_update(self, instance, data: dict[str, Any]):
        return mappings.status_mapping_update(actor=self.actor, mapping=instance, **data)

    def perform_destroy(self, instance) -> None:
        with service_errors():
            mappings.status_mapping_delete(actor=self.actor, mapping=instance)


@extend_schema_view(
    **write_schemas(
        read=TypeMappingSerializer,
        create=TypeMappingInputSerializer,
        update=TypeMappingUpdateSerializer,
    )
)
class TypeMappingViewSet(
    ServiceCreateMixin, ServiceUpdateMixin, mixins.DestroyModelMixin, ServiceViewSet
):
    """Tracker issue types and the item type they count as: the default or a value stream's own.
    A change re-types the items it affects."""

    serializer_class = TypeMappingSerializer
    input_serializer_class = TypeMappingInputSerializer
    update_serializer_class = TypeMappingUpdateSerializer
    filterset_class = TypeMappingFilter
    ordering_fields = ("tracker_type", "type", "created_at")

    def get_queryset(self):
        return mappings.type_mapping_list()

    def perform_service_create(self, data: dict[str, Any]):
        return mappings.type_mapping_create(actor=self.actor, **data)

    def perform_service_update(self, instance, data: dict[str, Any]):
        return mappings.type_mapping_update(actor=self.actor, mapping=instance, **data)

    def perform_destroy(self, instance) -> None:
        with service_errors():
            mappings.type_mapping_delete(actor=self.actor, mapping=instance)


class ValueStreamUnmappedView(APIView):
    """The statuses and tracker types of a value stream's items that no mapping covers."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: UnmappedSerializer}, summary="Unmapped statuses and types")
    def get(self, request: Request, pk: int) -> Response:
        value_stream = get_object_or_404(ValueStream.objects.visible_to(request.user), pk=pk)
        return Response(
            {
                "statuses": mappings.unmapped_statuses(value_stream=value_stream),
                "tracker_types": mappings.unmapped_types(value_stream=value_stream),
            }
        )
