"""Value streams: end-to-end flows from idea to value, grouping the products they depend on."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from portfolio.common.models import ArchivableModel
from products.models import Product
from valuestreams.querysets import ValueStreamQuerySet


class ValueStream(ArchivableModel):
    """A development or operational value stream and the products it serves.

    A product may serve several value streams (a shared platform, say), so the link is many-to-many.
    """

    class Kind(models.TextChoices):
        DEVELOPMENT = "development", "Development"
        OPERATIONAL = "operational", "Operational"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.DEVELOPMENT)
    description = models.TextField(blank=True)
    customer = models.CharField(max_length=200, blank=True, help_text="Who receives the value.")
    value_delivered = models.TextField(
        blank=True, help_text="The value this stream delivers to them."
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_value_streams",
    )
    products = models.ManyToManyField(Product, related_name="value_streams", blank=True)

    objects = ValueStreamQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(name=""),
                name="value_stream_name_not_empty",
                violation_error_message="A value stream needs a name.",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("valuestreams:value_stream_detail", kwargs={"slug": self.slug})
