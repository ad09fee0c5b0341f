"""Keyset pages never skip or repeat a row, whatever the data: many entries of one moment (equal timestamps),
any page size, filtered or not; walked older to the end and back newer to the start, through signed cursors
as the page's links carry them. And the running balance beside each row is the sum of the entries up to it."""

import datetime

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Account
from tests.factories import AccountFactory
from tests.transactions.history_helpers import NOW, post
from transactions.history.cursor import Cursor
from transactions.history.filters import CREDIT, DEBIT, HistoryFilter
from transactions.history.selectors import history_page
from transactions.models import Entry

START = NOW - datetime.timedelta(days=30)


@pytest.fixture(autouse=True)
def _pinned_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def _post_all(account: Account, moments: list[int], amounts: list[int]) -> None:
    """A funding credit, then one entry per moment (minutes after START; equal ones share a timestamp),
    in time order, so that the history's order is the ledger's."""
    post(account, START, 1_00_000_00, "Opening")
    for minute, amount in zip(sorted(moments), amounts, strict=True):
        post(account, START + datetime.timedelta(minutes=minute), amount, "Row")


def _walk(account: Account, filter: HistoryFilter, size: int) -> tuple[list[int], list[int]]:
    """Every row's id walking older from the newest page to the last, and newer back to the first."""
    older, pages, cursor = [], [], None
    most = Entry.objects.filter(account=account).count() // size + 2  # a walk that never ends fails
    while True:
        assert len(pages) < most, "the pages do not end"
        page = history_page(account=account, filter=filter, cursor=cursor, size=size)
        pages.append(page)
        older += [e.pk for e in page.rows]
        assert len(page.rows) <= size
        if page.older is None:
            break
        cursor = Cursor.load(page.older.sign(account.pk), account.pk)  # as a link carries it
    newer = [e.pk for e in reversed(pages[-1].rows)]
    page = pages[-1]
    while page.newer is not None:
        most -= 1
        assert most > 0, "the pages do not end"
        page = history_page(
            account=account,
            filter=filter,
            cursor=Cursor.load(page.newer.sign(account.pk), account.pk),
            size=size,
        )
        newer += [e.pk for e in reversed(page.rows)]
    return older, newer[::-1]


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=4), st.integers(min_value=-5_000, max_value=5_000)
        ).filter(lambda row: row[1] != 0),
        min_size=0,
        max_size=40,
    ),
    size=st.integers(min_value=1, max_value=7),
    direction=st.sampled_from([None, DEBIT, CREDIT]),
)
def test_it_never_skips_or_repeats_a_row(alice, rows, size, direction):
    account = AccountFactory(owner=alice)  # every example its own account (they share one database)
    _post_all(account, [m for m, _a in rows], [a for _m, a in rows])
    filter = HistoryFilter(direction=direction)
    expected = list(
        filter.apply(Entry.objects.filter(account=account))
        .order_by("-created", "-id")
        .values_list("pk", flat=True)
    )
    older, newer = _walk(account, filter, size)
    assert older == expected
    assert newer == expected


@pytest.mark.django_db
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=3), st.integers(min_value=-5_000, max_value=5_000)
        ).filter(lambda row: row[1] != 0),
        max_size=30,
    )
)
def test_the_running_balance_is_the_sum_up_to_each_row(alice, rows):
    account = AccountFactory(owner=alice)
    _post_all(account, [m for m, _a in rows], [a for _m, a in rows])
    shown = []
    older, cursor = True, None
    while older:
        page = history_page(account=account, filter=HistoryFilter(), cursor=cursor, size=100)
        shown += page.rows
        older = cursor = page.older
    running = 0
    for entry in reversed(shown):  # oldest first
        running += entry.amount
        assert entry.balance_after == running
    account.refresh_from_db()
    assert shown[0].balance_after == account.balance
