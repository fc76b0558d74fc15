"""The ground floor: products, durable teams, people and who works where."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from portfolio.common.models import ArchivableModel, TimestampedModel
from products.querysets import (
    PersonQuerySet,
    ProductQuerySet,
    TeamMembershipQuerySet,
    TeamQuerySet,
)

NON_EMPTY_NAME = ~Q(name="")


class Discipline(TimestampedModel):
    """A person's role or discipline (engineer, designer, ...): a list the organisation keeps.

    Rate cards (funding) price people by discipline, so this is a table, not a fixed choice.
    """

    name = models.CharField(max_length=80, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "name"]
        constraints = [
            models.CheckConstraint(
                condition=NON_EMPTY_NAME,
                name="discipline_name_not_empty",
                violation_error_message="A discipline needs a name.",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Product(ArchivableModel):
    """A durable product, owned by teams, with named product owners; judged by outcomes."""

    class Stage(models.TextChoices):
        DISCOVERY = "discovery", "Discovery"
        GROWTH = "growth", "Growth"
        MATURE = "mature", "Mature"
        SUNSET = "sunset", "Sunset"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    description = models.TextField(blank=True)
    lifecycle_stage = models.CharField(
        max_length=20, choices=Stage.choices, default=Stage.DISCOVERY
    )
    owners = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="owned_products",
        blank=True,
        help_text="Product owners: the people who keep its outcomes and roadmap current.",
    )
    planned_end = models.DateField(
        null=True,
        blank=True,
        help_text="A durable product has none; an end date is a sign of project thinking.",
    )

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        permissions = [
            ("edit_any_outcomes", "Can edit the outcomes, hypotheses and roadmap of any product"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=NON_EMPTY_NAME,
                name="product_name_not_empty",
                violation_error_message="A product needs a name.",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("products:product_detail", kwargs={"slug": self.slug})


class Team(ArchivableModel):
    """A durable, cross-functional team. It has no end date: it persists and takes on work."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    mission = models.TextField(blank=True)
    formed_on = models.DateField(default=timezone.localdate, help_text="When the team was formed.")
    products = models.ManyToManyField(
        Product,
        related_name="teams",
        blank=True,
        help_text="Products this team owns; a product may have several teams.",
    )
    planned_end = models.DateField(
        null=True,
        blank=True,
        help_text="A durable team has none; an end date is a sign of project thinking.",
    )

    objects = TeamQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=NON_EMPTY_NAME,
                name="team_name_not_empty",
                violation_error_message="A team needs a name.",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("products:team_detail", kwargs={"slug": self.slug})


class Person(ArchivableModel):
    """Someone who works in teams; may have a user account to sign in with."""

    name = models.CharField(max_length=200)
    email = models.EmailField(unique=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="person",
    )
    discipline = models.ForeignKey(Discipline, on_delete=models.PROTECT, related_name="people")

    objects = PersonQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "people"
        constraints = [
            models.CheckConstraint(
                condition=NON_EMPTY_NAME,
                name="person_name_not_empty",
                violation_error_message="A person needs a name.",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("products:person_detail", kwargs={"pk": self.pk})


class TeamMembership(TimestampedModel):
    """A person's share of their time (FTE) in a team from a start date, optionally until an end date.

    A person's memberships that overlap in time never add up to more than 1 FTE; the services
    check that under a lock on the person's row.
    """

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="memberships")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    fte = models.DecimalField(
        "FTE",
        max_digits=3,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("1"))],
        help_text="Share of a full-time week in this team: more than 0, at most 1.",
    )
    start_date = models.DateField(default=timezone.localdate)
    end_date = models.DateField(null=True, blank=True, help_text="Leave empty while it lasts.")

    objects = TeamMembershipQuerySet.as_manager()

    class Meta:
        ordering = ["team__name", "person__name", "start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(fte__gt=0) & Q(fte__lte=1),
                name="membership_fte_between_0_and_1",
                violation_error_message="FTE must be more than 0 and at most 1.",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="membership_end_after_start",
                violation_error_message="The end date cannot be before the start date.",
            ),
        ]
        indexes = [
            models.Index(fields=["person", "start_date"]),
            models.Index(fields=["team", "start_date"]),
        ]

    def __str__(self) -> str:
        return f"{self.person} in {self.team} ({self.fte} FTE)"

    def clean(self) -> None:
        if self.end_date and self.start_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": "The end date cannot be before the start date."})

    def is_active_on(self, day) -> bool:
        return self.start_date <= day and (self.end_date is None or self.end_date >= day)
