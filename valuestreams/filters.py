"""FilterSets shared by the value-stream list page and the API."""

import django_filters

from products.filters import ARCHIVED_CHOICES, SearchMixin
from valuestreams.models import ValueStream


class ValueStreamFilter(SearchMixin, django_filters.FilterSet):
    search_fields = ("name", "slug", "description", "customer")
    q = django_filters.CharFilter(method="filter_search", label="Search")
    kind = django_filters.ChoiceFilter(choices=ValueStream.Kind.choices, label="Kind")
    product = django_filters.CharFilter(
        field_name="products__slug", label="Product (slug)", distinct=True
    )
    archived = django_filters.ChoiceFilter(
        choices=ARCHIVED_CHOICES, method="filter_archived", empty_label=None, label="Show"
    )

    class Meta:
        model = ValueStream
        fields = ["q", "kind", "product", "archived"]
