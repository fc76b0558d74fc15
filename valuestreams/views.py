"""Value stream pages: list, detail, create, edit, archive and restore, and the product page's panel.

Thin views: they read through ``selectors``, write through ``services`` and show a service's
ValidationError beside the fields it names.
"""

import copy

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import F, OrderBy
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from portfolio.common.htmx import render_page
from products.models import Product
from valuestreams import selectors, services
from valuestreams.filters import ValueStreamFilter
from valuestreams.forms import ValueStreamForm, prepare_filter_form
from valuestreams.models import ValueStream

PAGE_SIZE = 25

# ``?ordering=<key>`` (or ``-<key>``) -> the columns it sorts by; the name breaks ties.
SORTS: dict[str, tuple[str, ...]] = {
    "name": ("name",),
    "kind": ("kind", "name"),
    "customer": ("customer", "name"),
    "owner": ("owner__first_name", "owner__last_name", "owner__username", "name"),
    "products": ("product_count", "name"),
}

ADD = "valuestreams.add_valuestream"
CHANGE = "valuestreams.change_valuestream"


def _ordering(param: str) -> list[OrderBy]:
    """The ORDER BY of a list request; unknown keys fall back to the name. Empty values sort last."""
    descending = param.startswith("-")
    columns = SORTS.get(param.lstrip("-"), SORTS["name"])
    order = [
        F(c).desc(nulls_last=True) if descending else F(c).asc(nulls_last=True) for c in columns
    ]
    return [*order, F("pk").asc()]


def _actor(request: HttpRequest) -> AbstractBaseUser:
    """The signed-in user who makes a change (the sign-in middleware lets no one else through)."""
    if not isinstance(request.user, AbstractBaseUser):
        raise PermissionDenied
    return request.user


def _crumbs(*trail: tuple[str, str | None]) -> list[tuple[str, str | None]]:
    return [("Value streams", reverse("valuestreams:value_stream_list")), *trail]


def _value_stream(request: HttpRequest, slug: str) -> ValueStream:
    """The value stream of a write page, or 404."""
    return get_object_or_404(
        ValueStream.objects.visible_to(request.user).select_related("owner"), slug=slug
    )


def value_stream_list(request: HttpRequest) -> HttpResponse:
    """Value streams, searchable and filterable; an htmx request gets only the results."""
    filterset = ValueStreamFilter(
        request.GET,
        queryset=selectors.value_stream_list(user=request.user, include_archived=True),
    )
    prepare_filter_form(filterset.form)
    ordering = request.GET.get("ordering", "")
    value_streams = filterset.qs.order_by(*_ordering(ordering))
    page_obj = Paginator(value_streams, PAGE_SIZE).get_page(request.GET.get("page"))
    filtered = any(request.GET.get(k) for k in ("q", "kind", "product")) or (
        request.GET.get("archived") in {"true", "all"}
    )
    context = {
        "filter": filterset,
        "page_obj": page_obj,
        "value_streams": page_obj.object_list,
        "ordering": ordering,
        "filtered": filtered,
        "breadcrumbs": [("Value streams", None)],
    }
    return render_page(
        request, "valuestreams/value_stream_list.html", context, partial="list-results"
    )


def value_stream_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """A value stream: what it delivers to whom, and the products (with teams and owners) it serves."""
    value_stream = get_object_or_404(
        selectors.value_stream_detail_queryset(user=request.user), slug=slug
    )
    context = {
        "value_stream": value_stream,
        "products": value_stream.products.all(),
        "breadcrumbs": _crumbs((value_stream.name, None)),
    }
    return render(request, "valuestreams/value_stream_detail.html", context)


def _save(
    request: HttpRequest, form: ValueStreamForm, value_stream: ValueStream | None
) -> ValueStream | None:
    """Validate the form and write through the service; errors end up on the form."""
    if not form.is_valid():
        return None
    try:
        if value_stream is None:
            return services.value_stream_create(actor=_actor(request), **form.cleaned_data)
        return services.value_stream_update(
            actor=_actor(request), value_stream=value_stream, **form.cleaned_data
        )
    except ValidationError as error:
        form.add_error(None, error)
        return None


