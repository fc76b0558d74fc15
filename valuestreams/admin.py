from django.contrib import admin

from valuestreams.models import ValueStream, WorkSource
from valuestreams.services import products_relinked


@admin.register(ValueStream)
class ValueStreamAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "kind", "owner", "archived_at"]
    list_filter = ["kind"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["products"]

    # The flow facts of products that join or leave a value stream here (or lose it) are seen
    # through other mappings now: recomputed after the commit, as the services do.

    def save_related(self, request, form, formsets, change):
        before = set(form.instance.products.values_list("pk", flat=True)) if change else set()
        super().save_related(request, form, formsets, change)
        products_relinked(before, set(form.instance.products.values_list("pk", flat=True)))

    def delete_model(self, request, obj):
        products = set(obj.products.values_list("pk", flat=True))
        super().delete_model(request, obj)
        products_relinked(products, set())

    def delete_queryset(self, request, queryset):
        products = set(
            ValueStream.products.through.objects.filter(valuestream__in=queryset).values_list(
                "product_id", flat=True
            )
        )
        super().delete_queryset(request, queryset)
        products_relinked(products, set())


@admin.register(WorkSource)
class WorkSourceAdmin(admin.ModelAdmin):
    """Trackers sending work items; the webhook secret is set here and given to the tracker."""

    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
