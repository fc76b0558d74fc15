"""Root URLs: pages per app, the API under /api/v1/, its schema and docs, sign-in, health."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView

from portfolio import views, views_dashboard
from portfolio.health import healthz

api_v1: list[URLPattern | URLResolver] = [
    path("", include("products.api.urls")),
    path("", include("valuestreams.api.urls")),
    path("", include("funding.api.urls")),
    path("", include("portfolio.api.urls")),
    path("auth/token/", views.ObtainTokenView.as_view(), name="api_token"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("dashboard.csv", views_dashboard.dashboard_csv, name="dashboard_csv"),
    path("explain/<slug:key>/", views_dashboard.explain, name="explain"),
    path("dashboard/pitfalls/", views_dashboard.dashboard_pitfalls, name="dashboard_pitfalls"),
    path("healthz", healthz, name="healthz"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/token/", views.token_page, name="account_token"),
    path("admin/", admin.site.urls),
    path("", include("products.urls")),
    path("value-streams/", include("valuestreams.urls")),
    path("funding/", include("funding.urls")),
    path("transition/", include("portfolio.transition_urls")),
    path("pitfalls/", include("portfolio.pitfall_urls")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("api/docs/", views.ApiDocsView.as_view(url_name="api_schema"), name="api_docs"),
]
