"""Settlement spread over shards (accounts/internal.py): a customer account's external postings go through
one shard chosen from its primary key, different customers spread over all of them, and postings on
different shards do not wait for each other, while the books and the bank's settlement position stay
exact. Concurrency on real PostgreSQL connections, one per thread."""

import collections
import random
import threading
import uuid
from collections.abc import Callable

import pytest
from django.db.models import Sum
from django.test import override_settings

from accounts import internal
from accounts.models import Account
from accounts.selectors import settlement_position
from tests.conftest import fund
from tests.factories import AccountFactory, PayeeFactory
from tests.threads import WAIT, HeldOpen, Worker, wait_until_blocked_by
from tests.transactions.ledger_checks import assert_books_balance, bank_total
from transactions import services
from transactions.models import Transaction
from transactions.services import TransferError


def _key() -> str:
    return str(uuid.uuid4())


@pytest.fixture(autouse=True)
def _sixteen_shards(settings) -> None:
    settings.SETTLEMENT_SHARDS = 16


# --- Choosing a shard -------------------------------------------------------------------------------------


def test_it_numbers_the_shards_from_the_old_settlement_account():
    assert internal.settlement_number(0) == internal.SETTLEMENT == "900000000001"
    assert internal.settlement_number(3) == "900000100003"
    assert internal.settlement_numbers() == [internal.settlement_number(k) for k in range(16)]
    assert internal.settlement_numbers(1) == [internal.SETTLEMENT]
    for k in [0, 1, 15, 16, 99_999]:
        assert internal.settlement_shard_of(internal.settlement_number(k)) == k
    for number in [internal.INTEREST, internal.FEES, "900000100000", "9000001000031", "90000010000x", "1"]:
        assert internal.settlement_shard_of(number) is None
    with pytest.raises(ValueError, match="no settlement shard"):
        internal.settlement_number(100_000)


def test_it_chooses_the_same_shard_for_an_account_every_time():
    choices = {pk: internal.settlement_shard(pk) for pk in range(1, 500)}
    assert all(internal.settlement_shard(pk) == shard for pk, shard in choices.items())
    assert all(0 <= shard < 16 for shard in choices.values())
    assert internal.settlement_for(42) == internal.settlement_number(internal.settlement_shard(42))


@pytest.mark.parametrize("step", [1, 2, 16])
def test_it_spreads_accounts_over_every_shard(step):
    """Consecutive primary keys, every other one (a customer's savings and current) and every 16th alike."""
    counts = collections.Counter(internal.settlement_shard(pk) for pk in range(1, 3_200 * step, step))
    assert set(counts) == set(range(16))
    assert min(counts.values()) > 200 * 0.6
    assert max(counts.values()) < 200 * 1.4


def test_it_uses_shard_0_alone_with_one_shard(settings):
    settings.SETTLEMENT_SHARDS = 1
    assert {internal.settlement_for(pk) for pk in range(1, 200)} == {internal.SETTLEMENT}


# --- The shard accounts and the bank's position -------------------------------------------------------------


def test_the_migrations_made_the_shards(db):
    shards = Account.objects.filter(number__in=internal.settlement_numbers()).order_by("number")
    assert [(a.number, a.name, a.kind, a.owner_id) for a in shards] == [
        (
            internal.settlement_number(k),
            f"Settlement {k:02d} (money in and out of the bank)",
            "internal",
            None,
        )
        for k in range(16)
    ]


def test_it_creates_the_shards_of_a_raised_setting_and_keeps_those_of_a_lowered_one(db, settings):
    settings.SETTLEMENT_SHARDS = 20
    internal.ensure_internal_accounts(Account)
    assert Account.objects.filter(number=internal.settlement_number(19)).exists()
    account = AccountFactory()
    services.deposit_create(account=account, amount_paise=7_00, description="Cash", idempotency_key=_key())

    settings.SETTLEMENT_SHARDS = 4
    internal.ensure_internal_accounts(Account)
    assert Account.objects.filter(number=internal.settlement_number(19)).exists()  # never removed
    position = settlement_position()
    assert [s.shard for s in position.shards] == list(range(20))
    assert [s.shard for s in position.shards if s.chosen] == [0, 1, 2, 3]
    assert position.total == -7_00  # the old deposit counts, wherever it settled
    services.payment_create(account=account, amount_paise=7_00, description="Back", idempotency_key=_key())
    assert settlement_position().total == 0
    assert bank_total() == 0


