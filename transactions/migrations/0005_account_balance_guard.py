"""PostgreSQL refuses a balance that disagrees with the ledger, whoever writes it (an admin save of a row
read before a posting, raw SQL, a bug):

- at COMMIT, every account inserted or whose `balance` or `ledger_version` was written must hold the
  `balance_after` of its newest entry (highest id: postings lock the account before they draw an entry id,
  so id order is posting order; `created` may be backdated), or 0 with no entries;
- `ledger_version` never goes backwards.

A deferred constraint trigger, so that a posting may write its entries and its balances in any order. Its
check is one read of the account by primary key and one of the index `entry_account_latest` (account, id
descending), added here for it. Other databases (the embedded SQLite default) get the index only.
"""

from django.db import migrations, models

FORWARD = """
CREATE FUNCTION ledger_check_account_balance() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    current_balance bigint;
    latest bigint;
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.ledger_version < OLD.ledger_version THEN
        RAISE EXCEPTION 'ledger: the ledger version of account % may not go back from % to %',
            NEW.id, OLD.ledger_version, NEW.ledger_version
            USING ERRCODE = 'check_violation';
    END IF;
    -- NEW is the row as this event wrote it; a later statement of the transaction may have moved it again.
    SELECT balance INTO current_balance FROM accounts_account WHERE id = NEW.id;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    SELECT balance_after INTO latest FROM transactions_entry
     WHERE account_id = NEW.id ORDER BY id DESC LIMIT 1;
    IF current_balance <> COALESCE(latest, 0) THEN
        RAISE EXCEPTION 'ledger: the balance of account % is %, but its entries leave it at %',
            NEW.id, current_balance, COALESCE(latest, 0)
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER account_balance_matches_ledger
    AFTER INSERT OR UPDATE OF balance, ledger_version ON accounts_account DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_check_account_balance();
"""

REVERSE = """
DROP TRIGGER IF EXISTS account_balance_matches_ledger ON accounts_account;
DROP FUNCTION IF EXISTS ledger_check_account_balance();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def reverse(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REVERSE, params=None)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_usersession"), ("transactions", "0004_drop_redundant_indexes")]
    operations = [
        migrations.AddIndex(
            model_name="entry",
            index=models.Index(fields=["account", "-id"], name="entry_account_latest"),
        ),
        migrations.RunPython(forward, reverse),
    ]
