"""API endpoints of the funding app: fiscal periods (with their summary and the approval workflow),
rate cards, envelopes and allocations (with their trail).

Everyone signed in reads; writes need finance's model permissions, the workflow steps
``funding.approve_allocation`` (403 otherwise, nothing written). Writes go through
``funding.services`` with the signed-in user as the actor, so a closed period, a limit, a stale
version or a missing reason answer 400 ``{field: [messages]}`` with nothing written.

Figures that follow from the rate card and the memberships (an allocation's amount, what an
envelope has allocated) are computed once per response for all its rows (``get_serializer``), so
a list costs the same number of queries for 2 rows as for 20.
"""

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import django_filters
from django.db.models import Exists, OuterRef, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.response import Response

from funding import selectors, services
from funding.api.serializers import (
    AllocationChangeSerializer,
    AllocationCreateSerializer,
    AllocationDeleteSerializer,
    AllocationMoveSerializer,
    AllocationSerializer,
    AllocationUpdateSerializer,
    EnvelopeCreateSerializer,
    EnvelopeSerializer,
    EnvelopeUpdateSerializer,
    FiscalPeriodCreateSerializer,
    FiscalPeriodSerializer,
    FiscalPeriodStatusSerializer,
    FiscalPeriodUpdateSerializer,
    MoveResultSerializer,
    PeriodSummarySerializer,
    RateCreateSerializer,
    RateSerializer,
    RateUpdateSerializer,
)
from funding.capacity import allocation_amount, team_capacities
from funding.models import Allocation, AllocationStatus, Envelope, FiscalPeriod, Rate
from portfolio.common.api import (
    ServiceCreateMixin,
    ServiceDestroyMixin,
    ServiceUpdateMixin,
    ServiceViewSet,
    service_errors,
    write_schemas,
)
from portfolio.common.permissions import ModelPermissionsOrReadOnly

ZERO = Decimal("0.00")
APPROVE = "funding.approve_allocation"


class FundingPermissions(ModelPermissionsOrReadOnly):
    """The model permissions, plus actions that name a whole permission in ``action_permissions``
    (``{"approve_allocations": "funding.approve_allocation"}``)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        perm = getattr(view, "action_permissions", {}).get(getattr(view, "action", None), "")
        if "." in perm and request.method not in SAFE_METHODS:
            user = request.user
            return bool(user and user.is_authenticated and user.has_perm(perm))
        return super().has_permission(request, view)


class FundingViewSet(ServiceViewSet):
    permission_classes = [FundingPermissions]


# Figures computed once per response --------------------------------------------------------------


def _rows(instance: Any) -> list[Any]:
    if instance is None:
        return []
    if isinstance(instance, Iterable):
        return list(instance)
    return [instance]


def allocation_amounts(allocations: Iterable[Allocation]) -> dict[int, Decimal]:
    """Each allocation's amount: two queries per period among them, whatever their number."""
    by_period: dict[int, list[Allocation]] = defaultdict(list)
    for allocation in allocations:
        by_period[allocation.period_id].append(allocation)
    amounts: dict[int, Decimal] = {}
    for rows in by_period.values():
        capacities = team_capacities(period=rows[0].period, team_ids={a.team_id for a in rows})
        for a in rows:
            amounts[a.pk] = allocation_amount(
                percent=a.percent, capacity_cost=capacities[a.team_id].cost
            )
    return amounts


def envelopes_allocated(envelopes: Iterable[Envelope]) -> dict[int, Decimal]:
    """Money allocated into each envelope's value stream in its period, each cell to the cent."""
    envelopes = list(envelopes)
    if not envelopes:
        return {}
    periods = {e.period_id: e.period for e in envelopes}
    cells = list(
        Allocation.objects.filter(
            period_id__in=periods, value_stream_id__in={e.value_stream_id for e in envelopes}
        ).only("id", "period_id", "team_id", "value_stream_id", "percent")
    )
    totals: dict[tuple[int, int], Decimal] = defaultdict(lambda: ZERO)
    for period_id, period in periods.items():
        in_period = [c for c in cells if c.period_id == period_id]
        if not in_period:
            continue
        capacities = team_capacities(period=period, team_ids={c.team_id for c in in_period})
        for c in in_period:
            totals[(period_id, c.value_stream_id)] += allocation_amount(
                percent=c.percent, capacity_cost=capacities[c.team_id].cost
            )
    return {e.pk: totals[(e.period_id, e.value_stream_id)] for e in envelopes}


