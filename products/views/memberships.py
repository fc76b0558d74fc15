"""Team memberships, edited in place on the team page.

An htmx request gets the members card back (and, after a write, the team's figures out of band);
a plain POST is redirected to the team after success, or gets the full team page with the errors.
"""

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from portfolio.common.views import GET_POST, actor, needs, save_form
from products import forms, selectors, services
from products.models import TeamMembership
from products.views._shared import fte_text
from products.views.teams import get_team, team_context


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
    team = get_team(request, team_slug)
    context = team_context(request, team, notice=notice if saved else "", **forms_state)
    if not htmx:
        return render(request, "products/team_detail.html", context)
    template = "products/_members_saved.html" if saved else "products/team_detail.html#members"
    return render(request, template, context)


def _get_membership(request: HttpRequest, pk: int) -> TeamMembership:
    return get_object_or_404(selectors.membership_list(user=request.user), pk=pk)


@needs("products.add_teammembership")
@require_POST
def membership_create(request: HttpRequest, slug: str) -> HttpResponse:
    """Add a member to a team; refused (with the reason beside the field) above 1 FTE."""
    team = get_object_or_404(selectors.team_list(user=request.user), slug=slug)
    form = forms.MembershipForm(request.POST, auto_id="add_%s")
    membership = save_form(
        form,
        lambda data: services.membership_create(actor=actor(request), team=team, **data),
    )
    if membership is None:
        return _members_response(request, slug, saved=False, add_form=form)
    return _members_response(
        request,
        slug,
        saved=True,
        notice=f"{membership.person} joined {team} at {fte_text(membership.fte)} FTE.",
    )


@needs("products.change_teammembership")
@GET_POST
def membership_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a membership's FTE or dates. GET opens its row for editing."""
    membership = _get_membership(request, pk)
    slug = membership.team.slug
    if request.method == "GET":
        return _members_response(request, slug, saved=False, editing=membership)
    form = forms.MembershipEditForm.for_membership(membership, request.POST)
    saved = save_form(
        form,
        lambda data: services.membership_update(
            actor=actor(request), membership=membership, **data
        ),
    )
    if saved is None:
        return _members_response(request, slug, saved=False, editing=membership, edit_form=form)
    return _members_response(
        request, slug, saved=True, notice=f"{saved.person}'s membership in {saved.team} saved."
    )


@needs("products.change_teammembership")
@require_POST
def membership_end(request: HttpRequest, pk: int) -> HttpResponse:
    """End a membership on a date (today unless another is given)."""
    membership = _get_membership(request, pk)
    slug = membership.team.slug
    data = request.POST.copy()
    if not data.get("end_date"):
        data["end_date"] = timezone.localdate().isoformat()
    form = forms.MembershipEndForm(data, membership=membership)
    saved = save_form(
        form,
        lambda data: services.membership_end(
            actor=actor(request), membership=membership, end_date=data["end_date"]
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
