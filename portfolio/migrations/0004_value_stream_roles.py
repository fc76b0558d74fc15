"""Grants for value stream maps, work items, mappings and flow snapshots (DESIGN.md, Permissions):
portfolio managers write them (maps are value-stream registry work; ingestion scripts run with a
portfolio manager's token); everyone reads."""

from django.db import migrations

WRITE_MODELS = (
    "valuestreammap",
    "mapstep",
    "improvementoutcome",
    "worksource",
    "workitem",
    "statuschange",
    "statusmapping",
    "typemapping",
)
READ_ONLY_MODELS = ("flowsnapshot",)


def grant_roles(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    perms = Permission.objects.filter(content_type__app_label="valuestreams")
    views = perms.filter(
        content_type__model__in=WRITE_MODELS + READ_ONLY_MODELS, codename__startswith="view_"
    )
    writes = perms.filter(
        codename__in=[
            f"{action}_{model}" for model in WRITE_MODELS for action in ("add", "change", "delete")
        ]
    )
    for role in ("executive", "portfolio_manager", "product_owner", "finance"):
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(*views)
        if role == "portfolio_manager":
            group.permissions.add(*writes)


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    perms = Permission.objects.filter(
        content_type__app_label="valuestreams",
        content_type__model__in=WRITE_MODELS + READ_ONLY_MODELS,
    )
    for group in apps.get_model("auth", "Group").objects.all():
        group.permissions.remove(*perms)


class Migration(migrations.Migration):
    dependencies = [
        ("portfolio", "0003_outcome_roles"),
        ("valuestreams", "0003_default_mappings"),
    ]

    operations = [migrations.RunPython(grant_roles, revoke)]
