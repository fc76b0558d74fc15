"""Pages of the registry: products, teams, people, disciplines and team memberships.

Thin views: read through the selectors, write through the services (which hold the rules), render a
page or, for an htmx request, the fragment that changed. Every write also works as a plain form POST
(redirect after success, the full page with errors after a refusal).
"""

import datetime
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST
from django_filters import FilterSet

from portfolio.common.htmx import render_page
from products import forms, selectors, services
from products.filters import PersonFilter, ProductFilter, TeamFilter
from products.models import Person, Product, Team, TeamMembership

PAGE_SIZE = 25
LIST_PARTIAL = "list-results"

PRODUCT_ORDERINGS = {
    "name": "name",
    "lifecycle_stage": "lifecycle_stage",
    "team_count": "team_count",
}
TEAM_ORDERINGS = {"name": "name", "member_count": "member_count", "total_fte": "total_fte"}
PERSON_ORDERINGS = {
    "name": "name",
    "discipline": "discipline__name",
    "allocated_fte": "allocated_fte",
}

GET_POST = require_http_methods(["GET", "POST"])


def _needs(perm: str) -> Callable:
    """Signed-in users without the permission get 403 (never a sign-in loop)."""
    return permission_required(f"products.{perm}", raise_exception=True)


def _actor(request: HttpRequest) -> AbstractBaseUser:
    """The signed-in user who makes a change (the sign-in middleware lets no one else through)."""
    if not isinstance(request.user, AbstractBaseUser):
        raise PermissionDenied
    return request.user


# Lists


def _ordered(queryset: QuerySet, ordering: str, allowed: Mapping[str, str]) -> QuerySet:
    field = ordering.removeprefix("-")
    if field not in allowed:
        return queryset.order_by("name", "pk")
    expression = allowed[field]
    return queryset.order_by(
        f"-{expression}" if ordering.startswith("-") else expression, "name", "pk"
    )


def _list_page(
    request: HttpRequest,
    *,
    template: str,
    filterset_class: type[FilterSet],
    filter_form_class: type[BaseForm],
    queryset: QuerySet,
    orderings: Mapping[str, str],
    decorate: Callable[[Any], None] | None = None,
) -> HttpResponse:
    """Filter (the shared FilterSet), sort, paginate; the results fragment for htmx."""
    filterset = filterset_class(request.GET, queryset=queryset)
    ordering = request.GET.get("ordering", "")
    rows = _ordered(filterset.qs, ordering, orderings)
    page_obj = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    page_obj.object_list = list(page_obj.object_list)
    if decorate is not None:
        for row in page_obj.object_list:
            decorate(row)
    # "Active" is the default view, not a filter for the empty state to blame.
    filtered = any(
        name != "archived" or value != "false"
        for name in filterset.filters
        if (value := request.GET.get(name))
    )
    htmx = getattr(request, "htmx", None)
    partial = None if htmx and htmx.history_restore_request else LIST_PARTIAL
    return render_page(
        request,
        template,
        {
            "page_obj": page_obj,
            "rows": page_obj.object_list,
            "filter_form": filter_form_class(request.GET or None),
            "filtered": filtered,
            "ordering": ordering if ordering.removeprefix("-") in orderings else "",
        },
        partial=partial,
    )


def product_list(request: HttpRequest) -> HttpResponse:
    """Products: search, filter by stage, team, owner and archived; sort; 25 a page."""
    return _list_page(
        request,
        template="products/product_list.html",
        filterset_class=ProductFilter,
        filter_form_class=forms.ProductFilterForm,
        queryset=selectors.product_list(user=request.user, include_archived=True),
        orderings=PRODUCT_ORDERINGS,
    )


def team_list(request: HttpRequest) -> HttpResponse:
    """Durable teams with today's members and FTE and the products they own."""
    return _list_page(
        request,
        template="products/team_list.html",
        filterset_class=TeamFilter,
        filter_form_class=forms.TeamFilterForm,
        queryset=selectors.team_list(user=request.user, include_archived=True),
        orderings=TEAM_ORDERINGS,
    )


def allocation_status(fte: Decimal | None) -> tuple[str, str]:
    """A label and badge for a person's FTE today: over the limit red, under it neutral."""
    fte = fte or Decimal("0")
    if fte > 1:
        return f"Over by {_fte_text(fte - 1)}", "badge-bad"
    if fte == 1:
        return "Fully allocated", "badge-ok"
    if fte == 0:
        return "Not in a team", "badge-none"
    return f"{_fte_text(1 - fte)} free", "badge-none"


