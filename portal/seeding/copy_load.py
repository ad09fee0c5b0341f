"""The COPY loader of `manage.py seed_scale`: writes a `LedgerGenerator`'s data (portal/seeding/scale.py)
straight into PostgreSQL.

In one database transaction it locks the ledger tables, switches triggers off, drops the ledger's secondary
indexes and constraints, COPYs users, ledger and accounts, puts back every index, constraint and trigger
exactly as the catalog described them, proves the books in SQL, and only then commits. A failure anywhere
rolls all of it back, indexes and triggers included. It marks every user it makes as the scale loader's
(`SeededUser`), so that a later run, or `seed_demo`, can tell them from real customers.

This is owner work (it locks, disables triggers and rewrites balances): it must never run against a live
bank. The command checks that first (`portal.seeding.guards`); the app is installed only when
`SEEDING_ENABLED` is on.
"""

import datetime
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from django.db import connection, transaction

from accounts import internal
from accounts.models import Account
from portal.seeding.models import SeededUser
from portal.seeding.scale import (
    BINARY,
    ENTRY_COLUMNS,
    HOT_EMAIL,
    TRANSACTION_COLUMNS,
    Chunk,
    Ids,
    LedgerGenerator,
    ScaleLoadError,
    ScaleSpec,
    from_pg_time,
)

LEDGER_TABLES = ("transactions_transaction", "transactions_entry")

USER_COLUMNS = (
    "id",
    "password",
    "is_superuser",
    "email",
    "full_name",
    "phone",
    "is_active",
    "is_staff",
    "date_joined",
)
ACCOUNT_COLUMNS = (
    "id",
    "number",
    "name",
    "kind",
    "currency",
    "balance",
    "overdraft_limit",
    "status",
    "opened_on",
    "ledger_version",
    "owner_id",
)


@dataclass(frozen=True)
class LedgerSchema:
    """The ledger tables' secondary indexes, unique and foreign-key constraints and enabled user triggers,
    as the catalog states them: what the load drops (or disables) and must put back exactly."""

    constraints: tuple[tuple[str, str, str], ...]  # (table, name, definition)
    indexes: tuple[tuple[str, str, str], ...]  # (table, name, CREATE INDEX ...) not backing a constraint
    triggers: tuple[tuple[str, str], ...]  # (table, name)


def read_ledger_schema(cursor: Any) -> LedgerSchema:
    tables = list(LEDGER_TABLES)
    cursor.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = ANY(%s::text[]::regclass[]) AND contype IN ('u', 'f', 'x')"
        " ORDER BY contype = 'f', 1, 2",
        [tables],
    )
    constraints = tuple(cursor.fetchall())
    cursor.execute(
        "SELECT i.indrelid::regclass::text, i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)"
        " FROM pg_index i WHERE i.indrelid = ANY(%s::text[]::regclass[]) AND NOT i.indisprimary"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c"
        "                 WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x'))"
        " ORDER BY 1, 2",
        [tables],
    )
    indexes = tuple(cursor.fetchall())
    cursor.execute(
        "SELECT tgrelid::regclass::text, tgname FROM pg_trigger"
        " WHERE tgrelid = ANY(%s::text[]::regclass[]) AND NOT tgisinternal AND tgenabled = 'O'"
        " ORDER BY 1, 2",
        [tables],
    )
    triggers = tuple(cursor.fetchall())
    return LedgerSchema(constraints, indexes, triggers)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass
class LoadReport:
    customers: int = 0
    accounts: int = 0
    transactions: int = 0
    entries: int = 0
    hot_email: str = HOT_EMAIL
    hot_account: str = ""
    hot_entries: int = 0
    triggers_off_by: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    database_bytes: int = 0


