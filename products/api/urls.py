"""API routes of the products app (included under ``/api/v1/``)."""

from rest_framework.routers import SimpleRouter

from products.api import outcome_views, views

router = SimpleRouter()
router.register("products", views.ProductViewSet, basename="product")
router.register("teams", views.TeamViewSet, basename="team")
router.register("people", views.PersonViewSet, basename="person")
router.register("team-memberships", views.TeamMembershipViewSet, basename="team-membership")
router.register("disciplines", views.DisciplineViewSet, basename="discipline")
router.register("outcomes", outcome_views.OutcomeViewSet, basename="outcome")
router.register("key-results", outcome_views.KeyResultViewSet, basename="key-result")
router.register("measurements", outcome_views.MeasurementViewSet, basename="measurement")
router.register("hypotheses", outcome_views.HypothesisViewSet, basename="hypothesis")
router.register("roadmap-items", outcome_views.RoadmapItemViewSet, basename="roadmap-item")
router.register("change-records", outcome_views.ChangeRecordViewSet, basename="change-record")

urlpatterns = router.urls
