"""Nothing is public: every page needs a signed-in user, except sign-in itself and the health check."""

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse

PUBLIC_PREFIXES = ("/accounts/login/", "/healthz", "/static/", "/admin/login/")


class LoginRequiredMiddleware:
    """Redirect anonymous page requests to sign-in; the API answers 401/403 itself (DRF)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if (
            request.user.is_authenticated
            or path.startswith(PUBLIC_PREFIXES)
            or path.startswith("/api/")  # DRF authenticates tokens and answers 401/403 itself
        ):
            return self.get_response(request)
        return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