def _fte_text(value: Decimal | int) -> str:
    return f"{Decimal(value):.2f}".rstrip("0").rstrip(".") or "0"


def _with_allocation_status(person: Person) -> None:
    person.allocation_label, person.allocation_badge = allocation_status(  # type: ignore[attr-defined]
        person.allocated_fte  # type: ignore[attr-defined]
    )


def person_list(request: HttpRequest) -> HttpResponse:
    """People with discipline, today's teams and FTE (fully allocated at 1)."""
    return _list_page(
        request,
        template="products/person_list.html",
        filterset_class=PersonFilter,
        filter_form_class=forms.PersonFilterForm,
        queryset=selectors.person_list(user=request.user, include_archived=True),
        orderings=PERSON_ORDERINGS,
        decorate=_with_allocation_status,
    )


def discipline_list(request: HttpRequest) -> HttpResponse:
    """The organisation's disciplines and how many (active) people hold each."""
    return render(
        request,
        "products/discipline_list.html",
        {"disciplines": selectors.discipline_list().order_by("order", "name")},
    )


# Products


def _product_crumbs(product: Product | None = None, *last: str) -> list[tuple[str, str | None]]:
    crumbs: list[tuple[str, str | None]] = [("Products", reverse("products:product_list"))]
    if product is not None:
        crumbs.append((product.name, product.get_absolute_url() if last else None))
    crumbs.extend((label, None) for label in last)
    return crumbs


def _get_product(request: HttpRequest, slug: str) -> Product:
    return get_object_or_404(selectors.product_detail_queryset(user=request.user), slug=slug)


def product_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """A product: stage, description, owners, teams; its value streams load from their app."""
    product = _get_product(request, slug)
    return render(
        request,
        "products/product_detail.html",
        {
            "product": product,
            "breadcrumbs": _product_crumbs(product),
        },
    )


def _save_form(form: BaseForm, write: Callable[[dict[str, Any]], Any]) -> Any | None:
    """Run the service on a valid form; its refusals go onto the form. None when refused."""
    if not form.is_valid():
        return None
    try:
        return write(form.cleaned_data)
    except ValidationError as error:
        forms.show_service_errors(form, error)
        return None


def _form_page(
    request: HttpRequest, form: BaseForm, *, title: str, submit: str, cancel: str, crumbs: list
) -> HttpResponse:
    return render(
        request,
        "products/form.html",
        {
            "form": form,
            "title": title,
            "submit": submit,
            "cancel_url": cancel,
            "breadcrumbs": crumbs,
        },
    )


@_needs("add_product")
@GET_POST
def product_create(request: HttpRequest) -> HttpResponse:
    form = forms.ProductForm(request.POST or None)
    if request.method == "POST":
        product = _save_form(
            form, lambda data: services.product_create(actor=_actor(request), **data)
        )
        if product is not None:
            messages.success(request, f"Product “{product.name}” created.")
            return redirect(product)
    return _form_page(
        request,
        form,
        title="New product",
        submit="Create product",
        cancel=reverse("products:product_list"),
        crumbs=_product_crumbs(None, "New product"),
    )


@_needs("change_product")
@GET_POST
def product_edit(request: HttpRequest, slug: str) -> HttpResponse:
    product = _get_product(request, slug)
    form = forms.ProductForm(request.POST or None, instance=product)
    if request.method == "POST":
        saved = _save_form(
            form,
            lambda data: services.product_update(actor=_actor(request), product=product, **data),
        )
        if saved is not None:
            messages.success(request, f"Product “{saved.name}” saved.")
            return redirect(saved)
    return _form_page(
        request,
        form,
        title=f"Edit {product.name}",
        submit="Save changes",
        cancel=product.get_absolute_url(),
        crumbs=_product_crumbs(product, "Edit"),
    )


def _confirm_page(
    request: HttpRequest, obj: Any, *, kind: str, consequences: list[str], crumbs: list
) -> HttpResponse:
    return render(
        request,
        "products/archive_confirm.html",
        {
            "object": obj,
            "kind": kind,
            "consequences": consequences,
            "cancel_url": obj.get_absolute_url(),
            "breadcrumbs": crumbs,
        },
    )


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