class ScaleLoad:
    """Writes a `LedgerGenerator`'s data into PostgreSQL through Django's connection, in one transaction.

    `say` receives progress lines. The caller has already checked that the database may be loaded.
    """

    progress_every = 5.0  # seconds between progress lines
    chunk_transactions = 50_000

    def __init__(self, spec: ScaleSpec, *, password_hash: str, say: Callable[[str], None]) -> None:
        self.spec = spec
        self.password_hash = password_hash
        self.say = say
        self.report = LoadReport()

    def run(self) -> LoadReport:
        started = time.monotonic()
        self.say("Planning customers...")
        generator = LedgerGenerator(self.spec)
        try:
            with transaction.atomic(), connection.cursor() as wrapper:
                self._load(wrapper.cursor, generator)  # psycopg's own cursor: COPY, and psycopg's errors
        except psycopg.errors.LockNotAvailable as exc:
            raise ScaleLoadError(
                "The ledger tables stayed busy for 30 s (another session holds a lock on them)."
            ) from exc
        except psycopg.Error as exc:
            raise ScaleLoadError(f"PostgreSQL refused the load: {exc}") from exc
        self._timed("analyze", self._analyze)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_database_size(current_database())")
            self.report.database_bytes = cursor.fetchone()[0]
        self.report.timings["total"] = time.monotonic() - started
        return self.report

    def _load(self, cursor: Any, generator: LedgerGenerator) -> None:
        """Everything up to COMMIT, in the caller's database transaction."""
        self._settings(cursor)
        schema = read_ledger_schema(cursor)
        self._triggers_off(cursor, schema)
        ids = self._allocate(cursor, generator)
        self._timed("drop indexes", lambda: self._drop(cursor, schema))
        self._timed("copy users", lambda: self._copy_users(cursor, generator, ids))
        self._timed("generate + copy ledger", lambda: self._copy_ledger(cursor, generator, ids))
        self._timed("copy accounts", lambda: self._copy_accounts(cursor, generator, ids))
        self._timed("rebuild indexes", lambda: self._restore(cursor, schema))
        self._timed("newest entry times", lambda: self._posted_until(cursor, ids))
        self._triggers_on(cursor, schema)
        self._timed("check books", lambda: self._check(cursor, ids))

    def _timed(self, phase: str, work: Callable[[], None]) -> None:
        began = time.monotonic()
        work()
        self.report.timings[phase] = elapsed = time.monotonic() - began
        self.say(f"  {phase}: {elapsed:.1f} s")

    @staticmethod
    def _settings(cursor: Any) -> None:
        """For this transaction only: no waiting on WAL at COMMIT, room to sort in memory, and a bounded
        wait for the ledger tables' lock (a long query elsewhere must not hang the load silently)."""
        for setting in (
            "synchronous_commit = off",
            "maintenance_work_mem = '1GB'",
            "work_mem = '512MB'",
            "statement_timeout = 0",
            "lock_timeout = '30s'",
        ):
            cursor.execute(f"SET LOCAL {setting}")
        cursor.execute(f"LOCK TABLE {', '.join(LEDGER_TABLES)} IN ACCESS EXCLUSIVE MODE")

    def _triggers_off(self, cursor: Any, schema: LedgerSchema) -> None:
        """The ledger's triggers check one row at a time, and the deferred one would queue ten million
        checks for COMMIT: the books are proved once, in SQL, after the load instead. Replication-role
        `replica` silences every ordinary trigger for this transaction (superuser only); otherwise each
        enabled trigger of the ledger tables is disabled and enabled again before COMMIT."""
        cursor.execute("SAVEPOINT seed_scale_role")
        try:
            cursor.execute("SET LOCAL session_replication_role = replica")
        except psycopg.errors.InsufficientPrivilege:
            cursor.execute("ROLLBACK TO SAVEPOINT seed_scale_role")
            for table, name in schema.triggers:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {_ident(name)}")
            self.report.triggers_off_by = "ALTER TABLE ... DISABLE TRIGGER"
        else:
            self.report.triggers_off_by = "session_replication_role = replica"
        cursor.execute("RELEASE SAVEPOINT seed_scale_role")

    def _triggers_on(self, cursor: Any, schema: LedgerSchema) -> None:
        if self.report.triggers_off_by.startswith("session"):
            cursor.execute("SET LOCAL session_replication_role = origin")
        else:
            for table, name in schema.triggers:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {_ident(name)}")

    def _allocate(self, cursor: Any, generator: LedgerGenerator) -> Ids:
        """Ids from the tables' own sequences: a block for the ledger (its tables are locked, so nobody
        else draws from them meanwhile), one by one for users and accounts."""

        def draw(table: str, count: int) -> list[int]:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count]
            )
            return [row[0] for row in cursor.fetchall()]

        def block(table: str, count: int) -> int:
            cursor.execute(
                f"SELECT GREATEST(nextval(pg_get_serial_sequence(%s, 'id')), "  # noqa: S608 (our table names)
                f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table}))",
                [table],
            )
            first = cursor.fetchone()[0]
            cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [table, first + count - 1])
            return first

        numbers = list(internal.INTERNAL_ACCOUNTS)
        cursor.execute(
            "SELECT number, id, balance FROM accounts_account WHERE number = ANY(%s) ORDER BY id FOR UPDATE",
            [numbers],
        )
        found = {number: (pk, balance) for number, pk, balance in cursor.fetchall()}
        if len(found) != len(numbers):
            raise ScaleLoadError("The bank's internal accounts are missing: run `manage.py migrate`.")
        spec = self.spec
        return Ids(
            users=draw("accounts_user", spec.customers),
            accounts=draw("accounts_account", len(generator.population.account_kind)),
            first_transaction=block("transactions_transaction", spec.transactions),
            first_entry=block("transactions_entry", spec.entries),
            internal={number: pk for number, (pk, _b) in found.items()},
            internal_balances={number: balance for number, (_pk, balance) in found.items()},
        )

    @staticmethod
    def _drop(cursor: Any, schema: LedgerSchema) -> None:
        """Indexes are cheaper built once over the loaded rows than kept up to date row by row."""
        for table, name, _definition in schema.constraints:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {_ident(name)}")
        for _table, name, _definition in schema.indexes:
            cursor.execute(f"DROP INDEX {name}")

    def _restore(self, cursor: Any, schema: LedgerSchema) -> None:
        """Put back what `_drop` removed, from the catalog's own definitions: unique constraints and
        indexes first, then the foreign keys, which PostgreSQL validates over every row as it adds them."""
        for table, name, definition in schema.constraints:
            if not definition.startswith("FOREIGN KEY"):
                self._step(cursor, f"ALTER TABLE {table} ADD CONSTRAINT {_ident(name)} {definition}", name)
        for _table, name, definition in schema.indexes:
            self._step(cursor, definition, name)
        for table, name, definition in schema.constraints:
            if definition.startswith("FOREIGN KEY"):
                self._step(cursor, f"ALTER TABLE {table} ADD CONSTRAINT {_ident(name)} {definition}", name)

    def _step(self, cursor: Any, sql: str, name: str) -> None:
        began = time.monotonic()
        cursor.execute(sql)
        self.say(f"    {name}: {time.monotonic() - began:.1f} s")

    def _copy_users(self, cursor: Any, generator: LedgerGenerator, ids: Ids) -> None:
        sql = f"COPY accounts_user ({', '.join(USER_COLUMNS)}) FROM STDIN"
        with cursor.copy(sql) as copy:
            for customer, pk in zip(generator.population.customers, ids.users, strict=True):
                copy.write_row(
                    (
                        pk,
                        self.password_hash,
                        False,
                        customer.email,
                        customer.full_name,
                        customer.phone,
                        True,
                        False,
                        from_pg_time(customer.joined),
                    )
                )
        # The loader's mark on each of them (portal/seeding/guards.py): not real customers.
        cursor.execute(
            f"INSERT INTO {SeededUser._meta.db_table} (user_id, loader) SELECT unnest(%s::bigint[]), %s",
            [ids.users, SeededUser.Loader.SCALE.value],
        )
        self.report.customers = len(ids.users)

    def _copy_ledger(self, cursor: Any, generator: LedgerGenerator, ids: Ids) -> None:
        """Python makes the next chunk in a thread while PostgreSQL takes the previous one: on two cores
        the two halves run side by side (psycopg lets go of the GIL while it waits on the server)."""
        chunks: queue.Queue[Chunk | BaseException | None] = queue.Queue(maxsize=3)
        stop = threading.Event()

        def put(item: Chunk | BaseException | None) -> bool:
            while not stop.is_set():
                try:
                    chunks.put(item, timeout=0.5)
                    return True
                except queue.Full:
                    continue
            return False

        def produce() -> None:
            try:
                for chunk in generator.chunks(ids, self.chunk_transactions):
                    if not put(chunk):
                        return
                put(None)
            except BaseException as exc:  # handed to the main thread, which raises it
                put(exc)

        worker = threading.Thread(target=produce, name="seed-scale-generator", daemon=True)
        txn_sql = f"COPY transactions_transaction ({', '.join(TRANSACTION_COLUMNS)}) FROM STDIN {BINARY}"
        entry_sql = f"COPY transactions_entry ({', '.join(ENTRY_COLUMNS)}) FROM STDIN {BINARY}"
        total = self.spec.entries
        done = 0
        began = last = time.monotonic()
        worker.start()
        try:
            while (item := chunks.get()) is not None:
                if isinstance(item, BaseException):
                    raise ScaleLoadError(f"Generating the ledger failed: {item!r}") from item
                with cursor.copy(txn_sql) as copy:
                    copy.write(item.transactions)
                with cursor.copy(entry_sql) as copy:
                    copy.write(item.entries)
                done += 2 * item.count
                now = time.monotonic()
                if now - last >= self.progress_every or done == total:
                    last = now
                    rate = done / (now - began)
                    eta = (total - done) / rate if rate else 0
                    self.say(
                        f"    {done:>12,} / {total:,} entries ({100 * done / total:3.0f}%)"
                        f"  {rate:,.0f} entries/s  ETA {datetime.timedelta(seconds=round(eta))}"
                    )
        finally:
            stop.set()
            worker.join()
        self.report.transactions = done // 2
        self.report.entries = done

    def _copy_accounts(self, cursor: Any, generator: LedgerGenerator, ids: Ids) -> None:
        """Accounts go in last, with the balances and ledger versions the ledger left them."""
        pop = generator.population
        balances, counts = generator.balances, generator.entry_counts
        sql = f"COPY accounts_account ({', '.join(ACCOUNT_COLUMNS)}) FROM STDIN"
        with cursor.copy(sql) as copy:
            for slot, pk in enumerate(ids.accounts):
                owner = pop.customers[pop.account_customer[slot]]
                copy.write_row(
                    (
                        pk,
                        generator.account_number(slot),
                        generator.account_name(slot),
                        pop.account_kind[slot],
                        "INR",
                        balances[slot],
                        0,
                        Account.Status.ACTIVE.value,
                        from_pg_time(owner.joined).date(),
                        counts[slot],
                        ids.users[owner.number],
                    )
                )
        slots = len(ids.accounts)
        for offset, number in enumerate((internal.SETTLEMENT, internal.INTEREST, internal.FEES)):
            cursor.execute(
                "UPDATE accounts_account SET balance = %s, ledger_version = ledger_version + %s"
                " WHERE id = %s",
                [balances[slots + offset], counts[slots + offset], ids.internal[number]],
            )
        hot = pop.customers[0].current
        self.report.accounts = slots
        self.report.hot_account = generator.account_number(hot)
        self.report.hot_entries = counts[hot]

    @staticmethod
    def _posted_until(cursor: Any, ids: Ids) -> None:
        """Each loaded account (and the bank's, which the load posted to) carries the time of its newest
        entry, as a posting leaves it (`Account.posted_until`, transactions/services.py): one row of the
        rebuilt history index per account, never moved back on the bank's accounts."""
        cursor.execute(
            "UPDATE accounts_account AS a SET posted_until = GREATEST(a.posted_until,"
            " (SELECT e.created FROM transactions_entry AS e WHERE e.account_id = a.id"
            "  ORDER BY e.created DESC, e.id DESC LIMIT 1))"
            " WHERE a.id = ANY(%s::bigint[])",
            [[*ids.accounts, *ids.internal.values()]],
        )

    def _check(self, cursor: Any, ids: Ids) -> None:
        """Prove the books before COMMIT, since no trigger looked at the rows: every transaction has two or
        more entries summing to zero; every account's balance is the sum of its entries and its
        `posted_until` the time of its newest one; the bank's total is zero; each loaded entry's
        balance_after follows its account's entries in (created, id) order, and no customer balance went
        below its overdraft limit on the way."""
        problems = []
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE total <> 0), count(*) FILTER (WHERE legs < 2)"
            " FROM (SELECT sum(amount) AS total, count(*) AS legs FROM transactions_entry"
            "       GROUP BY transaction_id) AS per_transaction"
        )
        with_entries, unbalanced, one_legged = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM transactions_transaction")
        transactions = cursor.fetchone()[0]
        if unbalanced or one_legged or with_entries != transactions:
            problems.append(
                f"{unbalanced} transactions do not sum to zero, {one_legged} have fewer than two entries,"
                f" {transactions - with_entries} have none"
            )
        cursor.execute(
            "SELECT count(*) FILTER (WHERE a.balance <> COALESCE(e.total, 0)),"
            "       count(*) FILTER (WHERE (a.kind <> %s AND a.posted_until IS DISTINCT FROM e.newest)"
            "                        OR e.newest > a.posted_until"
            "                        OR (e.newest IS NOT NULL AND a.posted_until IS NULL))"
            " FROM accounts_account AS a LEFT JOIN"
            " (SELECT account_id, sum(amount) AS total, max(created) AS newest FROM transactions_entry"
            "  GROUP BY account_id) AS e"
            " ON e.account_id = a.id",
            [Account.Kind.INTERNAL.value],
        )
        wrong, undated = cursor.fetchone()
        if wrong:
            problems.append(f"{wrong} account balances are not the sum of their entries")
        if undated:
            problems.append(f"{undated} accounts do not carry the time of their newest entry")
        # The accounts' foreign key to their owner was not checked row by row either (replica mode).
        cursor.execute(
            "SELECT count(*) FROM accounts_account AS a WHERE a.owner_id IS NOT NULL"
            " AND NOT EXISTS (SELECT 1 FROM accounts_user AS u WHERE u.id = a.owner_id)"
        )
        if orphans := cursor.fetchone()[0]:
            problems.append(f"{orphans} accounts belong to no user")
        cursor.execute("SELECT COALESCE(sum(balance), 0) FROM accounts_account")
        if total := cursor.fetchone()[0]:
            problems.append(f"the bank's total is {total} paise, not zero")
        # The statistics come with ANALYZE after COMMIT; without them the planner walks an index over
        # every entry in heap-random order. One sequential scan and one in-memory sort is faster.
        cursor.execute("SET LOCAL work_mem = '1GB'")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        starts = ids.internal_balances
        cursor.execute(
            "SELECT count(*) FILTER (WHERE e.balance_after <> COALESCE(s.opening, 0) + e.running),"
            "       count(*) FILTER (WHERE e.balance_after < -a.overdraft_limit AND a.kind <> %s)"
            " FROM (SELECT account_id, balance_after,"
            "              sum(amount) OVER (PARTITION BY account_id ORDER BY created, id) AS running"
            "       FROM transactions_entry WHERE id >= %s) AS e"
            " JOIN accounts_account AS a ON a.id = e.account_id"
            " LEFT JOIN unnest(%s::bigint[], %s::bigint[]) AS s (account_id, opening)"
            " ON s.account_id = e.account_id",
            [
                Account.Kind.INTERNAL.value,
                ids.first_entry,
                [ids.internal[n] for n in starts],
                list(starts.values()),
            ],
        )
        broken, negative = cursor.fetchone()
        cursor.execute("SET LOCAL enable_indexscan = on")
        cursor.execute("SET LOCAL enable_bitmapscan = on")
        if broken:
            problems.append(f"{broken} loaded entries have a balance_after out of step with their account")
        if negative:
            problems.append(f"{negative} loaded entries take a customer balance below its overdraft limit")
        if problems:
            raise ScaleLoadError("The loaded books do not balance: " + "; ".join(problems) + ".")

    @staticmethod
    def _analyze() -> None:
        """Fresh planner statistics: without them PostgreSQL may ignore an index (DESIGN.md)."""
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE accounts_user, accounts_account, {', '.join(LEDGER_TABLES)}")
