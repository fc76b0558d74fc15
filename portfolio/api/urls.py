"""API routes of the transition (included under ``/api/v1/``)."""

from rest_framework.routers import SimpleRouter

from portfolio.api import views

router = SimpleRouter()
router.register(
    "transition-assessments", views.TransitionAssessmentViewSet, basename="transition-assessment"
)
router.register(
    "transition-criteria", views.TransitionCriterionViewSet, basename="transition-criterion"
)
router.register("transition-units", views.TransitionUnitViewSet, basename="transition-unit")

urlpatterns = router.urls
