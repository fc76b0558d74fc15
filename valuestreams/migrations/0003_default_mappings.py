"""The organisation's default status and type mappings (DESIGN.md, Flow metrics; issue 4).

Value streams override them with their own rows; statuses and types that no mapping covers are
listed for a portfolio manager to map, never guessed.
"""

import re

from django.db import migrations

STATUSES = {
    "backlog": ["To Do", "Backlog", "Open"],
    "active": ["In Progress", "In Development", "In Review", "Testing"],
    "waiting": ["Blocked", "Waiting", "Ready for QA", "Ready for Release"],
    "done": ["Done", "Closed", "Resolved", "Released"],
}
TYPES = {
    "feature": ["Story", "User Story", "Feature", "New Feature", "Improvement"],
    "defect": ["Bug", "Defect"],
    "risk": ["Security", "Vulnerability", "Risk", "Compliance"],
    "debt": ["Tech Debt", "Technical Debt", "Refactoring", "Debt"],
}


def key(name: str) -> str:
    return re.sub(r"\s+", " ", name).strip().casefold()


def add_defaults(apps, schema_editor):
    StatusMapping = apps.get_model("valuestreams", "StatusMapping")
    TypeMapping = apps.get_model("valuestreams", "TypeMapping")
    for category, names in STATUSES.items():
        for name in names:
            StatusMapping.objects.get_or_create(
                value_stream=None,
                status_key=key(name),
                defaults={"status_name": name, "category": category},
            )
    for item_type, names in TYPES.items():
        for name in names:
            TypeMapping.objects.get_or_create(
                value_stream=None,
                tracker_type_key=key(name),
                defaults={"tracker_type": name, "type": item_type},
            )


def remove_defaults(apps, schema_editor):
    apps.get_model("valuestreams", "StatusMapping").objects.filter(value_stream=None).delete()
    apps.get_model("valuestreams", "TypeMapping").objects.filter(value_stream=None).delete()


class Migration(migrations.Migration):
    dependencies = [("valuestreams", "0002_maps_and_flow")]

    operations = [migrations.RunPython(add_defaults, remove_defaults)]
