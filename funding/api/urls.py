"""API routes of the funding app (included under ``/api/v1/``)."""

from rest_framework.routers import SimpleRouter

router = SimpleRouter()

urlpatterns = [*router.urls]
