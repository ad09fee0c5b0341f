"""A statement's files equal the ledger: the opening and closing balances around the period (IST days), every
row with its running balance, the CSV's rows and the checksums stored with them."""

import csv
import datetime
import hashlib
import io
import uuid
from zoneinfo import ZoneInfo

import pytest
import time_machine

from accounts.models import Account
from portal.seeding.history import posted_at
from tests.factories import AccountFactory
from transactions import services as ledger
from transactions.statements import generate, periods, services
from transactions.statements.models import Statement

IST = ZoneInfo("Asia/Kolkata")
NOW = datetime.datetime(2026, 11, 20, 12, 0, tzinfo=IST)


def _post(account: Account, when: datetime.datetime, paise: int, what: str = "Groceries") -> None:
    with posted_at(when):
        if paise > 0:
            ledger.deposit_create(
                account=account, amount_paise=paise, description=what, idempotency_key=str(uuid.uuid4())
            )
        else:
            ledger.payment_create(
                account=account,
                amount_paise=-paise,
                description=what,
                counterparty="DMart",
                category="groceries",
                idempotency_key=str(uuid.uuid4()),
            )


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
        "Opening balance",
        "First instant",
        "Salary",
        "Last second",
        "Closing balance",
    ]
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
