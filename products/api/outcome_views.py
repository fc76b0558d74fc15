"""API endpoints of outcomes, key results, measurements, hypotheses, the roadmap and the change
history of a product.

Reads come from the list selectors, and every figure is the one the services stored. Writes go
through ``products.services`` with the signed-in user as the actor. Two checks refuse a write, in
this order: the role's model permission (executives and finance: 403 on every write), then the
ownership rule of ``products.permissions`` (a product owner writes only for the products they own;
a portfolio manager for all): 403, nothing written.
"""

from typing import Any

import django_filters
from django.contrib.auth.models import User
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from portfolio.common.api import (
    ArchiveActionsMixin,
    ServiceCreateMixin,
    ServiceDestroyMixin,
    ServiceUpdateMixin,
    ServiceViewSet,
    service_errors,
    write_schemas,
)
from portfolio.common.permissions import WRITE_ACTIONS, ModelPermissionsOrReadOnly
from products import selectors, services
from products.api.outcome_serializers import (
    ChangeRecordSerializer,
    HypothesisCreateSerializer,
    HypothesisSerializer,
    HypothesisUpdateSerializer,
    KeyResultCreateSerializer,
    KeyResultSerializer,
    KeyResultUpdateSerializer,
    MeasurementCreateSerializer,
    MeasurementSerializer,
    MeasurementUpdateSerializer,
    OutcomeCreateSerializer,
    OutcomeSerializer,
    OutcomeUpdateSerializer,
    RoadmapItemCreateSerializer,
    RoadmapItemMoveSerializer,
    RoadmapItemSerializer,
    RoadmapItemUpdateSerializer,
)
from products.filters import ARCHIVED_CHOICES, SearchMixin
from products.models import (
    ChangeRecord,
    Hypothesis,
    KeyResult,
    Measurement,
    Outcome,
    Product,
    RoadmapItem,
)
from products.permissions import ensure_can_edit_outcomes
from products.services.history import SUBJECT_TYPES

# Permissions ----------------------------------------------------------------------------------


def product_of(row: Any) -> Product:
    """The product whose outcomes a row belongs to (joined by every list selector)."""
    if isinstance(row, Measurement):
        return row.key_result.product
    return row.product


class EditsProductOutcomes(BasePermission):
    """A write to an existing row needs the ownership rule as well as the model permission.

    Checked when the row is fetched, so a refused PATCH answers 403 before its body is read. The
    services check the same rule again; creating a row is checked there, once the input names
    the product.
    """

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        action = getattr(view, "action_permissions", {}).get(getattr(view, "action", None))
        action = action or WRITE_ACTIONS.get(request.method or "", "change")
        ensure_can_edit_outcomes(request.user, product_of(obj), model=type(obj), action=action)
        return True


class OutcomeWriteViewSet(ServiceViewSet):
    permission_classes = [ModelPermissionsOrReadOnly, EditsProductOutcomes]

    @property
    def actor(self) -> User:
        """The signed-in account making the request: the ``actor`` the outcome services take."""
        user = self.request.user
        if not isinstance(user, User):
            raise exceptions.NotAuthenticated()
        return user


# Filters --------------------------------------------------------------------------------------


