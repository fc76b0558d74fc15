import django.db.models.deletion
from django.db import migrations, models

INDEX = "valuestreams_statuschange_item_id_f5ad3176"


class Migration(migrations.Migration):
    """Drop the status changes' single-column item index: the unique (item, status_key, at) and
    the (item, at) index already lead with the item, and each index slows the bulk ingest.

    Only the index goes (Django's own AlterField would also drop and re-check the foreign key
    over every stored change)."""

    dependencies = [
        ("valuestreams", "0003_default_mappings"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="statuschange",
                    name="item",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="status_changes",
                        to="valuestreams.workitem",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f"DROP INDEX IF EXISTS {INDEX}",
                    f"CREATE INDEX {INDEX} ON valuestreams_statuschange (item_id)",
                ),
            ],
        ),
    ]
