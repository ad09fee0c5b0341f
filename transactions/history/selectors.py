"""Reads of one account's history. Every read starts from `history_account`, which filters by owner.

Pages are keyset pages on (created, id), newest first, on the index `entry_account_history`: a page costs
the same at the newest row and 500,000 rows back; nothing counts or skips the whole history.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import Count, F, Prefetch, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, NullIf
from psycopg.errors import QueryCanceled

from accounts.models import Account, User
from transactions.categories import CATEGORIES
from transactions.history.cursor import NEWER, OLDER, Cursor
from transactions.history.filters import OTHER, HistoryFilter, effective_category
from transactions.models import Entry, Transaction

PAGE_SIZE = 25
OTHER_NAME = CATEGORIES[OTHER]
PAGE_SIZE_MAX = 100


def history_account(*, user: User, account_id: int) -> Account | None:
    """The user's account `account_id` (any status: a closed account's history stays readable), or None if
    it is not theirs."""
    return Account.objects.filter(pk=account_id, owner=user).first()


def history_entries(*, account: Account, filter: HistoryFilter) -> QuerySet[Entry]:
    """The account's entries that `filter` lets through, newest first, each with its transaction's
    description and kind, the category its holder sees (`txn_category`, `txn_category_name`: their own, else
    the bank's, else Other; filters.effective_category) and the counterparty its holder dealt with
    (`txn_counterparty`). One query; iterate it with `.iterator()` for an export of any length."""
    entries = Entry.objects.filter(account=account)
    return (
        filter.apply(entries)
        .annotate(
            txn_kind=F("transaction__kind"),
            txn_description=F("transaction__description"),
            txn_counterparty=Coalesce(NullIf("counterparty", Value("")), "transaction__counterparty"),
            txn_category=effective_category(),
            # The same order as effective_category: a customer's annotation always has a category.
            txn_category_name=Coalesce(
                "customer_category__category__name", "transaction__category__name", Value(OTHER_NAME)
            ),
        )
        .order_by("-created", "-id")
    )


@dataclass(frozen=True)
class HistoryPage:
    rows: list[Entry]
    newer: Cursor | None  # the link to the page before this one (newer rows); None on the newest page
    older: Cursor | None  # the link to the next page (older rows); None on the oldest page


def keyset_after(cursor: Cursor) -> Q:
    """Rows after the cursor's row in its direction. `created` alone bounds the index scan; the id breaks
    ties between rows of one moment."""
    if cursor.direction == OLDER:
        return Q(created__lte=cursor.created) & (Q(created__lt=cursor.created) | Q(id__lt=cursor.id))
    return Q(created__gte=cursor.created) & (Q(created__gt=cursor.created) | Q(id__gt=cursor.id))


def history_page(
    *, account: Account, filter: HistoryFilter, cursor: Cursor | None = None, size: int = PAGE_SIZE
) -> HistoryPage:
    """One page of `size` rows from `cursor` (None: the newest page). One query: size + 1 rows tell
    whether there is a page beyond. A page reached going newer always has an older page (where it came
    from); one reached going older always has a newer one."""
    size = max(1, min(size, PAGE_SIZE_MAX))
    entries = history_entries(account=account, filter=filter)
    if cursor is None:
        rows = list(entries[: size + 1])
        more = len(rows) > size
        rows = rows[:size]
        return HistoryPage(rows=rows, newer=None, older=_cursor(rows[-1], OLDER) if more else None)
    if cursor.direction == OLDER:
        rows = list(entries.filter(keyset_after(cursor))[: size + 1])
        more = len(rows) > size
        rows = rows[:size]
        newer = _cursor(rows[0], NEWER) if rows else None
        return HistoryPage(rows=rows, newer=newer, older=_cursor(rows[-1], OLDER) if more else None)
    rows = list(entries.filter(keyset_after(cursor)).order_by("created", "id")[: size + 1])
    more = len(rows) > size
    rows = rows[:size][::-1]
    older = _cursor(rows[-1], OLDER) if rows else None
    return HistoryPage(rows=rows, newer=_cursor(rows[0], NEWER) if more else None, older=older)


def _cursor(entry: Entry, direction: str) -> Cursor:
    return Cursor(created=entry.created, id=entry.pk, direction=direction)


@dataclass(frozen=True)
class HistoryTotals:
    count: int
    debits: int  # paise, a positive number: the sum of the debits' sizes
    credits: int  # paise

    @property
    def net(self) -> int:
        return self.credits - self.debits


class HistoryTooSlow(Exception):
    """A read that grows with what it matches took longer than `settings.HISTORY_READ_TIMEOUT_MS`."""


@contextmanager
def bounded_read() -> Iterator[None]:
    """Reads inside stop after `HISTORY_READ_TIMEOUT_MS` in PostgreSQL (HistoryTooSlow): a sum over a whole
    1M-entry history must not hold a worker and a connection for seconds, however often it is asked.

    The limit is set for the block's own transaction. Inside a caller's transaction it is a savepoint, which
    does not end a local setting: the caller's limit is put back when the block succeeds (when it fails, the
    savepoint's rollback undoes the setting)."""
    if connection.vendor != "postgresql":
        yield
        return
    nested = connection.in_atomic_block
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                timeout = f"{settings.HISTORY_READ_TIMEOUT_MS}ms"
                cursor.execute(
                    "SELECT current_setting('statement_timeout'), set_config('statement_timeout', %s, true)",
                    [timeout],
                )
                previous = cursor.fetchone()[0]
            yield
            if nested:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT set_config('statement_timeout', %s, true)", [previous])
    except OperationalError as error:
        if isinstance(error.__cause__, QueryCanceled):
            raise HistoryTooSlow from error
        raise


def history_totals(*, account: Account, filter: HistoryFilter) -> HistoryTotals:
    """How many entries `filter` lets through and their sums, in one SQL aggregate (bounded_read)."""
    with bounded_read():
        found = filter.apply(Entry.objects.filter(account=account)).aggregate(
            count=Count("id"),
            debits=Coalesce(Sum("amount", filter=Q(amount__lt=0)), 0),
            credits=Coalesce(Sum("amount", filter=Q(amount__gt=0)), 0),
        )
    return HistoryTotals(count=found["count"], debits=-found["debits"], credits=found["credits"])


def history_transaction(*, user: User, account: Account, transaction_id: int) -> Transaction | None:
    """Transaction `transaction_id` if it has an entry on `account` (one of the user's), with its category and
    only the entries on the user's own accounts (`own_entries`, each with its account): never the other
    side's account when money came from or went to another customer. Each entry comes with the customer's
    own category of it, if any (`customer_category`, its category and rule). None if it did not touch
    `account`."""
    own = (
        Entry.objects.filter(account__owner=user)
        .select_related("account", "customer_category__category", "customer_category__rule")
        .order_by("amount", "id")
    )
    return (
        Transaction.objects.filter(pk=transaction_id, entries__account=account)
        .select_related("category")
        .prefetch_related(Prefetch("entries", queryset=own, to_attr="own_entries"))
        .first()
    )
