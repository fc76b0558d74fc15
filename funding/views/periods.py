"""Funding landing page and fiscal periods: list, create, edit, status, and the "Rate card &
envelopes" tab of a period, edited in place by finance.

Everyone signed in reads; finance writes (the ``funding.*`` model permissions). A closed period
is shown read-only: its pages offer no controls and its services refuse any change. The rate card
and the envelopes are edited in place with htmx; without JavaScript each row's form is a plain
post that comes back to the page (redirected after a success, re-rendered with its errors).
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST

from funding import selectors, services
from funding.capacity import team_capacities
from funding.forms.periods import EnvelopeForm, PeriodCreateForm, PeriodForm, RateForm
from funding.models import Envelope, FiscalPeriod, Rate
from portfolio.common.htmx import render_page
from portfolio.common.views import GET_POST, actor, needs, save_form
from products import selectors as product_selectors
from products.models import Discipline
from valuestreams.models import ValueStream

ADD_PERIOD = "funding.add_fiscalperiod"
CHANGE_PERIOD = "funding.change_fiscalperiod"
CHANGE_RATE = "funding.change_rate"
DELETE_RATE = "funding.delete_rate"
CHANGE_ENVELOPE = "funding.change_envelope"
DELETE_ENVELOPE = "funding.delete_envelope"
DETAIL = "funding/period_detail.html"
Status = FiscalPeriod.Status
Crumbs = list[tuple[str, str | None]]


def _htmx(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted  # type: ignore[union-attr]


def get_period(pk: int) -> FiscalPeriod:
    """A period by id, or 404 (every signed-in user reads every period)."""
    return get_object_or_404(FiscalPeriod.objects.all(), pk=pk)


def period_crumbs(period: FiscalPeriod | None = None, *below: str) -> Crumbs:
    """Funding > Periods > the period (a link when a page below it is shown) > ``below``."""
    crumbs: Crumbs = [
        ("Funding", reverse("funding:index")),
        ("Periods", reverse("funding:period_list")),
    ]
    if period is not None:
        crumbs.append((period.name, period.get_absolute_url() if below else None))
    crumbs.extend((label, None) for label in below)
    return crumbs


# The landing page and the list.


@require_GET
def funding_index(request: HttpRequest) -> HttpResponse:
    """The current period's headline figures, then every period with its status and tabs."""
    period = selectors.current_period()
    context: dict[str, Any] = {
        "period": period,
        "periods": list(selectors.fiscal_period_list()),
        "breadcrumbs": [],
    }
    if period is not None:
        summary = selectors.period_summary(period=period)
        totals = summary.totals()
        incomplete = [r for r in summary.matrix.rows if not r.capacity.complete]
        context.update(
            totals=totals,
            incomplete_teams=len(incomplete),
            unpriced_people=len(
                {line.person_id for r in incomplete for line in r.capacity.unpriced}
            ),
            unallocated_share=(totals["unallocated"] * 100 / totals["capacity"])
            if totals["capacity"]
            else None,
            unfunded=sum(
                (c.unfunded for c in summary.matrix.columns if c.unfunded is not None),
                Decimal("0.00"),
            ),
        )
    return render(request, "funding/index.html", context)


@require_GET
def period_list(request: HttpRequest) -> HttpResponse:
    """Every fiscal period, newest first, with its status and links to its tabs."""
    return render(
        request,
        "funding/period_list.html",
        {
            "periods": list(selectors.fiscal_period_list()),
            "breadcrumbs": [("Funding", reverse("funding:index")), ("Periods", None)],
        },
    )


# Create, edit, status.


def _form_page(
    request: HttpRequest,
    form: forms.Form,
    *,
    title: str,
    submit: str,
    cancel_url: str,
    crumbs: Crumbs,
) -> HttpResponse:
    return render(
        request,
        "funding/period_form.html",
        {
            "form": form,
            "title": title,
            "submit": submit,
            "cancel_url": cancel_url,
            "breadcrumbs": crumbs,
        },
    )


@needs(ADD_PERIOD)
@GET_POST
def period_create(request: HttpRequest) -> HttpResponse:
    """Open a period in planning; its rate card may start as a copy of another period's."""
    form = PeriodCreateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        period = save_form(
            form,
            lambda data: services.fiscal_period_create(
                actor=actor(request),
                name=data["name"],
                start=data["start"],
                end=data["end"],
                copy_rates_from=data["copy_rates_from"],
            ),
        )
        if period is not None:
            messages.success(
                request, f"{period.name} opened in planning: set its rate card and envelopes."
            )
            return redirect(period)
    return _form_page(
        request,
        form,
        title="New fiscal period",
        submit="Open period",
        cancel_url=reverse("funding:period_list"),
        crumbs=period_crumbs(None, "New period"),
    )


