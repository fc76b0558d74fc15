"""Funding pages: each area's module lists its own routes."""

from funding.views import periods

app_name = "funding"

urlpatterns = [
    *periods.urlpatterns,
]
