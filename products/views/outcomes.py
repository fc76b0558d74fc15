"""A product's outcomes, key results and measurements, changed in place on the product page.

Only the product's owners and portfolio managers may change them (products.permissions): every
view here answers 403 to anyone else, on GET and POST, with htmx or without. An htmx request gets
the fragment it changed (a key result, an outcome card or the whole section) and, after a write,
the section's status counts, a notice and the history panel out of band; an invalid form comes
back in its fragment with the errors beside the fields (status 200, which htmx 2 swaps). Without
JavaScript the same forms post normally: a write redirects to the product page, an invalid form
gets the whole page with the form open and its errors.
"""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from portfolio.common.htmx import render_page
from portfolio.common.views import GET_POST, save_form
from products import selectors, services
from products.charts import with_unit
from products.models import KeyResult, Outcome, Product
from products.permissions import access_product
from products.views._outcomes import (
    key_result_add_form,
    key_result_edit_form,
    measurement_form,
    outcome_add_form,
    outcome_edit_form,
)
from products.views._sections import editor, wants_fragment
from products.views.products import PRODUCTS, product_page_context

Context = dict[str, Any]
Opener = Callable[[Context], None]


# The rows, fetched for the user: 404 when unknown, 403 when the user may not change them.


def _outcome(request: HttpRequest, pk: int, *, action: str = "edit_outcomes") -> Outcome:
    outcomes = selectors.outcome_list(user=request.user).filter(archived_at__isnull=True)
    outcome = get_object_or_404(outcomes, pk=pk)
    outcome.product = access_product(user=request.user, slug=outcome.product.slug, action=action)
    return outcome


def _key_result(request: HttpRequest, pk: int, *, action: str = "edit_outcomes") -> KeyResult:
    key_results = selectors.key_result_list(user=request.user).filter(
        outcome__archived_at__isnull=True
    )
    key_result = get_object_or_404(key_results, pk=pk)
    product = access_product(user=request.user, slug=key_result.product.slug, action=action)
    key_result.product = product
    key_result.outcome.product = product
    return key_result


# Finding a row of the page's context again, to open its form or render its fragment.


def _find_outcome(context: Context, pk: int) -> Outcome | None:
    return next((o for o in context["outcomes"] if o.pk == pk), None)


def _find_key_result(context: Context, pk: int) -> KeyResult | None:
    return next((kr for kr in context["key_results"] if kr.pk == pk), None)


def _open_key_result(pk: int, **state: Any) -> Opener:
    def open_it(context: Context) -> None:
        key_result = _find_key_result(context, pk)
        if key_result is not None:
            for name, value in state.items():
                setattr(key_result, name, value)

    return open_it


def _open_outcome(pk: int, **state: Any) -> Opener:
    def open_it(context: Context) -> None:
        outcome = _find_outcome(context, pk)
        if outcome is not None:
            for name, value in state.items():
                setattr(outcome, name, value)

    return open_it


# Answers.


def _page(
    request: HttpRequest,
    product: Product,
    *,
    fragment: str,
    opened: Opener | None = None,
    key_result_pk: int | None = None,
    outcome_pk: int | None = None,
    notice: str = "",
    written: bool = False,
) -> HttpResponse:
    """The product page, or for htmx the ``fragment`` of its outcomes (``kr``, ``outcome-card``
    or ``outcomes``) for the row named; after a write (``written``) with the figures, the notice
    and the history out of band."""
    context = product_page_context(request, product)
    if opened is not None:
        opened(context)
    # The row was found a moment ago; gone now, another user removed it in between.
    if key_result_pk is not None:
        context["kr"] = _find_key_result(context, key_result_pk)
        if context["kr"] is None:
            raise Http404
        outcome_pk = context["kr"].outcome_id
    if outcome_pk is not None:
        context["outcome"] = _find_outcome(context, outcome_pk)
        if context["outcome"] is None:
            raise Http404
    context.update(
        fragment=f"products/_outcomes.html#{fragment}",
        fragment_name=fragment,
        notice=notice,
        oob_updates=written,
    )
    return render_page(
        request, "products/product_detail.html", context, partial="outcomes-response"
    )


