"""API endpoints of the valuestreams app: value streams and the products they serve."""

from typing import Any

import django_filters
from drf_spectacular.utils import extend_schema_view

from portfolio.common.api import (
    ArchiveActionsMixin,
    ServiceCreateMixin,
    ServiceUpdateMixin,
    ServiceViewSet,
    write_schemas,
)
from valuestreams import selectors, services
from valuestreams.api.serializers import ValueStreamInputSerializer, ValueStreamSerializer
from valuestreams.filters import ValueStreamFilter


class ValueStreamApiFilter(ValueStreamFilter):
    slug = django_filters.CharFilter(field_name="slug", label="Slug")

    class Meta(ValueStreamFilter.Meta):
        fields = [*ValueStreamFilter.Meta.fields, "slug"]


@extend_schema_view(
    **write_schemas(
        read=ValueStreamSerializer,
        create=ValueStreamInputSerializer,
        update=ValueStreamInputSerializer,
    )
)
class ValueStreamViewSet(
    ArchiveActionsMixin, ServiceCreateMixin, ServiceUpdateMixin, ServiceViewSet
):
    """Development and operational value streams, their owner and the products they serve."""

    serializer_class = ValueStreamSerializer
    input_serializer_class = ValueStreamInputSerializer
    filterset_class = ValueStreamApiFilter
    ordering_fields = ("name", "slug", "kind", "product_count", "created_at", "updated_at")
    ordering = ("name", "id")

    def get_queryset(self):
        return selectors.value_stream_list(user=self.request.user, include_archived=True)

    def perform_service_create(self, data: dict[str, Any]):
        return services.value_stream_create(actor=self.actor, **data)

    def perform_service_update(self, instance, data: dict[str, Any]):
        return services.value_stream_update(actor=self.actor, value_stream=instance, **data)

    def perform_archive(self, instance):
        return services.value_stream_archive(actor=self.actor, value_stream=instance)

    def perform_restore(self, instance):
        return services.value_stream_restore(actor=self.actor, value_stream=instance)
