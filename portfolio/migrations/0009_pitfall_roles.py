"""Who may tune the pitfall signals: executives and portfolio managers set the thresholds
(add/change); everyone reads thresholds and the recorded trend."""

from django.db import migrations

THRESHOLD_MODELS = ("pitfallthreshold",)
READ_MODELS = ("pitfallthreshold", "pitfallrecord")


def grant_roles(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    perms = Permission.objects.filter(
        content_type__app_label="portfolio", content_type__model__in=READ_MODELS
    )
    views = perms.filter(codename__startswith="view_")
    tune = perms.filter(content_type__model__in=THRESHOLD_MODELS, codename__regex=r"^(add|change)_")
    for role in ("executive", "portfolio_manager", "product_owner", "finance"):
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(*views)
        if role in ("executive", "portfolio_manager"):
            group.permissions.add(*tune)


class Migration(migrations.Migration):
    dependencies = [("portfolio", "0008_pitfalls")]

    operations = [migrations.RunPython(grant_roles, migrations.RunPython.noop)]