def _closed_refusal(request: HttpRequest, period: FiscalPeriod) -> HttpResponse:
    messages.warning(request, f"{period.name} is closed: its figures are final and read-only.")
    return redirect(period)


@needs(CHANGE_PERIOD)
@GET_POST
def period_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Rename or re-date a period that is not closed (it still may not overlap another)."""
    period = get_period(pk)
    if period.is_closed:
        return _closed_refusal(request, period)
    initial = {"name": period.name, "start": period.start, "end": period.end}
    form = PeriodForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST":
        saved = save_form(
            form,
            lambda data: services.fiscal_period_update(actor=actor(request), period=period, **data),
        )
        if saved is not None:
            messages.success(request, f"{saved.name} saved.")
            return redirect(saved)
    return _form_page(
        request,
        form,
        title=f"Edit {period.name}",
        submit="Save changes",
        cancel_url=period.get_absolute_url(),
        crumbs=period_crumbs(period, "Edit"),
    )


@dataclass(frozen=True)
class StatusChange:
    """A status move as the confirmation page and the message after it put it."""

    verb: str
    done: str
    consequences: tuple[str, ...]


STATUS_CHANGES = {
    Status.ACTIVE: StatusChange(
        verb="Activate",
        done="{name} is now the active period.",
        consequences=(
            "The period becomes the one being spent; the funding pages open on it.",
            "Only one period is active at a time.",
            "Finance can still change its rate card, envelopes and allocations.",
        ),
    ),
    Status.PLANNING: StatusChange(
        verb="Move back to planning",
        done="{name} is back in planning.",
        consequences=("The period is no longer the active one; nothing else changes.",),
    ),
    Status.CLOSED: StatusChange(
        verb="Close",
        done="{name} is closed: its figures are final and read-only.",
        consequences=(
            "Closing is final: a closed period cannot be opened again.",
            "Its rate card, envelopes, allocations, scenarios and the actual spend of its "
            "months become read-only, on every page, in the API and in the admin.",
        ),
    ),
}


@needs(CHANGE_PERIOD)
@GET_POST
def period_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Activate a period, move it back to planning, or close it.

    GET asks once and says what will happen; closing is only done from that page (a POST with
    ``confirm``), since it is final.
    """
    period = get_period(pk)
    target = (request.POST if request.method == "POST" else request.GET).get("status", "")
    if target not in STATUS_CHANGES:
        messages.error(request, "Choose what to do with the period: activate, plan or close.")
        return redirect(period)
    change = STATUS_CHANGES[Status(target)]
    confirmed = request.method == "POST" and (
        target != Status.CLOSED or request.POST.get("confirm") == "yes"
    )
    if not confirmed:
        return render(
            request,
            "funding/period_status_confirm.html",
            {
                "period": period,
                "target": target,
                "verb": change.verb,
                "consequences": change.consequences,
                "breadcrumbs": period_crumbs(period, change.verb),
            },
        )
    try:
        services.fiscal_period_set_status(actor=actor(request), period=period, status=target)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, change.done.format(name=period.name))
    return redirect(period)


# The "Rate card & envelopes" tab.


@dataclass
class RateRow:
    """A discipline on the rate card page: its rate (None: not on the card) and its people."""

    discipline: Discipline
    rate: Rate | None
    people: int
    form: RateForm | None = None

    @property
    def form_id(self) -> str:
        return f"rate-{self.discipline.pk}"


@dataclass
class EnvelopeRow:
    """A value stream on the envelopes table: its envelope (None: none yet) and what it gets."""

    value_stream: ValueStream
    envelope: Envelope | None
    allocated: Decimal
    form: EnvelopeForm | None = None

    @property
    def form_id(self) -> str:
        return f"envelope-{self.value_stream.pk}"

    @property
    def unfunded(self) -> Decimal | None:
        return None if self.envelope is None else self.envelope.amount - self.allocated

    @property
    def over(self) -> bool:
        return self.envelope is not None and self.allocated > self.envelope.amount

    @property
    def over_by(self) -> Decimal:
        return Decimal("0.00") if self.envelope is None else self.allocated - self.envelope.amount


def _rate_form(row: RateRow, data: Any = None) -> RateForm:
    initial: dict[str, Any] = {"discipline": row.discipline.pk}
    if row.rate is not None:
        initial["annual_cost"] = row.rate.annual_cost
    return RateForm(data, initial=initial, form_id=row.form_id, auto_id=f"{row.form_id}_%s")


