"""API routes of the funding app (included under ``/api/v1/``)."""

from rest_framework.routers import SimpleRouter

from funding.api import actuals, scenarios, views

router = SimpleRouter()
router.register("fiscal-periods", views.FiscalPeriodViewSet, basename="fiscal-period")
router.register("rate-cards", views.RateViewSet, basename="rate")
router.register("envelopes", views.EnvelopeViewSet, basename="envelope")
router.register("allocations", views.AllocationViewSet, basename="allocation")
router.register("actuals", actuals.ActualViewSet, basename="actual")
router.register("scenarios", scenarios.ScenarioViewSet, basename="scenario")

urlpatterns = [*router.urls]