class ProductScopedFilter(django_filters.FilterSet):
    """``?product=`` (an id or a slug) and ``?product_slug=``, whatever path leads to the product."""

    product_path = "product"

    product = django_filters.CharFilter(method="filter_product", label="Product (id or slug)")
    product_slug = django_filters.CharFilter(method="filter_product_slug", label="Product (slug)")

    def filter_product(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        query = Q(**{f"{self.product_path}__slug": value})
        if value.isdigit():
            query |= Q(**{f"{self.product_path}_id": int(value)})
        return queryset.filter(query)

    def filter_product_slug(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        return queryset.filter(**{f"{self.product_path}__slug": value}) if value else queryset


class OutcomeApiFilter(SearchMixin, ProductScopedFilter):
    search_fields = ("statement",)
    q = django_filters.CharFilter(method="filter_search", label="Search")
    archived = django_filters.ChoiceFilter(
        choices=ARCHIVED_CHOICES, method="filter_archived", empty_label=None, label="Show"
    )

    class Meta:
        model = Outcome
        fields = ["product", "product_slug", "q", "archived"]


class KeyResultApiFilter(ProductScopedFilter):
    outcome = django_filters.NumberFilter(field_name="outcome_id", label="Outcome (id)")
    status = django_filters.ChoiceFilter(choices=KeyResult.Status.choices)
    kind = django_filters.ChoiceFilter(choices=KeyResult.Kind.choices)
    stale = django_filters.BooleanFilter(
        method="filter_stale", label="No measurement in the last 30 days while running"
    )
    archived = django_filters.ChoiceFilter(
        choices=ARCHIVED_CHOICES,
        method="filter_archived",
        empty_label=None,
        label="Show (by the outcome: active by default)",
    )

    class Meta:
        model = KeyResult
        fields = ["product", "product_slug", "outcome", "status", "kind", "stale", "archived"]

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        """Key results of archived outcomes stay out unless ``archived`` asks for them."""
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("archived"):
            queryset = queryset.filter(outcome__archived_at__isnull=True)
        return queryset

    def filter_archived(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == "true":
            return queryset.filter(outcome__archived_at__isnull=False)
        if value == "all":
            return queryset
        return queryset.filter(outcome__archived_at__isnull=True)

    def filter_stale(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        stale = KeyResult.objects.stale().values("pk")
        return queryset.filter(pk__in=stale) if value else queryset.exclude(pk__in=stale)


class MeasurementApiFilter(ProductScopedFilter):
    product_path = "key_result__product"

    key_result = django_filters.NumberFilter(field_name="key_result_id", label="Key result (id)")
    date_from = django_filters.DateFilter(field_name="date", lookup_expr="gte", label="On or after")
    date_to = django_filters.DateFilter(field_name="date", lookup_expr="lte", label="On or before")

    class Meta:
        model = Measurement
        fields = ["product", "product_slug", "key_result", "date_from", "date_to"]


class HypothesisApiFilter(ProductScopedFilter):
    status = django_filters.ChoiceFilter(choices=Hypothesis.Status.choices)
    key_result = django_filters.NumberFilter(field_name="key_result_id", label="Key result (id)")

    class Meta:
        model = Hypothesis
        fields = ["product", "product_slug", "status", "key_result"]


class RoadmapItemApiFilter(ProductScopedFilter):
    horizon = django_filters.ChoiceFilter(choices=RoadmapItem.Horizon.choices)
    key_result = django_filters.NumberFilter(
        field_name="key_results", label="Linked to key result (id)", distinct=True
    )
    without_outcome = django_filters.BooleanFilter(
        field_name="key_results", lookup_expr="isnull", distinct=True, label="Linked to none"
    )

    class Meta:
        model = RoadmapItem
        fields = ["product", "product_slug", "horizon", "key_result", "without_outcome"]


class ChangeRecordApiFilter(ProductScopedFilter):
    subject_type = django_filters.ChoiceFilter(
        choices=[(name, name) for name in SUBJECT_TYPES.values()]
    )
    subject_id = django_filters.NumberFilter()
    action = django_filters.ChoiceFilter(choices=ChangeRecord.Action.choices)
    at_from = django_filters.IsoDateTimeFilter(
        field_name="at", lookup_expr="gte", label="At or after"
    )
    at_to = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="lt", label="Before")

    class Meta:
        model = ChangeRecord
        fields = [
            "product",
            "product_slug",
            "subject_type",
            "subject_id",
            "action",
            "at_from",
            "at_to",
        ]


# ViewSets -------------------------------------------------------------------------------------


@extend_schema_view(
    **write_schemas(
        read=OutcomeSerializer, create=OutcomeCreateSerializer, update=OutcomeUpdateSerializer
    )
)
class OutcomeViewSet(
    ArchiveActionsMixin, ServiceCreateMixin, ServiceUpdateMixin, OutcomeWriteViewSet
):
    """A product's objectives. Archived ones with ``?archived=``; archive instead of delete."""

    serializer_class = OutcomeSerializer
    input_serializer_class = OutcomeCreateSerializer
    update_serializer_class = OutcomeUpdateSerializer
    filterset_class = OutcomeApiFilter
    ordering_fields = ("order", "period_start", "period_end", "created_at", "updated_at")
    ordering = ("product__name", "product_id", "order", "id")

    def get_queryset(self):
        return selectors.outcome_list(user=self.request.user)

    def perform_service_create(self, data: dict[str, Any]):
        return services.outcome_create(actor=self.actor, **data)

    def perform_service_update(self, instance, data: dict[str, Any]):
        return services.outcome_update(actor=self.actor, outcome=instance, **data)

    def perform_archive(self, instance):
        return services.outcome_archive(actor=self.actor, outcome=instance)

    def perform_restore(self, instance):
        return services.outcome_restore(actor=self.actor, outcome=instance)


@extend_schema_view(
    **write_schemas(
        read=KeyResultSerializer,
        create=KeyResultCreateSerializer,
        update=KeyResultUpdateSerializer,
    )
)
class KeyResultViewSet(
    ServiceCreateMixin, ServiceUpdateMixin, ServiceDestroyMixin, OutcomeWriteViewSet
):
    """Key results with the progress, expected progress and status stored from their latest
    measurement. Those of archived outcomes with ``?archived=``."""

    serializer_class = KeyResultSerializer
    input_serializer_class = KeyResultCreateSerializer
    update_serializer_class = KeyResultUpdateSerializer
    filterset_class = KeyResultApiFilter
    ordering_fields = (
        "name",
        "status",
        "progress",
        "expected_progress",
        "latest_date",
        "start_date",
        "target_date",
        "created_at",
        "updated_at",
    )
    ordering = ("product__name", "product_id", "outcome__order", "outcome_id", "id")

    def get_queryset(self):
        return selectors.key_result_list(user=self.request.user)

    def perform_service_create(self, data: dict[str, Any]):
        return services.key_result_create(actor=self.actor, **data)

    def perform_service_update(self, instance, data: dict[str, Any]):
        return services.key_result_update(actor=self.actor, key_result=instance, **data)

    def perform_service_destroy(self, instance):
        services.key_result_delete(actor=self.actor, key_result=instance)


@extend_schema_view(
    **write_schemas(
        read=MeasurementSerializer,
        create=MeasurementCreateSerializer,
        update=MeasurementUpdateSerializer,
    )
)
class MeasurementViewSet(
    ServiceCreateMixin, ServiceUpdateMixin, ServiceDestroyMixin, OutcomeWriteViewSet
):
    """Dated values of key results, latest first. Each write moves its key result's standing,
    which the response carries."""

    serializer_class = MeasurementSerializer
    input_serializer_class = MeasurementCreateSerializer
    update_serializer_class = MeasurementUpdateSerializer
    filterset_class = MeasurementApiFilter
    ordering_fields = ("date", "value", "created_at", "updated_at")
    ordering = ("-date", "-id")

    def get_queryset(self):
        return selectors.measurement_list(user=self.request.user)

    def perform_service_create(self, data: dict[str, Any]):
        return services.measurement_record(actor=self.actor, **data)

    def perform_service_update(self, instance, data: dict[str, Any]):
        return services.measurement_update(actor=self.actor, measurement=instance, **data)

    def perform_service_destroy(self, instance):
        services.measurement_delete(actor=self.actor, measurement=instance)


@extend_schema_view(
    **write_schemas(
        read=HypothesisSerializer,
        create=HypothesisCreateSerializer,
        update=HypothesisUpdateSerializer,
    )
)
class HypothesisViewSet(
    ServiceCreateMixin, ServiceUpdateMixin, ServiceDestroyMixin, OutcomeWriteViewSet
):
    """We believe <change> will result in <outcome>; we will know when <key result> moves by
    <amount>. Each status change is dated and kept (``status_changes``)."""

    serializer_class = HypothesisSerializer
    input_serializer_class = HypothesisCreateSerializer
    update_serializer_class = HypothesisUpdateSerializer
    filterset_class = HypothesisApiFilter
    ordering_fields = ("status", "status_changed_at", "created_at", "updated_at")
    ordering = ("-created_at", "-id")

    def get_queryset(self):
        return selectors.hypothesis_list(user=self.request.user)

    def perform_service_create(self, data: dict[str, Any]):
        return services.hypothesis_create(actor=self.actor, **data)

    def perform_service_update(self, instance, data: dict[str, Any]):
        return services.hypothesis_update(actor=self.actor, hypothesis=instance, **data)

    def perform_service_destroy(self, instance):
        services.hypothesis_delete(actor=self.actor, hypothesis=instance)


# now, next, later, done: the board's order, not the alphabet's.
HORIZON_RANK = Case(
    *(When(horizon=h, then=Value(rank)) for rank, h in enumerate(RoadmapItem.Horizon.values)),
    output_field=IntegerField(),
)


@extend_schema_view(
    **write_schemas(
        read=RoadmapItemSerializer,
        create=RoadmapItemCreateSerializer,
        update=RoadmapItemUpdateSerializer,
    )
)
class RoadmapItemViewSet(
    ServiceCreateMixin, ServiceUpdateMixin, ServiceDestroyMixin, OutcomeWriteViewSet
):
    """A product's now / next / later / done roadmap in board order, each item linked to the key
    results it should move. ``horizon`` and ``position`` change only through ``move``."""

    serializer_class = RoadmapItemSerializer
    input_serializer_class = RoadmapItemCreateSerializer
    update_serializer_class = RoadmapItemUpdateSerializer
    filterset_class = RoadmapItemApiFilter
    ordering_fields = ("horizon_rank", "position", "title", "created_at", "updated_at")
    ordering = ("product__name", "product_id", "horizon_rank", "position")
    action_permissions = {"move": "change"}

    def get_queryset(self):
        return selectors.roadmap_item_list(user=self.request.user).annotate(
            horizon_rank=HORIZON_RANK
        )

    def perform_service_create(self, data: dict[str, Any]):
        return services.roadmap_item_create(actor=self.actor, **data)

    def perform_service_update(self, instance, data: dict[str, Any]):
        return services.roadmap_item_update(actor=self.actor, item=instance, **data)

    def perform_service_destroy(self, instance):
        services.roadmap_item_delete(actor=self.actor, item=instance)

    @extend_schema(
        request=RoadmapItemMoveSerializer,
        responses=RoadmapItemSerializer,
        summary="Move",
        description="Put the item at a place in a horizon (its own or another); the other items "
        "close up and make room, so each horizon keeps the places 0..n-1.",
    )
    @action(detail=True, methods=["post"])
    def move(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        item = self.get_object()
        data = self.validated_input(RoadmapItemMoveSerializer)
        with service_errors():
            item = services.roadmap_item_move(actor=self.actor, item=item, **data)
        return self.rendered(item)


class ChangeRecordViewSet(ServiceViewSet):
    """Who changed what in a product's outcomes, key results, measurements, hypotheses and
    roadmap, when, from what to what; newest first. Read-only: the services write it."""

    serializer_class = ChangeRecordSerializer
    filterset_class = ChangeRecordApiFilter
    ordering_fields = ("at",)
    ordering = ("-at", "-id")

    def get_queryset(self):
        return selectors.change_record_list(user=self.request.user)
