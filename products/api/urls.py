"""API routes of the products app (included under ``/api/v1/``)."""

from rest_framework.routers import SimpleRouter

from products.api import views

router = SimpleRouter()
router.register("products", views.ProductViewSet, basename="product")
router.register("teams", views.TeamViewSet, basename="team")
router.register("people", views.PersonViewSet, basename="person")
router.register("team-memberships", views.TeamMembershipViewSet, basename="team-membership")
router.register("disciplines", views.DisciplineViewSet, basename="discipline")

urlpatterns = router.urls
