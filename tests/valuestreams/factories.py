"""Factories for the valuestreams app."""

import factory

from valuestreams.models import ValueStream


class ValueStreamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ValueStream
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Value stream {n}")
    slug = factory.Sequence(lambda n: f"value-stream-{n}")
    kind = ValueStream.Kind.DEVELOPMENT
    customer = "Retail customers"
    value_delivered = "Orders placed and fulfilled quickly."

    @factory.post_generation
    def products(self, create, extracted, **kwargs):
        if create and extracted:
            self.products.set(extracted)