def test_the_position_is_the_sum_over_the_shards(alice, bob):
    accounts = [fund(AccountFactory(owner=owner), 1_000_00) for owner in (alice, bob) for _ in range(6)]
    for account in accounts[:4]:
        services.payment_create(
            account=account, amount_paise=250_00, description="Rent", idempotency_key=_key()
        )
    position = settlement_position()
    customers = Account.objects.exclude(kind=Account.Kind.INTERNAL).aggregate(total=Sum("balance"))["total"]
    assert position.total == -customers == -(12 * 1_000_00 - 4 * 250_00)
    assert position.total == sum(s.balance for s in position.shards)
    used = {internal.settlement_for(a.pk) for a in accounts}
    assert {s.number for s in position.shards if s.balance} == used
    assert bank_total() == 0


# --- Postings through the shards ----------------------------------------------------------------------------


def test_it_posts_an_account_through_its_shard_however_it_is_named(alice):
    account = AccountFactory(owner=alice)
    shard = internal.settlement_for(account.pk)
    by_object = services.deposit_create(
        account=account, amount_paise=5_00, description="a", idempotency_key=_key()
    )
    by_pk = services.payment_create(
        account=account.pk, amount_paise=2_00, description="b", idempotency_key=_key()
    )
    for txn in (by_object, by_pk):
        assert set(txn.entries.values_list("account__number", flat=True)) == {account.number, shard}
    assert Account.objects.get(number=shard).balance == -3_00
    assert_books_balance()


@pytest.mark.parametrize("shard", [0, 5])
def test_it_refuses_a_deposit_into_a_settlement_shard_itself(db, shard):
    number = internal.settlement_number(shard)
    for ref in (number, Account.objects.get(number=number)):
        with pytest.raises(TransferError) as excinfo:
            services.deposit_create(
                account=ref, amount_paise=1_00, description="Loop", idempotency_key=_key()
            )
        assert excinfo.value.code == "same_account"
    assert not Transaction.objects.exists()


# --- Retries across a change of SETTLEMENT_SHARDS -----------------------------------------------------------


def _account_off_shard_0(owner) -> Account:
    """A funded account whose shard, of 16, is not shard 0 (which one shard would choose)."""
    while (
        internal.settlement_for((account := fund(AccountFactory(owner=owner), 5_000_00)).pk)
        == internal.SETTLEMENT
    ):
        pass
    return account


def test_a_deposit_retried_after_the_shards_changed_is_the_same_deposit(alice, django_assert_max_num_queries):
    """The retry's settlement leg is another shard now: the customer leg and the settlement side as a whole
    are what it asked for, so it returns the first deposit (another amount is still refused)."""
    account = _account_off_shard_0(alice)
    first = services.deposit_create(
        account=account, amount_paise=7_00, description="Cash", idempotency_key="d-1"
    )
    with override_settings(SETTLEMENT_SHARDS=1):
        assert internal.settlement_for(account.pk) == internal.SETTLEMENT
        with django_assert_max_num_queries(6):  # as before the shards: no query added
            again = services.deposit_create(
                account=account, amount_paise=7_00, description="Cash", idempotency_key="d-1"
            )
        assert again.pk == first.pk
        with pytest.raises(TransferError) as excinfo:
            services.deposit_create(
                account=account, amount_paise=8_00, description="Cash", idempotency_key="d-1"
            )
        assert excinfo.value.code == "idempotency_conflict"
    account.refresh_from_db()
    assert account.balance == 5_000_00 + 7_00
    assert Transaction.objects.filter(idempotency_key="d-1").count() == 1
    assert_books_balance()


def test_a_payment_to_another_bank_retried_after_the_shards_changed_is_paid_once(alice):
    account = _account_off_shard_0(alice)
    payee = PayeeFactory(owner=alice)
    request = {
        "initiator": alice,
        "source": account,
        "payee": payee,
        "amount_paise": 250_00,
        "description": "",
        "idempotency_key": "o-1",
    }
    first = services.payee_transfer_create(**request)
    assert first.kind == Transaction.Kind.OUTWARD
    with override_settings(SETTLEMENT_SHARDS=1):
        assert services.payee_transfer_replay(**request).pk == first.pk
        assert services.payee_transfer_create(**request).pk == first.pk
        for other in ({"amount_paise": 251_00}, {"description": "Rent"}):
            with pytest.raises(TransferError) as excinfo:
                services.payee_transfer_create(**{**request, **other})
            assert excinfo.value.code == "idempotency_conflict"
    account.refresh_from_db()
    assert account.balance == 5_000_00 - 250_00
    assert Transaction.objects.filter(kind=Transaction.Kind.OUTWARD).count() == 1
    assert_books_balance()


