"""Funding pages: each area's module lists its own routes."""

from funding.views import actuals, capacity, exports, matrix, periods, scenarios

app_name = "funding"

urlpatterns = [
    *actuals.urlpatterns,
    *periods.urlpatterns,
    *capacity.urlpatterns,
    *exports.urlpatterns,
    *matrix.urlpatterns,
    *scenarios.urlpatterns,
]
