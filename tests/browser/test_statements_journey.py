"""A statement from request to verification, in Chromium, made by a real Celery worker (a thread of this
process, over the test's Redis broker): the customer asks for last month's statement, watches its row go from
waiting to ready (HTMX polls it; without JavaScript the Refresh link does), downloads the PDF, and a third
party uploads that file to the verify page and reads "Genuine". And by keyboard alone.

The worker starts only once the page shows the statement waiting: the customer sees it being made, however
quickly the worker would have made it."""

import datetime
import hashlib
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone
from playwright.sync_api import Page, expect

import transactions.statements.tasks  # noqa: F401 - registers the task the request sends by name
from accounts.models import Account
from portal.celery import app
from portal.seeding.history import posted_at
from tests.browser.conftest import login
from tests.browser.test_keyboard import _tab_to
from tests.factories import AccountFactory
from transactions import services
from transactions.statements import generate, labels, periods
from transactions.statements.models import Statement

pytestmark = pytest.mark.browser

DEADLINE_SECONDS = 60  # a loop's bound, not a measure: a loaded machine may be slow


def _post(account: Account, when: datetime.datetime, paise: int, what: str) -> None:
    with posted_at(when):
        if paise > 0:
            services.deposit_create(
                account=account, amount_paise=paise, description=what, idempotency_key=uuid.uuid4().hex
            )
        else:
            services.payment_create(
                account=account,
                amount_paise=-paise,
                description=what,
                counterparty="DMart",
                idempotency_key=uuid.uuid4().hex,
            )


@pytest.fixture
def current(alice) -> Account:
    """Alice's only account (ending 1234): last month's salary and groceries."""
    account = AccountFactory(owner=alice, name="Current", number="501000001234", kind=Account.Kind.CURRENT)
    last = periods.previous_month()
    noon = datetime.time(12, 0, tzinfo=timezone.get_current_timezone())
    salary_day = datetime.datetime.combine(last.first_day, noon)
    _post(account, salary_day, 50_000_00, "Salary")
    _post(account, salary_day + datetime.timedelta(days=9), -1_250_50, "Groceries")
    return account


@contextmanager
def _worker() -> Iterator[None]:
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield


