"""API serializers of the valuestreams app: the value-stream row and its write shape."""

from django.contrib.auth import get_user_model
from rest_framework import serializers

from portfolio.common.api import UserBriefSerializer
from products.api.serializers import ProductBriefSerializer
from products.models import Product
from valuestreams.models import ValueStream

User = get_user_model()


class ValueStreamSerializer(serializers.ModelSerializer):
    owner = UserBriefSerializer(read_only=True, allow_null=True)
    products = ProductBriefSerializer(
        many=True, read_only=True, help_text="Active products served."
    )
    product_count = serializers.IntegerField(read_only=True, help_text="Active products served.")
    web_url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = ValueStream
        fields = (
            "id",
            "name",
            "slug",
            "kind",
            "description",
            "customer",
            "value_delivered",
            "owner",
            "products",
            "product_count",
            "web_url",
            "archived_at",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class ValueStreamInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    slug = serializers.SlugField(
        max_length=80, required=False, allow_blank=True, help_text="Made from the name if empty."
    )
    kind = serializers.ChoiceField(choices=ValueStream.Kind.choices, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    customer = serializers.CharField(max_length=200, required=False, allow_blank=True)
    value_delivered = serializers.CharField(required=False, allow_blank=True)
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True),
        required=False,
        allow_null=True,
        help_text="User id of the value stream's owner.",
    )
    products = serializers.PrimaryKeyRelatedField(
        many=True,
        queryset=Product.objects.all(),
        required=False,
        help_text="Ids of the products it serves.",
    )
