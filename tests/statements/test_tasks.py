"""The statements' background work, run by real Celery workers over the Redis broker: a worker thread of this
process (it shares the locmem outbox and the settings), or a worker process started here (one to kill, one
whose time limits are real: a thread pool has none).

- the generate task run twice, by two worker threads at once: one statement, one pair of files;
- a worker killed mid-statement: the statement reads "running" until the watchdog sees its heartbeat stop,
  puts it back in the queue, and a new worker makes it, its files equal to the ledger;
- the soft time limit: failed cleanly, for the customer to retry;
- a storage that refuses a write for a moment: back in the queue with a note, the task's own retry makes it;
  a storage that keeps refusing: failed after the automatic retries, the customer's retry makes it;
- queued statements whose task never left are sent again;
- the monthly fan-out on the 1st (IST): one statement per account open in the month, none twice, one email
  per statement made;
- the clean-up of old files keeps the rows and their checksums."""

import csv
import datetime
import hashlib
import io
import itertools
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun, task_retry
from django.conf import settings
from django.core import mail
from django.db import connections, transaction
from django.utils import timezone

from accounts.models import Account, User
from portal.celery import app
from portal.seeding.history import posted_at
from tests.factories import AccountFactory, UserFactory
from tests.portal.test_db_roles import runtime_role  # noqa: F401 - the fixture
from tests.statements.fast_ledger import bulk_deposits
from transactions import services as ledger
from transactions.statements import generate, periods, schedule, selectors, services, tasks
from transactions.statements.models import Statement, statements_storage
from transactions.statements.tasks import (
    statement_files_remove_task,
    statement_generate_task,
    statements_monthly_batch_task,
    statements_monthly_task,
    statements_watchdog_task,
)

IST = ZoneInfo("Asia/Kolkata")
ROOT = Path(__file__).resolve().parents[2]
OCTOBER = periods.month(datetime.date(2026, 10, 1))
LONG = 25_000  # entries of a statement that takes seconds to make (a worker to kill, a time limit to hit)


def _post(account: Account, when: datetime.datetime, paise: int) -> None:
    with posted_at(when):
        if paise > 0:
            ledger.deposit_create(
                account=account, amount_paise=paise, description="Salary", idempotency_key=str(uuid.uuid4())
            )
        else:
            ledger.payment_create(
                account=account,
                amount_paise=-paise,
                description="Groceries",
                counterparty="DMart",
                category="groceries",
                idempotency_key=str(uuid.uuid4()),
            )


def _wait_for(condition: Callable[[], object], what: str, seconds: float = 60) -> None:
    """Poll until `condition()` holds; fail naming `what` if it never does (a bound for a stuck test, not a
    timing the test asserts)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"never happened: {what}")
        time.sleep(0.05)


def _status(statement: Statement) -> str:
    statement.refresh_from_db()
    return statement.status


def _stored(root: Path) -> list[str]:
    """Every file in the statements storage, relative to its root."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture
def storage_root(settings) -> Path:
    return Path(settings.STORAGES["statements"]["OPTIONS"]["location"])


@pytest.fixture
def broker() -> Iterator[None]:
    """An empty broker: messages left by earlier tests with no worker running would be taken here."""
    app.control.purge()
    yield
    app.control.purge()


def _waiting(queue: str) -> int:
    """Messages waiting in `queue` of the test broker."""
    with app.connection_for_write() as broker:
        return broker.default_channel.client.llen(queue)


@contextmanager
def _runs_of(task_name: str) -> Iterator[list[object]]:
    """The return values of `task_name`'s runs in this process's workers, as they end."""
    returned: list[object] = []

    def record(sender=None, retval=None, state=None, **kwargs) -> None:
        if sender is not None and sender.name == task_name and state == "SUCCESS":
            returned.append(retval)

    task_postrun.connect(record, weak=False)
    try:
        yield returned
    finally:
        task_postrun.disconnect(record)


def _check_files_equal_the_ledger(statement: Statement, account: Account, entries: int) -> None:
    statement.refresh_from_db()
    account.refresh_from_db()
    assert statement.status == Statement.Status.READY
    assert (statement.entry_count, statement.closing_paise) == (entries, account.balance)
    data = statement.csv.read()
    assert hashlib.sha256(data).hexdigest() == statement.csv_sha256
    assert hashlib.sha256(statement.pdf.read()).hexdigest() == statement.pdf_sha256
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(lines) == 1 + 1 + entries + 1  # header, opening, the entries, closing
    assert lines[-1][-1] == f"{account.balance // 100}.{account.balance % 100:02d}"


