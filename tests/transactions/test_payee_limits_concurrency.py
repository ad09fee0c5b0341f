"""Two transfers to payees at once, from two accounts of one customer, that fit the daily limit only one at
a time: exactly one goes through (the customer's limits row is locked while each checks and posts). The same
whether the limit is the bank's (set by staff) or one the customer set lower: both are read from the row
the transfer locks, and a change of limits locks it too.

Pinned to noon in India with the clock running (threads and PostgreSQL's lock waits need it to move): at
the wall clock's time, two transfers either side of IST midnight would fall on two days and both pass."""

import datetime
import threading
import uuid

import pytest
import time_machine
from django.db import connection

from tests.conftest import fund
from tests.factories import AccountFactory, PayeeFactory
from tests.transactions.ledger_checks import assert_books_balance
from transactions import services
from transactions.models import Transaction, TransferLimits
from transactions.services import TransferError

pytestmark = pytest.mark.django_db(transaction=True)

NOON = datetime.datetime(2026, 12, 5, 6, 30, tzinfo=datetime.UTC)  # 12:00 PM in India


@pytest.fixture(autouse=True)
def _noon_in_india():
    with time_machine.travel(NOON, tick=True):
        yield


@pytest.mark.parametrize("round_", range(3))
@pytest.mark.parametrize("whose", ["banks", "own"])
def test_only_one_of_two_concurrent_transfers_fits_the_daily_limit(alice, round_, whose):
    if whose == "banks":
        TransferLimits.objects.create(user=alice, daily_paise=1_000_00)
    else:
        services.transfer_limits_set(user=alice, daily_paise=1_000_00, per_transfer_paise=None)
    sources = [fund(AccountFactory(owner=alice, name=f"Pot {i}"), 5_000_00) for i in range(2)]
    payees = [PayeeFactory(owner=alice, name=f"Payee {i}") for i in range(2)]
    start = threading.Barrier(2)
    outcomes: list[str] = []
    tally = threading.Lock()

    def work(i: int) -> None:
        try:
            start.wait()
            services.payee_transfer_create(
                initiator=alice,
                source=sources[i],
                payee=payees[i],
                amount_paise=600_00,
                description="",
                idempotency_key=uuid.uuid4().hex,
            )
            result = "sent"
        except TransferError as error:
            result = error.code
        finally:
            connection.close()
        with tally:
            outcomes.append(result)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["daily_limit", "sent"]
    assert Transaction.objects.filter(kind=Transaction.Kind.OUTWARD).count() == 1
    assert_books_balance()


@pytest.mark.parametrize("limit_left", ["room", "no_room"])
def test_a_resubmit_that_waited_for_the_first_lands_on_it_and_counts_once(alice, limit_left):
    """A double submit whose second request waits for the limits row while the first commits: the second's
    one statement (lock, running total, key) began before the first committed, so it cannot see the first's
    transaction; the posting's unique key then finds it, and the second returns it and rolls its running
    total back. With no room left under the daily limit after the first, the second's check refuses, and
    the refusal still looks for the key first: the receipt, not "limit reached"."""
    from tests.threads import HeldOpen, Worker, wait_until_blocked_by

    TransferLimits.objects.create(user=alice, daily_paise=1_000_00 if limit_left == "no_room" else 5_000_00)
    source = fund(AccountFactory(owner=alice), 5_000_00)
    payee = PayeeFactory(owner=alice)

    def send() -> Transaction:
        return services.payee_transfer_create(
            initiator=alice,
            source=source,
            payee=payee,
            amount_paise=600_00,
            description="",
            idempotency_key="k",
        )

    first = HeldOpen(send)
    first.start_and_wait()
    second = Worker(send)
    second.start()
    wait_until_blocked_by(first.pid, "the resubmit")
    first.release()
    made = first.outcome()
    assert second.outcome().pk == made.pk
    assert Transaction.objects.filter(idempotency_key="k").count() == 1
    assert TransferLimits.objects.get(user=alice).sent_paise == 600_00
    source.refresh_from_db()
    assert source.balance == 5_000_00 - 600_00
    assert_books_balance()
