"""The roadmap board on the product page: now, next, later and done, written in place.

Reordering and moving between horizons are small forms (one per button) posting a horizon and a
place to one move endpoint; htmx swaps the board back in and puts the focus on the moved item (the
same button when the item still has it, else the item itself, through ``autofocus``). Adding,
editing and deleting follow the hypotheses' pattern: htmx gets the board or one item's card back
(status 200 with the errors beside the fields), a plain request the full product page with the form
open or, after a write, a redirect. Writes are refused (403) to anyone who may not change the
product's outcomes; the services check that again.
"""

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST

from portfolio.common.views import GET_POST, save_form
from products import selectors, services
from products.forms.roadmap import RoadmapItemForm, RoadmapMoveForm
from products.models import Product, RoadmapItem
from products.permissions import access_product
from products.views._sections import editable_product, editor, wants_fragment
from products.views.products import product_page_context

PAGE = "products/product_detail.html"
HISTORY = "products/_history.html#history"
BOARD = "products/_roadmap.html"
CARD = "products/_roadmap.html#roadmap-item"


def _get_item(request: HttpRequest, product: Product, pk: int) -> RoadmapItem:
    item = get_object_or_404(
        selectors.roadmap_item_list(user=request.user).filter(product=product), pk=pk
    )
    # The product as fetched, owners prefetched: the service's ownership check reads them.
    item.product = product
    return item


def _item_url(product: Product, pk: int) -> str:
    return f"{product.get_absolute_url()}#roadmap-item-{pk}"


def _focus_button(wanted: str, horizon: str, first: bool, last: bool) -> str:
    """The button of a moved item that gets the focus back: the one pressed if the item still has
    it in its new place, else "" (the item itself). Anything else that was posted is ignored."""
    still_there = {
        "up": not first,
        "down": not last,
        **{f"to-{h}": h != horizon for h in RoadmapItem.Horizon.values},
    }
    return wanted if still_there.get(wanted) else ""


def _render(
    request: HttpRequest,
    product: Product,
    *,
    card: int | None = None,
    opened: dict[str, Any] | None = None,
    history_oob: bool = False,
    **context: Any,
) -> HttpResponse:
    """The product page, or for htmx the board, or with ``card`` that item's card.

    ``opened`` (attribute -> value) is set on the card's item: ``edit_form`` or ``confirm_delete``.
    The card is drawn with its place on the board, so its move buttons stay right.
    """
    page = product_page_context(request, product)
    page.update(context)
    found = None
    for horizon, column in page["roadmap"].items():
        for index, item in enumerate(column):
            first, last = index == 0, index == len(column) - 1
            if item.pk == card:
                found = item
                page.update(item=item, index=index, first=first, last=last)
            if item.pk == context.get("moved"):
                page["moved_button"] = _focus_button(
                    context.get("moved_focus", ""), horizon, first, last
                )
    if found is not None:
        for name, value in (opened or {}).items():
            setattr(found, name, value)
    if not wants_fragment(request):
        template = PAGE
    elif found is not None:
        template = CARD
    else:
        template = BOARD
    response = render(request, template, page)
    if history_oob and template != PAGE:
        # After a write the history panel changes too: swapped out of band in the same response.
        page["oob"] = True
        response.content += render_to_string(HISTORY, page, request=request).encode()
    patch_vary_headers(response, ("HX-Request",))
    return response


def _saved(
    request: HttpRequest,
    product: Product,
    notice: str,
    *,
    card: int | None = None,
    anchor: int | None = None,
    **context: Any,
) -> HttpResponse:
    """After a write: htmx gets the board (or the item's card) with the notice; a plain POST a
    redirect to the board (or to the item ``anchor``)."""
    if wants_fragment(request):
        if card is not None:
            return _render(
                request, product, card=card, history_oob=True, roadmap_card_notice=notice, **context
            )
        return _render(request, product, history_oob=True, roadmap_notice=notice, **context)
    messages.success(request, notice)
    target = anchor or card
    if target is None:
        return redirect(f"{product.get_absolute_url()}#roadmap")
    return redirect(_item_url(product, target))


