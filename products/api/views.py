"""API endpoints of the products app: products, teams, people, team memberships, disciplines.

Reads come from the list selectors (one constant set of queries per page); writes go through
``products.services`` with the signed-in user as the actor. There is no ``DELETE``: registry rows
are archived and restored, memberships are ended.
"""

from typing import Any

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from portfolio.common.api import (
    ArchiveActionsMixin,
    ServiceCreateMixin,
    ServiceUpdateMixin,
    ServiceViewSet,
    service_errors,
    write_schemas,
)
from products import selectors, services
from products.api.serializers import (
    DisciplineInputSerializer,
    DisciplineSerializer,
    PersonInputSerializer,
    PersonSerializer,
    ProductInputSerializer,
    ProductSerializer,
    TeamInputSerializer,
    TeamMembershipCreateSerializer,
    TeamMembershipEndSerializer,
    TeamMembershipSerializer,
    TeamMembershipUpdateSerializer,
    TeamSerializer,
)
from products.filters import PersonFilter, ProductFilter, TeamFilter, TeamMembershipFilter


class ProductApiFilter(ProductFilter):
    slug = django_filters.CharFilter(field_name="slug", label="Slug")

    class Meta(ProductFilter.Meta):
        fields = [*ProductFilter.Meta.fields, "slug"]


class TeamApiFilter(TeamFilter):
    slug = django_filters.CharFilter(field_name="slug", label="Slug")

    class Meta(TeamFilter.Meta):
        fields = [*TeamFilter.Meta.fields, "slug"]


@extend_schema_view(
    **write_schemas(
        read=ProductSerializer, create=ProductInputSerializer, update=ProductInputSerializer
    )
)
class ProductViewSet(ArchiveActionsMixin, ServiceCreateMixin, ServiceUpdateMixin, ServiceViewSet):
    """Products: name, slug, lifecycle stage and product owners. Archived ones with ``?archived=``."""

    serializer_class = ProductSerializer
    input_serializer_class = ProductInputSerializer
    filterset_class = ProductApiFilter
    ordering_fields = ("name", "slug", "lifecycle_stage", "team_count", "created_at", "updated_at")
    ordering = ("name", "id")

    def get_queryset(self):
        return selectors.product_list(user=self.request.user, include_archived=True)

    def perform_service_create(self, data: dict[str, Any]):
        return services.product_create(actor=self.actor, **data)

    def perform_service_update(self, instance, data: dict[str, Any]):
        return services.product_update(actor=self.actor, product=instance, **data)

    def perform_archive(self, instance):
        return services.product_archive(actor=self.actor, product=instance)

    def perform_restore(self, instance):
        return services.product_restore(actor=self.actor, product=instance)


@extend_schema_view(
    **write_schemas(read=TeamSerializer, create=TeamInputSerializer, update=TeamInputSerializer)
)
class TeamViewSet(ArchiveActionsMixin, ServiceCreateMixin, ServiceUpdateMixin, ServiceViewSet):
    """Durable teams with today's members and FTE and the products they own.

    Archiving a team ends its current memberships today.
    """

    serializer_class = TeamSerializer
    input_serializer_class = TeamInputSerializer
    filterset_class = TeamApiFilter
    ordering_fields = (
        "name",
        "slug",
        "formed_on",
        "member_count",
        "total_fte",
        "product_count",
        "created_at",
    )
    ordering = ("name", "id")

    def get_queryset(self):
        return selectors.team_list(user=self.request.user, include_archived=True)

    def perform_service_create(self, data: dict[str, Any]):
        return services.team_create(actor=self.actor, **data)

    def perform_service_update(self, instance, data: dict[str, Any]):
        return services.team_update(actor=self.actor, team=instance, **data)

    def perform_archive(self, instance):
        return services.team_archive(actor=self.actor, team=instance)

    def perform_restore(self, instance):
        return services.team_restore(actor=self.actor, team=instance)


@extend_schema_view(
    **write_schemas(
        read=PersonSerializer, create=PersonInputSerializer, update=PersonInputSerializer
    )
)
class PersonViewSet(ArchiveActionsMixin, ServiceCreateMixin, ServiceUpdateMixin, ServiceViewSet):
    """People with their discipline, today's FTE across teams and their current teams.

    Archiving a person ends their current memberships today.
    """

    serializer_class = PersonSerializer
    input_serializer_class = PersonInputSerializer
    filterset_class = PersonFilter
    ordering_fields = ("name", "email", "allocated_fte", "team_count", "created_at")
    ordering = ("name", "id")

    def get_queryset(self):
        return selectors.person_list(user=self.request.user, include_archived=True)

    def perform_service_create(self, data: dict[str, Any]):
        return services.person_create(actor=self.actor, **data)

    def perform_service_update(self, instance, data: dict[str, Any]):
        return services.person_update(actor=self.actor, person=instance, **data)

    def perform_archive(self, instance):
        return services.person_archive(actor=self.actor, person=instance)

    def perform_restore(self, instance):
        return services.person_restore(actor=self.actor, person=instance)


@extend_schema_view(
    **write_schemas(
        read=TeamMembershipSerializer,
        create=TeamMembershipCreateSerializer,
        update=TeamMembershipUpdateSerializer,
    )
)
class TeamMembershipViewSet(ServiceCreateMixin, ServiceUpdateMixin, ServiceViewSet):
    """Who works in which team, for what share of their time, from when until when.

    A person's memberships that overlap in time never add up to more than 1 FTE. Memberships are
    not deleted: ``end/`` sets the last day.
    """

    serializer_class = TeamMembershipSerializer
    input_serializer_class = TeamMembershipCreateSerializer
    update_serializer_class = TeamMembershipUpdateSerializer
    filterset_class = TeamMembershipFilter
    ordering_fields = ("start_date", "end_date", "fte", "person__name", "team__name", "created_at")
    ordering = ("team__name", "person__name", "start_date", "id")
    http_method_names = ("get", "post", "patch", "head", "options")
    action_permissions = {"end": "change"}

    def get_queryset(self):
        return selectors.membership_list(user=self.request.user)

    def perform_service_create(self, data: dict[str, Any]):
        return services.membership_create(actor=self.actor, **data)

    def perform_service_update(self, instance, data: dict[str, Any]):
        return services.membership_update(actor=self.actor, membership=instance, **data)

    @extend_schema(
        request=TeamMembershipEndSerializer,
        responses=TeamMembershipSerializer,
        summary="End a membership",
        description="Set the last day the membership counts.",
    )
    @action(detail=True, methods=["post"])
    def end(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        membership = self.get_object()
        data = self.validated_input(TeamMembershipEndSerializer)
        with service_errors():
            membership = services.membership_end(
                actor=self.actor, membership=membership, end_date=data["end_date"]
            )
        return self.rendered(membership)


@extend_schema_view(
    **write_schemas(
        read=DisciplineSerializer,
        create=DisciplineInputSerializer,
        update=DisciplineInputSerializer,
    )
)
class DisciplineViewSet(ServiceCreateMixin, ServiceUpdateMixin, ServiceViewSet):
    """The organisation's list of disciplines (engineer, designer, ...) that people hold."""

    serializer_class = DisciplineSerializer
    input_serializer_class = DisciplineInputSerializer
    ordering_fields = ("order", "name", "people_count")
    ordering = ("order", "name", "id")

    def get_queryset(self):
        return selectors.discipline_list()

    def perform_service_create(self, data: dict[str, Any]):
        return services.discipline_create(actor=self.actor, **data)

    def perform_service_update(self, instance, data: dict[str, Any]):
        return services.discipline_update(actor=self.actor, discipline=instance, **data)
