"""Product pages: the list, a product's page, and create, edit, archive and restore."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from portfolio.common.views import GET_POST, Sorts, actor, list_page, needs
from products import forms, selectors, services
from products.filters import ProductFilter
from products.models import Product
from products.permissions import can_edit_outcomes
from products.views._outcomes import (
    decorate_history,
    decorate_outcomes,
    outcome_add_form,
    outcome_summary,
)
from products.views._shared import plural, registry_pages

PRODUCTS = registry_pages("product", "Products", "products:product_list")
SORTS = Sorts(
    {
        "name": ("name",),
        "lifecycle_stage": ("lifecycle_stage",),
        "team_count": ("team_count",),
    }
)


def product_list(request: HttpRequest) -> HttpResponse:
    """Products: search, filter by stage, team, owner and archived; sort; 25 a page."""
    return list_page(
        request,
        "products/product_list.html",
        ProductFilter(
            request.GET,
            queryset=selectors.product_list(user=request.user, include_archived=True),
        ),
        sorts=SORTS,
        filter_form=forms.ProductFilterForm(request.GET or None),
    )


def _get_product(request: HttpRequest, slug: str) -> Product:
    return get_object_or_404(selectors.product_detail_queryset(user=request.user), slug=slug)


def product_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """A product: stage, description, owners, teams (its value streams load from their app), its
    outcomes and key results, hypotheses, roadmap and the history of their changes."""
    product = _get_product(request, slug)
    return render(request, "products/product_detail.html", product_page_context(request, product))


def product_page_context(request: HttpRequest, product: Product) -> dict[str, Any]:
    """Everything the product page shows; the outcome, hypothesis and roadmap fragments re-render
    from the same context after an in-place edit.

    Each key result carries its chart and stale flag; for a user who may edit the outcomes, the
    closed forms the page offers (record a measurement, add a key result, add an outcome).
    """
    user = request.user
    today = timezone.localdate()
    editable = can_edit_outcomes(user, product)
    outcomes = list(selectors.product_outcomes(user=user, product=product))
    key_results = decorate_outcomes(outcomes, can_edit=editable, today=today)
    history = selectors.product_history(user=user, product=product)
    decorate_history(history, key_results)
    return {
        "product": product,
        "breadcrumbs": PRODUCTS.crumbs(product),
        "today": today,
        "can_edit_outcomes": editable,
        "outcomes": outcomes,
        "key_results": key_results,
        "outcome_summary": outcome_summary(key_results),
        "new_outcome_form": outcome_add_form() if editable else None,
        "new_outcome_open": False,
        "notice": "",
        "hypotheses": list(selectors.product_hypotheses(user=user, product=product)),
        "roadmap": selectors.product_roadmap(user=user, product=product),
        "history": history,
    }


@needs("products.add_product")
@GET_POST
def product_create(request: HttpRequest) -> HttpResponse:
    return PRODUCTS.form(
        request,
        forms.ProductForm(request.POST or None),
        save=lambda data: services.product_create(actor=actor(request), **data),
        message=lambda product: f"Product “{product.name}” created.",
        submit="Create product",
    )


@needs("products.change_product")
@GET_POST
def product_edit(request: HttpRequest, slug: str) -> HttpResponse:
    product = _get_product(request, slug)
    return PRODUCTS.form(
        request,
        forms.ProductForm(request.POST or None, instance=product),
        row=product,
        save=lambda data: services.product_update(actor=actor(request), product=product, **data),
        message=lambda saved: f"Product “{saved.name}” saved.",
    )


@needs("products.change_product")
@GET_POST
def product_archive(request: HttpRequest, slug: str) -> HttpResponse:
    product = _get_product(request, slug)
    teams = len(product.teams.all())
    return PRODUCTS.archive(
        request,
        product,
        act=lambda: services.product_archive(actor=actor(request), product=product),
        message=f"Product “{product.name}” archived. You can restore it here.",
        consequences=[
            "It leaves the product list, the pickers and the value stream pages.",
            f"Its {plural(teams, 'team')} and its history stay; you can restore it later.",
        ],
    )


@needs("products.change_product")
@require_POST
def product_restore(request: HttpRequest, slug: str) -> HttpResponse:
    product = _get_product(request, slug)
    services.product_restore(actor=actor(request), product=product)
    return PRODUCTS.done(request, product, f"Product “{product.name}” restored.")
