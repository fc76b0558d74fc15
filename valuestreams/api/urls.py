"""API routes of the valuestreams app (included under ``/api/v1/``)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from valuestreams.api import flow as flow_views
from valuestreams.api import ingest as ingest_views
from valuestreams.api import maps as map_views
from valuestreams.api import views

router = SimpleRouter()
router.register("value-streams", views.ValueStreamViewSet, basename="value-stream")
router.register("value-stream-maps", map_views.ValueStreamMapViewSet, basename="value-stream-map")
router.register("map-steps", map_views.MapStepViewSet, basename="map-step")
router.register(
    "improvement-outcomes", map_views.ImprovementOutcomeViewSet, basename="improvement-outcome"
)
router.register("work-items", ingest_views.WorkItemViewSet, basename="work-item")
router.register("status-mappings", ingest_views.StatusMappingViewSet, basename="status-mapping")
router.register("type-mappings", ingest_views.TypeMappingViewSet, basename="type-mapping")

# Flow metrics: plain paths before the router (the product route is served here, so the
# products app does not import valuestreams).
flow_urlpatterns = [
    path(
        "products/<str:product_ref>/flow-metrics/",
        flow_views.ProductFlowMetricsView.as_view(),
        name="product-flow-metrics",
    ),
    path(
        "products/<int:pk>/flow-metrics/recompute/",
        flow_views.ProductFlowRecomputeView.as_view(),
        name="product-flow-recompute",
    ),
    path(
        "value-streams/<int:pk>/flow-metrics/",
        flow_views.ValueStreamFlowMetricsView.as_view(),
        name="value-stream-flow-metrics",
    ),
    path("flow-tasks/<str:task_id>/", flow_views.FlowTaskView.as_view(), name="flow-task"),
]

urlpatterns = [*flow_urlpatterns, *router.urls]
urlpatterns += [
    path(
        "work-items/webhook/<slug:source>/",
        ingest_views.WorkItemWebhookView.as_view(),
        name="work-item-webhook",
    ),
    path(
        "value-streams/<int:pk>/unmapped/",
        ingest_views.ValueStreamUnmappedView.as_view(),
        name="value-stream-unmapped",
    ),
]
