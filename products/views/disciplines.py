"""Discipline pages: the list with how many people hold each, and create and edit.

Disciplines have no page of their own: their writes return to the list.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from portfolio.common.views import GET_POST, actor, needs
from products import forms, selectors, services
from products.views._shared import registry_pages

DISCIPLINES = registry_pages(
    "discipline", "Disciplines", "products:discipline_list", detail_pages=False
)


def discipline_list(request: HttpRequest) -> HttpResponse:
    """The organisation's disciplines and how many (active) people hold each."""
    return render(
        request,
        "products/discipline_list.html",
        {"disciplines": selectors.discipline_list().order_by("order", "name")},
    )


@needs("products.add_discipline")
@GET_POST
def discipline_create(request: HttpRequest) -> HttpResponse:
    return DISCIPLINES.form(
        request,
        forms.DisciplineForm(request.POST or None),
        save=lambda data: services.discipline_create(actor=actor(request), **data),
        message=lambda discipline: f"Discipline “{discipline.name}” added.",
        submit="Add discipline",
    )


@needs("products.change_discipline")
@GET_POST
def discipline_edit(request: HttpRequest, pk: int) -> HttpResponse:
    discipline = get_object_or_404(selectors.discipline_list(), pk=pk)
    return DISCIPLINES.form(
        request,
        forms.DisciplineForm(request.POST or None, instance=discipline),
        row=discipline,
        save=lambda data: services.discipline_update(
            actor=actor(request), discipline=discipline, **data
        ),
        message=lambda saved: f"Discipline “{saved.name}” saved.",
    )
