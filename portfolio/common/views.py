"""What the HTML views of every app share.

The views stay thin: they fetch the row, build the form and name the service call. These helpers
do the rest the same way on every page: the 403 for a role that may not write, the acting user,
a service's refusal shown beside the fields, the filtered, sorted and paginated list, and the
create, edit, archive and restore flows (a message and a redirect after a write, the form again
with its errors after a refusal).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import F, Model, OrderBy
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from django_filters import FilterSet

from portfolio.common.htmx import render_page

T = TypeVar("T")
M = TypeVar("M", bound=Model)
Crumbs = list[tuple[str, str | None]]

GET_POST = require_http_methods(["GET", "POST"])
PAGE_SIZE = 25
LIST_PARTIAL = "list-results"


def needs(perm: str) -> Callable:
    """Signed-in users without ``perm`` (``app.codename``) get 403, never a sign-in loop."""
    return permission_required(perm, raise_exception=True)


def actor(request: HttpRequest) -> AbstractBaseUser:
    """The signed-in user who makes a change (the sign-in middleware lets no one else through)."""
    if not isinstance(request.user, AbstractBaseUser):
        raise PermissionDenied
    return request.user


# Writes through a form.


def show_service_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Put a service's ValidationError on the form: beside its field, else at the top.

    A uniqueness error gets a message that says what to do rather than Django's default.
    """
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        target = field if field in form.fields else None
        for item in errors:
            if item.code == "unique" and item.params:
                label = str(item.params.get("field_label", field)).lower()
                model = str(item.params.get("model_name", "row")).lower()
                item = ValidationError(
                    f"Another {model} already uses this {label}. Choose another.", code="unique"
                )
            form.add_error(target, item)


def save_form(form: forms.BaseForm, write: Callable[[dict[str, Any]], T]) -> T | None:
    """Run the service on a valid form; its refusals go onto the form. None when refused."""
    if not form.is_valid():
        return None
    try:
        return write(form.cleaned_data)
    except ValidationError as error:
        show_service_errors(form, error)
        return None


# Lists: filter, sort, page.


@dataclass(frozen=True)
class Sorts:
    """The sorts a list offers: ``?ordering=<key>`` ascending, ``-<key>`` descending.

    Each key names the columns it sorts by; a key the list does not offer sorts by ``default``.
    The ``ties`` columns (ascending) come last, so rows never swap places between pages.
    """

    columns: Mapping[str, tuple[str, ...]]
    default: str = "name"
    ties: tuple[str, ...] = ("name", "pk")
    nulls_last: bool = False

    def key(self, ordering: str) -> str:
        """``ordering`` if the list offers it, else "" (the default sort)."""
        return ordering if ordering.removeprefix("-") in self.columns else ""

    def order_by(self, ordering: str) -> list[str | OrderBy]:
        key = self.key(ordering)
        descending = key.startswith("-")
        columns = self.columns[key.removeprefix("-") or self.default]
        order: list[str | OrderBy]
        if self.nulls_last:
            order = [
                F(c).desc(nulls_last=True) if descending else F(c).asc(nulls_last=True)
                for c in columns
            ]
        else:
            order = [f"-{c}" if descending else c for c in columns]
        return [*order, *(c for c in self.ties if c not in columns)]


def list_page(
    request: HttpRequest,
    template: str,
    filterset: FilterSet,
    *,
    sorts: Sorts,
    filter_form: forms.BaseForm,
    rows_name: str = "rows",
    decorate: Callable[[Any], None] | None = None,
    context: Mapping[str, Any] | None = None,
) -> HttpResponse:
    """A list page: the app's FilterSet (shared with the API) filters, ``sorts`` sorts, 25 a page.

    ``filter_form`` draws the filter bar; ``decorate`` adds what a row shows to each row of the
    page. An htmx request gets only the results (the template's ``list-results`` partial), unless
    htmx restores its history and needs the whole page.
    """
    ordering = sorts.key(request.GET.get("ordering", ""))
    rows = filterset.qs.order_by(*sorts.order_by(ordering))
    page_obj = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    page_obj.object_list = list(page_obj.object_list)
    if decorate is not None:
        for row in page_obj.object_list:
            decorate(row)
    # "Active" is the default view, not a filter for the empty state to blame.
    filtered = any(
        name != "archived" or value != "false"
        for name in filterset.filters
        if (value := request.GET.get(name))
    )
    htmx = getattr(request, "htmx", None)
    partial = None if htmx and htmx.history_restore_request else LIST_PARTIAL
    return render_page(
        request,
        template,
        {
            **(context or {}),
            "page_obj": page_obj,
            rows_name: page_obj.object_list,
            "filter_form": filter_form,
            "filtered": filtered,
            "ordering": ordering,
        },
        partial=partial,
    )


