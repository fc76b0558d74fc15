"""The pitfalls page, mounted at /pitfalls/ (names without a namespace: ``pitfalls``,
``pitfall_warnings``, ``pitfall_threshold``)."""

from django.urls import path

from portfolio import views_pitfalls as views

urlpatterns = [
    path("", views.pitfall_page, name="pitfalls"),
    path("warnings/", views.pitfall_warnings, name="pitfall_warnings"),
    path("thresholds/<str:key>/", views.pitfall_threshold, name="pitfall_threshold"),
]
