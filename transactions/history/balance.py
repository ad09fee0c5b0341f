"""An account's balance on any past day, and why it became today's (issue 12, item 8).

`balance_on` reads one row: the account's newest entry dated before the next day begins in India, on the
history index; its `balance_after` is the balance at the end of that day, because an account's history
order is its posting order (transactions/services.py `_posting_time`): the entry last in (created, id)
order is the last one posted, and its balance_after the running balance there.

`balance_explain` lists the entries since that day, newest first, in keyset pages of the history core
(`selectors.history_page` with `HistoryFilter(date_from=day + 1)`), and their sum in one aggregate: the
balance at the end of the day plus that sum is today's balance, exactly, or `BalanceMismatch` is raised.
Every read takes an account already filtered by its owner (`selectors.history_account`).
"""

import datetime
from dataclasses import dataclass, replace

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce

from accounts.models import Account
from transactions.history.cursor import OLDER, Cursor
from transactions.history.filters import HistoryFilter, day_start
from transactions.history.selectors import PAGE_SIZE, HistoryPage, HistoryTotals, bounded_read, history_page
from transactions.models import Entry


class BalanceMismatch(RuntimeError):
    """The ledger does not explain a balance: a bug to look at, never something to show as true."""


def balance_on(*, account: Account, day: datetime.date, upto: Q | None = None) -> int:
    """The account's balance in paise at the end of `day` in India: 0 before its first entry. `upto` bounds
    the entries read (balance_explain: none after the newest entry it read first)."""
    entries = Entry.objects.filter(account=account, created__lt=day_start(day + datetime.timedelta(days=1)))
    found = (
        (entries.filter(upto) if upto is not None else entries)
        .order_by("-created", "-id")
        .values_list("balance_after", flat=True)
        .first()
    )
    return found or 0


@dataclass(frozen=True)
class BalanceExplanation:
    day: datetime.date
    opening: int  # paise: the balance at the end of `day`
    closing: int  # paise: the balance after the newest entry when this was read (today's balance)
    since: HistoryTotals  # the entries after `day` up to that newest entry: how many, debits, credits
    page: HistoryPage  # a page of them, newest first
    filter: HistoryFilter  # what the page's links carry on (entries from the day after `day`)

    @property
    def money_out(self) -> int:
        """The debits since, as a signed amount (negative or 0), for the page's sum."""
        return -self.since.debits

    @property
    def change_size(self) -> int:
        """How far the balance moved since the day, without its sign (the page writes + or −)."""
        return abs(self.since.net)


def balance_explain(
    *, account: Account, day: datetime.date, cursor: Cursor | None = None, size: int = PAGE_SIZE
) -> BalanceExplanation:
    """`_explain` within `selectors.bounded_read` (its sum reads every entry since the day: HistoryTooSlow
    past the limit)."""
    with bounded_read():
        return _explain(account=account, day=day, cursor=cursor, size=size)


def _explain(*, account: Account, day: datetime.date, cursor: Cursor | None, size: int) -> BalanceExplanation:
    """The balance at the end of `day`, today's balance, and the entries between them with their sum.

    All of it is bounded by the account's newest entry as read first: a posting made while this runs is
    dated and numbered after that entry (history order is posting order), so it falls outside both the
    sum and the first page, and `opening + since.net == closing` holds exactly. Four queries: the newest
    entry, the balance on the day, the sum, a page."""
    since = HistoryFilter(date_from=day + datetime.timedelta(days=1))
    entries = Entry.objects.filter(account=account)
    newest = entries.order_by("-created", "-id").only("created", "balance_after").first()
    if newest is None:
        empty = HistoryPage(rows=[], newer=None, older=None)
        return BalanceExplanation(day, 0, 0, HistoryTotals(0, 0, 0), empty, since)
    upto = Q(created__lt=newest.created) | Q(created=newest.created, id__lte=newest.pk)
    # Bounded too: on today, a posting committed since the first read would otherwise count in the opening.
    opening = balance_on(account=account, day=day, upto=upto)
    found = (
        since.apply(Entry.objects.filter(account=account))
        .filter(upto)
        .aggregate(
            count=Count("id"),
            debits=Coalesce(Sum("amount", filter=Q(amount__lt=0)), 0),
            credits=Coalesce(Sum("amount", filter=Q(amount__gt=0)), 0),
        )
    )
    totals = HistoryTotals(count=found["count"], debits=-found["debits"], credits=found["credits"])
    if cursor is None:
        # The first page starts at the newest entry read above (a cursor just past it, going older).
        start = Cursor(created=newest.created, id=newest.pk + 1, direction=OLDER)
        page = replace(history_page(account=account, filter=since, cursor=start, size=size), newer=None)
    else:
        page = history_page(account=account, filter=since, cursor=cursor, size=size)
    explanation = BalanceExplanation(day, opening, newest.balance_after, totals, page, since)
    if opening + totals.net != explanation.closing:
        raise BalanceMismatch(
            f"account {account.pk}: {opening} at the end of {day} + {totals.net} since"
            f" != {explanation.closing}"
        )
    return explanation