# The pages below a list: create, edit, archive, restore.


@dataclass(frozen=True)
class ObjectPages:
    """The pages of one kind of row below its list: create, edit, archive and restore.

    The views fetch the row, build the form and name the service call; this holds what every
    kind of row does alike: the titles and breadcrumbs, the templates, the message and the
    redirect after a write, the form again with its errors after a refusal.

    The form template gets ``form``, ``title``, ``submit``, ``cancel_url`` and ``breadcrumbs``;
    the archive template ``object``, ``kind`` (the noun), ``cancel_url`` and ``breadcrumbs``.
    """

    noun: str
    list_label: str
    list_url_name: str
    form_template: str
    confirm_template: str = ""
    # False for rows without a page of their own: a write returns to the list.
    detail_pages: bool = True

    @property
    def list_url(self) -> str:
        return reverse(self.list_url_name)

    def url(self, row: Model) -> str:
        """Where a row's pages return to: its own page, or the list."""
        return row.get_absolute_url() if self.detail_pages else self.list_url  # type: ignore[attr-defined]

    def crumbs(self, row: Model | None = None, *below: str) -> Crumbs:
        """The list, then the row (a link when a page below it is shown), then ``below``."""
        crumbs: Crumbs = [(self.list_label, self.list_url)]
        if row is not None:
            link = row.get_absolute_url() if below and self.detail_pages else None  # type: ignore[attr-defined]
            crumbs.append((str(row), link))
        crumbs.extend((label, None) for label in below)
        return crumbs

    def done(self, request: HttpRequest, row: Model, message: str) -> HttpResponse:
        """After a write: say what happened and go back to the row (or the list)."""
        messages.success(request, message)
        return redirect(self.url(row))

    def form(
        self,
        request: HttpRequest,
        form: forms.BaseForm,
        *,
        save: Callable[[dict[str, Any]], M],
        message: Callable[[M], str],
        row: Model | None = None,
        submit: str = "Save changes",
    ) -> HttpResponse:
        """The "New <noun>" page, or with ``row`` its "Edit <row>" page.

        ``save`` (the service call) gets the form's cleaned data; ``message`` says what it saved.
        """
        # Read from the row before the service writes to it: a refused write leaves the page
        # pointing at the row as it is stored.
        title = f"New {self.noun}" if row is None else f"Edit {row}"
        context = {
            "title": title,
            "submit": submit,
            "cancel_url": self.list_url if row is None else self.url(row),
            "breadcrumbs": self.crumbs(None, title) if row is None else self.crumbs(row, "Edit"),
        }
        if request.method == "POST":
            saved = save_form(form, save)
            if saved is not None:
                return self.done(request, saved, message(saved))
        return render(request, self.form_template, {"form": form, **context})

    def archive(
        self,
        request: HttpRequest,
        row: Model,
        *,
        act: Callable[[], Any],
        message: str,
        **context: Any,
    ) -> HttpResponse:
        """Ask once, then archive: GET says what will happen, POST runs ``act`` (the service)."""
        if request.method == "POST":
            act()
            return self.done(request, row, message)
        return render(
            request,
            self.confirm_template,
            {
                "object": row,
                "kind": self.noun,
                "cancel_url": self.url(row),
                "breadcrumbs": self.crumbs(row, "Archive"),
                **context,
            },
        )
