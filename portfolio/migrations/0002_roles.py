"""The four roles of DESIGN.md as groups, with the model permissions of its permissions table.

Everyone signed in reads everything (view permissions for every role); writes are granted per role.
Later migrations extend the grants as new models arrive.
"""

from django.db import migrations

APPS = ("products", "valuestreams", "funding", "portfolio")

ROLE_WRITES = {
    "executive": [],
    "portfolio_manager": [
        ("products", "product"),
        ("products", "team"),
        ("products", "person"),
        ("products", "teammembership"),
        ("products", "discipline"),
        ("valuestreams", "valuestream"),
    ],
    "product_owner": [],
    "finance": [],
}


def grant_roles(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after migrate; make sure ours exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    view_perms = list(
        Permission.objects.filter(content_type__app_label__in=APPS, codename__startswith="view_")
    )
    for role, writes in ROLE_WRITES.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(*view_perms)
        for app_label, model in writes:
            group.permissions.add(
                *Permission.objects.filter(
                    content_type__app_label=app_label,
                    content_type__model=model,
                    codename__in=[f"add_{model}", f"change_{model}", f"delete_{model}"],
                )
            )


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=list(ROLE_WRITES)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("portfolio", "0001_initial"),
        ("products", "0001_initial"),
        ("valuestreams", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant_roles, remove_roles)]
