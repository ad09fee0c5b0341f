"""A statement's files equal the ledger: the opening and closing balances around the period (IST days), every
row with its running balance, the CSV's rows and the checksums stored with them."""

import csv
import datetime
import hashlib
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from accounts.models import Account
from tests.factories import AccountFactory
from tests.statements.ledger import post
from transactions.statements import generate, periods, services
from transactions.statements.models import Statement

IST = ZoneInfo("Asia/Kolkata")
NOW = datetime.datetime(2026, 11, 20, 12, 0, tzinfo=IST)


def _post(account: Account, when: datetime.datetime, paise: int, what: str = "Groceries") -> None:
    post(account, when, paise, what)


@pytest.fixture
def account(alice):
    account = AccountFactory(owner=alice, name="Current", kind=Account.Kind.CURRENT)
    _post(account, datetime.datetime(2026, 9, 30, 23, 59, tzinfo=IST), 10_000_00, "Before")
    # Exactly at the period's first instant (midnight IST, 18:30 UTC the day before) and its last minute.
    _post(account, datetime.datetime(2026, 10, 1, 0, 0, tzinfo=IST), -1_00, "First instant")
    _post(account, datetime.datetime(2026, 10, 15, 9, 0, tzinfo=IST), 2_500_50, "Salary")
    _post(account, datetime.datetime(2026, 10, 31, 23, 59, 59, tzinfo=IST), -3_00, "Last second")
    _post(account, datetime.datetime(2026, 11, 1, 0, 0, tzinfo=IST), -7_00, "After")
    return account


@pytest.mark.django_db
def test_a_months_statement_equals_the_ledger_at_its_ist_boundaries(
    alice, account, django_capture_on_commit_callbacks
):
    with time_machine.travel(NOW, tick=False):
        statement, queued = services.statement_request(
            user=alice, account_id=account.pk, period=periods.month(datetime.date(2026, 10, 1))
        )
    assert queued
    assert generate.build(statement.pk)
    statement.refresh_from_db()
    assert statement.status == Statement.Status.READY
    assert (statement.opening_paise, statement.closing_paise) == (
        10_000_00,
        10_000_00 - 1_00 + 2_500_50 - 3_00,
    )
    assert (statement.credits_paise, statement.debits_paise, statement.entry_count) == (2_500_50, 4_00, 3)
    data = statement.csv.read()
    assert hashlib.sha256(data).hexdigest() == statement.csv_sha256
    assert hashlib.sha256(statement.pdf.read()).hexdigest() == statement.pdf_sha256
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert [line[2] for line in lines[1:]] == [
        "Opening balance of ••" + account.number[-4:],
        "First instant",
        "Salary",
        "Last second",
        "Closing balance of ••" + account.number[-4:],
    ]
    assert lines[1][1] == lines[-1][1] == f"ST{statement.pk:010d}"
    assert lines[1][-1] == "10000.00" and lines[-1][-1] == "12496.50"
    assert lines[3][5] == "2500.50" and lines[4][4] == "3.00"


@pytest.mark.django_db
def test_a_period_without_entries_carries_the_balance(alice, account):
    with time_machine.travel(NOW, tick=False):
        statement, _ = services.statement_request(
            user=alice,
            account_id=account.pk,
            period=periods.Period(datetime.date(2026, 10, 16), datetime.date(2026, 10, 30)),
        )
    generate.build(statement.pk)
    statement.refresh_from_db()
    expected = 10_000_00 - 1_00 + 2_500_50
    assert (statement.opening_paise, statement.closing_paise, statement.entry_count) == (
        expected,
        expected,
        0,
    )


@pytest.mark.django_db
def test_asking_again_returns_the_same_statement(alice, account):
    with time_machine.travel(NOW, tick=False):
        first, queued = services.statement_request(
            user=alice, account_id=account.pk, period=periods.month(datetime.date(2026, 10, 1))
        )
        again, queued_again = services.statement_request(
            user=alice, account_id=account.pk, period=periods.month(datetime.date(2026, 10, 5))
        )
    assert (again.pk, queued, queued_again) == (first.pk, True, False)
    assert generate.build(first.pk) and not generate.build(first.pk)
    assert Statement.objects.count() == 1


@pytest.mark.django_db
def test_made_again_after_its_files_were_removed_it_is_the_same_pdf(alice, account, settings):
    """The retention job removes old files; asked for again, the statement is made from the same ledger with
    its first issue time, so a copy the customer sent a lender last year still verifies. Sizes are kept."""
    from transactions.statements import schedule, selectors

    with time_machine.travel(NOW, tick=False):
        statement, _ = services.statement_request(
            user=alice, account_id=account.pk, period=periods.month(datetime.date(2026, 10, 1))
        )
        generate.build(statement.pk)
    statement.refresh_from_db()
    first = statement.pdf.read()
    assert (statement.pdf_bytes, statement.csv_bytes) == (len(first), len(statement.csv.read()))
    assert statement.issued_at == NOW
    later = NOW + datetime.timedelta(days=settings.STATEMENT_RETENTION_DAYS + 1)
    with time_machine.travel(later, tick=False):
        schedule.files_remove_expired()
        statement.refresh_from_db()
        assert statement.files_removed_at is not None and not statement.has_files
        again, queued = services.statement_request(
            user=alice, account_id=account.pk, period=periods.month(datetime.date(2026, 10, 1))
        )
        assert (again.pk, queued) == (statement.pk, True)
        generate.build(statement.pk)
    statement.refresh_from_db()
    assert statement.has_files and statement.issued_at == NOW and statement.finished_at == later
    assert statement.pdf.read() == first
    assert selectors.statement_by_checksum(hashlib.sha256(first).hexdigest()) == statement


