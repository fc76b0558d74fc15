"""Writes of the products app: one transaction each, the acting user passed explicitly."""

import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from portfolio.common.services import M, archive, model_update, restore, unique_slug
from products.models import Discipline, Person, Product, Team, TeamMembership

PRODUCT_FIELDS = ("name", "slug", "description", "lifecycle_stage", "owners", "planned_end")
TEAM_FIELDS = ("name", "slug", "mission", "formed_on", "products", "planned_end")
PERSON_FIELDS = ("name", "email", "user", "discipline")
MEMBERSHIP_FIELDS = ("fte", "start_date", "end_date")

FTE_LIMIT = Decimal("1")


def _create(model: type[M], *, data: dict[str, Any], fields: Iterable[str]) -> M:
    """Create a row from ``data``: slug made from the name when not given, validated, m2m set."""
    values = {f: data[f] for f in fields if f in data and not model._meta.get_field(f).many_to_many}
    m2m = {f: data[f] for f in fields if f in data and model._meta.get_field(f).many_to_many}
    instance = model(**values)
    if "slug" in fields and not values.get("slug"):
        instance.slug = unique_slug(model, values.get("name", ""))  # type: ignore[attr-defined]
    instance.full_clean()
    instance.save()
    for field, value in m2m.items():
        getattr(instance, field).set(value)
    return instance


@transaction.atomic
def product_create(*, actor: AbstractBaseUser, **data: Any) -> Product:
    """Register a product; its slug is made from the name unless one is given."""
    return _create(Product, data=data, fields=PRODUCT_FIELDS)


@transaction.atomic
def product_update(*, actor: AbstractBaseUser, product: Product, **data: Any) -> Product:
    """Change a product's registry fields (name, slug, description, stage, owners)."""
    product, _ = model_update(instance=product, fields=PRODUCT_FIELDS, data=data)
    return product


@transaction.atomic
def product_archive(*, actor: AbstractBaseUser, product: Product) -> Product:
    """Archive a product: it leaves default lists and pickers but keeps its history and links."""
    return archive(instance=product)


@transaction.atomic
def product_restore(*, actor: AbstractBaseUser, product: Product) -> Product:
    """Bring an archived product back."""
    return restore(instance=product)


@transaction.atomic
def team_create(*, actor: AbstractBaseUser, **data: Any) -> Team:
    """Form a durable team; it owns the products given."""
    return _create(Team, data=data, fields=TEAM_FIELDS)


@transaction.atomic
def team_update(*, actor: AbstractBaseUser, team: Team, **data: Any) -> Team:
    """Change a team's name, slug, mission, formation date or the products it owns."""
    team, _ = model_update(instance=team, fields=TEAM_FIELDS, data=data)
    return team


@transaction.atomic
def team_archive(*, actor: AbstractBaseUser, team: Team) -> Team:
    """Archive a team and end its current memberships today (people are freed for other teams)."""
    today = timezone.localdate()
    for membership in team.memberships.select_for_update().filter(end_date__isnull=True):
        membership.end_date = max(today, membership.start_date)
        membership.save(update_fields=["end_date", "updated_at"])
    return archive(instance=team)


@transaction.atomic
def team_restore(*, actor: AbstractBaseUser, team: Team) -> Team:
    """Bring an archived team back (its ended memberships stay ended)."""
    return restore(instance=team)


@transaction.atomic
def person_create(*, actor: AbstractBaseUser, **data: Any) -> Person:
    """Add a person to the registry."""
    return _create(Person, data=data, fields=PERSON_FIELDS)


@transaction.atomic
def person_update(*, actor: AbstractBaseUser, person: Person, **data: Any) -> Person:
    """Change a person's name, email, user account or discipline."""
    person, _ = model_update(instance=person, fields=PERSON_FIELDS, data=data)
    return person


@transaction.atomic
def person_archive(*, actor: AbstractBaseUser, person: Person) -> Person:
    """Archive a person (someone who left) and end their current memberships today."""
    today = timezone.localdate()
    for membership in person.memberships.select_for_update().filter(end_date__isnull=True):
        membership.end_date = max(today, membership.start_date)
        membership.save(update_fields=["end_date", "updated_at"])
    return archive(instance=person)


