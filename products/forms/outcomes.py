"""Forms of outcomes, key results, measurements and the measurements import: shape only.

The services hold the rules (the target lies in the key result's direction, the target date after
the start, one name per product, who may write) and run them inside their transaction; the views
put a service's refusal beside the field it names.
"""

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from products.forms.registry import DATE_WIDGET, ShapeOnlyModelForm
from products.models import KeyResult, Measurement, Outcome

IMPORT_MAX_BYTES = 5 * 1024 * 1024


class OutcomeForm(ShapeOnlyModelForm):
    """An objective of a product and the period it is for (both ends optional)."""

    class Meta:
        model = Outcome
        fields = ["statement", "period_start", "period_end"]
        labels = {
            "statement": "Outcome",
            "period_start": "Period from",
            "period_end": "Period to",
        }
        help_texts = {"statement": "The change in customer or business behaviour sought."}
        widgets = {
            "statement": forms.Textarea(attrs={"rows": 2}),
            "period_start": DATE_WIDGET,
            "period_end": DATE_WIDGET,
        }


class KeyResultForm(ShapeOnlyModelForm):
    """Everything that defines a key result; its figures follow from the measurements."""

    class Meta:
        model = KeyResult
        fields = [
            "name",
            "kind",
            "customer_facing",
            "unit",
            "direction",
            "baseline",
            "target",
            "start_date",
            "target_date",
        ]
        labels = {
            "customer_facing": "Customer-facing",
            "start_date": "Start date",
            "target_date": "Target date",
        }
        help_texts = {
            "direction": "Increase: the target is above the baseline; decrease: below it.",
        }
        widgets = {"start_date": DATE_WIDGET, "target_date": DATE_WIDGET}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("baseline", "target"):
            self.fields[name].widget.attrs["step"] = "any"
            # 22, not the stored 22.0000.
            if isinstance(self.initial.get(name), Decimal):
                self.initial[name] = format(self.initial[name].normalize(), "f")


class KeyResultCreateForm(KeyResultForm):
    """A new key result: customer-facing may be left to the kind (yes for adoption, NPS and
    customer satisfaction, the service's default)."""

    customer_facing = forms.NullBooleanField(
        label="Customer-facing",
        required=False,
        widget=forms.Select(
            choices=[
                ("unknown", "As the kind suggests"),
                ("true", "Yes"),
                ("false", "No"),
            ]
        ),
        help_text="Left to the kind: yes for adoption, NPS and customer satisfaction.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["start_date"].initial = timezone.localdate

    def service_data(self) -> dict[str, Any]:
        """The cleaned data for key_result_create: an undecided customer-facing is left out."""
        data = dict(self.cleaned_data)
        if data.get("customer_facing") is None:
            data.pop("customer_facing", None)
        return data


class MeasurementForm(ShapeOnlyModelForm):
    """A dated value of a key result (today unless said otherwise) and an optional note."""

    class Meta:
        model = Measurement
        fields = ["date", "value", "note"]
        widgets = {"date": DATE_WIDGET}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["date"].initial = timezone.localdate
        self.fields["value"].widget.attrs["step"] = "any"
        self.fields["note"].required = False


class MeasurementImportForm(forms.Form):
    """A CSV file of measurements to import (checked row by row by products.imports)."""

    file = forms.FileField(
        label="CSV file",
        help_text="Columns product, key_result, date, value and optionally note; UTF-8; at most 5 MB.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > IMPORT_MAX_BYTES:
            raise ValidationError("The file is larger than 5 MB; split it into smaller files.")
        return upload


__all__ = [
    "KeyResultCreateForm",
    "KeyResultForm",
    "MeasurementForm",
    "MeasurementImportForm",
    "OutcomeForm",
]
