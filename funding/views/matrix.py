"""The allocation matrix of a period, its approval workflow and the allocation timelines.

Teams are rows, value streams columns; each cell is a percent of the team's capacity cost in the
period. Finance edits a cell in place: the htmx post answers the cell and, out of band, its row's
and its column's totals, the grand totals and the plan's status, all read afresh from the
database after the write. A refusal (a limit, a stale page, a missing reason, a closed period)
answers the cell as saved, with the message beside it. Without JavaScript the cell form posts
normally and the matrix comes back with the message.

Everyone signed in reads; every write answers 403 to a role without finance's permissions.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST

from funding import selectors, services
from funding.models import AllocationChange, AllocationStatus, FiscalPeriod
from funding.selectors import Cell, Matrix, MatrixColumn, MatrixRow
from funding.views.periods import get_period, period_crumbs
from portfolio.common.htmx import render_page
from portfolio.common.views import actor, needs
from products.models import Team
from valuestreams.models import ValueStream

CHANGE = "funding.change_allocation"
APPROVE = "funding.approve_allocation"
MATRIX = "funding/matrix.html"
TIMELINE = "funding/allocation_timeline.html"
HUNDRED = Decimal("100")
ZERO = Decimal("0.00")
TIMELINE_PAGE_SIZE = 50


# Forms: the shape of the input; the limits and the workflow rules live in the services.


class PercentField(forms.DecimalField):
    """A percent as people type it: "25", "12.5", "12,5" or "40 %"; blank removes the cell."""

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().removesuffix("%").strip().replace(",", ".")
        return super().to_python(value)


class CellForm(forms.Form):
    percent = PercentField(
        required=False,
        min_value=0,
        max_value=100,
        decimal_places=2,
        error_messages={
            "invalid": "Enter a percent such as 25 or 12.5 (blank removes the allocation).",
            "min_value": "A percent is between 0 and 100.",
            "max_value": "A percent is between 0 and 100.",
            "max_decimal_places": "Give the percent with at most two decimals.",
        },
    )
    version = forms.IntegerField(
        min_value=0,
        error_messages={
            "required": "This page is out of date: reload it and try again.",
            "invalid": "This page is out of date: reload it and try again.",
        },
    )
    reason = forms.CharField(required=False, max_length=500)


class MoveForm(forms.Form):
    step = forms.ChoiceField(
        choices=[("propose", "Propose"), ("approve", "Approve"), ("return", "Return")]
    )
    note = forms.CharField(required=False, max_length=500)


MOVE_MESSAGES = {
    "propose": "Proposed {n} draft allocation{s} for approval.",
    "approve": "Approved {n} proposed allocation{s}.",
    "return": "Returned {n} proposed allocation{s} to draft.",
}


# What the matrix page draws.


@dataclass
class ColumnView:
    """A value stream's column as the page draws it."""

    figures: MatrixColumn

    @property
    def value_stream(self) -> ValueStream:
        return self.figures.value_stream

    @property
    def over_by(self) -> Decimal:
        return -(self.figures.unfunded or ZERO)

    @property
    def envelope_share(self) -> Decimal | None:
        """Allocated as a percent of the envelope (None without one, or for an empty one)."""
        envelope = self.figures.envelope_amount
        if not envelope:
            return None
        return self.figures.allocated_amount * HUNDRED / envelope


@dataclass
class RowView:
    """A team's row with each cell beside its column (the template has no zip)."""

    figures: MatrixRow
    cells: list[tuple[Cell, ColumnView]]

    @property
    def team(self) -> Team:
        return self.figures.team

    @property
    def over_by(self) -> Decimal:
        return self.figures.allocated_percent - HUNDRED


@dataclass
class CellError:
    """A refused edit of one cell: the messages to show beside it, and whether to ask why."""

    messages: list[str]
    ask_reason: bool = False