# --- twice, or by two workers


@pytest.mark.django_db(transaction=True)
def test_it_makes_one_statement_when_two_worker_threads_get_its_task(alice, broker, storage_root):
    account = AccountFactory(owner=alice, name="Current", kind=Account.Kind.CURRENT)
    _post(account, datetime.datetime(2026, 10, 2, 10, 0, tzinfo=IST), 5_000_00)
    _post(account, datetime.datetime(2026, 10, 9, 18, 0, tzinfo=IST), -120_50)
    with transaction.atomic():
        statement, queued = services.statement_request(user=alice, account_id=account.pk, period=OCTOBER)
    assert queued  # its task was sent at the commit
    statement_generate_task.delay(statement.pk)  # and once more: a redelivery, a second click, a bug
    with (
        _runs_of(statement_generate_task.name) as runs,
        start_worker(app, pool="threads", concurrency=2, perform_ping_check=False, shutdown_timeout=20),
    ):
        _wait_for(lambda: len(runs) == 2, "both tasks ran")
    assert sorted(runs) == [False, True]  # one made it, the other found it taken or done
    statement.refresh_from_db()
    assert (statement.status, statement.attempts) == (Statement.Status.READY, 1)
    assert _stored(storage_root) == sorted([statement.pdf.name, statement.csv.name])
    _check_files_equal_the_ledger(statement, account, 2)
    # A requested statement: its customer is on the page. No email sent, nor on its way.
    assert mail.outbox == [] and _waiting("celery") == 0


# --- a killed worker, the watchdog


def _worker_process(queue: str, storage_root: Path, tmp_path: Path, *, role: str | None = None, pool="solo"):
    """A real worker process on its own queue of the test broker and the test database (as `role`)."""
    params = connections["default"].settings_dict
    where = f"{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}/{params['NAME']}"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_RUNTIME_ROLE"}
    env.update(
        {
            "DATABASE_URL": f"postgres://{role or params['USER']}@{where}",
            "STATEMENTS_STORAGE_OPTIONS": json.dumps({"location": str(storage_root), "base_url": None}),
            "VAR_DIR": str(tmp_path / "var"),
            "LOG_LEVEL": "WARNING",
        }
    )
    celery = str(Path(sys.executable).parent / "celery")
    command = [celery, "-A", "portal", "worker", "--pool", pool, "--concurrency", "1", "-Q", queue]
    command += ["--loglevel", "WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    return subprocess.Popen(  # noqa: S603
        command, cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


@pytest.fixture
def own_queue() -> Iterator[str]:
    """A queue of this test's own; afterwards deleted, its exchange's bindings too, and the message a killed
    worker held unacknowledged (Redis would otherwise hand it out again in an hour, to whichever test runs
    then)."""
    queue = f"test-statements-{uuid.uuid4()}"
    yield queue
    with app.connection_for_write() as broker:
        channel = broker.default_channel
        client = channel.client
        for tag, raw in client.hgetall(channel.unacked_key).items():
            if json.loads(raw)[-1] == queue:
                client.hdel(channel.unacked_key, tag)
                client.zrem(channel.unacked_index_key, tag)
        channel.queue_delete(queue)
        client.delete(channel.keyprefix_queue % queue, channel.keyprefix_binding_permanent % queue)


def _long_statement(user: User) -> tuple[Account, Statement]:
    """A statement of October with `LONG` entries, made as a request makes it, its task not yet sent."""
    account = AccountFactory(owner=user, name="Current", kind=Account.Kind.CURRENT)
    bulk_deposits(
        account,
        start=datetime.datetime(2026, 10, 1, tzinfo=IST),
        count=LONG,
        step=datetime.timedelta(minutes=1),
    )
    statement = Statement.objects.create(
        account=account, first_day=OCTOBER.first_day, last_day=OCTOBER.last_day, requested_by=user
    )
    return account, statement


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_statement_leaves_it_to_the_watchdog_and_a_new_worker_makes_it(
    alice,
    broker,
    own_queue,
    storage_root,
    tmp_path,
    runtime_role,  # noqa: F811 - the fixture
):
    """The worker runs as the runtime database role (portal/dbroles.py): claim, progress and outcome are
    within its privileges."""
    account, statement = _long_statement(alice)
    worker = _worker_process(own_queue, storage_root, tmp_path, role=runtime_role)
    try:
        statement_generate_task.apply_async((statement.pk,), queue=own_queue)

        def midway() -> bool:
            if worker.poll() is not None:
                pytest.fail(worker.stderr.read().decode())
            statement.refresh_from_db()
            return statement.status == Statement.Status.RUNNING and statement.progress > 0

        _wait_for(midway, "the worker half-way through the statement")
        os.killpg(worker.pid, signal.SIGKILL)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)

    statement.refresh_from_db()
    assert (statement.status, statement.attempts) == (
        Statement.Status.RUNNING,
        1,
    )  # stuck, as far as it knows
    assert services.fail_stale().requeued == []  # its last heartbeat is recent: not yet taken for dead
    assert _stored(storage_root) == []  # killed before it saved anything

    later = timezone.now() + datetime.timedelta(seconds=settings.STATEMENT_STALE_SECONDS + 1)
    with time_machine.travel(later, tick=False):
        assert statements_watchdog_task() == {"requeued": 1, "failed": 0, "resent": 0}
    statement.refresh_from_db()
    assert statement.status == Statement.Status.QUEUED and statement.retrying
    assert statement.error == services.INTERRUPTED_RETRYING
    assert statement.sent_at is not None  # its task went to the statements queue

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20):
        _wait_for(lambda: _status(statement) == Statement.Status.READY, "a new worker made the statement")
    statement.refresh_from_db()
    assert (statement.attempts, statement.error, statement.retrying) == (2, "", False)
    _check_files_equal_the_ledger(statement, account, LONG)
    assert statement.opening_paise == 0 and statement.credits_paise == LONG * 1_00
    assert _stored(storage_root) == sorted([statement.pdf.name, statement.csv.name])


