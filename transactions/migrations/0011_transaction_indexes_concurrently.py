# The two indexes on transactions_transaction that 0006 used to add with a plain CREATE INDEX, which holds a
# lock that blocks every posting (every INSERT into the table) while it builds on a large ledger. Built here
# with CREATE INDEX CONCURRENTLY on PostgreSQL (outside a transaction: `atomic = False`), plainly on SQLite
# (the embedded default, where there is nobody to block). 0006 was never deployed before this release.

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class AddIndexConcurrentlyOnPostgres(AddIndexConcurrently):
    """AddIndexConcurrently on PostgreSQL; AddIndex's plain CREATE INDEX on another database."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("transactions", "0010_entry_counterparty"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="transaction",
            index=models.Index(
                condition=models.Q(("kind__in", ["payee", "outward"])),
                fields=["initiator", "created"],
                name="transaction_to_others",
            ),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="transaction",
            index=models.Index(
                condition=models.Q(("payee__isnull", False)),
                fields=["payee", "created"],
                name="transaction_payee",
            ),
        ),
    ]
