"""Only the loaders may backdate a posting: no ledger service takes a time, and `posted_at` (the loaders'
door, portal/seeding/history.py) dates postings through the same `_post` core."""

import datetime
import inspect
import uuid

import pytest
import time_machine
from django.utils import timezone

from accounts import internal
from portal.seeding.history import HistoryError, posted_at
from tests.factories import AccountFactory
from tests.transactions.ledger_checks import assert_books_balance
from transactions import services
from transactions.models import Transaction

WHEN = datetime.datetime(2025, 3, 31, 18, 30, tzinfo=datetime.UTC)
NOW = datetime.datetime(2026, 3, 5, 6, 0, tzinfo=datetime.UTC)

PUBLIC_SERVICES = [
    function
    for name, function in inspect.getmembers(services, inspect.isfunction)
    if not name.startswith("_") and function.__module__ == services.__name__
]


def _key() -> str:
    return str(uuid.uuid4())


def test_it_finds_the_services_a_view_can_reach():
    names = {function.__name__ for function in PUBLIC_SERVICES}
    assert {"transfer_create", "deposit_create", "payment_create", "interest_credit", "fee_charge"} <= names


@pytest.mark.parametrize("service", PUBLIC_SERVICES, ids=lambda function: function.__name__)
def test_no_public_service_takes_a_time(service):
    assert not {"created", "when", "posted_at", "at"} & set(inspect.signature(service).parameters)


def test_a_service_called_with_created_is_refused_and_moves_nothing(alice, alice_savings, alice_current):
    before = Transaction.objects.count()
    with pytest.raises(TypeError, match="created"):
        services.transfer_create(
            initiator=alice,
            source=alice_savings,
            destination=alice_current,
            amount_paise=1_00,
            description="",
            idempotency_key=_key(),
            created=WHEN,
        )
    with pytest.raises(TypeError, match="created"):
        services.deposit_create(
            account=alice_savings, amount_paise=1_00, description="x", idempotency_key=_key(), created=WHEN
        )
    assert Transaction.objects.count() == before


def test_posted_at_dates_the_transaction_and_its_entries(alice):
    alice_savings = AccountFactory(owner=alice)  # no entries yet: history may start at any past time
    with posted_at(WHEN):
        posted = [
            services.deposit_create(
                account=alice_savings, amount_paise=1_000_00, description="Cash", idempotency_key=_key()
            ),
            services.payment_create(
                account=alice_savings, amount_paise=1_00, description="Tea", idempotency_key=_key()
            ),
            services.interest_credit(account=alice_savings, amount_paise=1_00, idempotency_key=_key()),
            services.fee_charge(
                account=alice_savings, amount_paise=1_00, description="Fee", idempotency_key=_key()
            ),
        ]
    for txn in posted:
        txn = Transaction.objects.get(pk=txn.pk)
        assert txn.created == WHEN
        assert set(txn.entries.values_list("created", flat=True)) == {WHEN}
    assert_books_balance()


@time_machine.travel(NOW, tick=False)
def test_postings_outside_the_block_are_dated_now_even_after_an_error(alice):
    alice_savings = AccountFactory(owner=alice)  # no entry dated after the travelled clock's now
    with pytest.raises(services.TransferError), posted_at(WHEN):
        services.payment_create(
            account=internal.SETTLEMENT, amount_paise=1_00, description="x", idempotency_key=_key()
        )
    txn = services.deposit_create(
        account=alice_savings, amount_paise=1_00, description="x", idempotency_key=_key()
    )
    assert Transaction.objects.get(pk=txn.pk).created == NOW == timezone.now()


@time_machine.travel(NOW, tick=False)
def test_posted_at_refuses_the_future_and_a_time_without_a_zone():
    with pytest.raises(HistoryError, match="future"), posted_at(NOW + datetime.timedelta(seconds=1)):
        pass
    with pytest.raises(HistoryError, match="time zone"), posted_at(datetime.datetime(2025, 1, 1)):  # noqa: DTZ001
        pass
    assert services._history_time.get() is None
