"""Value stream pages: list, detail, create, edit, archive and restore, and the product page's panel.

Thin views: they read through ``selectors`` and write through ``services``; the list, the form
pages and the archive flow are the ones every app's pages share (``portfolio.common.views``),
so a service's ValidationError shows beside the fields it names here as it does elsewhere.
"""

import copy

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from portfolio.common.htmx import render_page
from portfolio.common.views import GET_POST, ObjectPages, Sorts, actor, list_page, needs
from products.models import Product
from valuestreams import selectors, services
from valuestreams.filters import ValueStreamFilter
from valuestreams.forms import ValueStreamForm, prepare_filter_form
from valuestreams.models import ValueStream

VALUE_STREAMS = ObjectPages(
    noun="value stream",
    list_label="Value streams",
    list_url_name="valuestreams:value_stream_list",
    form_template="valuestreams/value_stream_form.html",
    confirm_template="valuestreams/value_stream_archive.html",
)

# Each sort names its columns with the name to break ties; empty values (no owner) sort last.
SORTS = Sorts(
    {
        "name": ("name",),
        "kind": ("kind", "name"),
        "customer": ("customer", "name"),
        "owner": ("owner__first_name", "owner__last_name", "owner__username", "name"),
        "products": ("product_count", "name"),
    },
    ties=("pk",),
    nulls_last=True,
)

ADD = "valuestreams.add_valuestream"
CHANGE = "valuestreams.change_valuestream"


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
    return list_page(
        request,
        "valuestreams/value_stream_list.html",
        filterset,
        sorts=SORTS,
        filter_form=prepare_filter_form(filterset.form),
        rows_name="value_streams",
        context={"breadcrumbs": [("Value streams", None)]},
    )


def value_stream_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """A value stream: what it delivers to whom, and the products (with teams and owners) it serves."""
    value_stream = get_object_or_404(
        selectors.value_stream_detail_queryset(user=request.user), slug=slug
    )
    context = {
        "value_stream": value_stream,
        "products": value_stream.products.all(),
        "breadcrumbs": VALUE_STREAMS.crumbs(value_stream),
    }
    return render(request, "valuestreams/value_stream_detail.html", context)


@needs(ADD)
@GET_POST
def value_stream_create(request: HttpRequest) -> HttpResponse:
    """Register a value stream (portfolio managers)."""
    return VALUE_STREAMS.form(
        request,
        ValueStreamForm(request.POST if request.method == "POST" else None),
        save=lambda data: services.value_stream_create(actor=actor(request), **data),
        message=lambda created: f"Value stream “{created.name}” created.",
        submit="Create value stream",
    )


@needs(CHANGE)
@GET_POST
def value_stream_edit(request: HttpRequest, slug: str) -> HttpResponse:
    """Change a value stream's fields, owner or products (portfolio managers)."""
    value_stream = _value_stream(request, slug)
    # The form works on a copy: a ModelForm writes the posted values onto its instance while
    # validating, and the service must compare them with the row as it is.
    form = ValueStreamForm(
        request.POST if request.method == "POST" else None, instance=copy.copy(value_stream)
    )
    return VALUE_STREAMS.form(
        request,
        form,
        row=value_stream,
        save=lambda data: services.value_stream_update(
            actor=actor(request), value_stream=value_stream, **data
        ),
        message=lambda updated: f"Value stream “{updated.name}” saved.",
    )


@needs(CHANGE)
@GET_POST
def value_stream_archive(request: HttpRequest, slug: str) -> HttpResponse:
    """Ask once, then archive: the stream leaves the default list; its products stay as they are."""
    value_stream = _value_stream(request, slug)
    if value_stream.is_archived:
        messages.info(request, f"“{value_stream.name}” is already archived.")
        return redirect(value_stream)
    return VALUE_STREAMS.archive(
        request,
        value_stream,
        act=lambda: services.value_stream_archive(actor=actor(request), value_stream=value_stream),
        message=f"“{value_stream.name}” archived. Restore it from this page at any time.",
    )


@needs(CHANGE)
@require_POST
def value_stream_restore(request: HttpRequest, slug: str) -> HttpResponse:
    """Bring an archived value stream back into the lists."""
    value_stream = _value_stream(request, slug)
    services.value_stream_restore(actor=actor(request), value_stream=value_stream)
    return VALUE_STREAMS.done(request, value_stream, f"“{value_stream.name}” restored.")


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
