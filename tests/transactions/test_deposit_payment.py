import uuid

import pytest

from accounts import internal
from accounts.models import Account
from tests.factories import AccountFactory
from tests.transactions.ledger_checks import assert_books_balance, bank_total, ledger_state
from transactions import services
from transactions.models import Transaction
from transactions.services import TransferError


def _key() -> str:
    return str(uuid.uuid4())


def _balance(ref: Account | str) -> int:
    if isinstance(ref, Account):
        return Account.objects.get(pk=ref.pk).balance
    return Account.objects.get(number=ref).balance


def _legs(txn: Transaction) -> dict[str, int]:
    return dict(txn.entries.values_list("account__number", "amount"))


@pytest.fixture
def account(alice) -> Account:
    return AccountFactory(owner=alice)


def test_it_deposits_through_the_settlement_account(account):
    shard = internal.settlement_for(account.pk)
    settlement = _balance(shard)

    txn = services.deposit_create(
        account=account,
        amount_paise=25_000_00,
        description="Salary March",
        idempotency_key=_key(),
        kind=Transaction.Kind.SALARY,
        counterparty="Infosys Ltd",
        category="salary",
    )

    assert _balance(account) == 25_000_00
    assert _balance(shard) == settlement - 25_000_00
    assert _legs(txn) == {account.number: 25_000_00, shard: -25_000_00}
    assert (txn.kind, txn.counterparty, txn.category_id, txn.initiator) == (
        "salary",
        "Infosys Ltd",
        "salary",
        None,
    )
    assert bank_total() == 0
    assert_books_balance()


def test_it_pays_out_through_the_settlement_account(account):
    services.deposit_create(
        account=account, amount_paise=1_000_00, description="Cash", idempotency_key=_key()
    )
    shard = internal.settlement_for(account.pk)
    settlement = _balance(shard)

    txn = services.payment_create(
        account=account,
        amount_paise=349_50,
        description="Groceries",
        idempotency_key=_key(),
        counterparty="BigBasket",
        category="groceries",
    )

    assert _balance(account) == 1_000_00 - 349_50
    assert _balance(shard) == settlement + 349_50
    assert _legs(txn) == {account.number: -349_50, shard: 349_50}
    assert txn.kind == Transaction.Kind.UPI
    entry = txn.entries.get(account=account)
    assert entry.balance_after == 1_000_00 - 349_50
    assert bank_total() == 0
    assert_books_balance()


def test_it_credits_interest_from_the_interest_account(account):
    interest = _balance(internal.INTEREST)

    txn = services.interest_credit(account=account, amount_paise=12_34, idempotency_key=_key())

    assert _balance(account) == 12_34
    assert _balance(internal.INTEREST) == interest - 12_34
    assert _legs(txn) == {account.number: 12_34, internal.INTEREST: -12_34}
    assert (txn.kind, txn.category_id) == (Transaction.Kind.INTEREST, "interest")
    assert bank_total() == 0
    assert_books_balance()


def test_it_charges_a_fee_into_the_fees_account(account):
    services.deposit_create(account=account, amount_paise=500_00, description="Cash", idempotency_key=_key())
    fees = _balance(internal.FEES)

    txn = services.fee_charge(
        account=account, amount_paise=59_00, description="SMS alerts", idempotency_key=_key()
    )

    assert _balance(account) == 500_00 - 59_00
    assert _balance(internal.FEES) == fees + 59_00
    assert _legs(txn) == {account.number: -59_00, internal.FEES: 59_00}
    assert txn.kind == Transaction.Kind.FEE
    assert bank_total() == 0
    assert_books_balance()


def test_it_refuses_a_payment_beyond_the_balance(account):
    services.deposit_create(account=account, amount_paise=100_00, description="Cash", idempotency_key=_key())
    before = ledger_state()

    with pytest.raises(TransferError) as excinfo:
        services.payment_create(
            account=account, amount_paise=100_01, description="TV", idempotency_key=_key()
        )

    assert excinfo.value.code == "insufficient_funds"
    assert ledger_state() == before


def test_it_refuses_a_fee_beyond_the_balance(account):
    before = ledger_state()
    with pytest.raises(TransferError) as excinfo:
        services.fee_charge(account=account, amount_paise=1, description="Fee", idempotency_key=_key())
    assert excinfo.value.code == "insufficient_funds"
    assert ledger_state() == before


def test_it_refuses_a_deposit_into_a_closed_account(alice):
    closed = AccountFactory(owner=alice, status=Account.Status.CLOSED)
    before = ledger_state()
    with pytest.raises(TransferError) as excinfo:
        services.deposit_create(account=closed, amount_paise=1_00, description="Cash", idempotency_key=_key())
    assert excinfo.value.code == "account_inactive"
    assert ledger_state() == before


def test_it_refuses_a_payment_from_a_frozen_account(alice):
    frozen = AccountFactory(owner=alice)
    services.deposit_create(account=frozen, amount_paise=100_00, description="Cash", idempotency_key=_key())
    Account.objects.filter(pk=frozen.pk).update(status=Account.Status.FROZEN)
    before = ledger_state()
    with pytest.raises(TransferError) as excinfo:
        services.payment_create(account=frozen, amount_paise=1_00, description="Tea", idempotency_key=_key())
    assert excinfo.value.code == "account_inactive"
    assert ledger_state() == before


POSTINGS = {
    "deposit": lambda account, amount: services.deposit_create(
        account=account, amount_paise=amount, description="Cash", idempotency_key=_key()
    ),
    "payment": lambda account, amount: services.payment_create(
        account=account, amount_paise=amount, description="Tea", idempotency_key=_key()
    ),
    "interest": lambda account, amount: services.interest_credit(
        account=account, amount_paise=amount, idempotency_key=_key()
    ),
    "fee": lambda account, amount: services.fee_charge(
        account=account, amount_paise=amount, description="Fee", idempotency_key=_key()
    ),
}


@pytest.mark.parametrize("posting", POSTINGS)
@pytest.mark.parametrize("amount", [0, -1, -100_00, 1.5, True])
def test_it_refuses_an_amount_that_is_not_a_positive_int(account, posting, amount):
    """A negative amount would turn a deposit into a withdrawal, or a payment into free money."""
    services.deposit_create(
        account=account, amount_paise=1_000_00, description="Cash", idempotency_key=_key()
    )
    before = ledger_state()
    with pytest.raises(TransferError) as excinfo:
        POSTINGS[posting](account, amount)
    assert excinfo.value.code == "amount_invalid"
    assert ledger_state() == before


def test_it_refuses_a_deposit_into_the_settlement_account_itself(db):
    """Named once by number and once as an object, the two legs would collapse into one."""
    settlement = Account.objects.get(number=internal.SETTLEMENT)
    before = ledger_state()
    with pytest.raises(TransferError) as excinfo:
        services.deposit_create(
            account=settlement, amount_paise=1_00, description="Loop", idempotency_key=_key()
        )
    assert excinfo.value.code == "same_account"
    assert ledger_state() == before
