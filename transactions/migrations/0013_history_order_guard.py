"""History order is posting order: PostgreSQL keeps an account's entries in (created, id) order the same as
their id order (the order of postings, and so of `balance_after`), whoever writes them.

- Every account carries the time of its newest entry, `posted_until` (accounts 0009), filled here from the
  ledger in one UPDATE that reads one row of the history index per account.
- At COMMIT, the deferred check of migration 0005 also holds `posted_until` to the ledger: it never goes
  back (like `ledger_version`), and for a customer account it equals the `created` of the newest entry by
  id (the same row 0005 already reads); a bank's internal account only may not be posted later than it.
- Before each entry of a customer account is inserted, it may not be dated before that account's newest
  entry (one row of `entry_account_latest`). The bank's internal accounts are exempt: the loaders of
  history post customer by customer, each in time order, through the settlement shards that all of them
  share, and no page shows those accounts' running balance.

Other databases (the embedded SQLite default) get the column and Python's rule (transactions/services.py).
"""

import importlib

from django.db import migrations

BACKFILL = """
UPDATE accounts_account AS a
   SET posted_until = (SELECT e.created FROM transactions_entry AS e
                        WHERE e.account_id = a.id ORDER BY e.created DESC, e.id DESC LIMIT 1)
 WHERE EXISTS (SELECT 1 FROM transactions_entry AS e WHERE e.account_id = a.id);
"""

FORWARD = """
CREATE OR REPLACE FUNCTION ledger_check_account_balance() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    current_balance bigint;
    current_until timestamptz;
    current_kind text;
    latest bigint;
    latest_created timestamptz;
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.ledger_version < OLD.ledger_version THEN
        RAISE EXCEPTION 'ledger: the ledger version of account % may not go back from % to %',
            NEW.id, OLD.ledger_version, NEW.ledger_version
            USING ERRCODE = 'check_violation';
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.posted_until IS NOT NULL
       AND (NEW.posted_until IS NULL OR NEW.posted_until < OLD.posted_until) THEN
        RAISE EXCEPTION 'ledger: the newest posting time of account % may not go back from % to %',
            NEW.id, OLD.posted_until, NEW.posted_until
            USING ERRCODE = 'check_violation';
    END IF;
    -- NEW is the row as this event wrote it; a later statement of the transaction may have moved it again.
    SELECT balance, posted_until, kind INTO current_balance, current_until, current_kind
      FROM accounts_account WHERE id = NEW.id;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    SELECT balance_after, created INTO latest, latest_created FROM transactions_entry
     WHERE account_id = NEW.id ORDER BY id DESC LIMIT 1;
    IF current_balance <> COALESCE(latest, 0) THEN
        RAISE EXCEPTION 'ledger: the balance of account % is %, but its entries leave it at %',
            NEW.id, current_balance, COALESCE(latest, 0)
            USING ERRCODE = 'check_violation';
    END IF;
    IF current_kind <> 'internal' AND current_until IS DISTINCT FROM latest_created THEN
        RAISE EXCEPTION 'ledger: account % is posted until %, but its newest entry is dated %',
            NEW.id, current_until, latest_created
            USING ERRCODE = 'check_violation';
    END IF;
    IF latest_created > current_until OR (latest_created IS NOT NULL AND current_until IS NULL) THEN
        RAISE EXCEPTION 'ledger: account % is posted until %, but its newest entry is dated %',
            NEW.id, current_until, latest_created
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$;

DROP TRIGGER account_balance_matches_ledger ON accounts_account;
CREATE CONSTRAINT TRIGGER account_balance_matches_ledger
    AFTER INSERT OR UPDATE OF balance, ledger_version, posted_until ON accounts_account
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_check_account_balance();

CREATE FUNCTION ledger_check_entry_order() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    account_kind text;
    previous timestamptz;
BEGIN
    SELECT kind INTO account_kind FROM accounts_account WHERE id = NEW.account_id;
    IF account_kind = 'internal' THEN
        RETURN NEW;
    END IF;
    SELECT created INTO previous FROM transactions_entry
     WHERE account_id = NEW.account_id ORDER BY id DESC LIMIT 1;
    IF previous > NEW.created THEN
        RAISE EXCEPTION 'ledger: an entry of account % dated % would follow one dated %: history order '
            'must be posting order', NEW.account_id, NEW.created, previous
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER entry_in_history_order BEFORE INSERT ON transactions_entry
    FOR EACH ROW EXECUTE FUNCTION ledger_check_entry_order();
"""

REVERSE = """
DROP TRIGGER IF EXISTS entry_in_history_order ON transactions_entry;
DROP FUNCTION IF EXISTS ledger_check_entry_order();
DROP TRIGGER IF EXISTS account_balance_matches_ledger ON accounts_account;
DROP FUNCTION IF EXISTS ledger_check_account_balance();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKFILL, params=None)
        schema_editor.execute(FORWARD, params=None)
    else:
        account = apps.get_model("accounts", "Account")
        entry = apps.get_model("transactions", "Entry")
        for pk in entry.objects.values_list("account_id", flat=True).distinct():
            newest = entry.objects.filter(account_id=pk).order_by("-created", "-id").first()
            account.objects.filter(pk=pk).update(posted_until=newest.created)


def reverse(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REVERSE, params=None)
        # Migration 0005's check as it was (the column stays until accounts 0009 is reversed).
        guard = importlib.import_module("transactions.migrations.0005_account_balance_guard")
        schema_editor.execute(guard.FORWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0009_account_posted_until"),
        ("transactions", "0012_transfer_limits_sent_today"),
    ]
    operations = [migrations.RunPython(forward, reverse)]