@_needs("change_product")
@GET_POST
def product_archive(request: HttpRequest, slug: str) -> HttpResponse:
    product = _get_product(request, slug)
    if request.method == "POST":
        services.product_archive(actor=_actor(request), product=product)
        messages.success(request, f"Product “{product.name}” archived. You can restore it here.")
        return redirect(product)
    teams = len(product.teams.all())
    return _confirm_page(
        request,
        product,
        kind="product",
        consequences=[
            "It leaves the product list, the pickers and the value stream pages.",
            f"Its {_plural(teams, 'team')} and its history stay; you can restore it later.",
        ],
        crumbs=_product_crumbs(product, "Archive"),
    )


@_needs("change_product")
@require_POST
def product_restore(request: HttpRequest, slug: str) -> HttpResponse:
    product = _get_product(request, slug)
    services.product_restore(actor=_actor(request), product=product)
    messages.success(request, f"Product “{product.name}” restored.")
    return redirect(product)


# Teams


def _team_crumbs(team: Team | None = None, *last: str) -> list[tuple[str, str | None]]:
    crumbs: list[tuple[str, str | None]] = [("Teams", reverse("products:team_list"))]
    if team is not None:
        crumbs.append((team.name, team.get_absolute_url() if last else None))
    crumbs.extend((label, None) for label in last)
    return crumbs


def _get_team(request: HttpRequest, slug: str) -> Team:
    return get_object_or_404(selectors.team_detail_queryset(user=request.user), slug=slug)


def membership_status(membership: TeamMembership, today: datetime.date) -> str:
    if membership.start_date > today:
        return "future"
    if membership.end_date is not None and membership.end_date < today:
        return "ended"
    return "current"


STATUS_BADGES = {"current": "badge-ok", "future": "badge-info", "ended": "badge-none"}


def _team_context(
    request: HttpRequest,
    team: Team,
    *,
    add_form: forms.MembershipForm | None = None,
    edit_form: forms.MembershipEditForm | None = None,
    end_form: forms.MembershipEndForm | None = None,
    editing: TeamMembership | None = None,
    notice: str = "",
) -> dict[str, Any]:
    """Everything the team page and its members fragment show."""
    today = timezone.localdate()
    rows = []
    for membership in team.memberships.all():
        status = membership_status(membership, today)
        is_editing = editing is not None and membership.pk == editing.pk
        rows.append(
            {
                "membership": membership,
                "status": status,
                "badge": STATUS_BADGES[status],
                "edit_form": (edit_form or forms.MembershipEditForm.for_membership(membership))
                if is_editing
                else None,
                "end_form": (end_form or forms.MembershipEndForm(membership=membership))
                if is_editing
                else None,
            }
        )
    can_add = request.user.has_perm("products.add_teammembership") and not team.is_archived
    return {
        "team": team,
        "rows": rows,
        "today": today,
        "can_edit_members": request.user.has_perm("products.change_teammembership")
        and not team.is_archived,
        "add_form": (add_form or forms.MembershipForm(auto_id="add_%s")) if can_add else None,
        "notice": notice,
        "breadcrumbs": _team_crumbs(team),
    }


def team_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """A team: mission, products owned, members over time (edited in place by a pm)."""
    team = _get_team(request, slug)
    return render_page(
        request, "products/team_detail.html", _team_context(request, team), partial="members"
    )


@_needs("add_team")
@GET_POST
def team_create(request: HttpRequest) -> HttpResponse:
    form = forms.TeamForm(request.POST or None)
    if request.method == "POST":
        team = _save_form(form, lambda data: services.team_create(actor=_actor(request), **data))
        if team is not None:
            messages.success(request, f"Team “{team.name}” formed.")
            return redirect(team)
    return _form_page(
        request,
        form,
        title="New team",
        submit="Create team",
        cancel=reverse("products:team_list"),
        crumbs=_team_crumbs(None, "New team"),
    )


@_needs("change_team")
@GET_POST
def team_edit(request: HttpRequest, slug: str) -> HttpResponse:
    team = _get_team(request, slug)
    form = forms.TeamForm(request.POST or None, instance=team)
    if request.method == "POST":
        saved = _save_form(
            form,
            lambda data: services.team_update(actor=_actor(request), team=team, **data),
        )
        if saved is not None:
            messages.success(request, f"Team “{saved.name}” saved.")
            return redirect(saved)
    return _form_page(
        request,
        form,
        title=f"Edit {team.name}",
        submit="Save changes",
        cancel=team.get_absolute_url(),
        crumbs=_team_crumbs(team, "Edit"),
    )


