"""PostgreSQL keeps the ledger's rules even when Python has a bug:

- each transaction's entries sum to zero and number at least two, checked at COMMIT (deferred constraint
  triggers, so that a posting may insert its rows in any order);
- entries and transactions are append-only: UPDATE and DELETE are refused (a mistake is corrected by a
  reversing transaction).

The CHECK that a customer balance stays at or above its overdraft limit and the unique idempotency keys are
ordinary constraints in 0001. Other databases (the embedded SQLite default) get the Python checks only.
"""

from django.db import migrations

FORWARD = """
CREATE FUNCTION ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    txn_id bigint;
    total numeric;
    legs integer;
BEGIN
    IF TG_TABLE_NAME = 'transactions_entry' THEN
        txn_id := NEW.transaction_id;
    ELSE
        txn_id := NEW.id;
    END IF;
    SELECT COALESCE(SUM(amount), 0), COUNT(*) INTO total, legs
      FROM transactions_entry WHERE transaction_id = txn_id;
    IF legs < 2 THEN
        RAISE EXCEPTION 'ledger: transaction % has % entries; at least two are required', txn_id, legs
            USING ERRCODE = 'check_violation';
    END IF;
    IF total <> 0 THEN
        RAISE EXCEPTION 'ledger: the entries of transaction % sum to %, not zero', txn_id, total
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER entry_transaction_balanced
    AFTER INSERT ON transactions_entry DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced();

CREATE CONSTRAINT TRIGGER transaction_has_entries
    AFTER INSERT ON transactions_transaction DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced();

CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger: % on % is not allowed; post a reversing transaction instead', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END
$$;

CREATE TRIGGER entry_append_only BEFORE UPDATE OR DELETE ON transactions_entry
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();

CREATE TRIGGER transaction_append_only BEFORE UPDATE OR DELETE ON transactions_transaction
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
"""

REVERSE = """
DROP TRIGGER IF EXISTS transaction_append_only ON transactions_transaction;
DROP TRIGGER IF EXISTS entry_append_only ON transactions_entry;
DROP FUNCTION IF EXISTS ledger_refuse_change();
DROP TRIGGER IF EXISTS transaction_has_entries ON transactions_transaction;
DROP TRIGGER IF EXISTS entry_transaction_balanced ON transactions_entry;
DROP FUNCTION IF EXISTS ledger_check_balanced();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def reverse(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REVERSE, params=None)


class Migration(migrations.Migration):
    dependencies = [("transactions", "0002_categories")]
    operations = [migrations.RunPython(forward, reverse)]
