"""htmx helpers: render a page or, for an htmx request, only the named partial."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers


def render_page(
    request: HttpRequest,
    template_name: str,
    context: dict,
    *,
    partial: str | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render ``template_name``; an htmx (not boosted) request gets only ``template#partial``."""
    htmx = getattr(request, "htmx", None)
    name = template_name
    if partial and htmx and not htmx.boosted:
        name = f"{template_name}#{partial}"
    response = render(request, name, context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response
