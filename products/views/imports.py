"""The measurements import page: upload a CSV, see every bad row with its line and reason (and
that nothing was written), or how many measurements were written."""

import csv
import io

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from portfolio.common.views import GET_POST, actor, needs
from products import forms, selectors
from products.imports import COLUMNS, measurements_import

EXAMPLE_ROWS = 3


@needs("products.add_measurement")
@GET_POST
def measurement_import(request: HttpRequest) -> HttpResponse:
    """Product owners and portfolio managers import measurements; whether the user may change
    each row's product is checked per row by the import."""
    posted = request.method == "POST"
    form = forms.MeasurementImportForm(
        request.POST if posted else None, request.FILES if posted else None
    )
    result = None
    if posted and form.is_valid():
        user = actor(request)
        if not isinstance(user, User):
            raise PermissionDenied
        result = measurements_import(actor=user, file=form.cleaned_data["file"])
        if result.ok:
            form = forms.MeasurementImportForm()
    return render(
        request,
        "products/measurement_import.html",
        {
            "form": form,
            "result": result,
            "columns": COLUMNS,
            "breadcrumbs": [
                ("My products", reverse("products:my_products")),
                ("Import measurements", None),
            ],
        },
    )


@needs("products.add_measurement")
@require_GET
def measurement_import_example(request: HttpRequest) -> HttpResponse:
    """An example file: the columns, and rows naming key results of the user's own products
    (any product's for a portfolio manager) so it can be edited and imported as it is."""
    key_results = (
        selectors.key_result_list(user=request.user)
        .filter(outcome__archived_at__isnull=True, product__archived_at__isnull=True)
        .order_by("product__name", "id")
    )
    if not request.user.has_perm("products.edit_any_outcomes"):
        key_results = key_results.filter(product__owners=request.user.pk)
    today = timezone.localdate().isoformat()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    examples = list(key_results[:EXAMPLE_ROWS])
    for kr in examples:
        value = kr.baseline if kr.latest_value is None else kr.latest_value
        writer.writerow(
            [kr.product.slug, kr.name, today, format(value.normalize(), "f"), "Monthly figure"]
        )
    if not examples:
        writer.writerow(["payments-app", "Monthly active users", today, "1250", "Monthly figure"])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="measurements-example.csv"'
    return response
