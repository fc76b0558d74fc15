"""Pages of the registry, mounted at the site root: /products/, /teams/, /people/, /disciplines/."""

from django.urls import path

from products.views import disciplines, memberships, people, products, teams

app_name = "products"

urlpatterns = [
    path("products/", products.product_list, name="product_list"),
    path("products/new/", products.product_create, name="product_create"),
    path("products/<slug:slug>/", products.product_detail, name="product_detail"),
    path("products/<slug:slug>/edit/", products.product_edit, name="product_edit"),
    path("products/<slug:slug>/archive/", products.product_archive, name="product_archive"),
    path("products/<slug:slug>/restore/", products.product_restore, name="product_restore"),
    path("teams/", teams.team_list, name="team_list"),
    path("teams/new/", teams.team_create, name="team_create"),
    path("teams/<slug:slug>/", teams.team_detail, name="team_detail"),
    path("teams/<slug:slug>/edit/", teams.team_edit, name="team_edit"),
    path("teams/<slug:slug>/archive/", teams.team_archive, name="team_archive"),
    path("teams/<slug:slug>/restore/", teams.team_restore, name="team_restore"),
    path("teams/<slug:slug>/members/", memberships.membership_create, name="membership_create"),
    path("memberships/<int:pk>/edit/", memberships.membership_edit, name="membership_edit"),
    path("memberships/<int:pk>/end/", memberships.membership_end, name="membership_end"),
    path("people/", people.person_list, name="person_list"),
    path("people/new/", people.person_create, name="person_create"),
    path("people/<int:pk>/", people.person_detail, name="person_detail"),
    path("people/<int:pk>/edit/", people.person_edit, name="person_edit"),
    path("people/<int:pk>/archive/", people.person_archive, name="person_archive"),
    path("people/<int:pk>/restore/", people.person_restore, name="person_restore"),
    path("disciplines/", disciplines.discipline_list, name="discipline_list"),
    path("disciplines/new/", disciplines.discipline_create, name="discipline_create"),
    path("disciplines/<int:pk>/edit/", disciplines.discipline_edit, name="discipline_edit"),
]
