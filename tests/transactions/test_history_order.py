"""An account's history order (created, id) is its posting order, the order of its entry ids and of their
balance_after, whatever the clocks say (transactions/services.py `_posting_time`, migration 0013)."""

import datetime
import uuid

import pytest
import time_machine
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts import internal
from accounts.models import Account
from portal.seeding.history import posted_at
from tests.conftest import fund
from tests.factories import AccountFactory
from tests.threads import HeldOpen, Worker, wait_until_blocked_by
from tests.transactions.ledger_checks import assert_books_balance
from transactions import services
from transactions.services import TransferError

# A clock reading after every fixture's opening deposit (those are dated by the real clock).
T = (timezone.now() + datetime.timedelta(days=1)).replace(microsecond=0)


def _key() -> str:
    return str(uuid.uuid4())


def _pay(account: Account, paise: int = 1_00, description: str = "Chai") -> object:
    return services.payment_create(
        account=account, amount_paise=paise, description=description, idempotency_key=_key()
    )


def assert_history_is_posting_order(account: Account) -> None:
    """Walking the account's entries in history order: the same rows as in id order, and each balance_after
    is the one before it plus its amount."""
    history = list(account.entries.order_by("created", "id").values_list("id", "amount", "balance_after"))
    assert [row[0] for row in history] == sorted(row[0] for row in history)
    running = 0
    for _pk, amount, balance_after in history:
        running += amount
        assert balance_after == running
    account.refresh_from_db()
    assert account.balance == running
    newest = account.entries.order_by("-created", "-id").first()
    assert account.posted_until == (newest.created if newest else None)


@pytest.mark.django_db(transaction=True)
def test_it_dates_a_posting_that_waited_for_the_lock_after_the_one_that_held_it(alice):
    """Two web hosts: the one whose clock reads later posts first and holds the account's lock; the other
    reads an earlier time, then waits for the lock. Its posting takes the later id, so it must not be dated
    before the first: it is dated at the first one's time, and the history's running balance holds."""
    account = fund(AccountFactory(owner=alice), 100_00)
    with time_machine.travel(T + datetime.timedelta(seconds=5), tick=False):
        first = HeldOpen(lambda: _pay(account, 10_00, "First"))
        first.start_and_wait()
    with time_machine.travel(T, tick=False):
        second = Worker(lambda: _pay(account, 20_00, "Second"))
        second.start()
        wait_until_blocked_by(first.pid, "the second posting")
        first.release()
        first_txn, second_txn = first.outcome(), second.outcome()
    assert first_txn.pk < second_txn.pk
    assert (first_txn.created, second_txn.created) == (T + datetime.timedelta(seconds=5),) * 2
    rows = list(
        account.entries.order_by("-created", "-id").values_list("transaction__description", "balance_after")
    )
    assert rows == [("Second", 70_00), ("First", 90_00), ("Opening deposit", 100_00)]
    assert_history_is_posting_order(account)
    assert_books_balance()


@pytest.mark.django_db
def test_a_posting_on_a_host_whose_clock_is_behind_is_dated_after_the_newest_entry(alice_savings):
    ahead = T + datetime.timedelta(minutes=3)
    with time_machine.travel(ahead, tick=False):
        _pay(alice_savings, description="Ahead")
    with time_machine.travel(T, tick=False):
        behind = _pay(alice_savings, description="Behind")
    assert behind.created == ahead
    assert [e.transaction.description for e in alice_savings.entries.order_by("-created", "-id")][:2] == [
        "Behind",
        "Ahead",
    ]
    assert_history_is_posting_order(alice_savings)


@pytest.mark.django_db
def test_a_loaders_history_before_a_customers_newest_entry_is_refused(alice, alice_savings):
    before = alice_savings.entries.count()
    past = timezone.now() - datetime.timedelta(days=3)
    with pytest.raises(TransferError, match="already has an entry dated") as refused, posted_at(past):
        _pay(alice_savings)
    assert refused.value.code == "history_out_of_order"
    assert alice_savings.entries.count() == before
    # A loader run again replays what it posted before, even into an account that has moved on since.
    fresh = AccountFactory(owner=alice)
    with posted_at(past):
        first = services.deposit_create(
            account=fresh, amount_paise=5_00, description="Cash", idempotency_key="load-1"
        )
    fund(fresh, 1_00)
    with posted_at(past):
        again = services.deposit_create(
            account=fresh, amount_paise=5_00, description="Cash", idempotency_key="load-1"
        )
    assert again.pk == first.pk
    assert_history_is_posting_order(fresh)


