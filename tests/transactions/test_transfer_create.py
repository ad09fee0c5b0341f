import uuid

import pytest

from accounts import internal
from accounts.models import Account
from tests.factories import AccountFactory
from tests.transactions.ledger_checks import assert_books_balance, ledger_state
from transactions import services
from transactions.models import Transaction
from transactions.services import TransferError


def _transfer(initiator, source, destination, amount_paise, *, key=None):
    return services.transfer_create(
        initiator=initiator,
        source=source,
        destination=destination,
        amount_paise=amount_paise,
        description="",
        idempotency_key=key or str(uuid.uuid4()),
    )


def _assert_refused(code, initiator, source, destination, amount_paise):
    before = ledger_state()
    with pytest.raises(TransferError) as excinfo:
        _transfer(initiator, source, destination, amount_paise)
    assert excinfo.value.code == code
    assert excinfo.value.message
    assert ledger_state() == before


def test_it_moves_money_between_own_accounts(alice, alice_savings, alice_current):
    versions = (alice_savings.ledger_version, alice_current.ledger_version)

    txn = _transfer(alice, alice_savings, alice_current, 1_234_56)

    alice_savings.refresh_from_db()
    alice_current.refresh_from_db()
    assert alice_savings.balance == 50_000_00 - 1_234_56
    assert alice_current.balance == 1_234_56
    assert (alice_savings.ledger_version, alice_current.ledger_version) == (versions[0] + 1, versions[1] + 1)

    assert txn.kind == Transaction.Kind.TRANSFER
    assert txn.category_id == "transfers"
    assert txn.initiator == alice
    assert txn.description == "Transfer between own accounts"
    legs = {e.account_id: (e.amount, e.balance_after, e.created) for e in txn.entries.all()}
    assert legs == {
        alice_savings.pk: (-1_234_56, 50_000_00 - 1_234_56, txn.created),
        alice_current.pk: (1_234_56, 1_234_56, txn.created),
    }
    assert sum(amount for amount, _after, _created in legs.values()) == 0
    assert_books_balance()


def test_it_accepts_account_primary_keys(alice, alice_savings, alice_current):
    _transfer(alice, alice_savings.pk, alice_current.pk, 5_00)
    alice_current.refresh_from_db()
    assert alice_current.balance == 5_00


def test_it_keeps_the_description(alice, alice_savings, alice_current):
    txn = services.transfer_create(
        initiator=alice,
        source=alice_savings,
        destination=alice_current,
        amount_paise=1_00,
        description="Rent share",
        idempotency_key="k1",
    )
    assert txn.description == "Rent share"


@pytest.mark.parametrize("amount", [0, -1, -5_00, 1.5, 100.0, True, "100", None])
def test_it_refuses_an_amount_that_is_not_a_positive_int(alice, alice_savings, alice_current, amount):
    _assert_refused("amount_invalid", alice, alice_savings, alice_current, amount)


def test_it_refuses_an_amount_over_the_transfer_limit(alice, alice_savings, alice_current, settings):
    settings.TRANSFER_MAX_PAISE = 10_00
    _assert_refused("amount_over_limit", alice, alice_savings, alice_current, 10_01)
    _transfer(alice, alice_savings, alice_current, 10_00)


def test_it_refuses_the_same_account(alice, alice_savings):
    _assert_refused("same_account", alice, alice_savings, alice_savings, 1_00)
    _assert_refused("same_account", alice, alice_savings, alice_savings.pk, 1_00)


def test_it_refuses_a_source_that_is_not_the_initiators(alice, alice_current, bob_savings):
    _assert_refused("not_owner", alice, bob_savings, alice_current, 1_00)


def test_it_refuses_a_destination_that_is_not_the_initiators(alice, alice_savings, bob_savings):
    _assert_refused("not_owner", alice, alice_savings, bob_savings, 1_00)


def test_it_refuses_another_customer_moving_between_alices_accounts(bob, alice_savings, alice_current):
    _assert_refused("not_owner", bob, alice_savings, alice_current, 1_00)


@pytest.mark.parametrize("number", [internal.SETTLEMENT, internal.INTEREST, internal.FEES])
def test_it_refuses_the_banks_internal_account_as_source(alice, alice_current, number):
    bank = Account.objects.get(number=number)
    _assert_refused("not_owner", alice, bank, alice_current, 1_000_00)
    _assert_refused("not_owner", alice, bank.pk, alice_current, 1_000_00)
    _assert_refused("not_owner", alice, number, alice_current, 1_000_00)


@pytest.mark.parametrize("number", [internal.SETTLEMENT, internal.INTEREST, internal.FEES])
def test_it_refuses_the_banks_internal_account_as_destination(alice, alice_savings, number):
    bank = Account.objects.get(number=number)
    _assert_refused("not_owner", alice, alice_savings, bank, 1_00)
    _assert_refused("not_owner", alice, alice_savings, bank.pk, 1_00)


def test_it_refuses_an_account_that_does_not_exist(alice, alice_savings):
    _assert_refused("no_such_account", alice, alice_savings, 987_654_321, 1_00)


@pytest.mark.parametrize("status", [Account.Status.FROZEN, Account.Status.CLOSED])
def test_it_refuses_a_source_that_is_not_active(alice, alice_savings, alice_current, status):
    Account.objects.filter(pk=alice_savings.pk).update(status=status)
    _assert_refused("account_inactive", alice, alice_savings, alice_current, 1_00)


def test_it_refuses_a_closed_destination(alice, alice_savings, alice_current):
    Account.objects.filter(pk=alice_current.pk).update(status=Account.Status.CLOSED)
    _assert_refused("account_inactive", alice, alice_savings, alice_current, 1_00)


def test_it_refuses_more_than_the_balance(alice, alice_savings, alice_current):
    _assert_refused("insufficient_funds", alice, alice_savings, alice_current, 50_000_01)


def test_it_moves_the_whole_balance(alice, alice_savings, alice_current):
    _transfer(alice, alice_savings, alice_current, 50_000_00)
    alice_savings.refresh_from_db()
    assert alice_savings.balance == 0
    _assert_refused("insufficient_funds", alice, alice_savings, alice_current, 1)


def test_it_allows_an_overdraft_up_to_the_limit_and_not_beyond(alice, alice_savings):
    overdrawn = AccountFactory(owner=alice, kind=Account.Kind.CURRENT, overdraft_limit=1_000_00)

    _transfer(alice, overdrawn, alice_savings, 600_00)
    _transfer(alice, overdrawn, alice_savings, 400_00)
    overdrawn.refresh_from_db()
    assert overdrawn.balance == -1_000_00
    entry = overdrawn.entries.order_by("-id").first()
    assert (entry.amount, entry.balance_after) == (-400_00, -1_000_00)

    _assert_refused("insufficient_funds", alice, overdrawn, alice_savings, 1)
    assert_books_balance()


def test_it_refuses_a_transfer_without_an_idempotency_key(alice, alice_savings, alice_current):
    before = ledger_state()
    with pytest.raises(TransferError) as excinfo:
        services.transfer_create(
            initiator=alice,
            source=alice_savings,
            destination=alice_current,
            amount_paise=1_00,
            description="",
            idempotency_key="",
        )
    assert excinfo.value.code == "no_idempotency_key"
    assert ledger_state() == before
