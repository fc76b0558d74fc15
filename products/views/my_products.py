"""My products: a product owner's home, the products they own and how their key results stand."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from products import selectors


@require_GET
def my_products(request: HttpRequest) -> HttpResponse:
    """The signed-in user's products with their key results by status, the stale ones and the
    roadmap items that name no key result, in one query however many products they own."""
    return render(
        request,
        "products/my_products.html",
        {"products": list(selectors.my_products(user=request.user))},
    )
