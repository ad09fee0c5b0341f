"""Reads for the accounts app. Every selector takes the user and filters by it."""

from django.db.models import QuerySet

from accounts.models import Account, User


def account_list(*, user: User) -> QuerySet[Account]:
    """The customer's accounts, open ones first in the order they were opened."""
    return Account.objects.filter(owner=user).exclude(status=Account.Status.CLOSED).order_by("id")


def account_fingerprint(*, accounts: list[Account]) -> str:
    """Changes whenever anything shown about these accounts changes: a posting bumps ledger_version, and
    staff edits change name, status or limit. A cache key for fragments drawn from them."""
    return ";".join(f"{a.pk}.{a.ledger_version}.{a.status}.{a.overdraft_limit}.{a.name}" for a in accounts)
