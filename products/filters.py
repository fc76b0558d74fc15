"""FilterSets shared by the list pages and the API."""

import django_filters
from django.db.models import Q

from products.models import Discipline, Person, Product, Team, TeamMembership


class SearchMixin:
    search_fields: tuple[str, ...] = ("name",)

    def filter_search(self, queryset, name, value):
        if not value:
            return queryset
        query = Q()
        for field in self.search_fields:
            query |= Q(**{f"{field}__icontains": value.strip()})
        return queryset.filter(query)

    def filter_queryset(self, queryset):
        """Archived rows stay out unless ``archived`` asks for them."""
        queryset = super().filter_queryset(queryset)
        if "archived" in self.filters and not self.form.cleaned_data.get("archived"):
            queryset = queryset.filter(archived_at__isnull=True)
        return queryset

    def filter_archived(self, queryset, name, value):
        """``archived=true`` lists only archived rows, ``all`` both; default active only."""
        if value == "true":
            return queryset.filter(archived_at__isnull=False)
        if value == "all":
            return queryset
        return queryset.filter(archived_at__isnull=True)


ARCHIVED_CHOICES = (("false", "Active"), ("true", "Archived"), ("all", "All"))


class ProductFilter(SearchMixin, django_filters.FilterSet):
    search_fields = ("name", "slug", "description")
    q = django_filters.CharFilter(method="filter_search", label="Search")
    lifecycle_stage = django_filters.ChoiceFilter(choices=Product.Stage.choices, label="Stage")
    team = django_filters.CharFilter(field_name="teams__slug", label="Team (slug)", distinct=True)
    owner = django_filters.NumberFilter(
        field_name="owners__id", label="Owner (user id)", distinct=True
    )
    archived = django_filters.ChoiceFilter(
        choices=ARCHIVED_CHOICES, method="filter_archived", empty_label=None, label="Show"
    )

    class Meta:
        model = Product
        fields = ["q", "lifecycle_stage", "team", "owner", "archived"]


class TeamFilter(SearchMixin, django_filters.FilterSet):
    search_fields = ("name", "slug", "mission")
    q = django_filters.CharFilter(method="filter_search", label="Search")
    product = django_filters.CharFilter(
        field_name="products__slug", label="Product (slug)", distinct=True
    )
    archived = django_filters.ChoiceFilter(
        choices=ARCHIVED_CHOICES, method="filter_archived", empty_label=None, label="Show"
    )

    class Meta:
        model = Team
        fields = ["q", "product", "archived"]


class PersonFilter(SearchMixin, django_filters.FilterSet):
    search_fields = ("name", "email")
    q = django_filters.CharFilter(method="filter_search", label="Search")
    discipline = django_filters.ModelChoiceFilter(
        queryset=Discipline.objects.all(), to_field_name="slug", label="Discipline"
    )
    team = django_filters.CharFilter(method="filter_team", label="Team (slug)")
    archived = django_filters.ChoiceFilter(
        choices=ARCHIVED_CHOICES, method="filter_archived", empty_label=None, label="Show"
    )

    class Meta:
        model = Person
        fields = ["q", "discipline", "team", "archived"]

    def filter_team(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(
            id__in=TeamMembership.objects.current().filter(team__slug=value).values("person_id")
        )


class TeamMembershipFilter(django_filters.FilterSet):
    team = django_filters.CharFilter(field_name="team__slug", label="Team (slug)")
    person = django_filters.NumberFilter(field_name="person_id", label="Person (id)")
    current = django_filters.BooleanFilter(method="filter_current", label="Active today")

    class Meta:
        model = TeamMembership
        fields = ["team", "person", "current"]

    def filter_current(self, queryset, name, value):
        if value is None:
            return queryset
        current_ids = TeamMembership.objects.current().values("id")
        return (
            queryset.filter(id__in=current_ids) if value else queryset.exclude(id__in=current_ids)
        )
