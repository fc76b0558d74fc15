"""Grants for outcomes, key results, measurements, hypotheses and roadmaps (DESIGN.md, Permissions).

Product owners and portfolio managers write them; a product owner only for the products they own
(an object rule the products app checks), a portfolio manager for every product (the
``edit_any_outcomes`` permission). Everyone reads.
"""

from django.db import migrations

OUTCOME_MODELS = ("outcome", "keyresult", "measurement", "hypothesis", "roadmapitem")
READ_ONLY_MODELS = ("hypothesisstatuschange", "changerecord")


def grant_roles(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    products = Permission.objects.filter(content_type__app_label="products")
    views = products.filter(
        content_type__model__in=OUTCOME_MODELS + READ_ONLY_MODELS, codename__startswith="view_"
    )
    writes = products.filter(
        codename__in=[
            f"{action}_{model}"
            for model in OUTCOME_MODELS
            for action in ("add", "change", "delete")
        ]
    )
    for role in ("executive", "portfolio_manager", "product_owner", "finance"):
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(*views)
        if role in ("portfolio_manager", "product_owner"):
            group.permissions.add(*writes)
        if role == "portfolio_manager":
            group.permissions.add(*products.filter(codename="edit_any_outcomes"))


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    perms = Permission.objects.filter(
        content_type__app_label="products",
        content_type__model__in=OUTCOME_MODELS + READ_ONLY_MODELS,
    ) | Permission.objects.filter(codename="edit_any_outcomes")
    for group in Group.objects.all():
        group.permissions.remove(*perms)


class Migration(migrations.Migration):
    dependencies = [
        ("portfolio", "0002_roles"),
        ("products", "0002_outcomes"),
    ]

    operations = [migrations.RunPython(grant_roles, revoke)]
