"""API routes of the transition (included under ``/api/v1/``)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from portfolio.api import pitfalls, summary, views

router = SimpleRouter()
router.register(
    "transition-assessments", views.TransitionAssessmentViewSet, basename="transition-assessment"
)
router.register(
    "transition-criteria", views.TransitionCriterionViewSet, basename="transition-criterion"
)
router.register("transition-units", views.TransitionUnitViewSet, basename="transition-unit")

urlpatterns = [
    *router.urls,
    path("portfolio/summary/", summary.PortfolioSummaryView.as_view(), name="portfolio-summary"),
    path("portfolio/pitfalls/", pitfalls.PitfallsView.as_view(), name="portfolio-pitfalls"),
    path(
        "portfolio/pitfall-thresholds/",
        pitfalls.PitfallThresholdListView.as_view(),
        name="portfolio-pitfall-threshold-list",
    ),
    path(
        "portfolio/pitfall-thresholds/<str:key>/",
        pitfalls.PitfallThresholdView.as_view(),
        name="portfolio-pitfall-threshold-detail",
    ),
]