def _envelope_form(row: EnvelopeRow, data: Any = None) -> EnvelopeForm:
    initial: dict[str, Any] = {"value_stream": row.value_stream.pk}
    if row.envelope is not None:
        initial.update(
            amount=row.envelope.amount,
            min_debt_risk_percent=row.envelope.min_debt_risk_percent,
            notes=row.envelope.notes,
        )
    return EnvelopeForm(data, initial=initial, form_id=row.form_id, auto_id=f"{row.form_id}_%s")


def rate_rows(period: FiscalPeriod) -> list[RateRow]:
    """Every discipline with its rate on the card and how many people of the period's teams hold it.

    People are counted from the memberships that overlap the period (the capacity's lines).
    """
    rates = {r.discipline_id: r for r in Rate.objects.filter(period=period)}
    people: dict[int, set[int]] = {}
    for capacity in team_capacities(period=period).values():
        for line in capacity.lines:
            people.setdefault(line.discipline_id, set()).add(line.person_id)
    return [
        RateRow(discipline=d, rate=rates.get(d.pk), people=len(people.get(d.pk, ())))
        for d in product_selectors.discipline_list().order_by("order", "name")
    ]


def envelope_rows(period: FiscalPeriod) -> list[EnvelopeRow]:
    """Each value stream of the period's matrix, then archived ones that still have an envelope."""
    matrix = selectors.allocation_matrix(period=period)
    rows = [
        EnvelopeRow(value_stream=c.value_stream, envelope=c.envelope, allocated=c.allocated_amount)
        for c in matrix.columns
    ]
    shown = [c.value_stream.pk for c in matrix.columns]
    rows.extend(
        EnvelopeRow(value_stream=e.value_stream, envelope=e, allocated=Decimal("0.00"))
        for e in Envelope.objects.filter(period=period)
        .exclude(value_stream_id__in=shown)
        .select_related("value_stream")
        .order_by("value_stream__name")
    )
    return rows


def setup_context(
    request: HttpRequest,
    period: FiscalPeriod,
    *,
    rate_form: RateForm | None = None,
    envelope_form: EnvelopeForm | None = None,
    rate_error: str = "",
    envelope_error: str = "",
    notice: str = "",
) -> dict[str, Any]:
    """What the rate card & envelopes tab draws; a refused form is put back on its row."""
    user = request.user
    open_period = not period.is_closed
    can_rates = open_period and user.has_perm(CHANGE_RATE)
    can_envelopes = open_period and user.has_perm(CHANGE_ENVELOPE)
    rates = rate_rows(period)
    for rate_row in rates:
        if not can_rates:
            continue
        if rate_form is not None and rate_form.form_id == rate_row.form_id:
            rate_row.form = rate_form
        else:
            rate_row.form = _rate_form(rate_row)
    envelopes = envelope_rows(period)
    for envelope_row in envelopes:
        if not can_envelopes:
            continue
        if envelope_form is not None and envelope_form.form_id == envelope_row.form_id:
            envelope_row.form = envelope_form
        else:
            envelope_row.form = _envelope_form(envelope_row)
    with_envelope = [r for r in envelopes if r.envelope is not None]
    return {
        "period": period,
        "priced": [r for r in rates if r.rate is not None],
        "unpriced": [r for r in rates if r.rate is None],
        "unpriced_people": sum(r.people for r in rates if r.rate is None),
        "envelopes": envelopes,
        "envelope_total": sum((r.envelope.amount for r in with_envelope), Decimal("0.00")),  # type: ignore[union-attr]
        "allocated_total": sum((r.allocated for r in envelopes), Decimal("0.00")),
        "can_rates": can_rates,
        "can_delete_rates": can_rates and user.has_perm(DELETE_RATE),
        "can_envelopes": can_envelopes,
        "can_delete_envelopes": can_envelopes and user.has_perm(DELETE_ENVELOPE),
        "can_change_period": open_period and user.has_perm(CHANGE_PERIOD),
        "rate_error": rate_error,
        "envelope_error": envelope_error,
        "notice": notice,
        "breadcrumbs": period_crumbs(period),
    }


@require_GET
def period_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A period's rate card and value-stream envelopes (edited in place by finance)."""
    period = get_period(pk)
    return render(request, DETAIL, setup_context(request, period))


def _written(request: HttpRequest, period: FiscalPeriod, notice: str, primary: str) -> HttpResponse:
    """After a rate or envelope write: htmx gets both tables (a rate changes what the envelopes
    have received); a plain post goes back to the page."""
    if not _htmx(request):
        messages.success(request, notice)
        return redirect(f"{period.get_absolute_url()}#{primary}")
    context = setup_context(request, period, notice=notice)
    context["primary"] = primary
    response = render(request, "funding/_setup_saved.html", context)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _refused(
    request: HttpRequest, period: FiscalPeriod, partial: str, **state: Any
) -> HttpResponse:
    """A refused write: its row again with the errors beside the fields (status 200, for htmx)."""
    context = setup_context(request, period, **state)
    return render_page(request, DETAIL, context, partial=partial)


