"""Pages of work-item ingestion and the mappings: the tracker-export import and the status and
type mapping pages (the default's and each value stream's).

The mapping page is one view: GET shows the mappings and what no mapping covers; a POST (from a
portfolio manager) adds, changes or deletes one mapping and answers with the page's ``mappings``
partial for htmx (the edited tables and the unmapped lists together), or a redirect without htmx.
A refused change shows its reason beside the form it came from.
"""

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from portfolio.common.htmx import render_page
from portfolio.common.views import GET_POST, actor, needs
from products.models import Product
from valuestreams import mappings
from valuestreams.ingest import work_items_import_csv
from valuestreams.models import StatusMapping, TypeMapping, ValueStream
from valuestreams.models.flow import FlowCategory, ItemType

IMPORT_MAX_BYTES = 20 * 1024 * 1024
ADD_WORK_ITEMS = "valuestreams.add_workitem"
WRITE_STATUS = "valuestreams.change_statusmapping"
WRITE_TYPE = "valuestreams.change_typemapping"


class WorkItemImportForm(forms.Form):
    """A tracker export: the product it belongs to and its two CSV files."""

    product = forms.ModelChoiceField(
        queryset=Product.objects.active().order_by("name"),
        to_field_name="slug",
        help_text="Every item of the files belongs to this product.",
    )
    source = forms.SlugField(
        max_length=60,
        initial="csv",
        help_text="The tracker's short name (jira, gitlab …): keys are unique per source.",
    )
    items = forms.FileField(
        label="Items (items.csv)",
        help_text="Columns key, tracker_type, title, created_at.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    changes = forms.FileField(
        label="Status changes (status_changes.csv)",
        help_text="Columns key, from_status, to_status, at.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def _small(self, name: str) -> Any:
        upload = self.cleaned_data[name]
        if upload.size > IMPORT_MAX_BYTES:
            raise ValidationError("The file is larger than 20 MB; split it.")
        return upload

    def clean_items(self) -> Any:
        return self._small("items")

    def clean_changes(self) -> Any:
        return self._small("changes")


@needs(ADD_WORK_ITEMS)
@GET_POST
def work_item_import(request: HttpRequest) -> HttpResponse:
    """Import a tracker export into one product (portfolio managers): counts, or every bad line
    (nothing written), then the statuses and types no mapping covers, with where to map them."""
    posted = request.method == "POST"
    form = WorkItemImportForm(request.POST if posted else None, request.FILES if posted else None)
    result = None
    mapping_url = None
    if posted and form.is_valid():
        product = form.cleaned_data["product"]
        result = work_items_import_csv(
            actor=actor(request),
            product=product,
            items_file=form.cleaned_data["items"],
            changes_file=form.cleaned_data["changes"],
            source=form.cleaned_data["source"],
        )
        value_stream_id = mappings.mapping_value_streams([product.pk]).get(product.pk)
        mapping_url = mappings.mapping_page_url(value_stream_id)
    return render(
        request,
        "valuestreams/ingest_import.html",
        {
            "form": form,
            "result": result,
            "counts": result.written.as_dict() if result and result.written else None,
            "mapping_url": mapping_url,
            "breadcrumbs": [
                ("Value streams", reverse("valuestreams:value_stream_list")),
                ("Import work items", None),
            ],
        },
    )


def _apply(request: HttpRequest, value_stream: ValueStream | None) -> tuple[str, str]:
    """Run the mapping change a POST asks for; (message, form key) or ValidationError."""
    kind = request.POST.get("kind")
    op = request.POST.get("op")
    who = actor(request)
    if kind == "status":
        if not request.user.has_perm(WRITE_STATUS):
            raise PermissionDenied
        name = request.POST.get("status_name", "")
        category = request.POST.get("category", "")
        if op == "add":
            row = mappings.status_mapping_create(
                actor=who, value_stream=value_stream, status_name=name, category=category
            )
            return f"“{row.status_name}” is now {row.get_category_display().lower()}.", ""
        mapping = get_object_or_404(
            StatusMapping, pk=request.POST.get("pk") or 0, value_stream=value_stream
        )
        if op == "edit":
            mappings.status_mapping_update(
                actor=who, mapping=mapping, status_name=name, category=category
            )
            return f"“{mapping.status_name}” saved.", ""
        if op == "delete":
            mappings.status_mapping_delete(actor=who, mapping=mapping)
            return f"“{mapping.status_name}” removed from the mapping.", ""
    elif kind == "type":
        if not request.user.has_perm(WRITE_TYPE):
            raise PermissionDenied
        name = request.POST.get("tracker_type", "")
        item_type = request.POST.get("type", "")
        if op == "add":
            trow = mappings.type_mapping_create(
                actor=who, value_stream=value_stream, tracker_type=name, type=item_type
            )
            return f"“{trow.tracker_type}” now counts as {trow.get_type_display().lower()}.", ""
        tmapping = get_object_or_404(
            TypeMapping, pk=request.POST.get("pk") or 0, value_stream=value_stream
        )
        if op == "edit":
            mappings.type_mapping_update(
                actor=who, mapping=tmapping, tracker_type=name, type=item_type
            )
            return f"“{tmapping.tracker_type}” saved.", ""
        if op == "delete":
            mappings.type_mapping_delete(actor=who, mapping=tmapping)
            return f"“{tmapping.tracker_type}” removed from the mapping.", ""
    raise ValidationError("Unknown change.")


def _mapping_page(request: HttpRequest, value_stream: ValueStream | None) -> HttpResponse:
    page_url = (
        reverse("valuestreams:mappings", kwargs={"slug": value_stream.slug})
        if value_stream
        else reverse("valuestreams:mappings_default")
    )
    error: dict[str, Any] = {}
    saved = ""
    if request.method == "POST":
        if not (request.user.has_perm(WRITE_STATUS) or request.user.has_perm(WRITE_TYPE)):
            raise PermissionDenied
        try:
            saved, _ = _apply(request, value_stream)
        except ValidationError as refused:
            pk = request.POST.get("pk", "")
            error = {
                # Which form the refusal belongs to, so it shows beside that form.
                "kind": request.POST.get("kind", ""),
                "op": request.POST.get("op", ""),
                "pk": int(pk) if pk.isdigit() else None,
                "origin": request.POST.get("origin", ""),
                "messages": refused.messages,
                "values": request.POST,
            }
        else:
            if not request.htmx:  # type: ignore[attr-defined]
                messages.success(request, saved)
                return redirect(page_url)
    vs_id = value_stream.pk if value_stream else None
    context = {
        "value_stream": value_stream,
        "page_url": page_url,
        "status_mappings": list(
            mappings.status_mapping_list(value_stream_id=vs_id, default=vs_id is None)
        ),
        "type_mappings": list(
            mappings.type_mapping_list(value_stream_id=vs_id, default=vs_id is None)
        ),
        "default_statuses": list(mappings.status_mapping_list(default=True))
        if value_stream
        else [],
        "default_types": list(mappings.type_mapping_list(default=True)) if value_stream else [],
        "unmapped_statuses": mappings.unmapped_statuses(value_stream=value_stream),
        "unmapped_types": mappings.unmapped_types(value_stream=value_stream),
        "categories": FlowCategory.choices,
        "item_types": ItemType.choices,
        "error": error,
        "saved": saved,
        "breadcrumbs": (
            [
                ("Value streams", reverse("valuestreams:value_stream_list")),
                (value_stream.name, value_stream.get_absolute_url()),
                ("Mappings", None),
            ]
            if value_stream
            else [
                ("Value streams", reverse("valuestreams:value_stream_list")),
                ("Default mappings", None),
            ]
        ),
    }
    htmx = getattr(request, "htmx", None)
    partial = None if htmx and htmx.history_restore_request else "mappings"
    return render_page(request, "valuestreams/mapping_page.html", context, partial=partial)


@GET_POST
def mappings_default(request: HttpRequest) -> HttpResponse:
    """The organisation's default status and type mappings, and what no mapping covers among
    all items; portfolio managers edit them in place."""
    return _mapping_page(request, None)


@GET_POST
def mappings_for_value_stream(request: HttpRequest, slug: str) -> HttpResponse:
    """A value stream's own status and type mappings (overriding the default for its products'
    items), and what no mapping covers among its items; portfolio managers edit them in place."""
    value_stream = get_object_or_404(
        ValueStream.objects.visible_to(request.user).only("id", "name", "slug"), slug=slug
    )
    return _mapping_page(request, value_stream)
