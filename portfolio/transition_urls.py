"""Transition pages, mounted at /transition/ (namespace ``transition``)."""

from django.urls import path

from portfolio import views_transition as views

app_name = "transition"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("organisation/", views.unit_detail, name="unit"),
    path("value-streams/<slug:slug>/", views.unit_detail, name="unit"),
    path("criteria/", views.criteria, name="criteria"),
    path("criteria/new/", views.criterion_create, name="criterion_create"),
    path("criteria/<int:pk>/edit/", views.criterion_edit, name="criterion_edit"),
    path("criteria/<int:pk>/archive/", views.criterion_archive, name="criterion_archive"),
    path("criteria/<int:pk>/restore/", views.criterion_restore, name="criterion_restore"),
]
