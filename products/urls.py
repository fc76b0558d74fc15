"""Pages of the registry, mounted at the site root: /products/, /teams/, /people/, /disciplines/."""

from django.urls import path

from products import views

app_name = "products"

urlpatterns = [
    path("products/", views.product_list, name="product_list"),
    path("products/new/", views.product_create, name="product_create"),
    path("products/<slug:slug>/", views.product_detail, name="product_detail"),
    path("products/<slug:slug>/edit/", views.product_edit, name="product_edit"),
    path("products/<slug:slug>/archive/", views.product_archive, name="product_archive"),
    path("products/<slug:slug>/restore/", views.product_restore, name="product_restore"),
    path("teams/", views.team_list, name="team_list"),
    path("teams/new/", views.team_create, name="team_create"),
    path("teams/<slug:slug>/", views.team_detail, name="team_detail"),
    path("teams/<slug:slug>/edit/", views.team_edit, name="team_edit"),
    path("teams/<slug:slug>/archive/", views.team_archive, name="team_archive"),
    path("teams/<slug:slug>/restore/", views.team_restore, name="team_restore"),
    path("teams/<slug:slug>/members/", views.membership_create, name="membership_create"),
    path("memberships/<int:pk>/edit/", views.membership_edit, name="membership_edit"),
    path("memberships/<int:pk>/end/", views.membership_end, name="membership_end"),
    path("people/", views.person_list, name="person_list"),
    path("people/new/", views.person_create, name="person_create"),
    path("people/<int:pk>/", views.person_detail, name="person_detail"),
    path("people/<int:pk>/edit/", views.person_edit, name="person_edit"),
    path("people/<int:pk>/archive/", views.person_archive, name="person_archive"),
    path("people/<int:pk>/restore/", views.person_restore, name="person_restore"),
    path("disciplines/", views.discipline_list, name="discipline_list"),
    path("disciplines/new/", views.discipline_create, name="discipline_create"),
    path("disciplines/<int:pk>/edit/", views.discipline_edit, name="discipline_edit"),
]
