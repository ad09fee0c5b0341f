import threading

import pytest
from django.db import connection

from accounts import internal
from accounts.models import Account
from tests.conftest import fund
from tests.factories import AccountFactory
from tests.transactions.ledger_checks import assert_books_balance, ledger_state
from transactions import services
from transactions.models import Transaction
from transactions.services import TransferError


def _transfer(initiator, source, destination, amount_paise, key):
    return services.transfer_create(
        initiator=initiator,
        source=source,
        destination=destination,
        amount_paise=amount_paise,
        description="",
        idempotency_key=key,
    )


def _balance(account: Account) -> int:
    return Account.objects.get(pk=account.pk).balance


def test_it_returns_the_first_transaction_on_a_replay(alice, alice_savings, alice_current):
    first = _transfer(alice, alice_savings, alice_current, 700_00, "form-1")
    after_first = ledger_state()

    again = _transfer(alice, alice_savings, alice_current, 700_00, "form-1")

    assert again.pk == first.pk
    assert ledger_state() == after_first
    assert _balance(alice_current) == 700_00
    assert _balance(alice_savings) == 50_000_00 - 700_00


def test_it_refuses_the_same_key_with_another_amount(alice, alice_savings, alice_current):
    _transfer(alice, alice_savings, alice_current, 700_00, "form-1")
    before = ledger_state()

    with pytest.raises(TransferError) as excinfo:
        _transfer(alice, alice_savings, alice_current, 800_00, "form-1")

    assert excinfo.value.code == "idempotency_conflict"
    assert ledger_state() == before


def test_it_refuses_the_same_key_with_another_destination(alice, alice_savings, alice_current):
    other = AccountFactory(owner=alice, name="Holiday")
    _transfer(alice, alice_savings, alice_current, 700_00, "form-1")
    before = ledger_state()

    with pytest.raises(TransferError) as excinfo:
        _transfer(alice, alice_savings, other, 700_00, "form-1")

    assert excinfo.value.code == "idempotency_conflict"
    assert ledger_state() == before


def test_it_refuses_the_same_key_with_the_direction_reversed(alice, alice_savings, alice_current):
    fund(alice_current, 1_000_00)
    _transfer(alice, alice_savings, alice_current, 700_00, "form-1")
    before = ledger_state()

    with pytest.raises(TransferError) as excinfo:
        _transfer(alice, alice_current, alice_savings, 700_00, "form-1")

    assert excinfo.value.code == "idempotency_conflict"
    assert ledger_state() == before


def test_it_keeps_keys_apart_per_initiator(alice, bob, alice_savings, alice_current, bob_savings):
    bob_current = AccountFactory(owner=bob, name="Current", kind=Account.Kind.CURRENT)

    mine = _transfer(alice, alice_savings, alice_current, 1_00, "form-1")
    theirs = _transfer(bob, bob_savings, bob_current, 2_00, "form-1")

    assert mine.pk != theirs.pk
    assert _balance(bob_current) == 2_00


def test_it_makes_system_postings_idempotent(alice_current):
    shard = internal.settlement_for(alice_current.pk)
    settlement_before = Account.objects.get(number=shard).balance

    first = services.deposit_create(
        account=alice_current, amount_paise=25_000_00, description="Salary", idempotency_key="neft-42"
    )
    after_first = ledger_state()
    again = services.deposit_create(
        account=alice_current, amount_paise=25_000_00, description="Salary", idempotency_key="neft-42"
    )

    assert again.pk == first.pk
    assert first.initiator is None
    assert ledger_state() == after_first
    assert _balance(alice_current) == 25_000_00
    assert Account.objects.get(number=shard).balance == settlement_before - 25_000_00


def test_it_refuses_a_system_posting_key_reused_for_another_amount(alice_current):
    services.deposit_create(
        account=alice_current, amount_paise=25_000_00, description="Salary", idempotency_key="neft-42"
    )
    before = ledger_state()

    with pytest.raises(TransferError) as excinfo:
        services.deposit_create(
            account=alice_current, amount_paise=26_000_00, description="Salary", idempotency_key="neft-42"
        )

    assert excinfo.value.code == "idempotency_conflict"
    assert ledger_state() == before


def _race(callers):
    """Run each caller in its own thread with its own database connection, started together. Returns
    one (result, error) pair per caller, in order."""
    barrier = threading.Barrier(len(callers))
    outcomes: list[tuple[object, BaseException | None]] = [(None, None)] * len(callers)

    def run(i, call):
        try:
            barrier.wait()
            outcomes[i] = (call(), None)
        except BaseException as exc:  # reported to the test thread
            outcomes[i] = (None, exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_it_moves_money_once_for_two_concurrent_submits_with_one_key(alice):
    savings = fund(AccountFactory(owner=alice, name="Savings"), 10_000_00)
    current = AccountFactory(owner=alice, name="Current", kind=Account.Kind.CURRENT)

    for round_ in range(5):
        key = f"double-click-{round_}"
        outcomes = _race([lambda key=key: _transfer(alice, savings.pk, current.pk, 1_000_00, key)] * 2)

        assert [error for _txn, error in outcomes] == [None, None]
        ids = {txn.pk for txn, _error in outcomes}
        assert len(ids) == 1
        assert Transaction.objects.filter(initiator=alice, idempotency_key=key).count() == 1

    assert _balance(current) == 5 * 1_000_00
    assert _balance(savings) == 10_000_00 - 5 * 1_000_00
    assert Transaction.objects.filter(initiator=alice).count() == 5
    assert_books_balance()


@pytest.mark.django_db(transaction=True)
def test_it_moves_money_once_for_concurrent_conflicting_submits_with_one_key(alice):
    """Disjoint accounts, so neither caller waits on the other's row locks: the unique constraint is what
    decides, and the loser must see an idempotency conflict, not a database error."""
    accounts = [fund(AccountFactory(owner=alice), 1_000_00) for _ in range(4)]

    for round_ in range(5):
        key = f"tampered-{round_}"
        outcomes = _race(
            [
                lambda key=key: _transfer(alice, accounts[0].pk, accounts[1].pk, 10_00, key),
                lambda key=key: _transfer(alice, accounts[2].pk, accounts[3].pk, 10_00, key),
            ]
        )

        successes = [txn for txn, error in outcomes if error is None]
        errors = [error for _txn, error in outcomes if error is not None]
        assert len(successes) == 1
        assert [(type(e), e.code) for e in errors] == [(TransferError, "idempotency_conflict")]
        assert Transaction.objects.filter(initiator=alice, idempotency_key=key).count() == 1

    assert Transaction.objects.filter(initiator=alice).count() == 5
    assert sum(_balance(a) for a in accounts) == 4 * 1_000_00
    assert_books_balance()