@pytest.mark.django_db
def test_the_watchdog_fails_a_statement_out_of_automatic_retries_for_the_customer_to_retry(alice):
    account = AccountFactory(owner=alice)
    statement = Statement.objects.create(
        account=account, first_day=OCTOBER.first_day, last_day=OCTOBER.last_day, requested_by=alice
    )
    started = datetime.datetime(2026, 11, 20, 12, 0, tzinfo=IST)
    stale = datetime.timedelta(seconds=settings.STATEMENT_STALE_SECONDS)
    # Its last automatic attempt: every earlier one was interrupted too.
    Statement.objects.filter(pk=statement.pk).update(attempts=settings.STATEMENT_AUTO_RETRIES)
    with time_machine.travel(started, tick=False):
        attempt = services.claim(statement.pk)
    assert attempt == settings.STATEMENT_AUTO_RETRIES + 1
    with time_machine.travel(started + stale - datetime.timedelta(seconds=1), tick=False):
        assert services.fail_stale() == services.Stale(requeued=[], failed=[])
    with time_machine.travel(started + stale + datetime.timedelta(seconds=1), tick=False):
        assert services.fail_stale() == services.Stale(requeued=[], failed=[statement.pk])
    statement.refresh_from_db()
    assert (statement.status, statement.error) == (Statement.Status.FAILED, services.INTERRUPTED)
    assert not statement.retrying
    assert not services.report_progress(statement.pk, attempt, 50)  # a task still alive after all stops
    assert services.statement_retry(user=alice, statement_id=statement.pk).status == Statement.Status.QUEUED


@pytest.mark.django_db(transaction=True)
def test_the_watchdog_sends_again_the_task_of_a_statement_that_never_left(alice, broker):
    account = AccountFactory(owner=alice)
    made = datetime.datetime(2026, 11, 20, 12, 0, tzinfo=IST)
    with time_machine.travel(made, tick=False):
        unsent = Statement.objects.create(
            account=account, first_day=OCTOBER.first_day, last_day=OCTOBER.last_day
        )
        sent = Statement.objects.create(
            account=account, first_day=datetime.date(2026, 9, 1), last_day=datetime.date(2026, 9, 30)
        )
        services.mark_sent([sent.pk])
        lost = Statement.objects.create(
            account=account, first_day=datetime.date(2026, 8, 1), last_day=datetime.date(2026, 8, 31)
        )
    Statement.objects.filter(pk=lost.pk).update(
        sent_at=made - datetime.timedelta(seconds=settings.STATEMENT_RESEND_SECONDS)
    )
    with time_machine.travel(made + datetime.timedelta(seconds=services.SEND_GRACE_SECONDS - 1), tick=False):
        assert services.resend_unsent() == [lost.pk]  # the other one's sender may still be at it
    app.control.purge()
    with time_machine.travel(made + datetime.timedelta(seconds=services.SEND_GRACE_SECONDS + 1), tick=False):
        assert statements_watchdog_task() == {"requeued": 0, "failed": 0, "resent": 1}
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20):
        _wait_for(lambda: _status(unsent) == Statement.Status.READY, "the statement made")
    assert _status(sent) == Statement.Status.QUEUED  # its task is (as far as anyone knows) on its way


