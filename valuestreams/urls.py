"""Value stream pages, mounted at /value-streams/."""

from django.urls import include, path

from valuestreams import views, views_flow, views_ingest, views_maps, views_measured

app_name = "valuestreams"

urlpatterns = [
    path("", views.value_stream_list, name="value_stream_list"),
    path("new/", views.value_stream_create, name="value_stream_create"),
    path(
        "for-product/<slug:slug>/",
        views.product_value_streams,
        name="product_value_streams",
    ),
    path("mappings/", views_ingest.mappings_default, name="mappings_default"),
    path("flow/product/<slug:slug>/", views_flow.product_flow, name="product_flow"),
    path(
        "flow/product/<slug:slug>/recompute/",
        views_flow.product_flow_recompute,
        name="product_flow_recompute",
    ),
    path("flow/tasks/<uuid:task_id>/", views_flow.flow_task_status, name="flow_task_status"),
    path("work-items/import/", views_ingest.work_item_import, name="work_item_import"),
    path("<slug:slug>/mappings/", views_ingest.mappings_for_value_stream, name="mappings"),
    path("<slug:slug>/", views.value_stream_detail, name="value_stream_detail"),
    path("<slug:slug>/edit/", views.value_stream_edit, name="value_stream_edit"),
    path("<slug:slug>/archive/", views.value_stream_archive, name="value_stream_archive"),
    path("<slug:slug>/restore/", views.value_stream_restore, name="value_stream_restore"),
    path(
        "<slug:slug>/maps/<int:pk>/measured/",
        views_measured.map_measured,
        name="map_measured",
    ),
    path(
        "<slug:slug>/maps/<int:pk>/steps/<int:step_pk>/statuses/",
        views_measured.map_step_statuses,
        name="map_step_statuses",
    ),
    path("<slug:slug>/maps/", include(views_maps.urlpatterns)),
    path("<slug:slug>/flow/", views_flow.value_stream_flow, name="value_stream_flow"),
    path(
        "<slug:slug>/flow/recompute/",
        views_flow.value_stream_flow_recompute,
        name="value_stream_flow_recompute",
    ),
]
