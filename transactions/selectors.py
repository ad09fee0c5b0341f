"""Reads of the ledger for views. Every selector takes the user and filters by it."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import OuterRef, Prefetch, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Account, Payee, User
from accounts.selectors import account_list
from portal.db import fetch_model_lists, fetch_models
from transactions import limits
from transactions.models import Entry, Transaction, TransferLimits

# Last N entries of each account in one index-only walk per account (PostgreSQL LATERAL join):
# the cost does not grow with the length of an account's history.
_RECENT_LATERAL = """
SELECT e.id, e.transaction_id, e.account_id, e.amount, e.balance_after, e.created,
       t.kind AS txn_kind, t.description AS txn_description,
       COALESCE(NULLIF(e.counterparty, ''), t.counterparty) AS txn_counterparty,
       t.category_id AS txn_category
  FROM unnest(%s::bigint[]) AS a(id)
  CROSS JOIN LATERAL (
        SELECT * FROM transactions_entry e
         WHERE e.account_id = a.id
         ORDER BY e.created DESC, e.id DESC
         LIMIT %s
  ) e
  JOIN transactions_transaction t ON t.id = e.transaction_id
 ORDER BY e.account_id, e.created DESC, e.id DESC
"""


def recent_entries(*, accounts: Sequence[Account], per_account: int = 5) -> dict[int, list[Entry]]:
    """The newest entries of each of the given (already owner-filtered) accounts, keyed by account id.

    Entries carry txn_kind, txn_description, txn_counterparty and txn_category from their transaction
    (txn_counterparty: the entry's own counterparty if it has one, such as the payer on a payee's credit).
    """
    ids = [a.pk for a in accounts]
    found: dict[int, list[Entry]] = defaultdict(list)
    if not ids:
        return found
    if connection.vendor == "postgresql":
        rows = Entry.objects.raw(_RECENT_LATERAL, [ids, per_account])
    else:  # The embedded SQLite default has no LATERAL: one small query per account.
        rows = [
            entry
            for account_id in ids
            for entry in Entry.objects.filter(account_id=account_id)
            .select_related("transaction")
            .order_by("-created", "-id")[:per_account]
        ]
    for entry in rows:
        if not hasattr(entry, "txn_kind"):
            txn = entry.transaction
            entry.txn_kind, entry.txn_description = txn.kind, txn.description
            entry.txn_counterparty = entry.counterparty or txn.counterparty
            entry.txn_category = txn.category_id
        entry.txn_kind_label = Transaction.Kind(entry.txn_kind).label
        found[entry.account_id].append(entry)
    return found


def transfer_get(*, user: User, pk: int) -> Transaction | None:
    """A transfer the user made (between their accounts, to a payee, out to another bank), with its entries
    and their accounts, its payee and its outward payment; None if it is not theirs."""
    kinds = (Transaction.Kind.TRANSFER, Transaction.Kind.PAYEE, Transaction.Kind.OUTWARD)
    return (
        Transaction.objects.filter(pk=pk, initiator=user, kind__in=kinds)
        .select_related("category", "payee", "outward_payment")
        .prefetch_related(
            Prefetch("entries", queryset=Entry.objects.select_related("account").order_by("amount"))
        )
        .first()
    )


def transaction_by_key(*, user: User, idempotency_key: str) -> Transaction | None:
    found = Transaction.objects.filter(initiator=user, idempotency_key=idempotency_key)
    return found.only("id", "created").first()


def transfer_same_since(
    *,
    user: User,
    source: Account,
    destination: Account,
    amount_paise: int,
    since: datetime,
    other_than_key: str,
) -> Transaction | None:
    """The user's latest transfer of `amount_paise` from `source` to `destination` made at or after `since`
    under another idempotency key than `other_than_key` (a second identical transfer a few minutes later is
    asked about: is it meant? The same key is the same transfer again). Walks the destination's history
    index from `since`."""
    return (
        Transaction.objects.exclude(idempotency_key=other_than_key)
        .filter(
            kind=Transaction.Kind.TRANSFER,
            initiator=user,
            entries__account=destination,
            entries__amount=amount_paise,
            entries__created__gte=since,
        )
        .filter(entries__account=source)
        .order_by("-created", "-id")
        .only("id", "created")
        .first()
    )


@dataclass(frozen=True)
class LimitsSummary:
    """A customer's limits on money sent to others at one moment, as the limits page and the security page
    show them (paise). `own` is what the customer set (None: none of their own); `pending` a raise still
    waiting, applying from `pending_from`."""

    bank_daily_paise: int
    bank_per_transfer_paise: int
    own: limits.OwnLimits
    daily_paise: int
    per_transfer_paise: int
    sent_today_paise: int
    pending: limits.OwnLimits | None
    pending_from: datetime | None

    @property
    def left_today_paise(self) -> int:
        return max(self.daily_paise - self.sent_today_paise, 0)


def transfer_limits_get(*, user: User, now: datetime | None = None) -> LimitsSummary:
    """The customer's limits in force `now` (default: now), what is left of today's, and a pending raise.
    One query (the limits row joined to the user, today's sum a subquery); makes no row (a customer without
    one has the bank's defaults)."""
    now = now or timezone.now()
    sent = (
        Entry.objects.filter(
            transaction__initiator=OuterRef("pk"),
            transaction__kind__in=limits.TO_OTHERS,
            transaction__created__gte=limits.day_start(now),
            amount__lt=0,
        )
        .order_by()
        .values("transaction__initiator")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    found = (
        User.objects.select_related("transfer_limits")
        .annotate(sent=Coalesce(Subquery(sent), 0))
        .only("pk", "transfer_limits")
        .get(pk=user.pk)
    )
    row = getattr(found, "transfer_limits", None) or TransferLimits(user=user)
    waiting = limits.pending_raise(row, now)
    return LimitsSummary(
        bank_daily_paise=limits.bank_daily_limit(row),
        bank_per_transfer_paise=limits.bank_per_transfer_limit(row),
        own=limits.own_limits(row, now),
        daily_paise=limits.daily_limit(row, now),
        per_transfer_paise=limits.per_transfer_limit(row, now),
        sent_today_paise=-found.sent,
        pending=waiting[0] if waiting else None,
        pending_from=waiting[1] if waiting else None,
    )


def transfer_payee_list(*, user: User) -> list[Payee]:
    """The customer's payees that are not removed, by name (the transfer form's To; one query, through
    `portal.db.fetch_models` on the hot path of a payee transfer)."""
    found = fetch_models(Payee, "owner_id = %s AND removed_at IS NULL", [user.pk], "name, id")
    if found is None:  # not PostgreSQL
        found = list(Payee.objects.filter(owner=user, removed_at__isnull=True).order_by("name", "id"))
    return found


def transfer_choices(*, user: User) -> tuple[list[Account], list[Payee]]:
    """What the transfer form offers, when a payee was chosen: the customer's accounts (`account_list`) and
    payees (`transfer_payee_list`), read in one round trip on PostgreSQL (portal/db.py)."""
    found = fetch_model_lists(
        [
            (Account, "owner_id = %s AND status <> %s", [user.pk, Account.Status.CLOSED], "id"),
            (Payee, "owner_id = %s AND removed_at IS NULL", [user.pk], "name, id"),
        ]
    )
    if found is None:  # not PostgreSQL
        return list(account_list(user=user)), transfer_payee_list(user=user)
    accounts, payees = found
    return accounts, payees


def payee_transfer_same_since(
    *, user: User, source: Account, payee: Payee, amount_paise: int, since: datetime, other_than_key: str
) -> Transaction | None:
    """As `transfer_same_since`, for a transfer to a payee (index transaction_payee)."""
    return (
        Transaction.objects.exclude(idempotency_key=other_than_key)
        .filter(
            payee=payee,
            initiator=user,
            created__gte=since,
            entries__account=source,
            entries__amount=-amount_paise,
        )
        .order_by("-created", "-id")
        .only("id", "created")
        .first()
    )