# --- time limits and retries


@pytest.mark.django_db(transaction=True)
def test_the_soft_time_limit_fails_the_statement_cleanly_for_the_customer_to_retry(
    alice, broker, own_queue, storage_root, tmp_path
):
    """A prefork worker (a thread pool has no time limits), the limit of this one message cut to a second."""
    _account, statement = _long_statement(alice)
    worker = _worker_process(own_queue, storage_root, tmp_path, pool="prefork")
    try:
        statement_generate_task.apply_async(
            (statement.pk,), queue=own_queue, soft_time_limit=1, time_limit=60
        )

        def ended() -> bool:
            if worker.poll() is not None:
                pytest.fail(worker.stderr.read().decode())
            return _status(statement) not in (Statement.Status.QUEUED, Statement.Status.RUNNING)

        _wait_for(ended, "the statement out of time")
        assert worker.poll() is None  # the worker lives on
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
    statement.refresh_from_db()
    assert (statement.status, statement.error, statement.attempts) == (
        Statement.Status.FAILED,
        generate.TOO_LONG,
        1,
    )
    assert statement.progress < 100 and not statement.retrying
    assert _stored(storage_root) == []
    retried = services.statement_retry(user=alice, statement_id=statement.pk)
    assert retried.status == Statement.Status.QUEUED


@contextmanager
def _on_retry(handler: Callable[[], None]) -> Iterator[list[object]]:
    """Run `handler` in the worker when the generate task has sent its retry, before the retry can run (one
    solo worker: it is still busy with the task that asked for it)."""
    reasons: list[object] = []

    def retried(sender=None, reason=None, **kwargs) -> None:
        if sender is not None and sender.name == statement_generate_task.name:
            reasons.append(reason)
            handler()

    task_retry.connect(retried, weak=False)
    try:
        yield reasons
    finally:
        task_retry.disconnect(retried)


@pytest.fixture
def blocked_storage(settings, tmp_path) -> Path:
    """The statements storage where a file stands in place of its folder: every save fails with an OSError
    (NotADirectoryError), as a full or unmounted disk would, until the file is removed."""
    root = tmp_path / "blocked"
    root.write_text("in the way")
    settings.STORAGES = {
        **settings.STORAGES,
        "statements": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root), "base_url": None},
        },
    }
    settings.STATEMENT_RETRY_DELAY_SECONDS = 0.05
    return root


@pytest.mark.django_db(transaction=True)
def test_a_storage_failure_that_passes_puts_it_back_in_the_queue_and_the_tasks_retry_makes_it(
    alice, broker, blocked_storage
):
    account = AccountFactory(owner=alice, name="Current", kind=Account.Kind.CURRENT)
    _post(account, datetime.datetime(2026, 10, 2, 10, 0, tzinfo=IST), 5_000_00)
    seen: list[tuple[str, bool, str, int]] = []

    def storage_back() -> None:
        statement.refresh_from_db()
        seen.append((statement.status, statement.retrying, statement.error, statement.attempts))
        blocked_storage.unlink()

    with transaction.atomic():
        statement, _ = services.statement_request(user=alice, account_id=account.pk, period=OCTOBER)
    with (
        _on_retry(storage_back),
        start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20),
    ):
        _wait_for(lambda: _status(statement) == Statement.Status.READY, "the statement made by the retry")
    assert seen == [(Statement.Status.QUEUED, True, services.INTERRUPTED_RETRYING, 1)]
    statement.refresh_from_db()
    assert (statement.attempts, statement.error) == (2, "")
    _check_files_equal_the_ledger(statement, account, 1)


