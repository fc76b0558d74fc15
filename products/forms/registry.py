"""HTML forms of the products app.

The forms check shape only (required fields, numbers, dates, choices). The services hold the rules
(unique slugs, names, the 1-FTE limit) and run them once, inside their transaction; the views map a
service's ValidationError back onto the form (``portfolio.common.views.show_service_errors``).
"""

import datetime
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone

from products.filters import ARCHIVED_CHOICES
from products.models import Discipline, Person, Product, Team, TeamMembership

FTE_MESSAGE = "FTE must be more than 0 and at most 1 (a full-time week)."


# Choice lists of the pickers: active rows only, with just the columns a label needs.


def active_users() -> QuerySet:
    """Active user accounts, by name: who can own a product or sign in as a person."""
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .only("id", "username", "first_name", "last_name")
        .order_by("first_name", "last_name", "username")
    )


def product_owners() -> QuerySet:
    """Users named owner of at least one product (the owner filter's choices)."""
    return active_users().filter(owned_products__isnull=False).distinct()


def active_products() -> QuerySet[Product]:
    return Product.objects.active().only("id", "name", "slug").order_by("name")


def active_teams() -> QuerySet[Team]:
    return Team.objects.active().only("id", "name", "slug").order_by("name")


def active_people() -> QuerySet[Person]:
    """Active people with their discipline and today's FTE across teams (the member picker)."""
    return (
        Person.objects.active()
        .select_related("discipline")
        .only("id", "name", "discipline__name")
        .with_allocation()
        .order_by("name")
    )


def user_label(user) -> str:
    return user.get_full_name() or user.username


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return user_label(obj)


class UserMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return user_label(obj)


class PersonChoiceField(forms.ModelChoiceField):
    """People labelled with discipline and free capacity, so the picker shows who has room."""

    def label_from_instance(self, obj) -> str:
        free = Decimal("1") - (obj.allocated_fte or 0)
        free_text = f"{free:.2f}".rstrip("0").rstrip(".") or "0"
        return f"{obj.name} ({obj.discipline.name}, {free_text} FTE free today)"


class ShapeOnlyModelForm(forms.ModelForm):
    """A ModelForm that checks field shape and nothing else.

    Django's ModelForm copies the data onto the instance and validates the model after cleaning;
    here the service does both inside its transaction. Skipping that step leaves the instance
    untouched, so the service sees (and saves) what changed, and each rule runs once.
    """

    def _post_clean(self) -> None:
        return None


class SlugOptionalOnCreateMixin:
    """The slug may be left empty on create: the service makes one from the name."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]
        slug = self.fields["slug"]  # type: ignore[attr-defined]
        if self.instance.pk is None:  # type: ignore[attr-defined]
            slug.required = False
            slug.help_text = "Used in links. Leave it empty to make one from the name."
        else:
            slug.help_text = "Used in links; changing it changes the page's address."


class ProductForm(SlugOptionalOnCreateMixin, ShapeOnlyModelForm):
    owners = UserMultipleChoiceField(
        queryset=active_users(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Product owners",
        help_text="The people who keep its outcomes and roadmap current.",
    )

    class Meta:
        model = Product
        fields = ["name", "slug", "lifecycle_stage", "description", "owners", "planned_end"]
        labels = {"lifecycle_stage": "Lifecycle stage", "planned_end": "Planned end"}
        widgets = {"planned_end": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}


class TeamForm(SlugOptionalOnCreateMixin, ShapeOnlyModelForm):
    products = forms.ModelMultipleChoiceField(
        queryset=active_products(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Products owned",
        help_text="A team may own several products; a product may have several teams.",
    )

    class Meta:
        model = Team
        fields = ["name", "slug", "mission", "formed_on", "products", "planned_end"]
        labels = {"planned_end": "Planned end"}
        widgets = {
            "formed_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "planned_end": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }


class PersonForm(ShapeOnlyModelForm):
    user = UserChoiceField(
        queryset=active_users(),
        required=False,
        label="User account",
        empty_label="No user account",
        help_text="The account this person signs in with, if they have one.",
    )

    class Meta:
        model = Person
        fields = ["name", "email", "discipline", "user"]


class DisciplineForm(ShapeOnlyModelForm):
    class Meta:
        model = Discipline
        fields = ["name", "slug", "order"]
        help_texts = {"order": "Lists show disciplines by this number, then by name."}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            self.fields["slug"].required = False
            self.fields["slug"].help_text = "Leave it empty to make one from the name."


class FteField(forms.DecimalField):
    """An FTE: more than 0, at most 1, two decimals, with one clear message for the range."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", "FTE")
        kwargs.setdefault("help_text", "Share of a full week: more than 0, at most 1.")
        super().__init__(max_digits=3, decimal_places=2, **kwargs)
        self.widget.attrs.update({"step": "0.01", "min": "0.01", "max": "1"})

    def validate(self, value: Any) -> None:
        # Runs before the digit validators, so 1.5 or 0 gets this message alone.
        super().validate(value)
        if value is not None and not (Decimal("0") < value <= Decimal("1")):
            raise ValidationError(FTE_MESSAGE, code="fte_range")


DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class MembershipForm(forms.Form):
    """Put a person in a team: who, how much of their week, from when, until when."""

    person = PersonChoiceField(
        queryset=Person.objects.none(), label="Person", empty_label="Choose…"
    )
    fte = FteField()
    start_date = forms.DateField(label="Start", widget=DATE_WIDGET, initial=timezone.localdate)
    end_date = forms.DateField(
        label="End", required=False, widget=DATE_WIDGET, help_text="Leave empty while it lasts."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "person" in self.fields:
            # Built per form: "free today" must be today's, not the day the module was loaded.
            cast(forms.ModelChoiceField, self.fields["person"]).queryset = active_people()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", "The end date cannot be before the start date.")
        return data


class MembershipEditForm(MembershipForm):
    """Change a membership's FTE or dates (the person stays)."""

    person = None  # type: ignore[assignment]

    @classmethod
    def for_membership(cls, membership: TeamMembership, data: Any = None) -> "MembershipEditForm":
        initial = {
            "fte": membership.fte,
            "start_date": membership.start_date,
            "end_date": membership.end_date,
        }
        form = cls(data, initial=initial, auto_id=f"edit-{membership.pk}_%s")
        form.fields["fte"].widget.attrs["autofocus"] = True
        return form


class MembershipEndForm(forms.Form):
    """End a membership: the last day it counts (today unless said otherwise)."""

    end_date = forms.DateField(label="Last day", widget=DATE_WIDGET, initial=timezone.localdate)

    def __init__(self, *args: Any, membership: TeamMembership, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"end-{membership.pk}_%s")
        super().__init__(*args, **kwargs)
        self.membership = membership

    def clean_end_date(self) -> datetime.date:
        end = self.cleaned_data["end_date"]
        if end < self.membership.start_date:
            raise ValidationError(
                f"The membership started on {self.membership.start_date:%d %b %Y}; "
                "it cannot end before that."
            )
        return end


# Filter bars of the list pages. The FilterSets in filters.py do the filtering (shared with the
# API); these forms only draw the controls with labels and the current choices.


def slug_picker(label: str, queryset: QuerySet, empty_label: str) -> forms.ModelChoiceField:
    """A filter bar's optional picker; it sends the slug, as the API's filters take it."""
    return forms.ModelChoiceField(
        label=label,
        required=False,
        queryset=queryset,
        to_field_name="slug",
        empty_label=empty_label,
    )


class ListFilterForm(forms.Form):
    q = forms.CharField(
        label="Search", required=False, widget=forms.TextInput(attrs={"type": "search"})
    )
    archived = forms.ChoiceField(label="Show", required=False, choices=ARCHIVED_CHOICES)


class ProductFilterForm(ListFilterForm):
    lifecycle_stage = forms.ChoiceField(
        label="Stage", required=False, choices=[("", "Any stage"), *Product.Stage.choices]
    )
    team = slug_picker("Team", active_teams(), "Any team")
    owner = UserChoiceField(
        label="Owner", required=False, queryset=product_owners(), empty_label="Anyone"
    )
    field_order = ["q", "lifecycle_stage", "team", "owner", "archived"]


class TeamFilterForm(ListFilterForm):
    product = slug_picker("Owns product", active_products(), "Any product")
    field_order = ["q", "product", "archived"]


class PersonFilterForm(ListFilterForm):
    discipline = slug_picker(
        "Discipline", Discipline.objects.only("id", "name", "slug"), "Any discipline"
    )
    team = slug_picker("Team today", active_teams(), "Any team")
    field_order = ["q", "discipline", "team", "archived"]


__all__ = [
    "DisciplineForm",
    "FteField",
    "ListFilterForm",
    "MembershipEditForm",
    "MembershipEndForm",
    "MembershipForm",
    "PersonChoiceField",
    "PersonFilterForm",
    "PersonForm",
    "ProductFilterForm",
    "ProductForm",
    "ShapeOnlyModelForm",
    "SlugOptionalOnCreateMixin",
    "TeamFilterForm",
    "TeamForm",
    "UserChoiceField",
    "UserMultipleChoiceField",
    "active_people",
    "active_products",
    "active_teams",
    "active_users",
    "product_owners",
    "slug_picker",
    "user_label",
]
