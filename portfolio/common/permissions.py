"""Permission rules shared by the API and the pages.

Roles are Django groups with model permissions (a data migration in ``portfolio`` assigns them);
everyone signed in reads everything, writes need the model permission.
"""

from django.contrib.auth.mixins import PermissionRequiredMixin
from rest_framework.permissions import SAFE_METHODS, BasePermission

WRITE_ACTIONS = {"POST": "add", "PUT": "change", "PATCH": "change", "DELETE": "delete"}


def perm_name(model, action: str) -> str:
    """``app_label.<action>_<model>`` for a model class or instance."""
    meta = model._meta
    return f"{meta.app_label}.{action}_{meta.model_name}"


class ModelPermissionsOrReadOnly(BasePermission):
    """Signed-in users read; writes need the model's add/change/delete permission.

    A view may name the permission an extra action needs with ``action_permissions``
    (``{"archive": "change"}``).
    """

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        if request.method in SAFE_METHODS:
            return True
        queryset = getattr(view, "queryset", None)
        if queryset is None and hasattr(view, "get_queryset"):
            queryset = view.get_queryset()
        if queryset is None:
            return False
        action = getattr(view, "action_permissions", {}).get(getattr(view, "action", None))
        action = action or WRITE_ACTIONS.get(request.method, "change")
        return request.user.has_perm(perm_name(queryset.model, action))


class WritePermissionRequiredMixin(PermissionRequiredMixin):
    """For create/edit/archive pages: 403 for a signed-in user whose role may not write."""

    raise_exception = True
