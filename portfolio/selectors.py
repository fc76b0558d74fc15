"""Portfolio-level reads across the apps below."""

from decimal import Decimal
from typing import TypedDict

from products import selectors as product_selectors
from valuestreams import selectors as value_stream_selectors


class RegistryFigures(TypedDict):
    value_streams: int
    products: int
    teams: int
    people: int
    fte: Decimal
    products_without_owner: int


def registry_figures() -> RegistryFigures:
    """Headline counts of the registry for the overview page (one aggregate query per figure group)."""
    products = product_selectors.registry_counts()
    return {
        "value_streams": value_stream_selectors.value_stream_count(),
        "products": products["products"],
        "teams": products["teams"],
        "people": products["people"],
        "fte": products["fte"],
        "products_without_owner": products["products_without_owner"],
    }