# --- Concurrency --------------------------------------------------------------------------------------------


def _customer_accounts(count: int) -> list[Account]:
    """`count` funded accounts of as many customers (funded outside the threads)."""
    return [fund(AccountFactory(), 1_000_00) for _ in range(count)]


def _pair(accounts: list[Account], *, same_shard: bool) -> tuple[Account, Account]:
    for i, a in enumerate(accounts):
        for b in accounts[i + 1 :]:
            if (internal.settlement_for(a.pk) == internal.settlement_for(b.pk)) == same_shard:
                return a, b
    raise AssertionError("no such pair")  # 17 accounts on 16 shards always hold both kinds


def _deposit(account: Account) -> Callable[[], Transaction]:
    return lambda: services.deposit_create(
        account=account, amount_paise=1_00, description="Salary", idempotency_key=_key()
    )


def _payment(account: Account) -> Callable[[], Transaction]:
    return lambda: services.payment_create(
        account=account, amount_paise=1_00, description="UPI", idempotency_key=_key()
    )


@pytest.mark.django_db(transaction=True)
def test_postings_on_different_shards_do_not_wait_for_each_other():
    a, b = _pair(_customer_accounts(17), same_shard=False)
    held = HeldOpen(_deposit(a))
    held.start_and_wait()
    other = Worker(_payment(b))
    other.start()
    try:
        other.join(WAIT)
        assert not other.is_alive(), "the posting on another shard waited for the held one"
        txn = other.outcome()
        assert Transaction.objects.filter(pk=txn.pk).exists()  # committed while the first is still open
        assert held.is_alive()
        assert Account.objects.get(pk=a.pk).balance == 1_000_00  # the held deposit is not in yet
    finally:
        held.release()
    held.outcome()
    assert (Account.objects.get(pk=a.pk).balance, Account.objects.get(pk=b.pk).balance) == (1_001_00, 999_00)
    assert_books_balance()


@pytest.mark.django_db(transaction=True)
def test_postings_on_one_shard_wait_for_each_other():
    a, b = _pair(_customer_accounts(17), same_shard=True)
    held = HeldOpen(_deposit(a))
    held.start_and_wait()
    other = Worker(_payment(b))
    other.start()
    try:
        # On the shard's row: the two customers share nothing else.
        wait_until_blocked_by(held.pid, "the second posting")
        assert other.is_alive()
    finally:
        held.release()
    held.outcome()
    other.outcome()
    assert (Account.objects.get(pk=a.pk).balance, Account.objects.get(pk=b.pk).balance) == (1_001_00, 999_00)
    assert_books_balance()


@pytest.mark.django_db(transaction=True)
def test_it_keeps_the_books_under_a_concurrent_mix_across_shards(alice):
    accounts = [fund(AccountFactory(owner=alice), 500_00) for _ in range(10)]
    assert len({internal.settlement_for(a.pk) for a in accounts}) > 1
    threads, per_thread = 6, 40
    start = threading.Barrier(threads)
    refusals: list[str] = []
    tally = threading.Lock()

    def work(seed: int) -> Callable[[], None]:
        def run() -> None:
            rng = random.Random(seed)
            start.wait(WAIT)
            for _ in range(per_thread):
                account = rng.choice(accounts)
                roll = rng.random()
                try:
                    if roll < 0.4:
                        services.deposit_create(
                            account=account.pk,
                            amount_paise=rng.randint(1, 300_00),
                            description="Salary",
                            idempotency_key=_key(),
                        )
                    elif roll < 0.8:
                        services.payment_create(
                            account=account,
                            amount_paise=rng.randint(1, 300_00),
                            description="Card",
                            idempotency_key=_key(),
                        )
                    else:
                        source, destination = rng.sample(accounts, 2)
                        services.transfer_create(
                            initiator=alice,
                            source=source.pk,
                            destination=destination.pk,
                            amount_paise=rng.randint(1, 100_00),
                            description="",
                            idempotency_key=_key(),
                        )
                except TransferError as exc:
                    with tally:
                        refusals.append(exc.code)

        return run

    workers = [Worker(work(seed)) for seed in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.outcome()

    assert set(refusals) <= {"insufficient_funds"}
    assert_books_balance()  # every balance the sum of its entries, every chain, the bank's total zero
    customers = Account.objects.exclude(kind=Account.Kind.INTERNAL).aggregate(total=Sum("balance"))["total"]
    assert settlement_position().total == -customers
    assert not Account.objects.exclude(kind=Account.Kind.INTERNAL).filter(balance__lt=0).exists()
