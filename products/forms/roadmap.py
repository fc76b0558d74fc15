"""Forms of hypotheses and the outcome-based roadmap: shape only.

The services hold the rules (a hypothesis's key result and an item's key results belong to its
product, who may write, the roadmap's places) and run them inside their transaction; the views put
a service's refusal beside the field it names.
"""

from typing import Any, cast

from django import forms
from django.db.models import Q, QuerySet

from products.forms.registry import ShapeOnlyModelForm
from products.models import Hypothesis, KeyResult, Product, RoadmapItem

EVIDENCE_NEEDED = (Hypothesis.Status.VALIDATED, Hypothesis.Status.INVALIDATED)


def product_key_results(product: Product, *keep: int | None) -> QuerySet[KeyResult]:
    """The product's key results under active outcomes, in page order, plus any in ``keep`` (the ones
    a row already links to stay choosable even if their outcome was archived)."""
    kept = [pk for pk in keep if pk is not None]
    return (
        KeyResult.objects.filter(product=product)
        .filter(Q(outcome__archived_at__isnull=True) | Q(pk__in=kept))
        .only("id", "product_id", "name", "unit", "status")
        .order_by("outcome__order", "outcome_id", "id")
    )


class KeyResultChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: KeyResult) -> str:
        return f"{obj.name} ({obj.unit})" if obj.unit else obj.name


class KeyResultMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: KeyResult) -> str:
        return f"{obj.name} · {obj.get_status_display()}"


class HypothesisForm(ShapeOnlyModelForm):
    """We believe <change> will result in <outcome>; we will know when <key result> moves by
    <amount>. The labels read as that sentence; the status changes through its own form."""

    key_result = KeyResultChoiceField(
        queryset=KeyResult.objects.none(),
        required=False,
        label="we will know when",
        empty_label="Choose a key result…",
        help_text="The key result that should move.",
    )

    class Meta:
        model = Hypothesis
        fields = ["change", "expected_outcome", "key_result", "expected_move", "evidence"]
        labels = {
            "change": "We believe",
            "expected_outcome": "will result in",
            "expected_move": "moves by",
            "evidence": "Evidence so far",
        }
        help_texts = {
            "change": "The change we make.",
            "expected_outcome": "The outcome it should bring for customers or the business.",
            "expected_move": "How far the key result should move, in its unit.",
            "evidence": "What we have learnt so far (optional).",
        }
        widgets = {
            "change": forms.Textarea(attrs={"rows": 2}),
            "expected_outcome": forms.Textarea(attrs={"rows": 2}),
            "evidence": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, product: Product, **kwargs: Any) -> None:
        instance = kwargs.get("instance")
        kwargs.setdefault("auto_id", f"hypothesis-{instance.pk if instance else 'new'}_%s")
        super().__init__(*args, **kwargs)
        field = cast(forms.ModelChoiceField, self.fields["key_result"])
        field.queryset = product_key_results(product, instance.key_result_id if instance else None)
        self.fields["change"].widget.attrs["autofocus"] = True


class HypothesisStatusForm(forms.Form):
    """Move a hypothesis to another status, with the evidence that moves it (the service dates it)."""

    status = forms.ChoiceField(label="New status", choices=Hypothesis.Status.choices)
    note = forms.CharField(
        label="Evidence note",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What we saw. Needed to validate or invalidate.",
    )

    def __init__(self, *args: Any, hypothesis: Hypothesis, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"hypothesis-{hypothesis.pk}-status_%s")
        super().__init__(*args, **kwargs)
        self.hypothesis = hypothesis
        self.fields["status"].initial = hypothesis.status
        self.fields["status"].widget.attrs["autofocus"] = True

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        status = data.get("status")
        if status and status == self.hypothesis.status:
            self.add_error(
                "status",
                f"It is already {self.hypothesis.get_status_display().lower()}: "
                "choose another status.",
            )
        elif status in EVIDENCE_NEEDED and not (data.get("note") or "").strip():
            label = Hypothesis.Status(status).label.lower()
            self.add_error("note", f"Say what evidence shows it is {label}.")
        return data


class RoadmapItemForm(ShapeOnlyModelForm):
    """A roadmap item: what, where on the board (when added), and the key results it should move."""

    key_results = KeyResultMultipleChoiceField(
        queryset=KeyResult.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Key results it should move",
        help_text="An item linked to none is flagged “Output without outcome”.",
    )

    class Meta:
        model = RoadmapItem
        fields = ["title", "description", "horizon", "key_results"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}
        labels = {"horizon": "Horizon"}

    def __init__(self, *args: Any, product: Product, **kwargs: Any) -> None:
        instance = kwargs.get("instance")
        kwargs.setdefault("auto_id", f"roadmap-{instance.pk if instance else 'new'}_%s")
        super().__init__(*args, **kwargs)
        linked = [kr.pk for kr in instance.key_results.all()] if instance else []
        field = cast(forms.ModelMultipleChoiceField, self.fields["key_results"])
        field.queryset = product_key_results(product, *linked)
        if instance is not None:
            # An item moves between horizons with the board's buttons, not in its edit form.
            del self.fields["horizon"]
        self.fields["title"].widget.attrs["autofocus"] = True


class RoadmapMoveForm(forms.Form):
    """Where an item goes: a horizon and a place in it (0 is the top; empty puts it last)."""

    horizon = forms.ChoiceField(
        choices=RoadmapItem.Horizon.choices,
        error_messages={
            "required": "Say which horizon: now, next, later or done.",
            "invalid_choice": "Choose a horizon: now, next, later or done.",
        },
    )
    position = forms.IntegerField(
        min_value=0,
        required=False,
        error_messages={
            "invalid": "A place is a whole number.",
            "min_value": "A place is 0 (the top) or more.",
        },
    )


__all__ = [
    "HypothesisForm",
    "HypothesisStatusForm",
    "KeyResultChoiceField",
    "KeyResultMultipleChoiceField",
    "RoadmapItemForm",
    "RoadmapMoveForm",
    "product_key_results",
]
