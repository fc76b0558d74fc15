"""Pages of the registry, mounted at the site root: /products/, /teams/, /people/, /disciplines/."""

from django.urls import path

from products.views import (
    disciplines,
    hypotheses,
    imports,
    memberships,
    my_products,
    outcomes,
    people,
    products,
    roadmap,
    teams,
)

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

# Outcomes, key results, measurements, history, My products, measurement import (products/views/outcomes*.py ...).
urlpatterns = [
    # Ahead of products/<slug>/, which would take "import-measurements" for a product's slug.
    path(
        "products/import-measurements/",
        imports.measurement_import,
        name="measurement_import",
    ),
    path(
        "products/import-measurements/example.csv",
        imports.measurement_import_example,
        name="measurement_import_example",
    ),
    *urlpatterns,
    path("my-products/", my_products.my_products, name="my_products"),
    path("products/<slug:slug>/outcomes/new/", outcomes.outcome_create, name="outcome_create"),
    path("outcomes/<int:pk>/", outcomes.outcome_detail, name="outcome_detail"),
    path("outcomes/<int:pk>/edit/", outcomes.outcome_edit, name="outcome_edit"),
    path("outcomes/<int:pk>/archive/", outcomes.outcome_archive, name="outcome_archive"),
    path(
        "outcomes/<int:pk>/key-results/new/",
        outcomes.key_result_create,
        name="key_result_create",
    ),
    path("key-results/<int:pk>/", outcomes.key_result_detail, name="key_result_detail"),
    path("key-results/<int:pk>/edit/", outcomes.key_result_edit, name="key_result_edit"),
    path("key-results/<int:pk>/delete/", outcomes.key_result_delete, name="key_result_delete"),
    path(
        "key-results/<int:pk>/measurements/new/",
        outcomes.measurement_create,
        name="measurement_create",
    ),
]

# Hypotheses and the roadmap (products/views/hypotheses.py, products/views/roadmap.py).
urlpatterns += [
    path("products/<slug:slug>/hypotheses/", hypotheses.hypothesis_list, name="hypothesis_list"),
    path(
        "products/<slug:slug>/hypotheses/new/",
        hypotheses.hypothesis_create,
        name="hypothesis_create",
    ),
    path(
        "products/<slug:slug>/hypotheses/<int:pk>/",
        hypotheses.hypothesis_detail,
        name="hypothesis_detail",
    ),
    path(
        "products/<slug:slug>/hypotheses/<int:pk>/edit/",
        hypotheses.hypothesis_edit,
        name="hypothesis_edit",
    ),
    path(
        "products/<slug:slug>/hypotheses/<int:pk>/status/",
        hypotheses.hypothesis_status,
        name="hypothesis_status",
    ),
    path(
        "products/<slug:slug>/hypotheses/<int:pk>/delete/",
        hypotheses.hypothesis_delete,
        name="hypothesis_delete",
    ),
    path("products/<slug:slug>/roadmap/", roadmap.roadmap_board, name="roadmap_board"),
    path(
        "products/<slug:slug>/roadmap/new/",
        roadmap.roadmap_item_create,
        name="roadmap_item_create",
    ),
    path(
        "products/<slug:slug>/roadmap/<int:pk>/",
        roadmap.roadmap_item_detail,
        name="roadmap_item_detail",
    ),
    path(
        "products/<slug:slug>/roadmap/<int:pk>/edit/",
        roadmap.roadmap_item_edit,
        name="roadmap_item_edit",
    ),
    path(
        "products/<slug:slug>/roadmap/<int:pk>/move/",
        roadmap.roadmap_item_move,
        name="roadmap_item_move",
    ),
    path(
        "products/<slug:slug>/roadmap/<int:pk>/delete/",
        roadmap.roadmap_item_delete,
        name="roadmap_item_delete",
    ),
]
