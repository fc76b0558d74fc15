"""Hypotheses on the product page, written in place.

An htmx request gets back the fragment that changed: the hypotheses section (after adding or
deleting) or one hypothesis card (opened for editing or a status change, or saved), with status 200
also when a form has errors, so htmx swaps them in beside the fields. A plain request gets the full
product page with the form open (and its errors), or after a write a redirect to the product page.
Every write is refused (403) to anyone who may not change the product's outcomes; the services
check that again.
"""

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from portfolio.common.views import GET_POST, save_form
from products import selectors, services
from products.forms.roadmap import HypothesisForm, HypothesisStatusForm
from products.models import Hypothesis, Product
from products.permissions import access_product
from products.views._sections import editable_product, editor, wants_fragment
from products.views.products import product_page_context

PAGE = "products/product_detail.html"
HISTORY = "products/_history.html#history"
SECTION = "products/_hypotheses.html"
CARD = "products/_hypotheses.html#hypothesis-card"


def _get_hypothesis(request: HttpRequest, product: Product, pk: int) -> Hypothesis:
    hypothesis = get_object_or_404(
        selectors.hypothesis_list(user=request.user).filter(product=product), pk=pk
    )
    # The product as fetched, owners prefetched: the service's ownership check reads them.
    hypothesis.product = product
    return hypothesis


def _card_url(product: Product, pk: int) -> str:
    return f"{product.get_absolute_url()}#hypothesis-{pk}"


def _render(
    request: HttpRequest,
    product: Product,
    *,
    card: int | None = None,
    opened: dict[str, Any] | None = None,
    history_oob: bool = False,
    **context: Any,
) -> HttpResponse:
    """The product page, or for htmx the section, or with ``card`` that hypothesis's card.

    ``opened`` (attribute -> value) is set on the card's hypothesis: the form it shows instead of
    its text (``edit_form``, ``status_form``) or ``confirm_delete``.
    """
    page = product_page_context(request, product)
    page.update(context)
    hypothesis = next((h for h in page["hypotheses"] if h.pk == card), None)
    if hypothesis is not None:
        for name, value in (opened or {}).items():
            setattr(hypothesis, name, value)
        page["hypothesis"] = hypothesis
    if not wants_fragment(request):
        template = PAGE
    elif hypothesis is not None:
        template = CARD
    else:
        template = SECTION
    response = render(request, template, page)
    if history_oob and template != PAGE:
        # After a write the history panel changes too: swapped out of band in the same response.
        page["oob"] = True
        response.content += render_to_string(HISTORY, page, request=request).encode()
    patch_vary_headers(response, ("HX-Request",))
    return response


def _saved(
    request: HttpRequest, product: Product, notice: str, *, card: int | None = None
) -> HttpResponse:
    """After a write: htmx gets the changed fragment with the notice; a plain POST a redirect."""
    if wants_fragment(request):
        if card is None:
            return _render(request, product, history_oob=True, hypothesis_notice=notice)
        return _render(request, product, card=card, history_oob=True, hypothesis_card_notice=notice)
    messages.success(request, notice)
    if card is None:
        return redirect(f"{product.get_absolute_url()}#hypotheses")
    return redirect(_card_url(product, card))


@require_GET
def hypothesis_list(request: HttpRequest, slug: str) -> HttpResponse:
    """The hypotheses section as it is (htmx: closes an open add form); anyone who may read it."""
    product = access_product(user=request.user, slug=slug)
    if not wants_fragment(request):
        return redirect(f"{product.get_absolute_url()}#hypotheses")
    return _render(request, product)


@require_GET
def hypothesis_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """One hypothesis card as it is (htmx: closes an open form); anyone who may read it."""
    product = access_product(user=request.user, slug=slug)
    hypothesis = get_object_or_404(
        selectors.hypothesis_list(user=request.user).filter(product=product), pk=pk
    )
    if not wants_fragment(request):
        return redirect(_card_url(product, hypothesis.pk))
    return _render(request, product, card=hypothesis.pk)


@GET_POST
def hypothesis_create(request: HttpRequest, slug: str) -> HttpResponse:
    """State a hypothesis. GET opens the form at the top of the section."""
    product = editable_product(request, slug)
    form = HypothesisForm(request.POST or None, product=product)
    if request.method == "POST":
        saved = save_form(
            form,
            lambda data: services.hypothesis_create(actor=editor(request), product=product, **data),
        )
        if saved is not None:
            return _saved(request, product, "Hypothesis added.")
    return _render(request, product, hypothesis_add_form=form)


@GET_POST
def hypothesis_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Reword a hypothesis, its key result, the move expected or the evidence. GET opens its card."""
    product = editable_product(request, slug)
    hypothesis = _get_hypothesis(request, product, pk)
    form = HypothesisForm(request.POST or None, instance=hypothesis, product=product)
    if request.method == "POST":
        saved = save_form(
            form,
            lambda data: services.hypothesis_update(
                actor=editor(request), hypothesis=hypothesis, **data
            ),
        )
        if saved is not None:
            return _saved(request, product, "Hypothesis saved.", card=pk)
    return _render(request, product, card=pk, opened={"edit_form": form})


@GET_POST
def hypothesis_status(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Move a hypothesis to another status with an evidence note; the service dates the change."""
    product = editable_product(request, slug)
    hypothesis = _get_hypothesis(request, product, pk)
    form = HypothesisStatusForm(request.POST or None, hypothesis=hypothesis)
    if request.method == "POST":
        saved = save_form(
            form,
            lambda data: services.hypothesis_update(
                actor=editor(request),
                hypothesis=hypothesis,
                status=data["status"],
                status_note=data["note"].strip(),
            ),
        )
        if saved is not None:
            notice = f"Status changed to {saved.get_status_display().lower()}."
            return _saved(request, product, notice, card=pk)
    return _render(request, product, card=pk, opened={"status_form": form})


@GET_POST
def hypothesis_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Delete a hypothesis. GET asks first (the page without JavaScript; htmx asks in the browser)."""
    product = editable_product(request, slug)
    hypothesis = _get_hypothesis(request, product, pk)
    if request.method == "POST":
        services.hypothesis_delete(actor=editor(request), hypothesis=hypothesis)
        return _saved(request, product, "Hypothesis deleted.")
    return _render(request, product, card=pk, opened={"confirm_delete": True})
