"""API routes of the valuestreams app (included under ``/api/v1/``)."""

from rest_framework.routers import SimpleRouter

from valuestreams.api import views

router = SimpleRouter()
router.register("value-streams", views.ValueStreamViewSet, basename="value-stream")

urlpatterns = router.urls
