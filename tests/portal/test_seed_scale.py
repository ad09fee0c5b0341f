"""seed_scale: a bulk load by COPY that switches the ledger's triggers and indexes off while it runs, so the
tests check the books afterwards, and that every index, constraint and trigger is back and still works.

The command commits and changes session settings and the schema inside its transaction: transaction=True.
"""

import datetime
import os
from collections.abc import Iterator
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from accounts import internal
from accounts.models import Account, User
from portal.seeding import demo, guards, scale
from portal.seeding.copy_load import ScaleLoad
from portal.seeding.models import SeededUser
from portal.seeding.scale import HOT_EMAIL, SEEDED_DOMAIN, Ids, LedgerGenerator, ScaleSpec
from tests.factories import UserFactory
from tests.transactions.ledger_checks import assert_books_balance
from transactions import services
from transactions.categories import CATEGORIES
from transactions.models import Entry, PostingAlert, Transaction

db_test = pytest.mark.django_db(transaction=True)

SMALL = ["--customers", "20", "--entries", "20000", "--hot-entries", "5000"]
TINY = ["--customers", "3", "--entries", "200", "--hot-entries", "40"]
TABLES = ["transactions_transaction", "transactions_entry", "accounts_account", "accounts_user"]
MARKS = SeededUser._meta.db_table


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_scale", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def schema() -> dict[str, set[tuple]]:
    """Indexes, constraints and user triggers of the tables the load touches, as the catalog states them."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s)", [TABLES])
        indexes = set(cursor.fetchall())
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), convalidated,"
            " condeferrable, condeferred FROM pg_constraint WHERE conrelid = ANY(%s::text[]::regclass[])",
            [TABLES],
        )
        constraints = set(cursor.fetchall())
        cursor.execute(
            "SELECT tgrelid::regclass::text, tgname, tgenabled, pg_get_triggerdef(oid) FROM pg_trigger"
            " WHERE tgrelid = ANY(%s::text[]::regclass[]) AND NOT tgisinternal",
            [TABLES],
        )
        triggers = set(cursor.fetchall())
    return {"indexes": indexes, "constraints": constraints, "triggers": triggers}


def hot_account() -> Account:
    return Account.objects.get(owner__email=HOT_EMAIL, kind=Account.Kind.CURRENT)


@db_test
def test_it_loads_balanced_books_with_a_hot_account():
    out = seed(*SMALL)

    assert_books_balance()
    assert User.objects.filter(email__endswith="@" + SEEDED_DOMAIN).count() == 20
    assert Transaction.objects.count() == 10_000
    assert Entry.objects.count() == 20_000
    assert not PostingAlert.objects.exists()  # COPY writes history, no alerts
    legs = Transaction.objects.annotate(legs=Count("entries")).exclude(legs=2)
    assert not legs.exists()
    hot = hot_account()
    assert hot.entries.count() == 5_000
    assert hot.ledger_version == 5_000
    customer_entries = Entry.objects.exclude(account__kind=Account.Kind.INTERNAL)
    assert not customer_entries.filter(balance_after__lt=0).exists()
    assert HOT_EMAIL in out
    assert hot.number in out
    assert "5,000 entries" in out
    # Every user it made carries its mark: none of them counts as a real customer afterwards.
    assert SeededUser.objects.filter(loader=SeededUser.Loader.SCALE).count() == 20
    assert guards.foreign_customers() == 0


@db_test
def test_it_chains_balance_after_in_history_order():
    seed(*SMALL)
    for account in [hot_account(), Account.objects.get(number=internal.SETTLEMENT)]:
        running = 0
        rows = account.entries.order_by("created", "id").values_list("amount", "balance_after")
        for amount, balance_after in rows.iterator():
            running += amount
            assert balance_after == running
        assert running == account.balance


@db_test
def test_it_gives_every_loaded_account_the_time_of_its_newest_entry():
    """As a posting leaves it (Account.posted_until): the next posting is dated after it."""
    seed(*SMALL)
    for account in Account.objects.filter(entries__isnull=False).distinct():
        newest = account.entries.order_by("-created", "-id").first()
        assert account.posted_until == newest.created, account.number
        assert account.entries.order_by("-id").first() == newest or account.is_internal
    hot = hot_account()
    txn = services.deposit_create(
        account=hot, amount_paise=1_00, description="After", idempotency_key="after"
    )
    assert txn.created >= hot.posted_until


@db_test
def test_it_makes_realistic_history():
    seed(*SMALL)
    today = timezone.localdate()
    created = Transaction.objects.order_by("created").values_list("created", flat=True)
    first, last = timezone.localtime(created.first()), timezone.localtime(created.last())
    assert first.date() >= today - datetime.timedelta(days=3 * 366)
    assert last.date() < today  # history ends yesterday: nothing dated in the future
    assert (last - first).days > 2 * 365
    assert set(Transaction.objects.values_list("kind", flat=True).distinct()) >= {
        "salary", "upi", "card", "withdrawal", "transfer", "interest", "deposit", "fee",
    }  # fmt: skip
    assert set(Transaction.objects.values_list("category", flat=True).distinct()) <= set(CATEGORIES)
    assert Transaction.objects.filter(category="salary", counterparty__endswith="Ltd").exists()
    assert not Transaction.objects.exclude(idempotency_key__startswith="scale:").exists()
    assert not Transaction.objects.filter(Q(kind="salary") | Q(kind="interest"), initiator__isnull=False)
    transfers = Transaction.objects.filter(kind="transfer").prefetch_related("entries__account")
    for transfer in transfers[:50]:
        assert {e.account.owner_id for e in transfer.entries.all()} == {transfer.initiator_id}
    hours = [timezone.localtime(c).hour for c in created[:2_000]]
    assert sum(1 for hour in hours if 1 <= hour < 6) < len(hours) * 0.05  # few payments at night


@db_test
def test_it_puts_back_every_index_constraint_and_trigger():
    before = schema()
    seed(*TINY)
    assert schema() == before
    with connection.cursor() as cursor:
        cursor.execute("SHOW session_replication_role")
        assert cursor.fetchone()[0] == "origin"


@db_test
def test_it_leaves_the_ledger_guards_working():
    seed(*TINY)
    hot, settlement = hot_account(), Account.objects.get(number=internal.SETTLEMENT)
    now = timezone.now()
    with (
        pytest.raises(IntegrityError, match="ledger: "),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "INSERT INTO transactions_transaction (kind, description, counterparty, idempotency_key, created)"
            " VALUES ('transfer', 'raw', '', 'raw-after-scale', %s) RETURNING id",
            [now],
        )
        txn_id = cursor.fetchone()[0]
        for account, amount in [(hot, -5_00), (settlement, 4_99)]:
            cursor.execute(
                "INSERT INTO transactions_entry (transaction_id, account_id, amount, balance_after, created)"
                " VALUES (%s, %s, %s, 0, %s)",
                [txn_id, account.pk, amount, now],
            )
    with pytest.raises(IntegrityError, match="ledger: "), connection.cursor() as cursor:
        cursor.execute("UPDATE transactions_entry SET amount = amount + 1 WHERE account_id = %s", [hot.pk])
    assert not Transaction.objects.filter(idempotency_key="raw-after-scale").exists()
    assert_books_balance()


@pytest.fixture
def table_owner_not_superuser() -> Iterator[None]:
    """Run as a role that owns the tables but is not a superuser: it may not set the replication role."""
    role = f"seed_scale_owner_{os.getpid()}"
    tables = [*TABLES, "transactions_category", "accounts_payee", MARKS]  # payee: transactions refer to it
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        me = cursor.fetchone()[0]
        cursor.execute(f"CREATE ROLE {role} NOSUPERUSER")
        cursor.execute(f"GRANT CREATE ON SCHEMA public TO {role}")  # to build indexes
        try:
            for table in tables:
                cursor.execute(f"ALTER TABLE {table} OWNER TO {role}")
            cursor.execute(f"SET ROLE {role}")
            yield
        finally:
            cursor.execute("RESET ROLE")
            for table in tables:
                cursor.execute(f"ALTER TABLE {table} OWNER TO {me}")
            cursor.execute(f"REVOKE CREATE ON SCHEMA public FROM {role}")
            cursor.execute(f"DROP ROLE {role}")


@db_test
def test_it_disables_and_enables_each_trigger_when_not_a_superuser(table_owner_not_superuser):
    before = schema()
    out = seed(*TINY)
    assert "ALTER TABLE ... DISABLE TRIGGER" in out
    assert schema() == before
    assert_books_balance()


@db_test
def test_it_refuses_a_database_with_real_customers():
    UserFactory(email="bob.menon@example.org", full_name="Bob Menon")
    with pytest.raises(CommandError, match="1 customers that no loader made"):
        seed(*TINY)
    assert not User.objects.filter(email__endswith="@" + SEEDED_DOMAIN).exists()
    assert not Transaction.objects.exists()


@db_test
def test_it_has_no_force_to_load_beside_real_customers():
    bob = UserFactory(email="bob.menon@example.org", full_name="Bob Menon")
    with pytest.raises(CommandError, match="--force is gone"):
        seed(*TINY, "--force")
    assert not User.objects.filter(email__endswith="@" + SEEDED_DOMAIN).exists()
    assert not Account.objects.filter(owner=bob).exists()
    assert not Transaction.objects.exists()


@db_test
def test_it_takes_a_demo_email_for_a_real_customer_unless_the_demo_made_it():
    """The mark decides, not the address: a customer who happens to be alice@example.com is real."""
    UserFactory(email=demo.CUSTOMERS[0].email)
    with pytest.raises(CommandError, match="1 customers that no loader made"):
        seed(*TINY)
    assert not Transaction.objects.exists()


@db_test
def test_it_counts_staff_and_demo_customers_as_not_real():
    guards.mark_seeded([UserFactory(email=demo.CUSTOMERS[0].email)], SeededUser.Loader.DEMO)
    UserFactory(email="ops@example.org", is_staff=True)
    seed(*TINY)
    assert Transaction.objects.count() == 100


@pytest.fixture
def one_settlement_shard(settings) -> None:
    """Postings through settlement shard 0 only: the shard the loader writes (the others are left alone)."""
    settings.SETTLEMENT_SHARDS = 1


@db_test
def test_it_continues_the_chains_of_internal_accounts_that_have_history(one_settlement_shard, alice_savings):
    """alice (a demo customer) already moved money through settlement: the load starts from its balance."""
    guards.mark_seeded([alice_savings.owner], SeededUser.Loader.DEMO)
    settlement_before = Account.objects.get(number=internal.SETTLEMENT).balance
    assert settlement_before == -alice_savings.balance
    seed(*TINY)
    assert Account.objects.get(number=internal.SETTLEMENT).balance != settlement_before
    assert_books_balance()  # balance_after chains in id order on every account, old and loaded alike
    services.deposit_create(
        account=alice_savings, amount_paise=1_00, description="After the load", idempotency_key="after"
    )
    assert_books_balance()


@db_test
def test_it_refuses_to_load_twice():
    seed(*TINY)
    with pytest.raises(CommandError, match="already holds scale data"):
        seed(*TINY)
    assert Transaction.objects.count() == 100


@db_test
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--customers", "20", "--entries", "201"], "even"),
        (["--customers", "1", "--entries", "200"], "at least 2"),
        (["--customers", "20", "--entries", "200", "--hot-entries", "101"], "between 0 and 100"),
    ],
)
def test_it_refuses_impossible_sizes(args, message):
    with pytest.raises(CommandError, match=message):
        seed(*args)
    assert not Transaction.objects.exists()


@db_test
def test_it_refuses_another_database(monkeypatch):
    monkeypatch.setattr(connection, "vendor", "sqlite")
    with pytest.raises(CommandError, match="PostgreSQL"):
        seed(*TINY)


@db_test
def test_it_rolls_everything_back_when_the_books_do_not_balance(monkeypatch):
    before = schema()
    copy_accounts = ScaleLoad._copy_accounts

    def off_by_one_paisa(self, cursor, generator, ids):
        copy_accounts(self, cursor, generator, ids)
        cursor.execute("UPDATE accounts_account SET balance = balance + 1 WHERE id = %s", [ids.accounts[0]])

    monkeypatch.setattr(ScaleLoad, "_copy_accounts", off_by_one_paisa)
    with pytest.raises(CommandError, match="1 account balances are not the sum of their entries"):
        seed(*TINY)
    assert not User.objects.filter(email__endswith="@" + SEEDED_DOMAIN).exists()
    assert not Transaction.objects.exists()
    assert schema() == before


@db_test
def test_it_gives_seeded_customers_the_bench_password_only_when_asked():
    seed(*TINY, "--password", "bench-password-42")
    assert User.objects.get(email=HOT_EMAIL).check_password("bench-password-42")


@db_test
def test_it_gives_seeded_customers_no_usable_password_by_default():
    seed(*TINY)
    assert not any(user.has_usable_password() for user in User.objects.filter(email__endswith=SEEDED_DOMAIN))


def test_it_scales_the_hot_account_with_the_load():
    assert scale.default_hot_entries(20_000) == 2_000
    assert scale.default_hot_entries(10_000_000) == 1_000_000
    assert scale.default_hot_entries(50_000_000) == 1_000_000


def _generate(seed: int) -> tuple[bytes, list[int]]:
    spec = ScaleSpec(customers=50, entries=4_000, hot_entries=500, end=datetime.date(2026, 3, 5), seed=seed)
    generator = LedgerGenerator(spec)
    slots = len(generator.population.account_kind)
    numbers = [internal.SETTLEMENT, internal.INTEREST, internal.FEES]
    ids = Ids(
        users=list(range(1, 51)),
        accounts=list(range(10, 10 + slots)),
        first_transaction=1,
        first_entry=1,
        internal=dict(zip(numbers, [1, 2, 3], strict=True)),
        internal_balances=dict.fromkeys(numbers, 0),
    )
    data = b"".join(chunk.transactions + chunk.entries for chunk in generator.chunks(ids, size=300))
    return data, generator.balances


def test_it_generates_the_same_ledger_from_the_same_seed():
    assert _generate(7) == _generate(7)
    assert _generate(7)[0] != _generate(8)[0]


def test_it_keeps_customer_balances_at_or_above_zero_and_the_bank_total_at_zero():
    for seed in range(5):
        _data, balances = _generate(seed)
        assert min(balances[:-3]) >= 0
        assert sum(balances) == 0
