"""Forms of the period pages: a period, a rate card line, a value stream's envelope.

They check the shape of what is typed; the rules (periods never overlap, a closed period is
read-only, an envelope never below what is allocated) are the services' and come back as errors
beside the fields they name.
"""

from django import forms

from funding.models import FiscalPeriod
from products.models import Discipline
from valuestreams.models import ValueStream

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PeriodForm(forms.Form):
    """Name and dates of a period (create and edit)."""

    name = forms.CharField(max_length=100, help_text="For example FY2027 or 2027 Q1.")
    start = forms.DateField(widget=DATE, help_text="The first day of the period.")
    end = forms.DateField(widget=DATE, help_text="The last day of the period (included).")

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end <= start:
            self.add_error("end", "The period must end after it starts.")
        return cleaned


class PeriodCreateForm(PeriodForm):
    """A new period, optionally starting its rate card from another period's rates."""

    copy_rates_from = forms.ModelChoiceField(
        queryset=FiscalPeriod.objects.order_by("-start"),
        required=False,
        label="Copy rate card from",
        empty_label="Start with an empty rate card",
        help_text="Copies every discipline's annual rate; change them afterwards.",
    )


class _RowForm(forms.Form):
    """A form drawn across a table row: its inputs name the row's <form> element by id."""

    def __init__(self, *args, form_id: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.form_id = form_id
        for field in self.fields.values():
            field.widget.attrs["form"] = form_id


class RateForm(_RowForm):
    """A discipline's annual fully-loaded cost on the period's rate card."""

    discipline = forms.ModelChoiceField(queryset=Discipline.objects.all(), widget=forms.HiddenInput)
    annual_cost = forms.DecimalField(
        label="Annual rate",
        max_digits=12,
        decimal_places=2,
        min_value=0,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"}),
    )


class EnvelopeForm(_RowForm):
    """A value stream's envelope for the period and its optional debt-and-risk guardrail."""

    value_stream = forms.ModelChoiceField(
        queryset=ValueStream.objects.all(), widget=forms.HiddenInput
    )
    amount = forms.DecimalField(
        label="Envelope",
        max_digits=14,
        decimal_places=2,
        min_value=0,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"}),
    )
    min_debt_risk_percent = forms.DecimalField(
        label="Minimum debt and risk %",
        max_digits=5,
        decimal_places=2,
        min_value=0,
        max_value=100,
        required=False,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "max": "100"}),
    )
    notes = forms.CharField(label="Notes", required=False, max_length=500)