@permission_required(ADD, raise_exception=True)
@require_http_methods(["GET", "POST"])
def value_stream_create(request: HttpRequest) -> HttpResponse:
    """Register a value stream (portfolio managers)."""
    form = ValueStreamForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        created = _save(request, form, None)
        if created is not None:
            messages.success(request, f"Value stream “{created.name}” created.")
            return redirect(created)
    context = {
        "form": form,
        "title": "New value stream",
        "submit_label": "Create value stream",
        "cancel_url": reverse("valuestreams:value_stream_list"),
        "breadcrumbs": _crumbs(("New value stream", None)),
    }
    return render(request, "valuestreams/value_stream_form.html", context)


@permission_required(CHANGE, raise_exception=True)
@require_http_methods(["GET", "POST"])
def value_stream_edit(request: HttpRequest, slug: str) -> HttpResponse:
    """Change a value stream's fields, owner or products (portfolio managers)."""
    value_stream = _value_stream(request, slug)
    # The form works on a copy: a ModelForm writes the posted values onto its instance while
    # validating, and the service must compare them with the row as it is.
    form = ValueStreamForm(
        request.POST if request.method == "POST" else None, instance=copy.copy(value_stream)
    )
    if request.method == "POST":
        updated = _save(request, form, value_stream)
        if updated is not None:
            messages.success(request, f"Value stream “{updated.name}” saved.")
            return redirect(updated)
    context = {
        "form": form,
        "value_stream": value_stream,
        "title": f"Edit {value_stream.name}",
        "submit_label": "Save changes",
        "cancel_url": value_stream.get_absolute_url(),
        "breadcrumbs": _crumbs(
            (value_stream.name, value_stream.get_absolute_url()), ("Edit", None)
        ),
    }
    return render(request, "valuestreams/value_stream_form.html", context)


@permission_required(CHANGE, raise_exception=True)
@require_http_methods(["GET", "POST"])
def value_stream_archive(request: HttpRequest, slug: str) -> HttpResponse:
    """Ask once, then archive: the stream leaves the default list; its products stay as they are."""
    value_stream = _value_stream(request, slug)
    if value_stream.is_archived:
        messages.info(request, f"“{value_stream.name}” is already archived.")
        return redirect(value_stream)
    if request.method == "POST":
        services.value_stream_archive(actor=_actor(request), value_stream=value_stream)
        messages.success(
            request, f"“{value_stream.name}” archived. Restore it from this page at any time."
        )
        return redirect(value_stream)
    context = {
        "value_stream": value_stream,
        "breadcrumbs": _crumbs(
            (value_stream.name, value_stream.get_absolute_url()), ("Archive", None)
        ),
    }
    return render(request, "valuestreams/value_stream_archive.html", context)


@permission_required(CHANGE, raise_exception=True)
@require_POST
def value_stream_restore(request: HttpRequest, slug: str) -> HttpResponse:
    """Bring an archived value stream back into the lists."""
    value_stream = _value_stream(request, slug)
    services.value_stream_restore(actor=_actor(request), value_stream=value_stream)
    messages.success(request, f"“{value_stream.name}” restored.")
    return redirect(value_stream)


def product_value_streams(request: HttpRequest, slug: str) -> HttpResponse:
    """The value streams a product serves: the panel the product page loads with htmx.

    Served here because the product page belongs to the app below (products must not import
    valuestreams); a plain request gets a small page of its own.
    """
    product = get_object_or_404(
        Product.objects.visible_to(request.user).only("id", "name", "slug"), slug=slug
    )
    value_streams = selectors.value_streams_for_product(user=request.user, product_id=product.id)
    context = {
        "product": product,
        "value_streams": value_streams,
        "breadcrumbs": [
            ("Products", reverse("products:product_list")),
            (product.name, product.get_absolute_url()),
            ("Value streams", None),
        ],
    }
    return render_page(
        request, "valuestreams/product_value_streams.html", context, partial="product-value-streams"
    )
