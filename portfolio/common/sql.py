"""SQL helpers shared by the apps."""

from collections.abc import Iterable
from typing import Any


def array_literal(values: Iterable[Any], *, text: bool = False) -> str:
    """A PostgreSQL array literal (``{1,2}``, ``{"a","b \\"c\\""}``) of ints, instants or text.

    Sent as one string parameter and read by ``array_in``: psycopg2 would otherwise spell out an
    ``ARRAY[…]`` with a cast per element, which costs more to build and to parse than the insert
    itself at 10,000 rows. Text elements are always quoted, so ``NULL`` or braces stay text.
    """
    if text:
        quoted = ('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
        return "{" + ",".join(quoted) + "}"
    return (
        "{" + ",".join(v.isoformat() if hasattr(v, "isoformat") else str(v) for v in values) + "}"
    )