@pytest.mark.django_db(transaction=True)
def test_a_storage_that_keeps_failing_fails_it_after_the_automatic_retries_and_the_customer_retries(
    alice, broker, blocked_storage
):
    account = AccountFactory(owner=alice, name="Current", kind=Account.Kind.CURRENT)
    with transaction.atomic():
        statement, _ = services.statement_request(user=alice, account_id=account.pk, period=OCTOBER)
    with (
        _on_retry(lambda: None) as retries,
        start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20),
    ):
        _wait_for(lambda: _status(statement) == Statement.Status.FAILED, "the statement failed for good")
        statement.refresh_from_db()
        assert (statement.attempts, statement.error) == (
            1 + settings.STATEMENT_AUTO_RETRIES,
            services.INTERRUPTED,
        )
        assert len(retries) == tasks.GENERATE_MAX_RETRIES
        blocked_storage.unlink()
        services.statement_retry(user=alice, statement_id=statement.pk)
        _wait_for(lambda: _status(statement) == Statement.Status.READY, "the customer's retry made it")
    statement.refresh_from_db()
    assert statement.attempts == 2 + settings.STATEMENT_AUTO_RETRIES


def test_the_retries_back_off_exponentially_with_jitter(settings):
    settings.STATEMENT_RETRY_DELAY_SECONDS = 30
    for retry, base in ((1, 30), (2, 60), (3, 120), (6, 600), (12, 600)):
        delays = [tasks.retry_delay(retry) for _ in range(50)]
        assert all(0.8 * base <= d <= 1.2 * base for d in delays)
        assert len(set(delays)) > 1


# --- the monthly statements


FIRST_OF_NOVEMBER = datetime.datetime(2026, 11, 1, 1, 30, tzinfo=IST)  # the beat's time (settings)


def _monthly_accounts() -> tuple[list[Account], list[Account]]:
    """Accounts that get October's statement, and accounts that do not."""
    alice = UserFactory(email="alice@example.com", full_name="Alice Iyer")
    bob = UserFactory(email="bob@example.com", full_name="Bob Menon")
    charlie = UserFactory(email="charlie@example.com", full_name="Charlie Das")
    year_old = AccountFactory(owner=alice, name="Savings", opened_on=datetime.date(2025, 11, 3))
    _post(year_old, datetime.datetime(2026, 10, 31, 23, 59, tzinfo=IST), 1_000_00)
    mid_month = AccountFactory(
        owner=alice, name="Current", kind=Account.Kind.CURRENT, opened_on=datetime.date(2026, 10, 15)
    )
    unused = AccountFactory(owner=bob, name="Savings", opened_on=datetime.date(2026, 10, 31))  # no entries
    frozen = AccountFactory(owner=bob, name="Joint", opened_on=datetime.date(2026, 1, 1))
    _post(frozen, datetime.datetime(2026, 9, 1, 9, 0, tzinfo=IST), 500_00)
    Account.objects.filter(pk=frozen.pk).update(status=Account.Status.FROZEN)
    closed_in_october = AccountFactory(owner=charlie, name="Old savings", opened_on=datetime.date(2024, 1, 1))
    _post(closed_in_october, datetime.datetime(2026, 10, 1, 0, 0, tzinfo=IST), 300_00)  # its first instant
    _post(closed_in_october, datetime.datetime(2026, 10, 20, 11, 0, tzinfo=IST), -300_00)
    closed_before = AccountFactory(owner=charlie, name="Older savings", opened_on=datetime.date(2023, 1, 1))
    _post(closed_before, datetime.datetime(2026, 9, 30, 23, 59, tzinfo=IST), 100_00)  # a minute before
    _post(closed_before, datetime.datetime(2026, 9, 30, 23, 59, 30, tzinfo=IST), -100_00)
    Account.objects.filter(pk__in=[closed_in_october.pk, closed_before.pk]).update(
        status=Account.Status.CLOSED
    )
    opened_after = AccountFactory(owner=charlie, name="New", opened_on=datetime.date(2026, 11, 1))
    return [year_old, mid_month, unused, frozen, closed_in_october], [closed_before, opened_after]


