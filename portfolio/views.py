"""Portfolio pages: the home overview, the API token page, the API docs."""

from django.contrib.auth import authenticate
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods
from drf_spectacular.utils import extend_schema, inline_serializer
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from portfolio import views_dashboard
from portfolio.common.context_processors import ROLE_LABELS, site


def home(request: HttpRequest) -> HttpResponse:
    """The CIO dashboard (portfolio/views_dashboard.py): headline figures, value streams, charts,
    transition and pitfalls, each linking to the page behind it.

    A product owner lands on My products instead (``?overview=1`` shows them this page). The
    role comes from the layout's role labels, read once per request, so this costs no query.
    """
    if (
        "overview" not in request.GET
        and ROLE_LABELS["product_owner"] in site(request)["user_roles"]
    ):
        return redirect("products:my_products")
    return views_dashboard.dashboard_page(request)


@require_http_methods(["GET", "POST"])
def token_page(request: HttpRequest) -> HttpResponse:
    """Show the signed-in user's API token; POST makes a new one (the old one stops working)."""
    user = request.user
    assert user.is_authenticated  # the sign-in middleware guarantees it
    token = Token.objects.filter(user=user).first()
    if request.method == "POST":
        if token is not None:
            token.delete()
        token = Token.objects.create(user=user)
    return render(request, "portfolio/token.html", {"token": token})


class TokenThrottle(AnonRateThrottle):
    rate = "20/min"


class ObtainTokenView(APIView):
    """Exchange a username and password for the user's API token (for scripts)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [TokenThrottle]

    @extend_schema(
        request=inline_serializer(
            "TokenRequest",
            {"username": serializers.CharField(), "password": serializers.CharField()},
        ),
        responses=inline_serializer("TokenResponse", {"token": serializers.CharField()}),
    )
    def post(self, request):
        username = request.data.get("username") or ""
        password = request.data.get("password") or ""
        errors = {}
        if not username:
            errors["username"] = ["This field is required."]
        if not password:
            errors["password"] = ["This field is required."]
        if errors:
            return Response(errors, status=status.HTTP_400_BAD_REQUEST)
        user = authenticate(request._request, username=username, password=password)
        if user is None or not user.is_active:
            return Response(
                {"non_field_errors": ["Unable to sign in with these credentials."]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI from the sidecar's local assets, for signed-in users only.

    Swagger UI's page carries one inline style block, so this view alone allows inline styles.
    """

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response._csp_update = {"style-src": ["'unsafe-inline'"], "img-src": ["data:"]}
        return response