def _written(
    request: HttpRequest,
    product: Product,
    notice: str,
    *,
    anchor: str,
    fragment: str,
    key_result_pk: int | None = None,
    outcome_pk: int | None = None,
) -> HttpResponse:
    """After a write: htmx gets the changed fragment and the updates elsewhere on the page; a
    plain form post is redirected to the product page, at the row it changed."""
    if not wants_fragment(request):
        messages.success(request, notice)
        return redirect(product.get_absolute_url() + anchor)
    return _page(
        request,
        product,
        fragment=fragment,
        key_result_pk=key_result_pk,
        outcome_pk=outcome_pk,
        notice=notice,
        written=True,
    )


def _back_to(product: Product, anchor: str) -> HttpResponse:
    """Without htmx, a fragment's URL leads to its place on the product page."""
    response = redirect(product.get_absolute_url() + anchor)
    patch_vary_headers(response, ("HX-Request",))
    return response


# Outcomes.


@GET_POST
def outcome_create(request: HttpRequest, slug: str) -> HttpResponse:
    """Add an outcome to a product. GET opens the form."""
    product = access_product(user=request.user, slug=slug, action="edit_outcomes")
    form = outcome_add_form(request.POST if request.method == "POST" else None)

    def opened(context: Context) -> None:
        context["new_outcome_form"] = form
        context["new_outcome_open"] = True

    if request.method == "POST":
        outcome = save_form(
            form,
            lambda data: services.outcome_create(actor=editor(request), product=product, **data),
        )
        if outcome is not None:
            return _written(
                request,
                product,
                f"Outcome “{outcome}” added.",
                anchor=f"#outcome-{outcome.pk}",
                fragment="outcomes",
            )
    return _page(request, product, fragment="outcomes", opened=opened)


@require_GET
def outcome_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An outcome's card (htmx: what "Cancel" restores); without htmx, its place on the page."""
    outcome = _outcome(request, pk, action="view")
    if not wants_fragment(request):
        return _back_to(outcome.product, f"#outcome-{outcome.pk}")
    return _page(request, outcome.product, fragment="outcome-card", outcome_pk=outcome.pk)


@GET_POST
def outcome_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Reword an outcome or change its period. GET opens its card for editing."""
    outcome = _outcome(request, pk)
    form = outcome_edit_form(outcome, request.POST if request.method == "POST" else None)
    if request.method == "POST":
        saved = save_form(
            form,
            lambda data: services.outcome_update(actor=editor(request), outcome=outcome, **data),
        )
        if saved is not None:
            return _written(
                request,
                outcome.product,
                "Outcome saved.",
                anchor=f"#outcome-{outcome.pk}",
                fragment="outcome-card",
                outcome_pk=outcome.pk,
            )
    return _page(
        request,
        outcome.product,
        fragment="outcome-card",
        outcome_pk=outcome.pk,
        opened=_open_outcome(outcome.pk, editing=True, edit_form=form),
    )


@GET_POST
def outcome_archive(request: HttpRequest, pk: int) -> HttpResponse:
    """Archive an outcome: GET says what will happen (the page without JavaScript asks here;
    with htmx the button asks in the browser), POST archives it."""
    outcome = _outcome(request, pk)
    product = outcome.product
    if request.method == "POST":
        services.outcome_archive(actor=editor(request), outcome=outcome)
        return _written(
            request,
            product,
            f"Outcome “{outcome}” archived.",
            anchor="#outcomes",
            fragment="outcomes",
        )
    key_results = outcome.key_results.count()
    return render(
        request,
        "products/archive_confirm.html",
        {
            "object": outcome,
            "kind": "outcome",
            "cancel_url": f"{product.get_absolute_url()}#outcome-{outcome.pk}",
            "breadcrumbs": PRODUCTS.crumbs(product, "Archive outcome"),
            "consequences": [
                f"It and its {key_results} key result{'s' if key_results != 1 else ''} leave "
                f"the page of {product.name}.",
                "Their measurements and the history of every change are kept.",
            ],
        },
    )


# Key results.


@require_GET
def key_result_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A key result's fragment (htmx: what "Cancel" restores); without htmx, its place on the page."""
    key_result = _key_result(request, pk, action="view")
    if not wants_fragment(request):
        return _back_to(key_result.product, f"#kr-{key_result.pk}")
    return _page(request, key_result.product, fragment="kr", key_result_pk=key_result.pk)


