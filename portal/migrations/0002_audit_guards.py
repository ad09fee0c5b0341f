"""PostgreSQL keeps the audit trail append-only, even against a bug in Python or a hand-written statement:

- DELETE is refused;
- UPDATE is refused except the one step of sealing (portal/audit.py `audit_seal`): setting `prev_hash` and
  `hash` (64 hex digits each) on an event that has neither, with every other column unchanged;
- an INSERT that arrives already sealed is refused (a WHEN condition, so ordinary inserts pay nothing), so
  every hash in the table went through the sealer.

TRUNCATE is not guarded: the test suite empties tables with it between transactional tests. In production
the portal's database role should not hold TRUNCATE on the table (nor own it). Other databases (the
embedded SQLite default) get no guard.
"""

from django.db import migrations

FORWARD = """
CREATE FUNCTION audit_event_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        RAISE EXCEPTION 'audit: INSERT of a sealed audit event is not allowed; events are inserted unsealed'
            USING ERRCODE = 'restrict_violation';
    END IF;
    RAISE EXCEPTION 'audit: % of an audit event is not allowed; the audit trail is append-only', TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$;

CREATE FUNCTION audit_event_seal_only() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    unsealed portal_auditevent;
BEGIN
    -- The new row with its chain fields cleared must equal the old row, column for column (whatever
    -- columns the table gains later): sealing changes nothing else.
    unsealed := NEW;
    unsealed.prev_hash := NULL;
    unsealed.hash := NULL;
    IF OLD.hash IS NULL AND OLD.prev_hash IS NULL
       AND NEW.hash ~ '^[0-9a-f]{64}$' AND NEW.prev_hash ~ '^[0-9a-f]{64}$'
       AND unsealed IS NOT DISTINCT FROM OLD THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit: UPDATE of audit event % is not allowed; the audit trail is append-only', OLD.seq
        USING ERRCODE = 'restrict_violation',
              HINT = 'Only sealing may set prev_hash and hash, once, on an unsealed event.';
END
$$;

CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON portal_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_event_refuse();

CREATE TRIGGER audit_event_seal_only BEFORE UPDATE ON portal_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_event_seal_only();

CREATE TRIGGER audit_event_insert_unsealed BEFORE INSERT ON portal_auditevent
    FOR EACH ROW WHEN (NEW.hash IS NOT NULL OR NEW.prev_hash IS NOT NULL)
    EXECUTE FUNCTION audit_event_refuse();
"""

REVERSE = """
DROP TRIGGER IF EXISTS audit_event_insert_unsealed ON portal_auditevent;
DROP TRIGGER IF EXISTS audit_event_seal_only ON portal_auditevent;
DROP TRIGGER IF EXISTS audit_event_no_delete ON portal_auditevent;
DROP FUNCTION IF EXISTS audit_event_seal_only();
DROP FUNCTION IF EXISTS audit_event_refuse();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def reverse(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REVERSE, params=None)


class Migration(migrations.Migration):
    dependencies = [("portal", "0001_audit_event")]
    operations = [migrations.RunPython(forward, reverse)]
