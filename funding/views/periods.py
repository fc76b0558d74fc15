"""Funding pages. Capacity-based budgets arrive with the funding issue; for now the capacity they stand on."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from products import selectors as product_selectors


def funding_index(request: HttpRequest) -> HttpResponse:
    """Durable teams and their capacity in FTE today: what capacity-based funding will price."""
    teams = product_selectors.team_list(user=request.user).order_by("name")
    return render(request, "funding/index.html", {"teams": teams})


urlpatterns = [path("", funding_index, name="index")]