@GET_POST
def key_result_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a key result to an outcome (``pk``). GET opens the form on the outcome's card."""
    outcome = _outcome(request, pk)
    form = key_result_add_form(outcome, request.POST if request.method == "POST" else None)
    if request.method == "POST":
        key_result = save_form(
            form,
            lambda data: services.key_result_create(
                actor=editor(request), outcome=outcome, **form.service_data()
            ),
        )
        if key_result is not None:
            return _written(
                request,
                outcome.product,
                f"Key result “{key_result.name}” added.",
                anchor=f"#kr-{key_result.pk}",
                fragment="outcome-card",
                outcome_pk=outcome.pk,
            )
    return _page(
        request,
        outcome.product,
        fragment="outcome-card",
        outcome_pk=outcome.pk,
        opened=_open_outcome(outcome.pk, key_result_form=form, add_form_open=True),
    )


@GET_POST
def key_result_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a key result's definition; its progress and status follow. GET opens its form."""
    key_result = _key_result(request, pk)
    form = key_result_edit_form(key_result, request.POST if request.method == "POST" else None)
    if request.method == "POST":
        saved = save_form(
            form,
            lambda data: services.key_result_update(
                actor=editor(request), key_result=key_result, **data
            ),
        )
        if saved is not None:
            return _written(
                request,
                saved.product,
                f"Key result “{saved.name}” saved.",
                anchor=f"#kr-{saved.pk}",
                fragment="kr",
                key_result_pk=saved.pk,
            )
    return _page(
        request,
        key_result.product,
        fragment="kr",
        key_result_pk=key_result.pk,
        opened=_open_key_result(key_result.pk, editing=True, edit_form=form),
    )


@GET_POST
def key_result_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete a key result and its measurements: GET says what will happen (without JavaScript;
    with htmx the button asks in the browser), POST deletes."""
    key_result = _key_result(request, pk)
    product, outcome_pk = key_result.product, key_result.outcome_id
    if request.method == "POST":
        name = key_result.name
        services.key_result_delete(actor=editor(request), key_result=key_result)
        return _written(
            request,
            product,
            f"Key result “{name}” deleted.",
            anchor=f"#outcome-{outcome_pk}",
            fragment="outcome-card",
            outcome_pk=outcome_pk,
        )
    return render(
        request,
        "products/key_result_delete.html",
        {
            "key_result": key_result,
            "measurements": key_result.measurements.count(),
            "cancel_url": f"{product.get_absolute_url()}#kr-{key_result.pk}",
            "breadcrumbs": PRODUCTS.crumbs(product, "Delete key result"),
        },
    )


# Measurements.


@GET_POST
def measurement_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a measurement of a key result (``pk``); its figures and badge follow at once.
    GET opens the form."""
    key_result = _key_result(request, pk)
    form = measurement_form(key_result, request.POST if request.method == "POST" else None)
    if request.method == "POST":
        measurement = save_form(
            form,
            lambda data: services.measurement_record(
                actor=editor(request), key_result=key_result, **data
            ),
        )
        if measurement is not None:
            return _written(
                request,
                key_result.product,
                f"Recorded {with_unit(measurement.value, key_result.unit)} for "
                f"“{key_result.name}” on {measurement.date.day} {measurement.date:%b %Y}.",
                anchor=f"#kr-{key_result.pk}",
                fragment="kr",
                key_result_pk=key_result.pk,
            )
    return _page(
        request,
        key_result.product,
        fragment="kr",
        key_result_pk=key_result.pk,
        opened=_open_key_result(key_result.pk, measurement_form=form, measure_open=True),
    )
