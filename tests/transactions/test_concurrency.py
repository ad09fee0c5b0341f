"""Many postings at once on real PostgreSQL connections: locks in primary-key order keep the books right
and never deadlock."""

import random
import threading
import uuid

import pytest
from django.db import connection

from accounts.models import Account
from tests.conftest import fund
from tests.factories import AccountFactory
from tests.transactions.ledger_checks import assert_books_balance, bank_total
from transactions import services
from transactions.models import Entry, Transaction
from transactions.services import TransferError

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 8
TRANSFERS_PER_THREAD = 50


def _in_threads(count: int, work) -> list[BaseException]:
    """Run work(i) in `count` threads, each on its own database connection; return what they raised."""
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        try:
            work(i)
        except BaseException as exc:  # reported to the test thread
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return errors


def test_it_keeps_the_books_under_concurrent_transfers(alice):
    accounts = [fund(AccountFactory(owner=alice, name=f"Pot {i}"), 2_000_00) for i in range(5)]
    ids = [a.pk for a in accounts]
    customer_total = sum(a.balance for a in accounts)
    transactions_before = Transaction.objects.count()
    successes: list[int] = []
    refusals: list[str] = []
    tally = threading.Lock()
    start = threading.Barrier(THREADS)

    def work(i: int) -> None:
        rng = random.Random(i)
        start.wait()
        for _ in range(TRANSFERS_PER_THREAD):
            source, destination = rng.sample(ids, 2)
            try:
                txn = services.transfer_create(
                    initiator=alice,
                    source=source,
                    destination=destination,
                    amount_paise=rng.randint(1, 1_200_00),
                    description="",
                    idempotency_key=str(uuid.uuid4()),
                )
            except TransferError as exc:
                with tally:
                    refusals.append(exc.code)
            else:
                with tally:
                    successes.append(txn.pk)

    errors = _in_threads(THREADS, work)

    assert errors == []
    assert len(successes) + len(refusals) == THREADS * TRANSFERS_PER_THREAD
    assert set(refusals) <= {"insufficient_funds"}
    assert successes, "no transfer went through: the test proves nothing"
    assert len(set(successes)) == len(successes)
    assert Transaction.objects.count() - transactions_before == len(successes)
    assert Entry.objects.filter(transaction_id__in=successes).count() == 2 * len(successes)
    balances = dict(Account.objects.filter(pk__in=ids).values_list("pk", "balance"))
    assert sum(balances.values()) == customer_total
    assert min(balances.values()) >= 0
    assert bank_total() == 0
    assert_books_balance()


def test_it_lets_only_one_of_many_concurrent_transfers_take_the_whole_balance(alice):
    source = fund(AccountFactory(owner=alice, name="Savings"), 3_000_00)
    destination = AccountFactory(owner=alice, name="Current", kind=Account.Kind.CURRENT)
    successes: list[int] = []
    refusals: list[str] = []
    tally = threading.Lock()
    start = threading.Barrier(10)

    def work(i: int) -> None:
        start.wait()
        try:
            txn = services.transfer_create(
                initiator=alice,
                source=source.pk,
                destination=destination.pk,
                amount_paise=3_000_00,
                description="",
                idempotency_key=f"sweep-{i}",
            )
        except TransferError as exc:
            with tally:
                refusals.append(exc.code)
        else:
            with tally:
                successes.append(txn.pk)

    errors = _in_threads(10, work)

    assert errors == []
    assert len(successes) == 1
    assert refusals == ["insufficient_funds"] * 9
    source.refresh_from_db()
    destination.refresh_from_db()
    assert (source.balance, destination.balance) == (0, 3_000_00)
    assert Transaction.objects.filter(kind=Transaction.Kind.TRANSFER).count() == 1
    assert_books_balance()
