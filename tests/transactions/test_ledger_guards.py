"""PostgreSQL keeps the ledger's rules even when Python does not: raw SQL, bypassing the services, must be
refused. The deferred triggers fire only at a real COMMIT, hence transaction=True."""

import datetime
import uuid

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts import internal
from accounts.models import Account
from tests.conftest import fund
from tests.factories import AccountFactory
from tests.transactions.ledger_checks import assert_books_balance, ledger_state
from transactions import services
from transactions.models import Entry, Transaction

pytestmark = pytest.mark.django_db(transaction=True)


def _insert_transaction(cursor, *, key: str, initiator_id: int | None = None) -> int:
    cursor.execute(
        "INSERT INTO transactions_transaction"
        " (kind, description, counterparty, initiator_id, idempotency_key, created)"
        " VALUES ('transfer', 'raw', '', %s, %s, %s) RETURNING id",
        [initiator_id, key, timezone.now()],
    )
    return cursor.fetchone()[0]


def _insert_entry(cursor, *, txn_id: int, account_id: int, amount: int) -> None:
    cursor.execute(
        "INSERT INTO transactions_entry (transaction_id, account_id, amount, balance_after, created)"
        " VALUES (%s, %s, %s, 0, %s)",
        [txn_id, account_id, amount, timezone.now()],
    )


def _commit_raw(legs: list[tuple[int, int]], key: str) -> None:
    """Insert one transaction with the given (account id, amount) legs in its own database transaction."""
    with transaction.atomic(), connection.cursor() as cursor:
        txn_id = _insert_transaction(cursor, key=key)
        for account_id, amount in legs:
            _insert_entry(cursor, txn_id=txn_id, account_id=account_id, amount=amount)


def _assert_refused_at_commit(legs: list[tuple[int, int]], key: str) -> None:
    inserted = False
    with pytest.raises(IntegrityError, match="ledger: "), transaction.atomic(), connection.cursor() as cursor:
        txn_id = _insert_transaction(cursor, key=key)
        for account_id, amount in legs:
            _insert_entry(cursor, txn_id=txn_id, account_id=account_id, amount=amount)
        inserted = True  # every statement went through: only the COMMIT can refuse it
    assert inserted
    assert not Transaction.objects.filter(idempotency_key=key).exists()
    assert not Entry.objects.filter(transaction__idempotency_key=key).exists()


@pytest.fixture
def two_accounts(alice) -> tuple[Account, Account]:
    return fund(AccountFactory(owner=alice), 1_000_00), AccountFactory(owner=alice)


def test_it_commits_a_balanced_transaction_written_in_sql(two_accounts):
    a, b = two_accounts
    _commit_raw([(a.pk, -5_00), (b.pk, 5_00)], "raw-balanced")
    assert Entry.objects.filter(transaction__idempotency_key="raw-balanced").count() == 2


def test_it_refuses_an_unbalanced_transaction_at_commit(two_accounts):
    a, b = two_accounts
    _assert_refused_at_commit([(a.pk, -5_00), (b.pk, 4_99)], "raw-unbalanced")


def test_it_refuses_an_unbalanced_transaction_with_three_legs_at_commit(two_accounts):
    a, b = two_accounts
    settlement = Account.objects.get(number=internal.SETTLEMENT)
    _assert_refused_at_commit([(a.pk, -5_00), (b.pk, 3_00), (settlement.pk, 1_00)], "raw-three")


def test_it_refuses_a_transaction_with_a_single_entry_at_commit(two_accounts):
    a, _b = two_accounts
    _assert_refused_at_commit([(a.pk, 5_00)], "raw-single")


def test_it_refuses_a_transaction_without_entries_at_commit(two_accounts):
    _assert_refused_at_commit([], "raw-empty")


def test_it_refuses_entries_added_to_a_committed_transaction_that_unbalance_it(two_accounts):
    a, b = two_accounts
    _commit_raw([(a.pk, -5_00), (b.pk, 5_00)], "raw-balanced")
    txn = Transaction.objects.get(idempotency_key="raw-balanced")
    settlement = Account.objects.get(number=internal.SETTLEMENT)

    with pytest.raises(IntegrityError, match="ledger: "), transaction.atomic(), connection.cursor() as cursor:
        _insert_entry(cursor, txn_id=txn.pk, account_id=settlement.pk, amount=1_00)

    assert txn.entries.count() == 2


