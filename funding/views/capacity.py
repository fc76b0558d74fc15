"""The "Capacity" tab of a period: every team's capacity cost, and one team's by person.

Capacity follows from memberships and the period's rate card (``funding.capacity``). A member
whose discipline has no rate is named with the discipline, and the team's cost is flagged as
incomplete: it is never priced as zero.
"""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET

from funding.capacity import CapacityLine, TeamCapacity, team_capacities, team_capacity
from funding.views.periods import get_period, period_crumbs
from products.models import Team

ZERO = Decimal("0.00")


@dataclass
class CapacityRow:
    """A team's line on the capacity page."""

    team: Team
    capacity: TeamCapacity

    @property
    def people(self) -> int:
        return len({line.person_id for line in self.capacity.lines})

    @property
    def unpriced_people(self) -> list[CapacityLine]:
        """The members without a rate, once each (a person's lines share their discipline)."""
        seen: dict[int, CapacityLine] = {}
        for line in self.capacity.unpriced:
            seen.setdefault(line.person_id, line)
        return list(seen.values())

    @property
    def priced_people(self) -> int:
        return self.people - len(self.unpriced_people)


# The capacity table's sorts (``?ordering=<key>``, ``-<key>`` descending): figures computed in
# Python, so the rows are sorted here; ties by team name.
CAPACITY_SORTS: dict[str, Callable[[CapacityRow], Any]] = {
    "name": lambda r: r.team.name.casefold(),
    "fte": lambda r: r.capacity.average_fte,
    "members": lambda r: r.people,
    "priced": lambda r: r.priced_people,
    "unpriced": lambda r: len(r.unpriced_people),
    "cost": lambda r: r.capacity.cost,
}


def sort_rows(rows: list[CapacityRow], ordering: str) -> list[CapacityRow]:
    """``rows`` in the asked order (an unknown key: by team name)."""
    key = ordering.removeprefix("-")
    if key not in CAPACITY_SORTS:
        return rows
    by_name = sorted(rows, key=CAPACITY_SORTS["name"])
    return sorted(by_name, key=CAPACITY_SORTS[key], reverse=ordering.startswith("-"))


@require_GET
def capacity(request: HttpRequest, pk: int) -> HttpResponse:
    """Each team's average FTE and capacity cost in the period; incomplete teams flagged.

    Active teams, plus archived ones that had members in the period: three queries whatever
    the number of teams and members.
    """
    period = get_period(pk)
    capacities = team_capacities(period=period)
    teams = (
        Team.objects.visible_to(request.user)
        .filter(Q(archived_at__isnull=True) | Q(pk__in=list(capacities)))
        .only("id", "name", "slug", "archived_at")
        .order_by("name", "pk")
    )
    rows = [
        CapacityRow(
            team=team,
            capacity=capacities.get(team.pk)
            or TeamCapacity(team_id=team.pk, period_days=period.days),
        )
        for team in teams
    ]
    incomplete = [r for r in rows if not r.capacity.complete]
    rows = sort_rows(rows, request.GET.get("ordering", ""))
    context = {
        "period": period,
        "rows": rows,
        "incomplete": incomplete,
        "total_cost": sum((r.capacity.cost for r in rows), ZERO),
        "total_fte": sum((r.capacity.average_fte for r in rows), Decimal(0)),
        "total_people": sum(r.people for r in rows),
        "total_priced": sum(r.priced_people for r in rows),
        "total_unpriced": sum(len(r.unpriced_people) for r in incomplete),
        "breadcrumbs": period_crumbs(period, "Capacity"),
    }
    return render(request, "funding/capacity.html", context)


@require_GET
def team_capacity_detail(request: HttpRequest, pk: int, slug: str) -> HttpResponse:
    """One team's capacity in the period, person by person: fte, rate, days covered, cost."""
    period = get_period(pk)
    team = get_object_or_404(Team.objects.visible_to(request.user), slug=slug)
    team_cap = team_capacity(period=period, team_id=team.pk)
    row = CapacityRow(team=team, capacity=team_cap)
    context = {
        "period": period,
        "team": team,
        "row": row,
        "capacity": team_cap,
        "breadcrumbs": [
            *period_crumbs(period, "Capacity")[:-1],
            ("Capacity", reverse("funding:capacity", kwargs={"pk": period.pk})),
            (team.name, None),
        ],
    }
    return render(request, "funding/team_capacity.html", context)


urlpatterns = [
    path("periods/<int:pk>/capacity/", capacity, name="capacity"),
    path("periods/<int:pk>/capacity/<slug:slug>/", team_capacity_detail, name="team_capacity"),
]