def _open_memberships_notice(memberships: list[TeamMembership], whose: str) -> str:
    """What archiving does to the open memberships (the service ends them today)."""
    today = timezone.localdate()
    current = sum(1 for m in memberships if m.start_date <= today)
    planned = len(memberships) - current
    text = f"ends {whose} {_plural(current, 'current membership')} today"
    if planned:
        text += f" and cuts {whose} {_plural(planned, 'planned membership')} to their first day"
    return text


@_needs("change_team")
@GET_POST
def team_archive(request: HttpRequest, slug: str) -> HttpResponse:
    team = _get_team(request, slug)
    open_memberships = [m for m in team.memberships.all() if m.end_date is None]
    if request.method == "POST":
        services.team_archive(actor=_actor(request), team=team)
        messages.success(
            request,
            f"Team “{team.name}” archived; {_plural(len(open_memberships), 'membership')} ended.",
        )
        return redirect(team)
    return _confirm_page(
        request,
        team,
        kind="team",
        consequences=[
            f"Archiving a team {_open_memberships_notice(open_memberships, 'its')}; "
            "their people are free for other teams.",
            "It leaves the team list and the pickers; its history stays and you can restore it.",
        ],
        crumbs=_team_crumbs(team, "Archive"),
    )


@_needs("change_team")
@require_POST
def team_restore(request: HttpRequest, slug: str) -> HttpResponse:
    team = _get_team(request, slug)
    services.team_restore(actor=_actor(request), team=team)
    messages.success(request, f"Team “{team.name}” restored. Its ended memberships stay ended.")
    return redirect(team)


# Team memberships: edited in place on the team page.


def _members_response(
    request: HttpRequest,
    team_slug: str,
    *,
    saved: bool,
    notice: str = "",
    **forms_state: Any,
) -> HttpResponse:
    """After a membership write: htmx gets the members fragment (and, on success, the totals
    out of band); a plain POST is redirected on success or gets the full team page with errors."""
    htmx = bool(getattr(request, "htmx", False))
    if saved and not htmx:
        messages.success(request, notice)
        return redirect("products:team_detail", slug=team_slug)
    team = _get_team(request, team_slug)
    context = _team_context(request, team, notice=notice if saved else "", **forms_state)
    if not htmx:
        return render(request, "products/team_detail.html", context)
    template = "products/_members_saved.html" if saved else "products/team_detail.html#members"
    return render(request, template, context)


def _get_membership(request: HttpRequest, pk: int) -> TeamMembership:
    return get_object_or_404(selectors.membership_list(user=request.user), pk=pk)


@_needs("add_teammembership")
@require_POST
def membership_create(request: HttpRequest, slug: str) -> HttpResponse:
    """Add a member to a team; refused (with the reason beside the field) above 1 FTE."""
    team = get_object_or_404(selectors.team_list(user=request.user), slug=slug)
    form = forms.MembershipForm(request.POST, auto_id="add_%s")
    membership = _save_form(
        form,
        lambda data: services.membership_create(actor=_actor(request), team=team, **data),
    )
    if membership is None:
        return _members_response(request, slug, saved=False, add_form=form)
    return _members_response(
        request,
        slug,
        saved=True,
        notice=f"{membership.person} joined {team} at {_fte_text(membership.fte)} FTE.",
    )


@_needs("change_teammembership")
@GET_POST
def membership_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a membership's FTE or dates. GET opens its row for editing."""
    membership = _get_membership(request, pk)
    slug = membership.team.slug
    if request.method == "GET":
        return _members_response(request, slug, saved=False, editing=membership)
    form = forms.MembershipEditForm.for_membership(membership, request.POST)
    saved = _save_form(
        form,
        lambda data: services.membership_update(
            actor=_actor(request), membership=membership, **data
        ),
    )
    if saved is None:
        return _members_response(request, slug, saved=False, editing=membership, edit_form=form)
    return _members_response(
        request, slug, saved=True, notice=f"{saved.person}'s membership in {saved.team} saved."
    )


@_needs("change_teammembership")
@require_POST
def membership_end(request: HttpRequest, pk: int) -> HttpResponse:
    """End a membership on a date (today unless another is given)."""
    membership = _get_membership(request, pk)
    slug = membership.team.slug
    data = request.POST.copy()
    if not data.get("end_date"):
        data["end_date"] = timezone.localdate().isoformat()
    form = forms.MembershipEndForm(data, membership=membership)
    saved = _save_form(
        form,
        lambda data: services.membership_end(
            actor=_actor(request), membership=membership, end_date=data["end_date"]
        ),
    )
    if saved is None:
        return _members_response(request, slug, saved=False, editing=membership, end_form=form)
    return _members_response(
        request,
        slug,
        saved=True,
        notice=f"{saved.person}'s membership in {saved.team} ends on {saved.end_date:%d %b %Y}.",
    )