# Filters ----------------------------------------------------------------------------------------


class FiscalPeriodApiFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=FiscalPeriod.Status.choices)
    contains = django_filters.DateFilter(method="filter_contains", label="Contains the day")

    class Meta:
        model = FiscalPeriod
        fields = ["status", "contains"]

    def filter_contains(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        return queryset.filter(start__lte=value, end__gte=value)


class RateApiFilter(django_filters.FilterSet):
    period = django_filters.NumberFilter(field_name="period_id", label="Period (id)")
    discipline = django_filters.NumberFilter(field_name="discipline_id", label="Discipline (id)")

    class Meta:
        model = Rate
        fields = ["period", "discipline"]


class EnvelopeApiFilter(django_filters.FilterSet):
    period = django_filters.NumberFilter(field_name="period_id", label="Period (id)")
    value_stream = django_filters.NumberFilter(
        field_name="value_stream_id", label="Value stream (id)"
    )

    class Meta:
        model = Envelope
        fields = ["period", "value_stream"]


class AllocationApiFilter(django_filters.FilterSet):
    period = django_filters.NumberFilter(field_name="period_id", label="Period (id)")
    team = django_filters.NumberFilter(field_name="team_id", label="Team (id)")
    value_stream = django_filters.NumberFilter(
        field_name="value_stream_id", label="Value stream (id)"
    )
    status = django_filters.ChoiceFilter(choices=AllocationStatus.choices)

    class Meta:
        model = Allocation
        fields = ["period", "team", "value_stream", "status"]


# Fiscal periods --------------------------------------------------------------------------------


def _has(status: str) -> Exists:
    return Exists(Allocation.objects.filter(period=OuterRef("pk"), status=status))


def _plan_status(period: FiscalPeriod) -> str:
    return services.plan_status(
        s for s in AllocationStatus.values if getattr(period, f"has_{s}", False)
    )


WORKFLOW_DOCS = {
    "propose": "Move the period's draft allocations to proposed.",
    "approve": "Approve the period's proposed allocations.",
    "return": "Return the period's proposed allocations to draft.",
}


def _workflow_schema(step: str) -> Any:
    return extend_schema(
        request=AllocationMoveSerializer,
        responses=MoveResultSerializer,
        summary=f"{step.capitalize()} allocations",
        description=f"{WORKFLOW_DOCS[step]} Optionally only one team's or one value stream's "
        "(``team``, ``value_stream``: id or slug). Each moved allocation gets a line in its "
        "trail with the reason. Needs ``funding.approve_allocation``; 400 when none can move "
        "or the period is closed.",
    )


@extend_schema_view(
    **write_schemas(
        read=FiscalPeriodSerializer,
        create=FiscalPeriodCreateSerializer,
        update=FiscalPeriodUpdateSerializer,
    )
)
class FiscalPeriodViewSet(ServiceCreateMixin, ServiceUpdateMixin, FundingViewSet):
    """Budgeting periods, newest first. Periods never overlap; a closed period is read-only."""

    serializer_class = FiscalPeriodSerializer
    input_serializer_class = FiscalPeriodCreateSerializer
    update_serializer_class = FiscalPeriodUpdateSerializer
    filterset_class = FiscalPeriodApiFilter
    ordering_fields = ("start", "end", "name", "status")
    ordering = ("-start", "id")
    action_permissions = {
        "set_status": "change",
        "propose_allocations": APPROVE,
        "approve_allocations": APPROVE,
        "return_allocations": APPROVE,
    }

    def get_queryset(self) -> QuerySet[FiscalPeriod]:
        return selectors.fiscal_period_list().annotate(
            **{f"has_{s}": _has(s) for s in AllocationStatus.values}
        )

    def get_serializer(self, *args: Any, **kwargs: Any) -> Any:
        for period in _rows(args[0] if args else kwargs.get("instance")):
            period.plan_status = _plan_status(period)
        return super().get_serializer(*args, **kwargs)

    def perform_service_create(self, data: dict[str, Any]) -> FiscalPeriod:
        return services.fiscal_period_create(actor=self.actor, **data)

    def perform_service_update(self, instance: FiscalPeriod, data: dict[str, Any]) -> FiscalPeriod:
        return services.fiscal_period_update(actor=self.actor, period=instance, **data)

    @extend_schema(
        request=FiscalPeriodStatusSerializer,
        responses=FiscalPeriodSerializer,
        summary="Set status",
        description="planning -> active -> closed (active may go back to planning; one period "
        "is active at a time). Closing is final: the period becomes read-only.",
    )
    @action(detail=True, methods=["post"], url_path="status")
    def set_status(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        period = self.get_object()
        data = self.validated_input(FiscalPeriodStatusSerializer)
        with service_errors():
            period = services.fiscal_period_set_status(actor=self.actor, period=period, **data)
        return self.rendered(period)

    @extend_schema(
        responses=PeriodSummarySerializer,
        summary="Summary",
        description="Per team: capacity cost, allocated (percent and money), unallocated, "
        "actual to date. Per value stream: envelope, allocated, unfunded, actual to date (each "
        "team's actual x its percent there). Totals over the period and the plan's status.",
    )
    @action(detail=True, methods=["get"])
    def summary(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        period = self.get_object()
        summary = selectors.period_summary(period=period)
        data = {
            "period": period,
            "teams": summary.team_rows(),
            "value_streams": summary.value_stream_rows(),
            "totals": summary.totals(),
        }
        return Response(PeriodSummarySerializer(data).data)

    def _move(self, step: str) -> Response:
        period = self.get_object()
        data = self.validated_input(AllocationMoveSerializer)
        with service_errors():
            moved = services.allocations_move(actor=self.actor, period=period, step=step, **data)
        statuses = Allocation.objects.filter(period=period).values_list("status", flat=True)
        return Response({"moved": moved, "plan_status": services.plan_status(set(statuses))})

    @_workflow_schema("propose")
    @action(detail=True, methods=["post"], url_path="allocations/propose")
    def propose_allocations(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._move("propose")

    @_workflow_schema("approve")
    @action(detail=True, methods=["post"], url_path="allocations/approve")
    def approve_allocations(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._move("approve")

    @_workflow_schema("return")
    @action(detail=True, methods=["post"], url_path="allocations/return")
    def return_allocations(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._move("return")


# Rate cards ------------------------------------------------------------------------------------


@extend_schema_view(
    **write_schemas(read=RateSerializer, create=RateCreateSerializer, update=RateUpdateSerializer)
)
class RateViewSet(ServiceCreateMixin, ServiceUpdateMixin, ServiceDestroyMixin, FundingViewSet):
    """Rate-card lines: the annual fully-loaded cost of one person of a discipline in a period."""

    serializer_class = RateSerializer
    input_serializer_class = RateCreateSerializer
    update_serializer_class = RateUpdateSerializer
    filterset_class = RateApiFilter
    ordering_fields = ("annual_cost", "created_at", "updated_at")
    ordering = ("-period__start", "discipline__order", "discipline__name", "id")

    def get_queryset(self) -> QuerySet[Rate]:
        return Rate.objects.select_related("period", "discipline")

    def perform_service_create(self, data: dict[str, Any]) -> Rate:
        return services.rate_set(actor=self.actor, **data)

    def perform_service_update(self, instance: Rate, data: dict[str, Any]) -> Rate:
        return services.rate_set(
            actor=self.actor,
            period=instance.period,
            discipline=instance.discipline,
            annual_cost=data.get("annual_cost", instance.annual_cost),
        )

    def perform_service_destroy(self, instance: Rate) -> None:
        services.rate_delete(actor=self.actor, rate=instance)


# Envelopes -------------------------------------------------------------------------------------


@extend_schema_view(
    **write_schemas(
        read=EnvelopeSerializer, create=EnvelopeCreateSerializer, update=EnvelopeUpdateSerializer
    )
)
class EnvelopeViewSet(ServiceCreateMixin, ServiceUpdateMixin, ServiceDestroyMixin, FundingViewSet):
    """Value streams' pooled budgets per period, with what is allocated and what is unfunded."""

    serializer_class = EnvelopeSerializer
    input_serializer_class = EnvelopeCreateSerializer
    update_serializer_class = EnvelopeUpdateSerializer
    filterset_class = EnvelopeApiFilter
    ordering_fields = ("amount", "created_at", "updated_at")
    ordering = ("-period__start", "value_stream__name", "id")

    def get_queryset(self) -> QuerySet[Envelope]:
        return Envelope.objects.select_related("period", "value_stream")

    def get_serializer(self, *args: Any, **kwargs: Any) -> Any:
        instance = args[0] if args else kwargs.get("instance")
        kwargs["context"] = {
            **self.get_serializer_context(),
            "envelope_allocated": envelopes_allocated(_rows(instance)),
        }
        return self.get_serializer_class()(*args, **kwargs)

    def perform_service_create(self, data: dict[str, Any]) -> Envelope:
        return services.envelope_set(actor=self.actor, **data)

    def perform_service_update(self, instance: Envelope, data: dict[str, Any]) -> Envelope:
        fields = ("amount", "min_debt_risk_percent", "notes")
        return services.envelope_set(
            actor=self.actor,
            period=instance.period,
            value_stream=instance.value_stream,
            **{name: data.get(name, getattr(instance, name)) for name in fields},
        )

    def perform_service_destroy(self, instance: Envelope) -> None:
        services.envelope_delete(actor=self.actor, envelope=instance)


# Allocations -----------------------------------------------------------------------------------


@extend_schema_view(
    **write_schemas(
        read=AllocationSerializer,
        create=AllocationCreateSerializer,
        update=AllocationUpdateSerializer,
    ),
    destroy=extend_schema(
        request=AllocationDeleteSerializer,
        parameters=[
            OpenApiParameter(
                "reason", OpenApiTypes.STR, description="Why (or ``reason`` in the body)."
            )
        ],
        description="Empty the cell. An approved allocation needs a reason; the trail keeps the "
        "removal.",
    ),
)
class AllocationViewSet(
    ServiceCreateMixin, ServiceUpdateMixin, ServiceDestroyMixin, FundingViewSet
):
    """Percents of teams' capacity cost given to value streams, per period, with their amount.

    A team's allocations in a period never exceed 100 %, a value stream's never its envelope:
    a write that would is refused with ``{"percent": [message]}`` naming the limit and by how
    much. Send ``version`` to refuse the change if the row moved on since it was read.
    """

    serializer_class = AllocationSerializer
    input_serializer_class = AllocationCreateSerializer
    update_serializer_class = AllocationUpdateSerializer
    filterset_class = AllocationApiFilter
    ordering_fields = ("percent", "status", "created_at", "updated_at")
    ordering = ("-period__start", "team__name", "value_stream__name", "id")

    def get_queryset(self) -> QuerySet[Allocation]:
        return Allocation.objects.select_related("period", "team", "value_stream")

    def get_serializer(self, *args: Any, **kwargs: Any) -> Any:
        instance = args[0] if args else kwargs.get("instance")
        kwargs["context"] = {
            **self.get_serializer_context(),
            "allocation_amounts": allocation_amounts(_rows(instance)),
        }
        return self.get_serializer_class()(*args, **kwargs)

    def perform_service_create(self, data: dict[str, Any]) -> Allocation:
        allocation = services.allocation_set_percent(actor=self.actor, version=0, **data)
        assert allocation is not None  # the input refuses 0 %
        return allocation

    def perform_service_update(self, instance: Allocation, data: dict[str, Any]) -> Allocation:
        allocation = services.allocation_set_percent(
            actor=self.actor,
            period=instance.period,
            team=instance.team,
            value_stream=instance.value_stream,
            percent=data.get("percent", instance.percent),
            version=data.get("version"),
            reason=data.get("reason", ""),
        )
        assert allocation is not None  # the input refuses 0 %
        return allocation

    def perform_service_destroy(self, instance: Allocation) -> None:
        body = self.request.data if isinstance(self.request.data, dict) else {}
        raw = {**self.request.query_params.dict(), **body}
        serializer = AllocationDeleteSerializer(data=raw)
        serializer.is_valid(raise_exception=True)
        services.allocation_set_percent(
            actor=self.actor,
            period=instance.period,
            team=instance.team,
            value_stream=instance.value_stream,
            percent=None,
            version=serializer.validated_data.get("version"),
            reason=serializer.validated_data.get("reason", ""),
        )

    @extend_schema(
        responses=AllocationChangeSerializer(many=True),
        summary="History",
        description="The cell's trail, newest first: who, when, before, after and why (it keeps "
        "the lines of earlier allocations of the same team and value stream in the period).",
        filters=False,
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def history(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        allocation = self.get_object()
        changes = selectors.allocation_changes(
            period=allocation.period,
            team_id=allocation.team_id,
            value_stream_id=allocation.value_stream_id,
        )
        return Response(AllocationChangeSerializer(changes, many=True).data)