steps = st.lists(
    st.tuples(
        st.sampled_from(["transfer", "deposit", "payment", "history"]),
        st.integers(min_value=0, max_value=2),
        st.integers(min_value=0, max_value=2),
        st.integers(min_value=1, max_value=50_00),
        st.integers(min_value=-400 * 86400, max_value=0),  # seconds from now: any order, repeats too
    ),
    min_size=1,
    max_size=20,
)


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=steps)
def test_history_order_keeps_a_running_balance_whatever_the_times(alice, steps):
    """Postings asked for at arbitrary times (a clock that jumps back and forth, a loader's history in any
    order): every customer account's entries in (created, id) order chain their balance_after."""
    accounts = [AccountFactory(owner=alice, overdraft_limit=10_000_00) for _ in range(3)]
    base = timezone.now()
    for kind, source, destination, amount, offset in steps:
        when = base + datetime.timedelta(seconds=offset)
        account = accounts[source]
        try:
            if kind == "history":
                with posted_at(when):
                    services.deposit_create(
                        account=account, amount_paise=amount, description="Old", idempotency_key=_key()
                    )
                continue
            with time_machine.travel(when, tick=False):
                if kind == "transfer" and source != destination:
                    services.transfer_create(
                        initiator=alice,
                        source=account,
                        destination=accounts[destination],
                        amount_paise=amount,
                        description="",
                        idempotency_key=_key(),
                    )
                elif kind == "payment":
                    _pay(account, amount)
                else:
                    services.deposit_create(
                        account=account, amount_paise=amount, description="Cash", idempotency_key=_key()
                    )
        except TransferError as exc:
            assert exc.code == "history_out_of_order"
            assert account.entries.filter(created__gt=when).exists()
    for account in accounts:
        assert_history_is_posting_order(account)


# --- Migration 0013 fills posted_until from the ledger -----------------------------------------------------

BEFORE = [("accounts", "0008_settlement_shards"), ("transactions", "0012_transfer_limits_sent_today")]


def _migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def _latest() -> list[tuple[str, str]]:
    """Every app's newest migration: going back to BEFORE also unapplies the apps that depend on those
    migrations (insights), which every later test needs back."""
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_the_migration_fills_each_accounts_newest_time_from_its_history(alice):
    with_history, without = AccountFactory(owner=alice), AccountFactory(owner=alice)
    settlement = Account.objects.get(number=internal.settlement_for(with_history.pk))
    latest = _latest()
    _migrate(BEFORE)
    try:
        times = [T, T + datetime.timedelta(hours=2), T + datetime.timedelta(hours=1)]  # one backdated
        with transaction.atomic(), connection.cursor() as cursor:
            balance = 0
            for i, when in enumerate(times):
                balance += 10_00
                cursor.execute(
                    "INSERT INTO transactions_transaction (kind, description, counterparty, idempotency_key,"
                    " created) VALUES ('deposit', 'Cash', '', %s, %s) RETURNING id",
                    [f"old-{i}", when],
                )
                txn_id = cursor.fetchone()[0]
                cursor.execute(
                    "INSERT INTO transactions_entry"
                    " (transaction_id, account_id, amount, balance_after, created)"
                    " VALUES (%s, %s, 1000, %s, %s), (%s, %s, -1000, %s, %s)",
                    [txn_id, with_history.pk, balance, when, txn_id, settlement.pk, -balance, when],
                )
            cursor.execute(
                "UPDATE accounts_account SET balance = CASE id WHEN %s THEN %s ELSE %s END,"
                " ledger_version = ledger_version + 3 WHERE id IN (%s, %s)",
                [with_history.pk, balance, -balance, with_history.pk, settlement.pk],
            )
    finally:
        _migrate(latest)
    with_history.refresh_from_db()
    without.refresh_from_db()
    settlement.refresh_from_db()
    # The newest time of each, read from the history index: the latest, not the last posted.
    assert with_history.posted_until == settlement.posted_until == T + datetime.timedelta(hours=2)
    assert without.posted_until is None
    # The next posting is dated after it, and PostgreSQL accepts the account's state.
    with time_machine.travel(T + datetime.timedelta(hours=1), tick=False):
        txn = _pay(with_history)
    assert txn.created == T + datetime.timedelta(hours=2)
    with_history.refresh_from_db()
    assert with_history.posted_until == T + datetime.timedelta(hours=2)
