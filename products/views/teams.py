"""Team pages: the list, a team's page with its members, and create, edit, archive and restore.

The members card is edited in place; ``memberships`` answers those writes with the card this
module draws.
"""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.decorators.http import require_POST

from portfolio.common.htmx import render_page
from portfolio.common.views import GET_POST, Sorts, actor, list_page, needs
from products import forms, selectors, services
from products.filters import TeamFilter
from products.models import Team, TeamMembership
from products.views._shared import (
    STATUS_BADGES,
    membership_status,
    open_memberships_notice,
    plural,
    registry_pages,
)

TEAMS = registry_pages("team", "Teams", "products:team_list")
SORTS = Sorts({"name": ("name",), "member_count": ("member_count",), "total_fte": ("total_fte",)})


def team_list(request: HttpRequest) -> HttpResponse:
    """Durable teams with today's members and FTE and the products they own."""
    return list_page(
        request,
        "products/team_list.html",
        TeamFilter(
            request.GET,
            queryset=selectors.team_list(user=request.user, include_archived=True),
        ),
        sorts=SORTS,
        filter_form=forms.TeamFilterForm(request.GET or None),
    )


def get_team(request: HttpRequest, slug: str) -> Team:
    return get_object_or_404(selectors.team_detail_queryset(user=request.user), slug=slug)


def team_context(
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
        "breadcrumbs": TEAMS.crumbs(team),
    }


def team_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """A team: mission, products owned, members over time (edited in place by a pm)."""
    team = get_team(request, slug)
    return render_page(
        request, "products/team_detail.html", team_context(request, team), partial="members"
    )


@needs("products.add_team")
@GET_POST
def team_create(request: HttpRequest) -> HttpResponse:
    return TEAMS.form(
        request,
        forms.TeamForm(request.POST or None),
        save=lambda data: services.team_create(actor=actor(request), **data),
        message=lambda team: f"Team “{team.name}” formed.",
        submit="Create team",
    )


@needs("products.change_team")
@GET_POST
def team_edit(request: HttpRequest, slug: str) -> HttpResponse:
    team = get_team(request, slug)
    return TEAMS.form(
        request,
        forms.TeamForm(request.POST or None, instance=team),
        row=team,
        save=lambda data: services.team_update(actor=actor(request), team=team, **data),
        message=lambda saved: f"Team “{saved.name}” saved.",
    )


@needs("products.change_team")
@GET_POST
def team_archive(request: HttpRequest, slug: str) -> HttpResponse:
    team = get_team(request, slug)
    open_memberships = [m for m in team.memberships.all() if m.end_date is None]
    return TEAMS.archive(
        request,
        team,
        act=lambda: services.team_archive(actor=actor(request), team=team),
        message=f"Team “{team.name}” archived; "
        f"{plural(len(open_memberships), 'membership')} ended.",
        consequences=[
            f"Archiving a team {open_memberships_notice(open_memberships, 'its')}; "
            "their people are free for other teams.",
            "It leaves the team list and the pickers; its history stays and you can restore it.",
        ],
    )


@needs("products.change_team")
@require_POST
def team_restore(request: HttpRequest, slug: str) -> HttpResponse:
    team = get_team(request, slug)
    services.team_restore(actor=actor(request), team=team)
    return TEAMS.done(
        request, team, f"Team “{team.name}” restored. Its ended memberships stay ended."
    )
