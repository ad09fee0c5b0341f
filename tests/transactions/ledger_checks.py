"""Assertions about the whole ledger that several test modules share."""

from dataclasses import dataclass

from django.db.models import Sum

from accounts.models import Account
from transactions.models import Entry, Transaction


@dataclass(frozen=True)
class LedgerState:
    transactions: int
    entries: int
    balances: dict[int, int]
    versions: dict[int, int]


def ledger_state() -> LedgerState:
    """Everything a refused posting must leave untouched."""
    return LedgerState(
        transactions=Transaction.objects.count(),
        entries=Entry.objects.count(),
        balances=dict(Account.objects.values_list("pk", "balance")),
        versions=dict(Account.objects.values_list("pk", "ledger_version")),
    )


def bank_total() -> int:
    return Account.objects.aggregate(total=Sum("balance"))["total"] or 0


def assert_books_balance() -> None:
    """Reconciliation in miniature: the bank's total is zero, every transaction sums to zero with two or
    more legs, every account's balance is the sum of its entries, and each account's balance_after chain
    follows its entries in order."""
    assert bank_total() == 0
    unbalanced = Transaction.objects.annotate(total=Sum("entries__amount")).exclude(total=0)
    assert list(unbalanced.values_list("pk", "total")) == []
    for account in Account.objects.all():
        running = 0
        for amount, balance_after in account.entries.order_by("id").values_list("amount", "balance_after"):
            running += amount
            assert balance_after == running, f"balance_after chain broken on {account.number}"
        assert account.balance == running, f"balance of {account.number} is not the sum of its entries"
