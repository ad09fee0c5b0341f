"""The chain became HMAC-SHA256 (portal/audit/chain.py): events sealed before with the unkeyed SHA-256 would
all read as "edited". The portal is not live yet, so they are unsealed here, once, and the next sealing run
(the beat, within a minute, or `manage.py audit_seal`) chains them again, in seq order, with the key, and
writes a new anchor. Nothing else of an event changes.

The guard of migration 0002 refuses to clear a seal, so it is switched off for the one statement, inside this
migration's transaction (the table's owner may; the runtime role may not). An anchor written before this
migration no longer matches: start a new anchor file (or set AUDIT_ANCHOR_FILE to a new path) after it.
Reversing is a no-op: the unsealed events are simply sealed again by whichever code runs.
"""

from django.db import migrations

UNSEAL = "UPDATE portal_auditevent SET prev_hash = NULL, hash = NULL WHERE hash IS NOT NULL OR prev_hash IS NOT NULL"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE portal_auditevent DISABLE TRIGGER audit_event_seal_only", params=None
        )
        schema_editor.execute(UNSEAL, params=None)
        schema_editor.execute(
            "ALTER TABLE portal_auditevent ENABLE TRIGGER audit_event_seal_only", params=None
        )
    else:
        schema_editor.execute(UNSEAL, params=None)


class Migration(migrations.Migration):
    dependencies = [("portal", "0002_audit_guards")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
