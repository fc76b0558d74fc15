"""API serializers of the products app.

Read serializers render rows as the list selectors return them (annotations included); input
serializers check the shape of a write, which a service then makes. Related rows are written by id
and read back as small "brief" objects.
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from portfolio.common.api import UserBriefSerializer
from products.models import Discipline, Person, Product, Team, TeamMembership

User = get_user_model()

TIMESTAMPS = ("archived_at", "created_at", "updated_at")


# Brief shapes of related rows -------------------------------------------------------------------


class ProductBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ("id", "slug", "name")
        read_only_fields = fields


class TeamBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ("id", "slug", "name")
        read_only_fields = fields


class PersonBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Person
        fields = ("id", "name")
        read_only_fields = fields


class DisciplineBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Discipline
        fields = ("id", "slug", "name")
        read_only_fields = fields


# Read serializers ------------------------------------------------------------------------------


class DisciplineSerializer(serializers.ModelSerializer):
    people_count = serializers.IntegerField(read_only=True, help_text="Active people holding it.")

    class Meta:
        model = Discipline
        fields = ("id", "name", "slug", "order", "people_count", "created_at", "updated_at")
        read_only_fields = fields


class ProductSerializer(serializers.ModelSerializer):
    owners = UserBriefSerializer(many=True, read_only=True)
    team_count = serializers.IntegerField(read_only=True, help_text="Active teams owning it.")
    web_url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = Product
        fields = (
            "id",
            "name",
            "slug",
            "description",
            "lifecycle_stage",
            "owners",
            "planned_end",
            "team_count",
            "web_url",
            *TIMESTAMPS,
        )
        read_only_fields = fields


class TeamSerializer(serializers.ModelSerializer):
    products = ProductBriefSerializer(many=True, read_only=True)
    product_count = serializers.IntegerField(read_only=True)
    member_count = serializers.IntegerField(read_only=True, help_text="People in the team today.")
    total_fte = serializers.DecimalField(
        max_digits=5, decimal_places=2, read_only=True, help_text="Members' FTE today."
    )
    web_url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = Team
        fields = (
            "id",
            "name",
            "slug",
            "mission",
            "formed_on",
            "planned_end",
            "products",
            "product_count",
            "member_count",
            "total_fte",
            "web_url",
            *TIMESTAMPS,
        )
        read_only_fields = fields


class PersonMembershipSerializer(serializers.ModelSerializer):
    """A person's membership active today, as the person's row shows it."""

    team = TeamBriefSerializer(read_only=True)

    class Meta:
        model = TeamMembership
        fields = ("id", "team", "fte")
        read_only_fields = fields


class PersonSerializer(serializers.ModelSerializer):
    discipline = DisciplineBriefSerializer(read_only=True)
    user = UserBriefSerializer(read_only=True, allow_null=True)
    allocated_fte = serializers.DecimalField(
        max_digits=5, decimal_places=2, read_only=True, help_text="FTE across teams today."
    )
    team_count = serializers.IntegerField(read_only=True, help_text="Teams today.")
    current_memberships = PersonMembershipSerializer(many=True, read_only=True)
    web_url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = Person
        fields = (
            "id",
            "name",
            "email",
            "discipline",
            "user",
            "allocated_fte",
            "team_count",
            "current_memberships",
            "web_url",
            *TIMESTAMPS,
        )
        read_only_fields = fields


class TeamMembershipSerializer(serializers.ModelSerializer):
    person = PersonBriefSerializer(read_only=True)
    team = TeamBriefSerializer(read_only=True)
    is_current = serializers.SerializerMethodField(help_text="Active today.")

    class Meta:
        model = TeamMembership
        fields = (
            "id",
            "person",
            "team",
            "fte",
            "start_date",
            "end_date",
            "is_current",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields

    def get_is_current(self, membership: TeamMembership) -> bool:
        return membership.is_active_on(timezone.localdate())


# Input serializers -----------------------------------------------------------------------------


@extend_schema_field(
    {
        "oneOf": [{"type": "integer"}, {"type": "string"}],
        "description": "The discipline's id or slug.",
    }
)
class SlugOrIdRelatedField(serializers.RelatedField):
    """A related row named by its integer id or its slug (``3`` or ``"engineer"``)."""

    default_error_messages = {
        "does_not_exist": 'No {model} with id or slug "{value}".',
        "incorrect_type": "Give an id (integer) or a slug (text), not {data_type}.",
    }

    def to_internal_value(self, data: Any):
        queryset = self.get_queryset()
        if queryset is None:  # RelatedField insists on a queryset for writable fields
            raise AssertionError("SlugOrIdRelatedField needs a queryset")
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        lookups: list[dict[str, Any]]
        if isinstance(data, int):
            lookups = [{"pk": data}]
        else:
            lookups = [{"slug": data.strip()}]
            if data.strip().isdigit():
                lookups.append({"pk": int(data)})
        for lookup in lookups:
            found = queryset.filter(**lookup).first()
            if found is not None:
                return found
        self.fail("does_not_exist", model=queryset.model._meta.verbose_name, value=data)

    def to_representation(self, value: Any) -> str:
        return value.slug


def active_users():
    return User.objects.filter(is_active=True)


class ProductInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    slug = serializers.SlugField(
        max_length=80, required=False, allow_blank=True, help_text="Made from the name if empty."
    )
    description = serializers.CharField(required=False, allow_blank=True)
    lifecycle_stage = serializers.ChoiceField(choices=Product.Stage.choices, required=False)
    owners = serializers.PrimaryKeyRelatedField(
        many=True,
        queryset=active_users(),
        required=False,
        help_text="User ids of the product owners.",
    )
    planned_end = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="A durable product has none; an end date is a sign of project thinking.",
    )


class TeamInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    slug = serializers.SlugField(
        max_length=80, required=False, allow_blank=True, help_text="Made from the name if empty."
    )
    mission = serializers.CharField(required=False, allow_blank=True)
    formed_on = serializers.DateField(required=False)
    products = serializers.PrimaryKeyRelatedField(
        many=True,
        queryset=Product.objects.all(),
        required=False,
        help_text="Ids of the products the team owns.",
    )
    planned_end = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="A durable team has none; an end date is a sign of project thinking.",
    )


class PersonInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    email = serializers.EmailField()
    discipline = SlugOrIdRelatedField(queryset=Discipline.objects.all())
    user = serializers.PrimaryKeyRelatedField(
        queryset=active_users(),
        required=False,
        allow_null=True,
        help_text="Id of the person's user account, if they sign in.",
    )


class DisciplineInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=80)
    slug = serializers.SlugField(
        max_length=80, required=False, allow_blank=True, help_text="Made from the name if empty."
    )
    order = serializers.IntegerField(min_value=0, max_value=32767, required=False)


class TeamMembershipCreateSerializer(serializers.Serializer):
    person = serializers.PrimaryKeyRelatedField(
        queryset=Person.objects.active(),
        error_messages={"does_not_exist": 'No active person with id "{pk_value}".'},
    )
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.active(),
        error_messages={"does_not_exist": 'No active team with id "{pk_value}".'},
    )
    fte = serializers.DecimalField(
        max_digits=3,
        decimal_places=2,
        help_text="Share of a full-time week: more than 0, at most 1.",
    )
    start_date = serializers.DateField(default=timezone.localdate, help_text="Today if not given.")
    end_date = serializers.DateField(required=False, allow_null=True)


class TeamMembershipUpdateSerializer(serializers.Serializer):
    fte = serializers.DecimalField(max_digits=3, decimal_places=2, required=False)
    start_date = serializers.DateField(required=False)
    end_date = serializers.DateField(required=False, allow_null=True)


class TeamMembershipEndSerializer(serializers.Serializer):
    end_date = serializers.DateField(help_text="The last day the membership counts.")