@pytest.mark.django_db(transaction=True)
def test_the_monthly_fan_out_makes_last_months_statement_of_each_open_account_once_and_emails_once(
    broker, monkeypatch
):
    monkeypatch.setattr(schedule, "BATCH", 2)  # several batches of a few accounts
    with time_machine.travel(FIRST_OF_NOVEMBER - datetime.timedelta(hours=1), tick=False):
        made, left_out = _monthly_accounts()
    customer_accounts = Account.objects.exclude(kind=Account.Kind.INTERNAL).count()
    expected_batches = -(-customer_accounts // schedule.BATCH)
    assert Account.objects.filter(kind=Account.Kind.INTERNAL).exists()  # and none of those
    with (
        time_machine.travel(FIRST_OF_NOVEMBER, tick=True),
        _runs_of(statements_monthly_batch_task.name) as batches,
        start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20),
    ):
        assert timezone.localdate() == datetime.date(2026, 11, 1)  # still 31 October in UTC
        statements_monthly_task.delay()
        _wait_for(
            lambda: len(mail.outbox) == len(made) and len(batches) == expected_batches,
            "every batch run, an email for each statement made",
        )
        first_batches = len(batches)
        assert sum(batches) == len(made)  # type: ignore[arg-type]

        # The beat twice (or its task delivered again): every batch runs again and makes nothing.
        statements_monthly_task.delay()
        _wait_for(lambda: len(batches) == 2 * first_batches, "the second run's batches")
        assert sum(batches[first_batches:]) == 0  # type: ignore[arg-type]

        # A statement's task delivered again once it is ready: nothing made, nobody emailed.
        with _runs_of(statement_generate_task.name) as again:
            statement_generate_task.delay(Statement.objects.first().pk)
            _wait_for(lambda: again, "the task delivered again")
        assert again == [False]

    statements = Statement.objects.select_related("account__owner").order_by("account_id")
    assert [s.account_id for s in statements] == sorted(a.pk for a in made)
    for statement in statements:
        assert (statement.first_day, statement.last_day) == (OCTOBER.first_day, OCTOBER.last_day)
        assert (statement.origin, statement.requested_by, statement.status, statement.attempts) == (
            Statement.Origin.MONTHLY,
            None,
            Statement.Status.READY,
            1,
        )
    assert sorted(e.to[0] for e in mail.outbox) == sorted(a.owner.email for a in made)
    assert _waiting("celery") == 0  # and no other email on its way
    by_account = {e.body.split("(")[1].split(")")[0]: e for e in mail.outbox}
    for account in made:
        email = by_account[account.masked_number]
        assert email.to == [account.owner.email]
        assert email.subject == "Your statement for October 2026 is ready"
        assert f"{account.name} ({account.masked_number}) for October 2026" in email.body
        assert "/statements/" in email.body and "/statements/verify/" in email.body
        assert account.number not in email.body
    assert not Statement.objects.filter(account__in=left_out).exists()


@pytest.mark.django_db
def test_a_batch_delivered_again_sends_only_the_statements_never_sent(
    alice, broker, django_capture_on_commit_callbacks
):
    accounts = [AccountFactory(owner=alice, opened_on=datetime.date(2026, 1, 1)) for _ in range(3)]
    after, up_to = accounts[0].pk - 1, accounts[-1].pk
    args = (after, up_to, OCTOBER.first_day.isoformat(), OCTOBER.last_day.isoformat())
    with django_capture_on_commit_callbacks(execute=False):  # the worker dies before it sends anything
        assert statements_monthly_batch_task(*args) == 3
    with django_capture_on_commit_callbacks(execute=True):  # delivered again: the same three, sent now
        assert statements_monthly_batch_task(*args) == 3
    assert Statement.objects.count() == 3
    assert not Statement.objects.filter(sent_at__isnull=True).exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert statements_monthly_batch_task(*args) == 0


def test_the_batches_cover_every_customer_account_once(db, alice):
    accounts = [AccountFactory(owner=alice) for _ in range(7)]
    bounds = list(schedule.batch_bounds(size=3))
    assert len(bounds) == 3 and bounds[0][0] == 0
    assert all(a == b for (_, a), (b, _) in itertools.pairwise(bounds))
    covered = [
        pk
        for after, up_to in bounds
        for pk in Account.objects.exclude(kind=Account.Kind.INTERNAL)
        .filter(pk__gt=after, pk__lte=up_to)
        .values_list("pk", flat=True)
    ]
    assert covered == [a.pk for a in accounts]


def test_the_monthly_period_is_the_month_before_in_india():
    with time_machine.travel(datetime.datetime(2026, 12, 1, 0, 5, tzinfo=IST), tick=False):  # 30 Nov in UTC
        assert schedule.monthly_period() == periods.month(datetime.date(2026, 11, 1))
        assert schedule.monthly_period("2026-10-17") == OCTOBER
        with pytest.raises(periods.PeriodError):
            schedule.monthly_period("2026-12-01")  # not ended