@transaction.atomic
def person_restore(*, actor: AbstractBaseUser, person: Person) -> Person:
    """Bring an archived person back."""
    return restore(instance=person)


@transaction.atomic
def discipline_create(
    *, actor: AbstractBaseUser, name: str, slug: str = "", order: int = 0
) -> Discipline:
    """Add a discipline to the organisation's list."""
    return _create(
        Discipline,
        data={"name": name, "slug": slug, "order": order},
        fields=("name", "slug", "order"),
    )


@transaction.atomic
def discipline_update(
    *, actor: AbstractBaseUser, discipline: Discipline, **data: Any
) -> Discipline:
    """Rename or reorder a discipline (people and rate cards keep pointing at it)."""
    discipline, _ = model_update(instance=discipline, fields=("name", "slug", "order"), data=data)
    return discipline


def peak_fte(
    memberships: Iterable[tuple[datetime.date, datetime.date | None, Decimal]],
    start: datetime.date,
    end: datetime.date | None,
) -> tuple[Decimal, datetime.date]:
    """The largest total FTE on any day of [start, end] over the given (start, end, fte) ranges.

    The total can only rise where a range begins, so checking ``start`` and every range start
    inside the window finds the peak.
    """
    ranges = list(memberships)
    points = {start} | {s for s, _, _ in ranges if s >= start and (end is None or s <= end)}
    best, best_day = Decimal("0"), start
    for day in sorted(points):
        total = sum((f for s, e, f in ranges if s <= day and (e is None or e >= day)), Decimal("0"))
        if total > best:
            best, best_day = total, day
    return best, best_day


def membership_check_capacity(membership: TeamMembership, *, lock: bool = True) -> None:
    """Refuse a membership that would take the person above 1 FTE on any day it covers.

    With ``lock`` (inside a transaction) the person's row is locked first, so two concurrent
    writes for the same person queue up (PostgreSQL row lock; SQLite serialises writers anyway).
    """
    if lock:
        Person.objects.select_for_update().filter(pk=membership.person_id).first()
    others = (
        TeamMembership.objects.filter(person_id=membership.person_id)
        .exclude(pk=membership.pk)
        .overlapping(membership.start_date, membership.end_date)
        .values_list("start_date", "end_date", "fte")
    )
    candidate = (membership.start_date, membership.end_date, Decimal(membership.fte))
    total, day = peak_fte([*others, candidate], membership.start_date, membership.end_date)
    if total > FTE_LIMIT:
        over = total - FTE_LIMIT
        raise ValidationError(
            {
                "fte": (
                    f"{membership.person} would be at {total.normalize():f} FTE on "
                    f"{day:%d %b %Y} across teams, {over.normalize():f} over the limit of 1."
                )
            }
        )


@transaction.atomic
def membership_create(
    *,
    actor: AbstractBaseUser,
    person: Person,
    team: Team,
    fte: Decimal,
    start_date: datetime.date,
    end_date: datetime.date | None = None,
) -> TeamMembership:
    """Put a person in a team for a share of their time; refuses more than 1 FTE in total."""
    membership = TeamMembership(
        person=person, team=team, fte=fte, start_date=start_date, end_date=end_date
    )
    membership.full_clean()
    membership_check_capacity(membership)
    membership.save()
    return membership


@transaction.atomic
def membership_update(
    *, actor: AbstractBaseUser, membership: TeamMembership, **data: Any
) -> TeamMembership:
    """Change a membership's FTE or dates; refuses more than 1 FTE in total."""
    for field in MEMBERSHIP_FIELDS:
        if field in data:
            setattr(membership, field, data[field])
    membership.full_clean()
    membership_check_capacity(membership)
    membership.save()
    return membership


@transaction.atomic
def membership_end(
    *, actor: AbstractBaseUser, membership: TeamMembership, end_date: datetime.date
) -> TeamMembership:
    """End a membership on a date (the last day it counts)."""
    return membership_update(actor=actor, membership=membership, end_date=end_date)