@pytest.mark.django_db
def test_two_dormant_accounts_months_have_different_checksums(alice, bob):
    """Two accounts with no entries and the same balance in a month: their statements' data differ (each
    names its statement and account), so a checksum names one statement."""
    from transactions.statements import selectors

    made = []
    for user in (alice, bob):
        quiet = AccountFactory(owner=user, kind=Account.Kind.SAVINGS)
        with time_machine.travel(NOW, tick=False):
            statement, _ = services.statement_request(
                user=user, account_id=quiet.pk, period=periods.month(datetime.date(2026, 10, 1))
            )
            generate.build(statement.pk)
        statement.refresh_from_db()
        made.append(statement)
    assert made[0].csv_sha256 != made[1].csv_sha256
    assert [selectors.statement_by_checksum(s.csv_sha256) for s in made] == made


@pytest.mark.django_db(transaction=True)
def test_a_request_while_the_broker_is_away_is_kept_for_the_watchdog_to_send(alice, account):
    """The row commits before its task is sent: a broker that is away then must not turn the customer's
    request into a 500 (the statement exists); its `sent_at` stays empty, and the watchdog sends it."""
    from django.test import Client

    from portal.celery import app

    client = Client(raise_request_exception=False)
    client.force_login(alice)
    saved = app.conf.broker_url, app._pool, app.amqp._producer_pool
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens there
    app._pool, app.amqp._producer_pool = None, None  # connections made afresh, to it
    try:
        with time_machine.travel(NOW, tick=True):
            response = client.post(
                reverse("statements"), {"account": account.pk, "kind": "month", "month": "2026-10"}
            )
    finally:
        if app._pool is not None:
            app._pool.force_close_all()  # the dead broker's pool only
        app.conf.broker_url, app._pool, app.amqp._producer_pool = saved
    assert response.status_code == 303
    statement = Statement.objects.get(account=account)
    assert (statement.status, statement.sent_at) == (Statement.Status.QUEUED, None)


@pytest.mark.django_db
def test_an_attempt_the_watchdog_gave_up_on_cannot_fail_the_requeued_statement(alice, account, settings):
    """A slow attempt is requeued by the watchdog; when that old attempt then fails (its time limit), the
    statement stays queued for the new attempt rather than turning failed under it."""
    with time_machine.travel(NOW, tick=False):
        statement, _ = services.statement_request(
            user=alice, account_id=account.pk, period=periods.month(datetime.date(2026, 10, 1))
        )
        attempt = services.claim(statement.pk)
    later = NOW + datetime.timedelta(seconds=settings.STATEMENT_STALE_SECONDS + 1)
    with time_machine.travel(later, tick=False):
        services.fail_stale()
        statement.refresh_from_db()
        assert statement.status == Statement.Status.QUEUED
        assert not services.fail(statement.pk, attempt, generate.TOO_LONG)
    statement.refresh_from_db()
    assert statement.status == Statement.Status.QUEUED
    assert generate.build(statement.pk)


@pytest.mark.django_db
def test_a_customers_retry_gets_the_automatic_retries_again(alice, account, settings):
    """Worker after worker dies on a statement: the watchdog requeues it STATEMENT_AUTO_RETRIES times, then
    fails it for the customer; a retry by the customer then has as many automatic retries as the first."""
    when = NOW
    with time_machine.travel(when, tick=False):
        statement, _ = services.statement_request(
            user=alice, account_id=account.pk, period=periods.month(datetime.date(2026, 10, 1))
        )

    def worker_dies() -> services.Stale:
        nonlocal when
        with time_machine.travel(when, tick=False):
            assert services.claim(statement.pk) is not None
        when += datetime.timedelta(seconds=settings.STATEMENT_STALE_SECONDS + 1)
        with time_machine.travel(when, tick=False):
            return services.fail_stale()

    for _ in range(settings.STATEMENT_AUTO_RETRIES):
        assert worker_dies().requeued == [statement.pk]
    assert worker_dies().failed == [statement.pk]
    with time_machine.travel(when, tick=False):
        services.statement_retry(user=alice, statement_id=statement.pk)
    assert worker_dies().requeued == [statement.pk]


@pytest.mark.django_db(transaction=True)
def test_a_task_that_arrives_while_its_row_is_being_marked_sent_still_claims_it(alice, account):
    """The sender marks the statement sent just as the worker's task starts: the claim waits for that
    UPDATE, then takes the statement (it once skipped the locked row, and the statement stayed queued)."""
    from tests.threads import HeldOpen, Worker, wait_until_blocked_by

    with time_machine.travel(NOW, tick=False):
        statement, _ = services.statement_request(
            user=alice, account_id=account.pk, period=periods.month(datetime.date(2026, 10, 1))
        )
    sender = HeldOpen(lambda: services.mark_sent([statement.pk]))
    sender.start_and_wait()
    worker = Worker(lambda: services.claim(statement.pk))
    worker.start()
    wait_until_blocked_by(sender.pid, "the claim")
    sender.release()
    sender.outcome()
    assert worker.outcome() == 1
    statement.refresh_from_db()
    assert (statement.status, statement.attempts) == (Statement.Status.RUNNING, 1)
