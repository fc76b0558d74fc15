"""API helpers shared by every app's ``api/`` package.

The write path of every endpoint is the same: an input serializer checks the shape of the request,
a service writes (one transaction, the acting user passed explicitly), the read serializer renders
the row as the list selector returns it. A ``django.core.exceptions.ValidationError`` raised by a
service (a model rule, a unique slug, the 1-FTE rule) answers 400 ``{field: [messages]}`` like any
serializer error.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings


def drf_validation_error(exc: DjangoValidationError) -> serializers.ValidationError:
    """The DRF twin of a Django ``ValidationError``: ``{field: [messages]}``.

    Errors that belong to no field (``__all__``) go under DRF's ``non_field_errors`` key.
    """
    if hasattr(exc, "error_dict"):
        detail: dict[str, list[str]] = {}
        for field, messages in exc.message_dict.items():
            key = api_settings.NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field
            detail.setdefault(key, []).extend(messages)
        return serializers.ValidationError(detail)
    return serializers.ValidationError({api_settings.NON_FIELD_ERRORS_KEY: exc.messages})


@contextmanager
def service_errors() -> Iterator[None]:
    """Turn a service's Django ``ValidationError`` into a 400 answer with field errors."""
    try:
        yield
    except DjangoValidationError as exc:
        raise drf_validation_error(exc) from exc


class ServiceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Reads through a selector's queryset; filters apply to the list only.

    The FilterSets hide archived rows unless ``?archived=`` asks for them. A single object is
    found among every row (archived ones too), so an archived product still answers its detail
    and can be restored.
    """

    @property
    def actor(self) -> AbstractBaseUser:
        """The signed-in user making the request: the ``actor`` every service takes."""
        user = self.request.user
        if not isinstance(user, AbstractBaseUser):
            raise exceptions.NotAuthenticated()
        return user

    def filter_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    def validated_input(self, serializer_class: type[serializers.Serializer], **kwargs: Any):
        serializer = serializer_class(
            data=self.request.data, context=self.get_serializer_context(), **kwargs
        )
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def rendered(
        self, instance: models.Model, *, status_code: int = status.HTTP_200_OK
    ) -> Response:
        """The row as the read endpoints show it, fetched again so annotations are current."""
        fresh = self.get_queryset().get(pk=instance.pk)
        return Response(self.get_serializer(fresh).data, status=status_code)


class ServiceCreateMixin:
    """``POST``: ``input_serializer_class`` validates, ``perform_service_create`` writes."""

    input_serializer_class: type[serializers.Serializer]

    def perform_service_create(self, data: dict[str, Any]) -> models.Model:
        raise NotImplementedError

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.validated_input(self.input_serializer_class)  # type: ignore[attr-defined]
        with service_errors():
            instance = self.perform_service_create(dict(data))
        return self.rendered(instance, status_code=status.HTTP_201_CREATED)  # type: ignore[attr-defined]


class ServiceUpdateMixin:
    """``PUT``/``PATCH``: the update input serializer validates, ``perform_service_update`` writes."""

    input_serializer_class: type[serializers.Serializer]
    update_serializer_class: type[serializers.Serializer] | None = None

    def perform_service_update(self, instance: Any, data: dict[str, Any]) -> models.Model:
        raise NotImplementedError

    def update(
        self, request: Request, *args: Any, partial: bool = False, **kwargs: Any
    ) -> Response:
        instance = self.get_object()  # type: ignore[attr-defined]
        serializer_class = self.update_serializer_class or self.input_serializer_class
        data = self.validated_input(serializer_class, partial=partial)  # type: ignore[attr-defined]
        with service_errors():
            instance = self.perform_service_update(instance, dict(data))
        return self.rendered(instance)  # type: ignore[attr-defined]

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)


class ServiceDestroyMixin(mixins.DestroyModelMixin):
    """``DELETE``: ``perform_service_destroy`` removes the row through its service (204)."""

    def perform_service_destroy(self, instance: Any) -> None:
        raise NotImplementedError

    def perform_destroy(self, instance: Any) -> None:
        with service_errors():
            self.perform_service_destroy(instance)


class ArchiveActionsMixin:
    """``POST {id}/archive/`` and ``{id}/restore/`` instead of ``DELETE``: rows keep their history.

    Both need the model's change permission (``action_permissions``).
    """

    action_permissions = {"archive": "change", "restore": "change"}

    def perform_archive(self, instance: Any) -> models.Model:
        raise NotImplementedError

    def perform_restore(self, instance: Any) -> models.Model:
        raise NotImplementedError

    @extend_schema(
        request=None,
        summary="Archive",
        description="Hide the row from default lists and pickers; it keeps its history and links. "
        "Idempotent.",
    )
    @action(detail=True, methods=["post"])
    def archive(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()  # type: ignore[attr-defined]
        with service_errors():
            instance = self.perform_archive(instance)
        return self.rendered(instance)  # type: ignore[attr-defined]

    @extend_schema(
        request=None, summary="Restore", description="Bring an archived row back. Idempotent."
    )
    @action(detail=True, methods=["post"])
    def restore(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()  # type: ignore[attr-defined]
        with service_errors():
            instance = self.perform_restore(instance)
        return self.rendered(instance)  # type: ignore[attr-defined]


def user_display_name(user: Any) -> str:
    """A user's full name, or the username when they have none."""
    return user.get_full_name() or user.get_username()


class UserBriefSerializer(serializers.Serializer):
    """A user as other rows show it: ``{id, username, name}``."""

    id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(read_only=True)
    name = serializers.SerializerMethodField()

    def get_name(self, user: Any) -> str:
        return user_display_name(user)


def write_schemas(
    *,
    read: type[serializers.Serializer],
    create: type[serializers.Serializer] | None = None,
    update: type[serializers.Serializer] | None = None,
) -> dict[str, Any]:
    """``extend_schema_view`` arguments for the service write path: input in, read row out."""
    schemas: dict[str, Any] = {}
    if create is not None:
        schemas["create"] = extend_schema(request=create, responses={201: read})
    if update is not None:
        schemas["update"] = extend_schema(request=update, responses={200: read})
        schemas["partial_update"] = extend_schema(request=update, responses={200: read})
    return schemas