def test_the_beat_runs_the_watchdog_the_month_and_the_clean_up_in_india():
    beat = settings.CELERY_BEAT_SCHEDULE
    assert app.conf.timezone == "Asia/Kolkata"
    monthly = beat["statements-monthly"]["schedule"]
    assert (monthly.day_of_month, monthly.hour, monthly.minute) == ({1}, {1}, {30})
    assert beat["statements-watchdog"]["schedule"] <= 5 * 60
    assert beat["statement-files-remove"]["schedule"].hour == {3}
    for entry in (beat["statements-watchdog"], beat["statements-monthly"], beat["statement-files-remove"]):
        assert entry["task"] in app.tasks
    # The generate tasks wait in a queue of their own, which a worker started without -Q consumes too.
    assert app.amqp.router.route({}, statement_generate_task.name)["queue"].name == "statements"
    assert app.amqp.router.route({}, statements_monthly_task.name)["queue"].name == "celery"
    assert {"celery", "statements"} <= set(app.amqp.queues.consume_from)


# --- the clean-up of old files


@pytest.mark.django_db
def test_the_clean_up_removes_old_files_keeps_rows_and_checksums_and_leaves_recent_ones(
    alice, settings, storage_root
):
    settings.STATEMENT_RETENTION_DAYS = 400
    account = AccountFactory(owner=alice, opened_on=datetime.date(2024, 1, 1))
    now = datetime.datetime(2026, 11, 20, 3, 15, tzinfo=IST)

    def made(first: datetime.date, on: datetime.datetime) -> Statement:
        statement = Statement.objects.create(
            account=account, first_day=first, last_day=periods.month(first).last_day, requested_by=alice
        )
        with time_machine.travel(on, tick=False):
            assert generate.build(statement.pk)
        statement.refresh_from_db()
        return statement

    old = made(datetime.date(2025, 8, 1), now - datetime.timedelta(days=401))
    stuck = made(datetime.date(2025, 9, 1), now - datetime.timedelta(days=402))
    # A period long past, asked for recently: kept (age counts from when its files were made).
    recent = made(datetime.date(2024, 2, 1), now - datetime.timedelta(days=10))
    # The storage refuses to delete one: a non-empty folder where its PDF was.
    (storage_root / stuck.pdf.name).unlink()
    (storage_root / stuck.pdf.name).mkdir()
    (storage_root / stuck.pdf.name / "x").write_text("x")

    with time_machine.travel(now, tick=False):
        assert schedule.files_remove_expired(until=time.monotonic() - 1) == 0  # out of time: left for later
        assert old.pdf.storage.exists(old.pdf.name)
        assert statement_files_remove_task() == 1
        assert schedule.files_remove_expired() == 0  # again: nothing more (the stuck one still refuses)

    old_before = (old.pdf_sha256, old.csv_sha256, old.entry_count, old.closing_paise)
    old_names = (old.pdf.name, old.csv.name)
    old.refresh_from_db()
    assert (old.status, old.pdf.name, old.csv.name, old.files_removed_at) == (
        Statement.Status.READY,
        "",
        "",
        now,
    )
    assert (old.pdf_sha256, old.csv_sha256, old.entry_count, old.closing_paise) == old_before
    assert not old.has_files
    assert not any((storage_root / name).exists() for name in old_names)
    assert selectors.statement_by_checksum(old.pdf_sha256) == old  # a kept copy can still be verified

    stuck_names = (stuck.pdf.name, stuck.csv.name)
    stuck.refresh_from_db()
    assert (stuck.pdf.name, stuck.csv.name, stuck.files_removed_at) == (*stuck_names, None)
    recent_names = (recent.pdf.name, recent.csv.name)
    recent.refresh_from_db()
    assert (recent.pdf.name, recent.csv.name, recent.files_removed_at) == (*recent_names, None)
    assert all((storage_root / name).is_file() for name in recent_names)

    # The storage lets go: the next night's run removes it.
    (storage_root / stuck.pdf.name / "x").unlink()
    with time_machine.travel(now + datetime.timedelta(days=1), tick=False):
        assert schedule.files_remove_expired() == 1
    stuck.refresh_from_db()
    assert stuck.files_removed_at is not None and stuck.pdf.name == ""
    assert _stored(storage_root) == sorted(recent_names)
    assert statements_storage().exists(recent.pdf.name)