@require_GET
def roadmap_board(request: HttpRequest, slug: str) -> HttpResponse:
    """The board as it is (htmx: closes an open add form); anyone who may read it."""
    product = access_product(user=request.user, slug=slug)
    if not wants_fragment(request):
        return redirect(f"{product.get_absolute_url()}#roadmap")
    return _render(request, product)


@require_GET
def roadmap_item_detail(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """One item's card as it is (htmx: closes its edit form); anyone who may read it."""
    product = access_product(user=request.user, slug=slug)
    item = get_object_or_404(
        selectors.roadmap_item_list(user=request.user).filter(product=product), pk=pk
    )
    if not wants_fragment(request):
        return redirect(_item_url(product, item.pk))
    return _render(request, product, card=item.pk)


@GET_POST
def roadmap_item_create(request: HttpRequest, slug: str) -> HttpResponse:
    """Add an item at the end of a horizon. GET opens the form above the board (``?horizon=``
    preselects one)."""
    product = editable_product(request, slug)
    initial = {}
    if request.GET.get("horizon") in RoadmapItem.Horizon.values:
        initial["horizon"] = request.GET["horizon"]
    form = RoadmapItemForm(request.POST or None, product=product, initial=initial)
    if request.method == "POST":
        saved = save_form(
            form,
            lambda data: services.roadmap_item_create(
                actor=editor(request), product=product, **data
            ),
        )
        if saved is not None:
            notice = f"“{saved.title}” added to {saved.get_horizon_display()}."
            return _saved(request, product, notice, anchor=saved.pk)
    return _render(request, product, roadmap_add_form=form)


@GET_POST
def roadmap_item_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Change an item's title, description or key results. GET opens its card for editing."""
    product = editable_product(request, slug)
    item = _get_item(request, product, pk)
    form = RoadmapItemForm(request.POST or None, instance=item, product=product)
    if request.method == "POST":
        saved = save_form(
            form,
            lambda data: services.roadmap_item_update(actor=editor(request), item=item, **data),
        )
        if saved is not None:
            return _saved(request, product, f"“{saved.title}” saved.", card=pk)
    return _render(request, product, card=pk, opened={"edit_form": form})


@require_POST
def roadmap_item_move(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Move an item to a place in a horizon (its own or another; no place puts it last).

    htmx gets the board back with the focus on the moved item; a plain POST a redirect to it.
    """
    product = editable_product(request, slug)
    item = _get_item(request, product, pk)
    form = RoadmapMoveForm(request.POST)
    moved = save_form(
        form,
        lambda data: services.roadmap_item_move(
            actor=editor(request), item=item, horizon=data["horizon"], position=data["position"]
        ),
    )
    if moved is None:
        errors = "; ".join(str(e) for errors in form.errors.values() for e in errors)
        if wants_fragment(request):
            return _render(request, product, roadmap_error=f"Not moved: {errors}")
        messages.error(request, f"“{item.title}” was not moved: {errors}")
        return redirect(_item_url(product, item.pk))
    notice = (
        f"“{moved.title}” moved to place {moved.position + 1} in {moved.get_horizon_display()}."
    )
    return _saved(
        request,
        product,
        notice,
        anchor=moved.pk,
        moved=moved.pk,
        # The button pressed ("up", "down", "to-<horizon>"; none when dragged) keeps the focus.
        moved_focus=request.POST.get("focus", ""),
    )


@GET_POST
def roadmap_item_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Delete an item; the items after it close the gap. GET asks first (the page without
    JavaScript; htmx asks in the browser)."""
    product = editable_product(request, slug)
    item = _get_item(request, product, pk)
    if request.method == "POST":
        title = item.title
        services.roadmap_item_delete(actor=editor(request), item=item)
        return _saved(request, product, f"“{title}” deleted from the roadmap.")
    return _render(request, product, card=pk, opened={"confirm_delete": True})