# People


def _person_crumbs(person: Person | None = None, *last: str) -> list[tuple[str, str | None]]:
    crumbs: list[tuple[str, str | None]] = [("People", reverse("products:person_list"))]
    if person is not None:
        crumbs.append((person.name, person.get_absolute_url() if last else None))
    crumbs.extend((label, None) for label in last)
    return crumbs


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
            "breadcrumbs": _person_crumbs(person),
        },
    )


@_needs("add_person")
@GET_POST
def person_create(request: HttpRequest) -> HttpResponse:
    form = forms.PersonForm(request.POST or None)
    if request.method == "POST":
        person = _save_form(
            form, lambda data: services.person_create(actor=_actor(request), **data)
        )
        if person is not None:
            messages.success(request, f"{person.name} added.")
            return redirect(person)
    return _form_page(
        request,
        form,
        title="New person",
        submit="Add person",
        cancel=reverse("products:person_list"),
        crumbs=_person_crumbs(None, "New person"),
    )


@_needs("change_person")
@GET_POST
def person_edit(request: HttpRequest, pk: int) -> HttpResponse:
    person = _get_person(request, pk)
    form = forms.PersonForm(request.POST or None, instance=person)
    if request.method == "POST":
        saved = _save_form(
            form,
            lambda data: services.person_update(actor=_actor(request), person=person, **data),
        )
        if saved is not None:
            messages.success(request, f"{saved.name} saved.")
            return redirect(saved)
    return _form_page(
        request,
        form,
        title=f"Edit {person.name}",
        submit="Save changes",
        cancel=person.get_absolute_url(),
        crumbs=_person_crumbs(person, "Edit"),
    )


@_needs("change_person")
@GET_POST
def person_archive(request: HttpRequest, pk: int) -> HttpResponse:
    person = _get_person(request, pk)
    open_memberships = [m for m in person.memberships.all() if m.end_date is None]
    if request.method == "POST":
        services.person_archive(actor=_actor(request), person=person)
        messages.success(
            request,
            f"{person.name} archived; {_plural(len(open_memberships), 'membership')} ended.",
        )
        return redirect(person)
    return _confirm_page(
        request,
        person,
        kind="person",
        consequences=[
            f"Archiving a person {_open_memberships_notice(open_memberships, 'their')}.",
            "They leave the people list and the member picker; their history stays.",
        ],
        crumbs=_person_crumbs(person, "Archive"),
    )


@_needs("change_person")
@require_POST
def person_restore(request: HttpRequest, pk: int) -> HttpResponse:
    person = _get_person(request, pk)
    services.person_restore(actor=_actor(request), person=person)
    messages.success(request, f"{person.name} restored. Their ended memberships stay ended.")
    return redirect(person)


# Disciplines


def _discipline_crumbs(*last: str) -> list[tuple[str, str | None]]:
    return [("Disciplines", reverse("products:discipline_list")), *((x, None) for x in last)]


@_needs("add_discipline")
@GET_POST
def discipline_create(request: HttpRequest) -> HttpResponse:
    form = forms.DisciplineForm(request.POST or None)
    if request.method == "POST":
        discipline = _save_form(
            form, lambda data: services.discipline_create(actor=_actor(request), **data)
        )
        if discipline is not None:
            messages.success(request, f"Discipline “{discipline.name}” added.")
            return redirect("products:discipline_list")
    return _form_page(
        request,
        form,
        title="New discipline",
        submit="Add discipline",
        cancel=reverse("products:discipline_list"),
        crumbs=_discipline_crumbs("New discipline"),
    )


@_needs("change_discipline")
@GET_POST
def discipline_edit(request: HttpRequest, pk: int) -> HttpResponse:
    discipline = get_object_or_404(selectors.discipline_list(), pk=pk)
    form = forms.DisciplineForm(request.POST or None, instance=discipline)
    if request.method == "POST":
        saved = _save_form(
            form,
            lambda data: services.discipline_update(
                actor=_actor(request), discipline=discipline, **data
            ),
        )
        if saved is not None:
            messages.success(request, f"Discipline “{saved.name}” saved.")
            return redirect("products:discipline_list")
    return _form_page(
        request,
        form,
        title=f"Edit {discipline.name}",
        submit="Save changes",
        cancel=reverse("products:discipline_list"),
        crumbs=_discipline_crumbs(discipline.name, "Edit"),
    )