@pytest.fixture
def posted(alice) -> Transaction:
    account = AccountFactory(owner=alice)
    return services.deposit_create(
        account=account, amount_paise=100_00, description="Cash", idempotency_key=str(uuid.uuid4())
    )


def _assert_statement_refused(sql: str, params: list) -> None:
    with (
        pytest.raises(IntegrityError, match="not allowed"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, params)


def _entry_rows(txn: Transaction) -> list[tuple]:
    return list(txn.entries.order_by("id").values_list("id", "account_id", "amount", "balance_after"))


def test_it_refuses_an_update_of_an_entry(posted):
    rows = _entry_rows(posted)
    _assert_statement_refused("UPDATE transactions_entry SET amount = amount * 2 WHERE id = %s", [rows[0][0]])
    _assert_statement_refused(
        "UPDATE transactions_entry SET balance_after = 0 WHERE transaction_id = %s", [posted.pk]
    )
    assert _entry_rows(posted) == rows


def test_it_refuses_a_delete_of_an_entry(posted):
    rows = _entry_rows(posted)
    _assert_statement_refused("DELETE FROM transactions_entry WHERE id = %s", [rows[0][0]])
    _assert_statement_refused("DELETE FROM transactions_entry WHERE transaction_id = %s", [posted.pk])
    assert _entry_rows(posted) == rows
    assert_books_balance()


def test_it_refuses_an_update_of_a_transaction(posted):
    _assert_statement_refused(
        "UPDATE transactions_transaction SET description = 'edited' WHERE id = %s", [posted.pk]
    )
    assert Transaction.objects.get(pk=posted.pk).description == "Cash"


def test_it_refuses_a_delete_of_a_transaction(posted):
    _assert_statement_refused("DELETE FROM transactions_transaction WHERE id = %s", [posted.pk])
    assert Transaction.objects.filter(pk=posted.pk).exists()
    assert posted.entries.count() == 2


def test_it_refuses_a_customer_balance_below_the_overdraft_limit(alice):
    account = AccountFactory(owner=alice, kind=Account.Kind.CURRENT, overdraft_limit=500_00)
    services.payment_create(account=account, amount_paise=500_00, description="Rent", idempotency_key="rent")
    account.refresh_from_db()
    assert account.balance == -500_00

    with (
        pytest.raises(IntegrityError, match="account_balance_within_overdraft"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE accounts_account SET balance = %s WHERE id = %s", [-500_01, account.pk])

    account.refresh_from_db()
    assert account.balance == -500_00


def test_it_refuses_a_negative_balance_without_an_overdraft(alice):
    account = AccountFactory(owner=alice)
    with (
        pytest.raises(IntegrityError, match="account_balance_within_overdraft"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE accounts_account SET balance = -1 WHERE id = %s", [account.pk])
    account.refresh_from_db()
    assert account.balance == 0


def test_it_lets_an_internal_account_go_negative():
    # The CHECK lets the statement through; the balance trigger would refuse the commit (no entries say
    # so), hence the rollback.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE accounts_account SET balance = %s WHERE number = %s", [-(10**15), internal.SETTLEMENT]
        )
        assert Account.objects.get(number=internal.SETTLEMENT).balance == -(10**15)
        transaction.set_rollback(True)


# --- A balance that disagrees with the ledger (migration 0005) --------------------------------------------


def _assert_balance_refused(sql: str, params: list, match: str = "ledger: the balance of account") -> None:
    """The statement goes through; its COMMIT is refused."""
    executed = False
    with pytest.raises(IntegrityError, match=match), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        executed = True
    assert executed


def test_it_refuses_a_balance_set_in_sql_at_commit(alice_savings):
    before = ledger_state()
    for sql, params in [
        ("UPDATE accounts_account SET balance = balance + 1 WHERE id = %s", [alice_savings.pk]),
        ("UPDATE accounts_account SET balance = 0 WHERE id = %s", [alice_savings.pk]),
        (
            "UPDATE accounts_account SET balance = balance - 100, ledger_version = ledger_version + 1"
            " WHERE number = %s",
            [internal.SETTLEMENT],
        ),
    ]:
        _assert_balance_refused(sql, params)
    # In autocommit too: the statement's own commit is refused.
    with pytest.raises(IntegrityError, match="ledger: the balance of account"), connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_account SET balance = 1 WHERE id = %s", [alice_savings.pk])
    assert ledger_state() == before
    assert_books_balance()


def test_it_refuses_a_ledger_version_that_goes_back(alice_savings):
    assert alice_savings.ledger_version == 1
    _assert_balance_refused(
        "UPDATE accounts_account SET ledger_version = 0 WHERE id = %s", [alice_savings.pk], match="go back"
    )
    alice_savings.refresh_from_db()
    assert alice_savings.ledger_version == 1


def test_it_refuses_an_account_opened_with_money_but_no_entries(alice):
    with pytest.raises(IntegrityError, match="entries leave it at 0"), transaction.atomic():
        AccountFactory(owner=alice, balance=1_000_00)
    assert not Account.objects.filter(owner=alice).exists()
    AccountFactory(owner=alice)  # at zero it opens


def test_it_refuses_a_whole_row_save_of_an_account_read_before_a_posting(alice_savings):
    stale = Account.objects.get(pk=alice_savings.pk)
    fund(alice_savings, 1_00)
    stale.name = "Renamed"
    with pytest.raises(IntegrityError, match="ledger: "), transaction.atomic():
        stale.save()  # every column, the balance and ledger version read before the deposit among them
    alice_savings.refresh_from_db()
    assert (alice_savings.name, alice_savings.balance) == ("Savings", 50_001_00)
    stale.save(update_fields=["name"])  # what the admin does: only the column it changed
    alice_savings.refresh_from_db()
    assert (alice_savings.name, alice_savings.balance) == ("Renamed", 50_001_00)
    assert_books_balance()


def test_it_commits_a_balance_that_agrees_with_the_ledger(alice_savings):
    with connection.cursor() as cursor:  # rewriting the same balance is no change
        cursor.execute("UPDATE accounts_account SET balance = balance WHERE id = %s", [alice_savings.pk])
    # Several postings on one account in one database transaction: the balance at COMMIT is checked,
    # not the one each posting left on the way.
    with transaction.atomic():
        for i in range(3):
            services.payment_create(
                account=alice_savings, amount_paise=1_00, description="Chai", idempotency_key=f"chai-{i}"
            )
    alice_savings.refresh_from_db()
    assert (alice_savings.balance, alice_savings.ledger_version) == (49_997_00, 4)
    assert_books_balance()


# --- History order is posting order (migration 0013) -----------------------------------------------------


def _raw_posting(
    legs: list[tuple[Account, int]], *, key: str, when: datetime.datetime, until: dict | None = None
) -> None:
    """A whole posting in SQL, as `_write` makes it: entries with their balance_after, then each account's
    balance, ledger version and posted_until (`until[account]`, by default the later of its own and the
    posting's time)."""
    until = until or {}
    with transaction.atomic(), connection.cursor() as cursor:
        txn_id = _insert_transaction(cursor, key=key)
        for account, amount in legs:
            cursor.execute(
                "INSERT INTO transactions_entry (transaction_id, account_id, amount, balance_after, created)"
                " VALUES (%s, %s, %s, %s, %s)",
                [txn_id, account.pk, amount, account.balance + amount, when],
            )
            cursor.execute(
                "UPDATE accounts_account SET balance = balance + %s, ledger_version = ledger_version + 1,"
                " posted_until = %s WHERE id = %s",
                [amount, until.get(account, max(filter(None, [account.posted_until, when]))), account.pk],
            )


def test_it_commits_a_posting_in_sql_dated_after_the_newest_entries(alice_savings):
    settlement = Account.objects.get(number=internal.SETTLEMENT)
    later = timezone.now() + datetime.timedelta(seconds=1)
    _raw_posting([(alice_savings, -1_00), (settlement, 1_00)], key="raw-later", when=later)
    alice_savings.refresh_from_db()
    assert (alice_savings.balance, alice_savings.posted_until) == (49_999_00, later)
    assert_books_balance()


def test_it_refuses_an_entry_dated_before_the_accounts_newest(alice_savings):
    """A backdated entry (a loader's history written after a newer posting, raw SQL, a bug) would put the
    account's history order out of step with its balance_after: refused as it is inserted."""
    settlement = Account.objects.get(number=internal.SETTLEMENT)
    before = ledger_state()
    old = timezone.now() - datetime.timedelta(days=30)
    with pytest.raises(IntegrityError, match="history order must be posting order"):
        _raw_posting([(alice_savings, -1_00), (settlement, 1_00)], key="old-chai", when=old)
    assert ledger_state() == before
    # One microsecond before the newest entry is before it.
    with pytest.raises(IntegrityError, match="history order must be posting order"):
        _raw_posting(
            [(alice_savings, -1_00), (settlement, 1_00)],
            key="just-before",
            when=alice_savings.posted_until - datetime.timedelta(microseconds=1),
        )
    assert ledger_state() == before


def test_it_lets_a_bank_account_take_a_loaders_backdated_entry(alice):
    """The bank's internal accounts carry every customer's history, loaded customer by customer: they may
    hold an entry dated before their newest. Their balance is still the newest entry's by id, and their
    posted_until stays the newest time (it never goes back)."""
    funded = fund(AccountFactory(owner=alice), 1_00)
    settlement = Account.objects.get(number=internal.settlement_for(funded.pk))  # with an entry dated now
    newest = settlement.posted_until
    assert newest is not None
    fresh = AccountFactory(owner=alice)
    old = timezone.now() - datetime.timedelta(days=30)
    _raw_posting([(settlement, -5_00), (fresh, 5_00)], key="old-cash", when=old)
    settlement.refresh_from_db()
    assert settlement.posted_until == newest
    assert settlement.balance == settlement.entries.order_by("-id").first().balance_after
    assert_books_balance()


def test_it_refuses_a_posted_until_that_goes_back(alice_savings):
    _assert_balance_refused(
        "UPDATE accounts_account SET posted_until = posted_until - interval '1 second' WHERE id = %s",
        [alice_savings.pk],
        match="newest posting time of account .* may not go back",
    )
    _assert_balance_refused(
        "UPDATE accounts_account SET posted_until = NULL WHERE id = %s", [alice_savings.pk], match="go back"
    )


def test_it_refuses_a_posted_until_that_disagrees_with_the_newest_entry(alice_savings):
    settlement = Account.objects.get(number=internal.settlement_for(alice_savings.pk))
    for sql, params in [
        # Moved ahead without an entry: a posting could then be dated too late, or refused for nothing.
        (
            "UPDATE accounts_account SET posted_until = posted_until + interval '1 day' WHERE id = %s",
            [alice_savings.pk],
        ),
    ]:
        _assert_balance_refused(sql, params, match="is posted until")
    # An entry that moves the balance but leaves posted_until behind.
    later = timezone.now() + datetime.timedelta(seconds=1)
    with pytest.raises(IntegrityError, match="is posted until"):
        _raw_posting(
            [(alice_savings, -1_00), (settlement, 1_00)],
            key="raw-stale-until",
            when=later,
            until={alice_savings: alice_savings.posted_until},
        )
    # The bank's accounts too may not hold an entry later than their posted_until says.
    with pytest.raises(IntegrityError, match=f"account {settlement.pk} is posted until"):
        _raw_posting(
            [(alice_savings, -1_00), (settlement, 1_00)],
            key="raw-stale-bank",
            when=later,
            until={settlement: settlement.posted_until},
        )
    assert not Transaction.objects.filter(idempotency_key__startswith="raw-stale").exists()


def test_it_refuses_a_duplicate_key_for_one_initiator(alice, bob):
    source = fund(AccountFactory(owner=alice), 100_00)
    destination = AccountFactory(owner=alice)
    first = services.transfer_create(
        initiator=alice,
        source=source,
        destination=destination,
        amount_paise=1_00,
        description="",
        idempotency_key="form-1",
    )

    with (
        pytest.raises(IntegrityError, match="transaction_initiator_key_unique"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        _insert_transaction(cursor, key="form-1", initiator_id=alice.pk)

    assert list(Transaction.objects.filter(idempotency_key="form-1").values_list("pk", flat=True)) == [
        first.pk
    ]
    # The same key from another person is another request.
    bob_a, bob_b = AccountFactory(owner=bob), AccountFactory(owner=bob)
    with transaction.atomic(), connection.cursor() as cursor:
        txn_id = _insert_transaction(cursor, key="form-1", initiator_id=bob.pk)
        _insert_entry(cursor, txn_id=txn_id, account_id=bob_a.pk, amount=-1)
        _insert_entry(cursor, txn_id=txn_id, account_id=bob_b.pk, amount=1)
    assert Transaction.objects.filter(idempotency_key="form-1").count() == 2


def test_it_refuses_a_duplicate_key_for_system_postings(posted):
    with (
        pytest.raises(IntegrityError, match="transaction_system_key_unique"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        _insert_transaction(cursor, key=posted.idempotency_key, initiator_id=None)

    assert list(Transaction.objects.filter(idempotency_key=posted.idempotency_key)) == [posted]
