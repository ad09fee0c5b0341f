"""Reads of statements, every one filtered by the customer, and the ledger's view of a period."""

import datetime
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import connection
from django.db.models import QuerySet

from accounts.models import Account, User
from transactions.history.filters import day_start
from transactions.statements.models import Receipt, Statement

LIST_LIMIT = 50  # the statements page shows a customer's most recent ones


def statements_for(*, user: User) -> QuerySet[Statement]:
    """The user's statements, newest period first (any account of theirs, closed ones included)."""
    return (
        Statement.objects.filter(account__owner=user).select_related("account").order_by("-first_day", "-id")
    )


def statement_for(*, user: User, statement_id: int) -> Statement | None:
    """The user's statement `statement_id`, or None if there is none of theirs with that id."""
    return statements_for(user=user).filter(pk=statement_id).first()


def statement_by_checksum(checksum: str) -> Statement | None:
    """The statement whose PDF or CSV has this SHA-256 (lower-case hex), or None."""
    checksum = checksum.strip().lower()
    found = Statement.objects.select_related("account").filter(pdf_sha256=checksum).first()
    return found or Statement.objects.select_related("account").filter(csv_sha256=checksum).first()


def receipt_by_checksum(checksum: str) -> Receipt | None:
    """The receipt whose printed checksum (the SHA-256 of its data) or whose file has this SHA-256
    (hex, any case), with its transaction and account; None if there is none."""
    checksum = checksum.strip().lower()
    found = Receipt.objects.select_related("transaction", "account")
    return found.filter(data_sha256=checksum).first() or found.filter(pdf_sha256=checksum).first()


@dataclass(frozen=True)
class Summary:
    """What the ledger says of an account over a period: the balance before its first day and after its last,
    the sums of credits and debits (debits positive) and the number of entries."""

    opening: int
    closing: int
    credits: int
    debits: int
    count: int


def _bounds(first_day: datetime.date, last_day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The period as [start, end): midnight in India of its first day, and of the day after its last."""
    return day_start(first_day), day_start(last_day + datetime.timedelta(days=1))


_SUMMARY = """
SELECT
  COALESCE((SELECT balance_after FROM transactions_entry
             WHERE account_id = %(account)s AND created < %(start)s
             ORDER BY created DESC, id DESC LIMIT 1), 0),
  (SELECT balance_after FROM transactions_entry
    WHERE account_id = %(account)s AND created < %(end)s
    ORDER BY created DESC, id DESC LIMIT 1),
  COALESCE(SUM(amount) FILTER (WHERE amount > 0), 0),
  COALESCE(-SUM(amount) FILTER (WHERE amount < 0), 0),
  COUNT(*)
FROM transactions_entry
WHERE account_id = %(account)s AND created >= %(start)s AND created < %(end)s
"""


def summary(account: Account, first_day: datetime.date, last_day: datetime.date) -> Summary:
    """One query on the history index. Opening and closing are the `balance_after` of the last entry before
    the period and of its last entry (history order: time, then id, which is posting order), 0 before an
    account's first entry."""
    start, end = _bounds(first_day, last_day)
    with connection.cursor() as cursor:
        cursor.execute(_SUMMARY, {"account": account.pk, "start": start, "end": end})
        opening, closing, credits, debits, count = cursor.fetchone()
    return Summary(
        opening=int(opening),
        closing=int(opening if closing is None else closing),
        credits=int(credits),
        debits=int(debits),
        count=int(count),
    )


@dataclass(frozen=True)
class Row:
    """One line of a statement: the entry's time (aware), the transaction's reference, its description and
    counterparty as the holder sees them, the signed amount in paise and the balance after it."""

    when: datetime.datetime
    reference: str
    description: str
    counterparty: str
    amount: int
    balance: int


CHUNK = 2000
_ROWS = """
SELECT e.created, e.id, e.transaction_id, t.description, COALESCE(NULLIF(e.counterparty, ''), t.counterparty),
       e.amount, e.balance_after
  FROM transactions_entry e JOIN transactions_transaction t ON t.id = e.transaction_id
 WHERE e.account_id = %s AND e.created < %s AND {after}
 ORDER BY e.created, e.id
 LIMIT {chunk}
"""


def rows(account: Account, first_day: datetime.date, last_day: datetime.date) -> Iterator[Row]:
    """The period's entries, oldest first, in constant memory: `CHUNK` rows a query, each after the last by
    (time, id) on the history index. No long transaction: the task's progress commits as it goes. A period
    that ended yesterday never changes (a posting is never dated before an account's newest entry)."""
    start, end = _bounds(first_day, last_day)
    after, params = "e.created >= %s", [start]
    while True:
        with connection.cursor() as cursor:
            cursor.execute(_ROWS.format(after=after, chunk=CHUNK), [account.pk, end, *params])
            batch = cursor.fetchall()
        for created, _id, txn, description, counterparty, amount, balance in batch:
            yield Row(created, f"SB{txn:010d}", description, counterparty or "", amount, balance)
        if len(batch) < CHUNK:
            return
        after, params = "(e.created, e.id) > (%s, %s)", [batch[-1][0], batch[-1][1]]
