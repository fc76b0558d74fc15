"""The funding models in the admin, for support staff. The finance pages are the workflow.

A closed period and every row of it are read-only here too: no change, no delete, no bulk action
(the admin's actions are switched off, so "delete selected" cannot reach a closed period either).
New rows can only name an open period. Allocations and their trail are view-only: allocations
are written through the matrix, which enforces the limits and records who, when and why.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from funding.models import (
    Actual,
    Allocation,
    AllocationChange,
    Envelope,
    FiscalPeriod,
    Rate,
    Scenario,
    ScenarioCell,
)
from funding.services import money_text, value_stream_allocated
from funding.services.actuals import closed_period_of


class ClosedPeriodReadOnly(admin.ModelAdmin):
    """Rows of a closed period are read-only; new rows may only name an open period."""

    actions = None

    def period_of(self, obj) -> FiscalPeriod | None:
        return obj.period

    def is_closed(self, obj) -> bool:
        if obj is None:
            return False
        period = self.period_of(obj)
        return period is not None and period.is_closed

    def has_change_permission(self, request, obj=None):
        return not self.is_closed(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self.is_closed(obj) and super().has_delete_permission(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "period":
            kwargs["queryset"] = FiscalPeriod.objects.open()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class FiscalPeriodForm(forms.ModelForm):
    class Meta:
        model = FiscalPeriod
        fields = ["name", "start", "end"]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end > start:
            clash = (
                FiscalPeriod.objects.overlapping(start, end)
                .exclude(pk=self.instance.pk)
                .order_by("start")
                .first()
            )
            if clash is not None:
                self.add_error("start", f"The period overlaps {clash.name}; periods never overlap.")
        return cleaned


@admin.register(FiscalPeriod)
class FiscalPeriodAdmin(ClosedPeriodReadOnly):
    """Status moves (one active period, closing is final) are made on the funding pages."""

    form = FiscalPeriodForm
    list_display = ["name", "start", "end", "status"]
    list_filter = ["status"]
    search_fields = ["name"]
    readonly_fields = ["status"]

    def period_of(self, obj):
        return obj


@admin.register(Rate)
class RateAdmin(ClosedPeriodReadOnly):
    list_display = ["period", "discipline", "annual_cost"]
    list_filter = ["period"]
    list_select_related = ["period", "discipline"]


class EnvelopeForm(forms.ModelForm):
    class Meta:
        model = Envelope
        fields = ["period", "value_stream", "amount", "min_debt_risk_percent", "notes"]

    def clean(self):
        cleaned = super().clean()
        period, stream, amount = (
            cleaned.get("period"),
            cleaned.get("value_stream"),
            cleaned.get("amount"),
        )
        if period and stream and amount is not None:
            allocated = value_stream_allocated(period=period, value_stream_id=stream.pk)
            if amount < allocated:
                self.add_error(
                    "amount",
                    f"{money_text(allocated)} is already allocated to {stream.name} in "
                    f"{period.name}; the envelope cannot be less.",
                )
        return cleaned


@admin.register(Envelope)
class EnvelopeAdmin(ClosedPeriodReadOnly):
    form = EnvelopeForm
    list_display = ["period", "value_stream", "amount", "min_debt_risk_percent"]
    list_filter = ["period"]
    list_select_related = ["period", "value_stream"]


class ViewOnly(admin.ModelAdmin):
    actions = None

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Allocation)
class AllocationAdmin(ViewOnly):
    """View only: allocations are set in the matrix (limits, stale edits, the trail)."""

    list_display = ["period", "team", "value_stream", "percent", "status", "version"]
    list_filter = ["period", "status"]
    list_select_related = ["period", "team", "value_stream"]


@admin.register(AllocationChange)
class AllocationChangeAdmin(ViewOnly):
    """The approval trail: never changed after the fact."""

    list_display = ["at", "period", "team", "value_stream", "action", "actor"]
    list_filter = ["period", "action"]
    list_select_related = ["period", "team", "value_stream", "actor"]


class ActualForm(forms.ModelForm):
    class Meta:
        model = Actual
        fields = ["team", "month", "amount", "note"]

    def clean_month(self):
        month = self.cleaned_data["month"]
        closed = closed_period_of(month)
        if closed is not None:
            raise ValidationError(f"{closed.name} is closed: its actuals are read-only.")
        return month


@admin.register(Actual)
class ActualAdmin(ClosedPeriodReadOnly):
    """An actual is a team's month; it is read-only once a closed period covers that month."""

    form = ActualForm
    list_display = ["team", "month", "amount"]
    list_filter = ["team"]
    list_select_related = ["team"]

    def period_of(self, obj):
        return closed_period_of(obj.month)


class ScenarioCellInline(admin.TabularInline):
    model = ScenarioCell
    extra = 0

    def has_add_permission(self, request, obj=None):
        return obj is None or not obj.period.is_closed

    def has_change_permission(self, request, obj=None):
        return obj is None or not obj.period.is_closed

    def has_delete_permission(self, request, obj=None):
        return obj is None or not obj.period.is_closed


@admin.register(Scenario)
class ScenarioAdmin(ClosedPeriodReadOnly):
    list_display = ["name", "period", "created_by", "promoted_at"]
    list_filter = ["period"]
    list_select_related = ["period", "created_by"]
    readonly_fields = ["created_by", "promoted_at", "promoted_by", "promotion_reason"]
    inlines = [ScenarioCellInline]


@admin.register(ScenarioCell)
class ScenarioCellAdmin(ClosedPeriodReadOnly):
    list_display = ["scenario", "team", "value_stream", "percent"]
    list_select_related = ["scenario__period", "team", "value_stream"]

    def period_of(self, obj):
        return obj.scenario.period

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "scenario":
            kwargs["queryset"] = Scenario.objects.exclude(period__status=FiscalPeriod.Status.CLOSED)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
