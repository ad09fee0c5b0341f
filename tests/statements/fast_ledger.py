"""A long history in one SQL statement, for the tests that need a statement which takes a while to make (a
worker to kill mid-way, a time limit to run out): tens of thousands of postings through the ledger services
would take minutes.

It writes what the services would (a deposit's transaction and its two entries, the settlement shard's and
the account's, with running balances; the accounts' balances, ledger versions and newest posting times), in
one database transaction, so that PostgreSQL's own guards check it at COMMIT exactly as they check a
posting: the entries of each transaction sum to zero, each account's balance equals its newest entry's
`balance_after`, `posted_until` its newest entry's time, and no entry of a customer account is dated before
that account's newest."""

import datetime

from django.db import connection, transaction

from accounts import internal
from accounts.models import Account

_TRANSACTIONS = """
INSERT INTO transactions_transaction (kind, description, counterparty, idempotency_key, created)
SELECT 'deposit', 'Bulk deposit ' || g, 'Bulk', %(key)s || '-' || g, %(start)s + (g - 1) * %(step)s
  FROM generate_series(1, %(count)s) AS g
 ORDER BY g
RETURNING id
"""

_ENTRIES = """
WITH t AS (
  SELECT id, created, row_number() OVER (ORDER BY id) AS k
    FROM transactions_transaction WHERE id = ANY(%(ids)s)
)
INSERT INTO transactions_entry (transaction_id, account_id, amount, balance_after, created, counterparty)
SELECT id, account_id, amount, balance_after, created, '' FROM (
  SELECT id, created, k, 0 AS leg, %(settlement)s AS account_id, -%(amount)s AS amount,
         %(settlement_balance)s - k * %(amount)s AS balance_after FROM t
  UNION ALL
  SELECT id, created, k, 1, %(account)s, %(amount)s, %(balance)s + k * %(amount)s FROM t
) AS legs
ORDER BY k, leg
"""


def bulk_deposits(
    account: Account,
    *,
    start: datetime.datetime,
    count: int,
    amount_paise: int = 1_00,
    step: datetime.timedelta = datetime.timedelta(seconds=20),
) -> None:
    """`count` deposits of `amount_paise` into `account`, the first at `start`, one every `step`."""
    settlement = Account.objects.get(number=internal.settlement_for(account.pk))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, balance FROM accounts_account WHERE id IN (%s, %s) ORDER BY id FOR UPDATE",
            [account.pk, settlement.pk],
        )
        balances = dict(cursor.fetchall())
        cursor.execute(
            _TRANSACTIONS,
            {"key": f"bulk-{account.pk}-{start.isoformat()}", "start": start, "step": step, "count": count},
        )
        ids = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            _ENTRIES,
            {
                "ids": ids,
                "settlement": settlement.pk,
                "settlement_balance": balances[settlement.pk],
                "account": account.pk,
                "balance": balances[account.pk],
                "amount": amount_paise,
            },
        )
        last = start + (count - 1) * step
        total = count * amount_paise
        cursor.execute(
            "UPDATE accounts_account SET balance = balance + %s, ledger_version = ledger_version + %s, "
            "posted_until = %s WHERE id = %s",
            [total, count, last, account.pk],
        )
        cursor.execute(
            "UPDATE accounts_account SET balance = balance - %s, ledger_version = ledger_version + %s, "
            "posted_until = GREATEST(posted_until, %s) WHERE id = %s",
            [total, count, last, settlement.pk],
        )
    account.refresh_from_db()