def _row_key(value: str | None) -> str:
    return value if value and value.isdigit() else "new"


def _form_error(form: forms.Form) -> str:
    """A refusal without a visible field of its own (a closed period, an unknown row), to show
    above the table."""
    errors = [str(e) for e in form.non_field_errors()]
    for field in form.hidden_fields():
        errors.extend(f"{field.label}: {e}" for e in field.errors)
    return " ".join(errors)


@needs(CHANGE_RATE)
@require_POST
def rate_set(request: HttpRequest, pk: int) -> HttpResponse:
    """Set a discipline's annual rate on the period's rate card (create or change)."""
    period = get_period(pk)
    form_id = f"rate-{_row_key(request.POST.get('discipline'))}"
    form = RateForm(request.POST, form_id=form_id, auto_id=f"{form_id}_%s")
    rate = save_form(
        form,
        lambda data: services.rate_set(
            actor=actor(request),
            period=period,
            discipline=data["discipline"],
            annual_cost=data["annual_cost"],
        ),
    )
    if rate is None:
        return _refused(request, period, "rate-card", rate_form=form, rate_error=_form_error(form))
    return _written(
        request,
        period,
        f"{rate.discipline.name}: {services.money_text(rate.annual_cost)} a year.",
        "rate-card",
    )


@needs(DELETE_RATE)
@require_POST
def rate_delete(request: HttpRequest, pk: int, rate_pk: int) -> HttpResponse:
    """Take a discipline off the rate card: its people become unpriced (reported, never zero)."""
    period = get_period(pk)
    rate = get_object_or_404(Rate.objects.select_related("discipline"), pk=rate_pk, period=period)
    rate.period = period
    try:
        services.rate_delete(actor=actor(request), rate=rate)
    except ValidationError as error:
        return _refused(request, period, "rate-card", rate_error=" ".join(error.messages))
    return _written(request, period, f"{rate.discipline.name} is off the rate card.", "rate-card")


@needs(CHANGE_ENVELOPE)
@require_POST
def envelope_set(request: HttpRequest, pk: int) -> HttpResponse:
    """Set a value stream's envelope and guardrail for the period (create or change)."""
    period = get_period(pk)
    form_id = f"envelope-{_row_key(request.POST.get('value_stream'))}"
    form = EnvelopeForm(request.POST, form_id=form_id, auto_id=f"{form_id}_%s")
    envelope = save_form(
        form,
        lambda data: services.envelope_set(actor=actor(request), period=period, **data),
    )
    if envelope is None:
        return _refused(
            request,
            period,
            "envelopes",
            envelope_form=form,
            envelope_error=_form_error(form),
        )
    return _written(
        request,
        period,
        f"{envelope.value_stream.name}: envelope of {services.money_text(envelope.amount)}.",
        "envelopes",
    )


@needs(DELETE_ENVELOPE)
@require_POST
def envelope_delete(request: HttpRequest, pk: int, envelope_pk: int) -> HttpResponse:
    """Remove a value stream's envelope for the period (it is then funded without one)."""
    period = get_period(pk)
    envelope = get_object_or_404(
        Envelope.objects.select_related("value_stream"), pk=envelope_pk, period=period
    )
    envelope.period = period
    try:
        services.envelope_delete(actor=actor(request), envelope=envelope)
    except ValidationError as error:
        return _refused(request, period, "envelopes", envelope_error=" ".join(error.messages))
    return _written(
        request, period, f"{envelope.value_stream.name} has no envelope now.", "envelopes"
    )


urlpatterns = [
    path("", funding_index, name="index"),
    path("periods/", period_list, name="period_list"),
    path("periods/new/", period_create, name="period_create"),
    path("periods/<int:pk>/", period_detail, name="period_detail"),
    path("periods/<int:pk>/edit/", period_edit, name="period_edit"),
    path("periods/<int:pk>/status/", period_status, name="period_status"),
    path("periods/<int:pk>/rates/", rate_set, name="rate_set"),
    path("periods/<int:pk>/rates/<int:rate_pk>/delete/", rate_delete, name="rate_delete"),
    path("periods/<int:pk>/envelopes/", envelope_set, name="envelope_set"),
    path(
        "periods/<int:pk>/envelopes/<int:envelope_pk>/delete/",
        envelope_delete,
        name="envelope_delete",
    ),
]