def _request_last_month(page: Page) -> Statement:
    """From the navigation: her only account and the last whole month are chosen already."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Statements").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Statements")
    last = periods.previous_month()
    expect(page.get_by_label("A month")).to_be_checked()
    expect(page.get_by_label("Month", exact=True)).to_have_value(f"{last.first_day:%Y-%m}")
    page.get_by_role("button", name="Request statement").click()
    expect(page.locator(".messages")).to_contain_text("Statement queued: Current ••1234")
    statement = Statement.objects.get()
    assert (statement.first_day, statement.last_day) == (last.first_day, last.last_day)
    return statement


def _download_pdf(page: Page, statement: Statement, tmp_path: Path) -> Path:
    row = page.locator(f"#statement-{statement.pk}")
    with page.expect_download() as info:
        row.get_by_role("link", name=re.compile("^Download PDF")).click()
    download = info.value
    statement.refresh_from_db()
    assert download.suggested_filename == generate.file_name(statement, "pdf")
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == statement.pdf_sha256
    return path


def _verify(page: Page, path: Path, statement: Statement) -> None:
    """Signed out, as the visa officer who was sent the file."""
    page.context.clear_cookies()
    page.goto("/statements/verify/")
    page.get_by_label("Statement file (PDF or CSV)").set_input_files(path)
    page.get_by_role("button", name="Verify").click()
    first, last = (f"{day.day} {day:%B %Y}" for day in (statement.first_day, statement.last_day))
    expect(page.locator("#verify-result")).to_contain_text(
        f"Genuine SecureBank statement for account ••1234, {first} to {last}"
    )


@pytest.mark.django_db(transaction=True)
def test_a_customer_watches_a_statement_being_made_downloads_it_and_it_verifies(
    new_page, live_server, alice, current, tmp_path
):
    app.control.purge()  # nothing left over from other tests' requests
    page = new_page()
    login(page, live_server, alice.email)
    statement = _request_last_month(page)
    row = page.locator(f"#statement-{statement.pk}")
    expect(row.locator(".statement-status")).to_have_text("Waiting to start: 0%")
    expect(row.get_by_role("progressbar")).to_have_attribute("value", "0")
    expect(row.locator(".statement-live")).to_have_attribute("hx-trigger", "every 2s")
    # Focus on the row's Refresh link is not taken by the polls (only the status and the bar are swapped).
    refresh = row.get_by_role("link", name=re.compile("^Refresh"))
    refresh.focus()
    page.wait_for_timeout(4500)  # two polls; not a timed assertion: what is asserted is where focus is
    expect(refresh).to_be_focused()

    with _worker():
        # The row polls itself until the worker is done; then it stops and the live region says so, once.
        expect(row.get_by_role("link", name=re.compile("^Download PDF"))).to_be_visible()
    expect(row.locator("[hx-trigger]")).to_have_count(0)
    period = labels.period_label(statement.first_day, statement.last_day)
    expect(page.locator("#statements-announce")).to_have_text(
        f"Your statement of ••1234 for {period} is ready to download."
    )
    expect(row.locator(".statement-status")).to_contain_text("2 entries")

    path = _download_pdf(page, statement, tmp_path)
    _verify(page, path, statement)


@pytest.mark.django_db(transaction=True)
def test_without_javascript_the_refresh_link_shows_it_ready_and_it_downloads(
    new_page, live_server, alice, current, tmp_path
):
    app.control.purge()
    page = new_page(javascript=False)
    login(page, live_server, alice.email)
    statement = _request_last_month(page)
    row = page.locator(f"#statement-{statement.pk}")
    expect(row.locator(".statement-status")).to_have_text("Waiting to start: 0%")
    with _worker():
        deadline = time.monotonic() + DEADLINE_SECONDS
        while not page.locator(f"#statement-{statement.pk} .statement-files").count():
            assert time.monotonic() < deadline, "never ready"
            page.get_by_role("link", name=re.compile("^Refresh")).click()  # the statement's own page
            expect(page.get_by_role("heading", level=1)).to_have_text("Statement")
    expect(page.locator(".badge")).to_have_text("Ready")
    path = _download_pdf(page, statement, tmp_path)
    _verify(page, path, statement)


@pytest.mark.django_db(transaction=True)
def test_it_asks_for_a_quarters_statement_with_the_keyboard_alone(new_page, live_server, alice, current):
    """Tab, the arrow keys and Enter: the quarter's field shows once "A quarter" is chosen, and every stop
    on the way shows its focus."""
    page = new_page()
    login(page, live_server, alice.email)
    _tab_to(page, page.get_by_role("navigation", name="Main").get_by_role("link", name="Statements"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Statements")
    quarter = page.get_by_label("Quarter", exact=True)
    expect(quarter).to_be_hidden()  # until its kind is chosen
    _tab_to(page, page.get_by_label("A month"))
    page.keyboard.press("ArrowDown")
    expect(page.get_by_label("A quarter")).to_be_checked()
    expect(quarter).to_be_visible()
    page.keyboard.press("Tab")
    expect(quarter).to_be_focused()
    choices = quarter.locator("option").evaluate_all("options => options.map((o) => o.value)")
    chosen = quarter.input_value()
    page.keyboard.press("ArrowDown")  # one quarter older than the one chosen for her
    expected = quarter.input_value()
    assert choices.index(expected) == choices.index(chosen) + 1
    _tab_to(page, page.get_by_role("button", name="Request statement"), limit=3)
    page.keyboard.press("Enter")
    expect(page.locator(".messages")).to_contain_text("Statement queued: Current ••1234, Q")
    statement = Statement.objects.get()
    assert statement.first_day.isoformat() == expected
