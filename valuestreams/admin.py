from django.contrib import admin

from valuestreams.models import ValueStream, WorkSource


@admin.register(ValueStream)
class ValueStreamAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "kind", "owner", "archived_at"]
    list_filter = ["kind"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["products"]


@admin.register(WorkSource)
class WorkSourceAdmin(admin.ModelAdmin):
    """Trackers sending work items; the webhook secret is set here and given to the tracker."""

    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
