"""Reads whose cost grows with what they match (a filter's totals; the balance on a day and why) stop after
HISTORY_READ_TIMEOUT_MS in PostgreSQL and say so: never a worker held for seconds, never a 500. Made slow here
for real: another session holds the ledger's entries locked, and the read waits for it past its limit."""

import datetime
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from django.db import connection
from django.urls import reverse

from tests.factories import AccountFactory
from tests.transactions.history_helpers import history_url, post

pytestmark = pytest.mark.django_db(transaction=True)


@contextmanager
def entries_locked() -> Iterator[None]:
    with psycopg.connect(**connection.get_connection_params()) as other:
        other.execute("LOCK TABLE transactions_entry IN ACCESS EXCLUSIVE MODE")
        try:
            yield
        finally:
            other.rollback()


@pytest.fixture
def account(alice):
    account = AccountFactory(owner=alice)
    post(
        account, datetime.datetime(2026, 3, 1, 12, tzinfo=datetime.UTC), 1_000_00, "Salary", category="salary"
    )
    return account


def test_totals_that_take_too_long_are_a_message(client, alice, account, settings):
    settings.HISTORY_READ_TIMEOUT_MS = 300
    client.force_login(alice)
    url = history_url(account, category="salary", totals="1")
    with entries_locked():
        response = client.get(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Too many transactions match to add them up at once" in response.content.decode()
    # Nothing is held: the next request adds them up.
    assert "<strong>1</strong> transaction" in client.get(url, HTTP_HX_REQUEST="true").content.decode()


def test_a_balance_that_takes_too_long_to_explain_is_a_message(client, alice, account, settings):
    settings.HISTORY_READ_TIMEOUT_MS = 300
    client.force_login(alice)
    url = reverse("history_balance", args=[account.pk])
    with entries_locked():
        response = client.get(url, {"on": "2026-02-28"})
    assert response.status_code == 200
    assert "too many transactions since that day to add up at once" in response.content.decode()
    assert "Why your balance is" in client.get(url, {"on": "2026-02-28"}).content.decode()


@pytest.mark.django_db(transaction=False)
def test_inside_a_callers_transaction_its_own_limit_is_put_back(account, settings):
    """A savepoint does not end a local setting: without putting it back, every later statement of the
    caller's transaction would run under the history's 3 s limit."""
    from django.db import transaction

    from transactions.history.filters import HistoryFilter
    from transactions.history.selectors import history_totals

    settings.HISTORY_READ_TIMEOUT_MS = 1234
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = '7s'")
        assert history_totals(account=account, filter=HistoryFilter(categories=("salary",))).count == 1
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "7s"
