"""HTML forms of the valuestreams app: the shape of the input; the rules live in the services."""

from typing import cast

from django import forms
from django.db.models import Q

from products.models import Product
from valuestreams import selectors
from valuestreams.models import ValueStream

# Addresses under /value-streams/ that a value stream's slug would hide.
RESERVED_SLUGS = frozenset({"new", "for-product"})


class OwnerChoiceField(forms.ModelChoiceField):
    """Users listed by their full name, with the username to tell namesakes apart."""

    def label_from_instance(self, obj) -> str:
        full_name = obj.get_full_name()
        return f"{full_name} ({obj.username})" if full_name else obj.username


class ValueStreamForm(forms.ModelForm):
    """Create or edit a value stream: registry fields, owner and the products it serves."""

    owner = OwnerChoiceField(
        queryset=selectors.owner_choices(),
        required=False,
        empty_label="No owner yet",
        help_text="Who answers for this value stream.",
    )
    products = forms.ModelMultipleChoiceField(
        queryset=Product.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Products it serves",
        help_text="A shared product (a platform, say) may serve several value streams.",
    )

    class Meta:
        model = ValueStream
        fields = [
            "name",
            "slug",
            "kind",
            "description",
            "customer",
            "value_delivered",
            "owner",
            "products",
        ]
        labels = {"value_delivered": "Value delivered"}
        help_texts = {
            "kind": "Development streams build products; operational streams run the business.",
        }
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "value_delivered": forms.Textarea(attrs={"rows": 3}),
        }
        error_messages = {
            "slug": {"unique": "Another value stream already uses this slug; choose another."},
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        creating = self.instance.pk is None
        slug = self.fields["slug"]
        slug.required = not creating
        slug.help_text = (
            "Leave empty to make one from the name." if creating else "Used in the page address."
        )
        # Active products are offered; on edit, the products already linked stay offered (even
        # archived ones), so saving the form never drops a link nobody unticked.
        offered = Q(archived_at__isnull=True)
        if not creating:
            offered |= Q(value_streams=self.instance)
        products = cast(forms.ModelMultipleChoiceField, self.fields["products"])
        products.queryset = (
            Product.objects.filter(offered).distinct().only("id", "name", "slug", "archived_at")
        )

    def clean_slug(self) -> str:
        slug = self.cleaned_data.get("slug", "")
        if slug in RESERVED_SLUGS:
            raise forms.ValidationError(f"“{slug}” names a page of its own here; choose another.")
        return slug


def prepare_filter_form(filter_form: forms.Form) -> forms.Form:
    """Make the shared list filter read well on the page (and return it).

    ``product`` (a slug) becomes a picker of active products by name, and the empty choice of
    ``kind`` says "Any kind" instead of dashes.

    The products are read when the picker renders, so an htmx request for the results alone
    (which does not render the filter form) does not pay for them.
    """

    loaded: list[tuple[str, str]] = []

    def choices() -> list[tuple[str, str]]:
        # Rendering iterates the choices more than once; read them once.
        if not loaded:
            loaded.append(("", "Any product"))
            loaded.extend(Product.objects.active().values_list("slug", "name"))
        return loaded

    # Django accepts a callable for choices (5.0+); the stubs do not know it yet.
    filter_form.fields["product"].widget = forms.Select(choices=choices)  # type: ignore[arg-type]
    filter_form.fields["product"].label = "Product"
    kind = cast(forms.ChoiceField, filter_form.fields["kind"])
    kind.empty_label = "Any kind"  # type: ignore[attr-defined]
    kind.choices = ValueStream.Kind.choices  # django-filter re-wraps them with the empty choice
    return filter_form
