"""Grants for funding (DESIGN.md, Permissions): finance writes fiscal periods, rate cards,
envelopes, allocations (and approves them), actuals and scenarios; everyone reads."""

from django.db import migrations

MODELS = (
    "fiscalperiod",
    "rate",
    "envelope",
    "allocation",
    "allocationchange",
    "actual",
    "scenario",
    "scenariocell",
)


def grant_roles(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    perms = Permission.objects.filter(
        content_type__app_label="funding", content_type__model__in=MODELS
    )
    views = perms.filter(codename__startswith="view_")
    writes = perms.exclude(codename__startswith="view_")
    for role in ("executive", "portfolio_manager", "product_owner", "finance"):
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(*views)
        if role == "finance":
            group.permissions.add(*writes)


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    perms = Permission.objects.filter(content_type__app_label="funding")
    for group in apps.get_model("auth", "Group").objects.all():
        group.permissions.remove(*perms)


class Migration(migrations.Migration):
    dependencies = [
        ("portfolio", "0004_value_stream_roles"),
        ("funding", "0001_initial"),
    ]

    operations = [migrations.RunPython(grant_roles, revoke)]
