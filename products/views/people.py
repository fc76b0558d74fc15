"""People pages: the list with today's allocation, a person's page, and create, edit, archive and
restore."""

from decimal import Decimal

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from portfolio.common.views import GET_POST, Sorts, actor, list_page, needs
from products import forms, selectors, services
from products.filters import PersonFilter
from products.models import Person
from products.views._shared import (
    STATUS_BADGES,
    fte_text,
    membership_status,
    open_memberships_notice,
    plural,
    registry_pages,
)

PEOPLE = registry_pages("person", "People", "products:person_list")
SORTS = Sorts(
    {
        "name": ("name",),
        "discipline": ("discipline__name",),
        "allocated_fte": ("allocated_fte",),
    }
)


def allocation_status(fte: Decimal | None) -> tuple[str, str]:
    """A label and badge for a person's FTE today: over the limit red, under it neutral."""
    fte = fte or Decimal("0")
    if fte > 1:
        return f"Over by {fte_text(fte - 1)}", "badge-bad"
    if fte == 1:
        return "Fully allocated", "badge-ok"
    if fte == 0:
        return "Not in a team", "badge-none"
    return f"{fte_text(1 - fte)} free", "badge-none"


def _with_allocation_status(person: Person) -> None:
    person.allocation_label, person.allocation_badge = allocation_status(  # type: ignore[attr-defined]
        person.allocated_fte  # type: ignore[attr-defined]
    )


def person_list(request: HttpRequest) -> HttpResponse:
    """People with discipline, today's teams and FTE (fully allocated at 1)."""
    return list_page(
        request,
        "products/person_list.html",
        PersonFilter(
            request.GET,
            queryset=selectors.person_list(user=request.user, include_archived=True),
        ),
        sorts=SORTS,
        filter_form=forms.PersonFilterForm(request.GET or None),
        decorate=_with_allocation_status,
    )


def _get_person(request: HttpRequest, pk: int) -> Person:
    return get_object_or_404(selectors.person_detail_queryset(user=request.user), pk=pk)


def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A person: discipline, account, FTE today and their memberships over time."""
    person = _get_person(request, pk)
    today = timezone.localdate()
    memberships = [
        {"membership": m, "status": (s := membership_status(m, today)), "badge": STATUS_BADGES[s]}
        for m in person.memberships.all()
    ]
    label, badge = allocation_status(person.allocated_fte)  # type: ignore[attr-defined]
    return render(
        request,
        "products/person_detail.html",
        {
            "person": person,
            "memberships": memberships,
            "allocation_label": label,
            "allocation_badge": badge,
            "breadcrumbs": PEOPLE.crumbs(person),
        },
    )


@needs("products.add_person")
@GET_POST
def person_create(request: HttpRequest) -> HttpResponse:
    return PEOPLE.form(
        request,
        forms.PersonForm(request.POST or None),
        save=lambda data: services.person_create(actor=actor(request), **data),
        message=lambda person: f"{person.name} added.",
        submit="Add person",
    )


@needs("products.change_person")
@GET_POST
def person_edit(request: HttpRequest, pk: int) -> HttpResponse:
    person = _get_person(request, pk)
    return PEOPLE.form(
        request,
        forms.PersonForm(request.POST or None, instance=person),
        row=person,
        save=lambda data: services.person_update(actor=actor(request), person=person, **data),
        message=lambda saved: f"{saved.name} saved.",
    )


@needs("products.change_person")
@GET_POST
def person_archive(request: HttpRequest, pk: int) -> HttpResponse:
    person = _get_person(request, pk)
    open_memberships = [m for m in person.memberships.all() if m.end_date is None]
    return PEOPLE.archive(
        request,
        person,
        act=lambda: services.person_archive(actor=actor(request), person=person),
        message=f"{person.name} archived; {plural(len(open_memberships), 'membership')} ended.",
        consequences=[
            f"Archiving a person {open_memberships_notice(open_memberships, 'their')}.",
            "They leave the people list and the member picker; their history stays.",
        ],
    )


@needs("products.change_person")
@require_POST
def person_restore(request: HttpRequest, pk: int) -> HttpResponse:
    person = _get_person(request, pk)
    services.person_restore(actor=actor(request), person=person)
    return PEOPLE.done(
        request, person, f"{person.name} restored. Their ended memberships stay ended."
    )