def _htmx(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return htmx is not None and bool(htmx) and not htmx.boosted


def matrix_context(request: HttpRequest, period: FiscalPeriod, matrix: Matrix) -> dict[str, Any]:
    """Everything the matrix page draws, from the matrix (no further query)."""
    user = request.user
    counts = matrix.status_counts()
    columns = [ColumnView(c) for c in matrix.columns]
    rows = [RowView(r, list(zip(r.cells, columns, strict=True))) for r in matrix.rows]
    funded = [c.unfunded for c in matrix.columns if c.unfunded is not None]
    capacity = matrix.capacity_cost
    return {
        "period": period,
        "matrix": matrix,
        "rows": rows,
        "columns": columns,
        "can_edit": user.has_perm(CHANGE) and not period.is_closed,
        "can_move": user.has_perm(APPROVE) and not period.is_closed,
        "status_counts": [(s.value, s.label, counts.get(s.value, 0)) for s in AllocationStatus],
        "allocation_count": sum(counts.values()),
        "plan_status": matrix.status,
        "plan_status_label": AllocationStatus(matrix.status).label if matrix.status else "",
        "incomplete_teams": sum(1 for r in matrix.rows if not r.capacity.complete),
        "unfunded_total": sum(funded, ZERO),
        "envelope_count": len(funded),
        "allocated_share": (matrix.allocated_amount * HUNDRED / capacity) if capacity else None,
        "breadcrumbs": period_crumbs(period, "Allocations"),
    }


@require_GET
def matrix_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The period's allocation matrix: teams x value streams, with totals against the limits."""
    period = get_period(pk)
    matrix = selectors.allocation_matrix(period=period)
    return render_page(request, MATRIX, matrix_context(request, period, matrix))


# Editing a cell.


def _cell_label(team: Team, value_stream: ValueStream) -> str:
    return f"{team.name} → {value_stream.name}"


def _save_cell(
    request: HttpRequest, period: FiscalPeriod, team: Team, value_stream: ValueStream
) -> tuple[str, CellError | None]:
    """Run the service on the posted cell: a notice on success, else the refusal."""
    form = CellForm(request.POST)
    if not form.is_valid():
        return "", CellError([str(m) for errors in form.errors.values() for m in errors])
    data = form.cleaned_data
    try:
        allocation = services.allocation_set_percent(
            actor=actor(request),
            period=period,
            team=team,
            value_stream=value_stream,
            percent=data["percent"],
            version=data["version"],
            reason=data["reason"],
        )
    except ValidationError as error:
        codes = [e.code for errors in getattr(error, "error_dict", {}).values() for e in errors]
        return "", CellError(error.messages, ask_reason="reason_required" in codes)
    label = _cell_label(team, value_stream)
    if allocation is None:
        return f"{label}: removed.", None
    return f"{label}: {allocation.percent.normalize():f} % saved.", None


@needs(CHANGE)
@require_POST
def matrix_cell(request: HttpRequest, pk: int, team_pk: int, value_stream_pk: int) -> HttpResponse:
    """Set one cell (blank removes it). htmx gets the cell as saved and the totals out of band;
    a plain post goes back to the matrix with a message."""
    period = get_period(pk)
    team = get_object_or_404(Team.objects.visible_to(request.user), pk=team_pk)
    value_stream = get_object_or_404(
        ValueStream.objects.visible_to(request.user), pk=value_stream_pk
    )
    notice, refusal = _save_cell(request, period, team, value_stream)
    anchor = f"#cell-{team.pk}-{value_stream.pk}"
    if not _htmx(request):
        if refusal is None:
            messages.success(request, notice)
        else:
            label = _cell_label(team, value_stream)
            messages.error(request, f"{label} not saved: {' '.join(refusal.messages)}")
        return redirect(reverse("funding:matrix", kwargs={"pk": period.pk}) + anchor)
    matrix = selectors.allocation_matrix(period=period)
    context = matrix_context(request, period, matrix)
    row = next((r for r in context["rows"] if r.team.pk == team.pk), None)
    column = next((c for c in context["columns"] if c.value_stream.pk == value_stream.pk), None)
    if row is None or column is None:
        # An archived team or value stream left the matrix with its last allocation.
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    context.update(
        row=row,
        column=column,
        cell=matrix.cell(team.pk, value_stream.pk),
        cell_error=refusal,
        notice=notice,
        oob=True,
    )
    return render_page(request, MATRIX, context, partial="cell-response")


# The approval workflow.


@needs(APPROVE)
@require_POST
def matrix_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move the period's allocations one step (propose, approve, or return to draft), with an
    optional note recorded on each change."""
    period = get_period(pk)
    form = MoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose propose, approve or return.")
    else:
        step = form.cleaned_data["step"]
        try:
            moved = services.allocations_move(
                actor=actor(request), period=period, step=step, reason=form.cleaned_data["note"]
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request, MOVE_MESSAGES[step].format(n=moved, s="" if moved == 1 else "s")
            )
    return redirect("funding:matrix", pk=period.pk)


# Timelines: the trail of a team's or a value stream's allocations in the period.


STATUS_LABELS = dict(AllocationStatus.choices)


@dataclass
class TimelineEntry:
    change: AllocationChange

    @property
    def status_before(self) -> str:
        return STATUS_LABELS.get(self.change.status_before, "")

    @property
    def status_after(self) -> str:
        return STATUS_LABELS.get(self.change.status_after, "")

    @property
    def percent_changed(self) -> bool:
        return self.change.percent_before != self.change.percent_after

    @property
    def status_changed(self) -> bool:
        return self.change.status_before != self.change.status_after


def _timeline(
    request: HttpRequest,
    period: FiscalPeriod,
    *,
    subject: Team | ValueStream,
    kind: str,
    changes: Any,
) -> HttpResponse:
    page_obj = Paginator(changes, TIMELINE_PAGE_SIZE).get_page(request.GET.get("page"))
    entries = [TimelineEntry(c) for c in page_obj.object_list]
    return render_page(
        request,
        TIMELINE,
        {
            "period": period,
            "subject": subject,
            "kind": kind,
            "entries": entries,
            "page_obj": page_obj,
            "breadcrumbs": [
                *period_crumbs(period, "Allocations")[:-1],
                ("Allocations", reverse("funding:matrix", kwargs={"pk": period.pk})),
                (f"{subject.name}: history", None),
            ],
        },
        partial="timeline",
    )


@require_GET
def team_timeline(request: HttpRequest, pk: int, slug: str) -> HttpResponse:
    """Every change to a team's allocations in the period: who, when, before, after, why."""
    period = get_period(pk)
    team = get_object_or_404(Team.objects.visible_to(request.user), slug=slug)
    changes = selectors.allocation_changes(period=period, team_id=team.pk)
    return _timeline(request, period, subject=team, kind="team", changes=changes)


@require_GET
def value_stream_timeline(request: HttpRequest, pk: int, slug: str) -> HttpResponse:
    """Every change to the allocations into a value stream in the period."""
    period = get_period(pk)
    value_stream = get_object_or_404(ValueStream.objects.visible_to(request.user), slug=slug)
    changes = selectors.allocation_changes(period=period, value_stream_id=value_stream.pk)
    return _timeline(request, period, subject=value_stream, kind="value_stream", changes=changes)


urlpatterns = [
    path("periods/<int:pk>/allocations/", matrix_page, name="matrix"),
    path(
        "periods/<int:pk>/allocations/cells/<int:team_pk>/<int:value_stream_pk>/",
        matrix_cell,
        name="matrix_cell",
    ),
    path("periods/<int:pk>/allocations/workflow/", matrix_move, name="matrix_move"),
    path("periods/<int:pk>/teams/<slug:slug>/history/", team_timeline, name="team_timeline"),
    path(
        "periods/<int:pk>/value-streams/<slug:slug>/history/",
        value_stream_timeline,
        name="value_stream_timeline",
    ),
]
