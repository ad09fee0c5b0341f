"""The statements' pages: asking for a statement (each kind of period, the form's errors, the same statement
twice), the list and what it costs, a statement's progress as an HTMX row and as a page, a retry, the signed
download (its headers, its owner, its expiry, its audit) and the public verify page (a file or a checksum,
genuine or not, and every way its input can be wrong). Real statements: generate.build, synchronously."""

import datetime
import hashlib
import html
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Account
from portal.models import AuditEvent
from tests.factories import AccountFactory
from tests.statements.ledger import post
from transactions.insights.periods import add_months
from transactions.statements import downloads, generate, periods, services, views
from transactions.statements.models import Statement
from transactions.statements.verification import HashingUploadHandler

IST = ZoneInfo("Asia/Kolkata")
NOW = datetime.datetime(2026, 11, 20, 12, 0, tzinfo=IST)
URL = "/statements/"
VERIFY = "/statements/verify/"
OCTOBER = periods.month(datetime.date(2026, 10, 1))
HX = {"HTTP_HX_REQUEST": "true"}

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _pinned_clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _post(account: Account, when: datetime.datetime, paise: int, what: str) -> None:
    post(account, when, paise, what)


@pytest.fixture
def account(alice) -> Account:
    """Alice's current account ending 1234, with three entries in October and one in November."""
    account = AccountFactory(owner=alice, name="Current", number="501000001234", kind=Account.Kind.CURRENT)
    _post(account, datetime.datetime(2026, 10, 1, 9, 0, tzinfo=IST), 50_000_00, "Salary")
    _post(account, datetime.datetime(2026, 10, 15, 9, 0, tzinfo=IST), -1_250_50, "Groceries")
    _post(account, datetime.datetime(2026, 10, 31, 23, 59, tzinfo=IST), -99_00, "Late snack")
    _post(account, datetime.datetime(2026, 11, 5, 9, 0, tzinfo=IST), -10_00, "Chai")
    return account


@pytest.fixture
def customer(client: Client, alice) -> Client:
    client.force_login(alice)
    return client


def _request(alice, account: Account, period: periods.Period = OCTOBER) -> Statement:
    statement, _ = services.statement_request(user=alice, account_id=account.pk, period=period)
    return statement


def _ready(alice, account: Account, period: periods.Period = OCTOBER) -> Statement:
    statement = _request(alice, account, period)
    assert generate.build(statement.pk)
    statement.refresh_from_db()
    return statement


def _failed(alice, account: Account, period: periods.Period = OCTOBER) -> Statement:
    statement = _request(alice, account, period)
    services.fail(
        statement.pk, services.claim(statement.pk), "Preparing this statement failed. Please try again."
    )
    statement.refresh_from_db()
    return statement


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- the form ---------------------------------------------------------------------------------------------


def test_it_sends_anonymous_visitors_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_it_offers_recent_months_quarters_and_financial_years_newest_first(customer, account):
    response = customer.get(URL)
    assert response.status_code == 200
    form = response.context["form"]
    months = form.fields["month"].choices
    assert len(months) == 24
    assert months[0] == ("2026-11", "November 2026 (so far, to yesterday)")
    assert months[1] == ("2026-10", "October 2026")
    assert months[-1] == ("2024-12", "December 2024")
    assert form["month"].value() == "2026-10"  # the last whole month
    quarters = form.fields["quarter"].choices
    assert quarters[:2] == [
        ("2026-10-01", "Q3 FY 2026–27 (Oct 2026 to yesterday)"),
        ("2026-07-01", "Q2 FY 2026–27 (Jul–Sep 2026)"),
    ]
    assert ("2026-01-01", "Q4 FY 2025–26 (Jan–Mar 2026)") in quarters
    assert form["quarter"].value() == "2026-07-01"
    years = form.fields["year"].choices
    assert years[:2] == [("2026", "FY 2026–27 (so far, to yesterday)"), ("2025", "FY 2025–26")]
    body = response.content.decode()
    assert f'<option value="{account.pk}" selected>Current (••1234)</option>' in body  # her only one
    assert 'max="2026-11-19"' in body


def test_on_the_first_of_a_month_it_offers_no_day_of_it(client, alice, account, _pinned_clock):
    _pinned_clock.move_to(datetime.datetime(2026, 12, 1, 9, 0, tzinfo=IST))
    client.force_login(alice)
    months = client.get(URL).context["form"].fields["month"].choices
    assert months[0] == ("2026-11", "November 2026")


@pytest.mark.parametrize(
    ("fields", "first_day", "last_day"),
    [
        ({"kind": "month", "month": "2026-10"}, "2026-10-01", "2026-10-31"),
        ({"kind": "month", "month": "2026-11"}, "2026-11-01", "2026-11-19"),  # so far, to yesterday
        ({"kind": "quarter", "quarter": "2026-07-01"}, "2026-07-01", "2026-09-30"),
        ({"kind": "quarter", "quarter": "2026-01-01"}, "2026-01-01", "2026-03-31"),
        ({"kind": "fy", "year": "2025"}, "2025-04-01", "2026-03-31"),
        ({"kind": "custom", "date_from": "2026-10-16", "date_to": "2026-11-19"}, "2026-10-16", "2026-11-19"),
        ({"kind": "custom", "date_from": "2021-11-20", "date_to": "2026-11-19"}, "2021-11-20", "2026-11-19"),
    ],
    ids=["month", "month-so-far", "quarter", "quarter-q4", "financial-year", "custom", "custom-five-years"],
)
def test_it_queues_the_statement_of_each_kind_of_period(
    customer, alice, account, fields, first_day, last_day
):
    # The other kinds' fields ride along with their defaults, as a browser sends them: they are ignored.
    data = {"account": account.pk, "month": "2026-10", "quarter": "2026-07-01", "year": "2025", **fields}
    response = customer.post(URL, data, follow=True)
    statement = Statement.objects.get()
    assert (statement.account, statement.requested_by) == (account, alice)
    assert (statement.first_day.isoformat(), statement.last_day.isoformat()) == (first_day, last_day)
    assert statement.status == Statement.Status.QUEUED
    assert response.redirect_chain == [(f"{URL}#statement-{statement.pk}", 303)]
    assert _messages(response)[0].startswith("Statement queued: Current ••1234")
    assert AuditEvent.objects.filter(action="statement.request", object_id=str(statement.pk)).count() == 1
    assert f'id="statement-{statement.pk}"' in response.content.decode()


def test_asking_again_says_you_already_have_it_and_makes_no_other(customer, account):
    data = {"account": account.pk, "kind": "month", "month": "2026-10"}
    first = customer.post(URL, data, follow=True)
    again = customer.post(URL, data, follow=True)
    statement = Statement.objects.get()
    assert first.redirect_chain == again.redirect_chain == [(f"{URL}#statement-{statement.pk}", 303)]
    assert _messages(again) == ["You already have this statement: Current ••1234, October 2026."]
    assert AuditEvent.objects.filter(action="statement.request").count() == 1


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"kind": "custom", "date_from": "2026-11-20", "date_to": "2026-11-20"},
            "date_to",
            "days that have ended",
        ),
        (
            {"kind": "custom", "date_from": "2027-01-01", "date_to": "2027-01-31"},
            "date_to",
            "days that have ended",
        ),
        (
            {"kind": "custom", "date_from": "2026-11-10", "date_to": "2026-11-01"},
            "date_to",
            "on or before the end",
        ),
        (
            {"kind": "custom", "date_from": "2021-11-01", "date_to": "2026-11-19"},
            "date_to",
            "at most five years",
        ),
        ({"kind": "custom", "date_from": "", "date_to": "2026-11-01"}, "date_from", "first day"),
        ({"kind": "custom", "date_from": "2026-02-30", "date_to": "2026-11-01"}, "date_from", "real date"),
        ({"kind": "month", "month": "2099-01"}, "month", "months in the list"),
        ({"kind": "month", "month": ""}, "month", "months in the list"),
        ({"kind": "quarter", "quarter": "2026-08-01"}, "quarter", "quarters in the list"),
        ({"kind": "fy", "year": "1999"}, "year", "financial years in the list"),
        ({"kind": "week"}, "kind", "kind of period"),
        ({}, "kind", "kind of period"),
    ],
)
def test_it_says_what_is_wrong_with_the_period_beside_its_field(customer, account, fields, field, message):
    response = customer.post(URL, {"account": account.pk, **fields})
    assert response.status_code == 200
    form = response.context["form"]
    assert message in " ".join(form.errors[field])
    assert set(form.errors) == {field}
    assert not Statement.objects.exists()
    body = response.content.decode()
    assert f'id="id_{field}_error"' in body
    assert 'role="alert"' in body


@pytest.mark.parametrize("whose", ["another customer's", "nobody's", "not a number"])
def test_another_customers_account_is_a_form_error(customer, account, bob_savings, whose):
    account_id = {"another customer's": bob_savings.pk, "nobody's": 2_000_000_000, "not a number": "x"}[whose]
    response = customer.post(URL, {"account": account_id, "kind": "month", "month": "2026-10"})
    assert response.status_code == 200
    assert response.context["form"].errors["account"] == ["Choose one of your accounts."]
    assert not Statement.objects.exists()
    assert bob_savings.masked_number not in response.content.decode()


def test_the_history_page_links_to_statements_of_its_account(customer, account):
    history = customer.get(reverse("history", args=[account.pk])).content.decode()
    assert f'href="{URL}?account={account.pk}"' in history
    page = customer.get(URL, {"account": account.pk})
    assert page.context["form"]["account"].value() == account.pk
    assert f'<option value="{account.pk}" selected>' in page.content.decode()


def test_the_main_navigation_has_statements(customer, account):
    body = customer.get(URL).content.decode()
    assert re.search(r'<a href="/statements/" aria-current="page">.*?<span>Statements</span></a>', body)
    dashboard = customer.get(reverse("dashboard")).content.decode()
    assert '<a href="/statements/"><svg' in dashboard


# --- the list ---------------------------------------------------------------------------------------------


def test_the_list_shows_each_state_with_what_it_needs(customer, alice, account):
    ready = _ready(alice, account)
    failed = _failed(alice, account, periods.month(datetime.date(2026, 9, 1)))
    queued = _request(alice, account, periods.month(datetime.date(2026, 8, 1)))
    running = _request(alice, account, periods.month(datetime.date(2026, 7, 1)))
    services.report_progress(running.pk, services.claim(running.pk), 42)
    body = customer.get(URL).content.decode()
    rows = {
        s.pk: re.search(rf'<li class="card statement" id="statement-{s.pk}".*?\n</li>', body, re.S).group(0)
        for s in (ready, failed, queued, running)
    }

    assert "Download PDF" in rows[ready.pk] and "Download CSV" in rows[ready.pk]
    assert "3 entries" in rows[ready.pk]
    # The checksum shown first is the one printed in the PDF's footer (the CSV's); the PDF file's below it.
    assert f'title="{ready.csv_sha256}"' in rows[ready.pk]
    assert f"{ready.csv_sha256[:8]}…{ready.csv_sha256[-8:]}" in rows[ready.pk]
    assert ready.pdf_sha256 in rows[ready.pk]
    assert re.search(r"\d+(\.\d)?\s(KB|bytes)", rows[ready.pk])
    assert "hx-trigger" not in rows[ready.pk]

    assert "Preparing this statement failed. Please try again." in rows[failed.pk]
    assert f'action="/statements/{failed.pk}/retry/"' in rows[failed.pk] and "Try again" in rows[failed.pk]
    assert "hx-trigger" not in rows[failed.pk]

    for row, percent in ((rows[queued.pk], 0), (rows[running.pk], 42)):
        assert 'hx-trigger="every 2s"' in row
        assert f'<progress class="statement-progress" max="100" value="{percent}"' in row
        assert f"{percent}%" in row
        assert "Refresh" in row
    assert "Being prepared: 42%" in rows[running.pk]


def _statements(alice, account: Account, count: int) -> None:
    """`count` statements of different months, every kind of state among them, the ready ones with files."""
    first = datetime.date(2026, 10, 1)
    for n in range(count):
        period = periods.month(add_months(first, -n))
        if n % 3 == 0:
            _ready(alice, account, period)
        elif n % 3 == 1:
            _failed(alice, account, period)
        else:
            _request(alice, account, period)


def _queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(URL).status_code == 200
    return len(captured)


def test_the_list_costs_the_same_queries_for_one_statement_or_twenty(alice, account, bob):
    bob_account = AccountFactory(owner=bob, name="Savings", number="501000005678")
    _post(bob_account, datetime.datetime(2026, 10, 2, 9, 0, tzinfo=IST), 1_000_00, "Salary")
    _statements(alice, account, 1)
    _statements(bob, bob_account, 20)
    one, twenty = Client(), Client()
    one.force_login(alice)
    twenty.force_login(bob)
    _queries(one)  # warm: sessions and the like
    _queries(twenty)
    assert _queries(one) == _queries(twenty)
    assert len(Statement.objects.filter(account=bob_account)) == 20


def test_the_list_shows_the_latest_fifty(customer, alice, account):
    first = datetime.date(2026, 10, 1)
    for n in range(52):
        _request(alice, account, periods.month(add_months(first, -n)))
    body = customer.get(URL).content.decode()
    assert body.count('class="card statement"') == 50
    assert "October 2026" in body and "September 2022" in body and "August 2022" not in body


# --- progress ---------------------------------------------------------------------------------------------


def test_the_status_is_a_row_for_htmx_and_a_page_otherwise(customer, alice, account):
    statement = _request(alice, account)
    url = reverse("statement_status", args=[statement.pk])

    row = customer.get(url, **HX)
    assert row.status_code == 200
    body = row.content.decode()
    assert body.lstrip().startswith("<li") and "<html" not in body
    # Only the status and the progress bar poll: focus on the row's links is never taken by a swap.
    assert f'hx-get="{url}?part=live" hx-trigger="every 2s" hx-swap="outerHTML"' in body
    assert "statements-announce" not in body  # nothing to say while it runs
    assert "HX-Request" in row["Vary"]

    page = customer.get(url)
    body = page.content.decode()
    assert "<html" in body and "<h1>Statement</h1>" in body
    assert f'hx-get="{url}?part=live&amp;detail=1" hx-trigger="every 2s"' in body  # its own page polls too
    assert f'<a href="{url}">Refresh' in body  # without JavaScript
    assert "HX-Request" in page["Vary"]


def test_a_finished_statements_row_stops_polling_and_says_so_once(customer, alice, account):
    statement = _ready(alice, account)
    url = reverse("statement_status", args=[statement.pk])
    body = customer.get(url, **HX).content.decode()
    assert "hx-trigger" not in body and "hx-get" not in body
    assert "Download PDF" in body
    assert (
        '<p id="statements-announce" hx-swap-oob="innerHTML">'
        "Your statement of ••1234 for October 2026 is ready to download.</p>" in body
    )
    page = customer.get(url).content.decode()  # a page load announces nothing: it is simply shown
    assert (
        "hx-swap-oob" not in page
        and '<p class="visually-hidden" role="status" id="statements-announce"></p>' in page
    )


def test_a_failed_statements_last_poll_says_why(customer, alice, account):
    statement = _failed(alice, account)
    body = customer.get(reverse("statement_status", args=[statement.pk]), **HX).content.decode()
    assert "could not be prepared. Preparing this statement failed. Please try again." in body


def test_the_status_answers_get_only(customer, alice, account):
    statement = _request(alice, account)
    assert customer.post(reverse("statement_status", args=[statement.pk])).status_code == 405


# --- retry ------------------------------------------------------------------------------------------------


def test_try_again_queues_a_failed_statement(customer, alice, account):
    statement = _failed(alice, account)
    response = customer.post(reverse("statement_retry", args=[statement.pk]), follow=True)
    assert response.redirect_chain == [(f"{URL}#statement-{statement.pk}", 303)]
    assert _messages(response) == ["Statement queued again. It shows below as it is prepared."]
    statement.refresh_from_db()
    assert (statement.status, statement.error) == (Statement.Status.QUEUED, "")
    assert AuditEvent.objects.filter(action="statement.retry", object_id=str(statement.pk)).count() == 1
    assert generate.build(statement.pk)  # and the task makes it
    statement.refresh_from_db()
    assert statement.status == Statement.Status.READY


def test_try_again_with_htmx_swaps_in_the_polling_row(customer, alice, account):
    statement = _failed(alice, account)
    response = customer.post(reverse("statement_retry", args=[statement.pk]), **HX)
    body = response.content.decode()
    assert body.lstrip().startswith("<li") and 'hx-trigger="every 2s"' in body
    assert ">Statement queued again.</p>" in body


def test_try_again_on_a_ready_statement_changes_nothing(customer, alice, account):
    statement = _ready(alice, account)
    response = customer.post(reverse("statement_retry", args=[statement.pk]), follow=True)
    assert _messages(response) == ["This statement is not waiting for a retry."]
    statement.refresh_from_db()
    assert (statement.status, statement.attempts) == (Statement.Status.READY, 1)


def test_try_again_page_and_another_customers_statement(customer, alice, account, bob):
    statement = _failed(alice, account)
    url = reverse("statement_retry", args=[statement.pk])
    assert "Try again" in customer.get(url).content.decode()
    intruder = Client()
    intruder.force_login(bob)
    assert intruder.post(url).status_code == 404
    statement.refresh_from_db()
    assert statement.status == Statement.Status.FAILED


# --- download ---------------------------------------------------------------------------------------------


def _link(customer: Client, statement: Statement, fmt: str) -> str:
    """The link the list page draws (a fresh one each time it is shown)."""
    body = customer.get(URL).content.decode()
    found = re.search(rf'href="(/statements/{statement.pk}/download/{fmt}/[^"]+)"', body)
    assert found, body
    return found.group(1)


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.mark.parametrize(
    ("fmt", "content_type"), [("pdf", "application/pdf"), ("csv", "text/csv; charset=utf-8")]
)
def test_the_owner_downloads_the_file_with_its_headers_and_an_audit_event(
    customer, alice, account, fmt, content_type
):
    statement = _ready(alice, account)
    response = customer.get(_link(customer, statement, fmt))
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"] == (
        f'attachment; filename="securebank-statement-1234-2026-10-01-to-2026-10-31.{fmt}"'
    )
    assert response["Cache-Control"] == "no-store, private"
    assert response["X-Content-Type-Options"] == "nosniff"
    data = _body(response)
    assert hashlib.sha256(data).hexdigest() == getattr(statement, f"{fmt}_sha256")
    event = AuditEvent.objects.get(action="statement.download")
    assert (event.actor, event.object_id) == (alice, str(statement.pk))
    assert event.after == {
        "format": fmt,
        "account": "••1234",
        "first_day": "2026-10-01",
        "last_day": "2026-10-31",
    }


def test_another_customer_gets_404_even_with_a_link_of_their_own(alice, account, bob):
    statement = _ready(alice, account)
    intruder = Client()
    intruder.force_login(bob)
    for user in (alice, bob):
        token = downloads.token_for(statement_id=statement.pk, fmt="pdf", user_id=user.pk)
        url = reverse("statement_download", args=[statement.pk, "pdf", token])
        assert intruder.get(url).status_code == 404
    assert not AuditEvent.objects.filter(action="statement.download").exists()


def test_a_link_expires_after_fifteen_minutes(customer, alice, account, _pinned_clock):
    statement = _ready(alice, account)
    url = _link(customer, statement, "pdf")
    _pinned_clock.shift(settings.STATEMENT_LINK_SECONDS - 1)
    assert customer.get(url).status_code == 200
    _pinned_clock.shift(2)
    response = customer.get(url)
    assert response.status_code == 403
    body = response.content.decode()
    assert "This link has expired: open Statements to get a new one." in body
    assert f'href="{URL}"' in body
    assert response["Content-Type"].startswith("text/html")
    assert AuditEvent.objects.filter(action="statement.download").count() == 1  # the one that worked
    assert customer.get(_link(customer, statement, "pdf")).status_code == 200  # a fresh one works


@pytest.mark.parametrize("tamper", ["signature", "time", "format", "statement", "garbage"])
def test_a_tampered_link_is_refused(customer, alice, account, tamper):
    statement = _ready(alice, account)
    other = _ready(alice, account, periods.month(datetime.date(2026, 9, 1)))
    url = _link(customer, statement, "pdf")
    stamp, signature = url.rstrip("/").rsplit("/", 1)[-1].split(":")
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    bad = {
        "signature": url.replace(signature, flipped),
        "time": url.replace(f"{stamp}:", f"{stamp[:-1]}{'1' if stamp[-1] != '1' else '2'}:"),
        "format": url.replace("/download/pdf/", "/download/csv/"),
        "statement": url.replace(f"/statements/{statement.pk}/", f"/statements/{other.pk}/"),
        "garbage": f"/statements/{statement.pk}/download/pdf/%00x:y/",
    }[tamper]
    response = customer.get(bad)
    assert response.status_code == 403
    assert "This link does not work" in response.content.decode()
    assert not AuditEvent.objects.filter(action="statement.download").exists()


def test_a_statement_without_files_says_to_ask_again(customer, alice, account):
    statement = _ready(alice, account)
    url = _link(customer, statement, "pdf")
    Statement.objects.filter(pk=statement.pk).update(files_removed_at=NOW)
    response = customer.get(url)
    assert response.status_code == 410
    assert "no longer kept" in response.content.decode()

    queued = _request(alice, account, periods.month(datetime.date(2026, 9, 1)))
    token = downloads.token_for(statement_id=queued.pk, fmt="pdf", user_id=alice.pk)
    response = customer.get(reverse("statement_download", args=[queued.pk, "pdf", token]))
    assert response.status_code == 404
    assert "This statement is not ready" in response.content.decode()
    assert not AuditEvent.objects.filter(action="statement.download").exists()


def test_a_file_lost_from_the_store_is_a_page_not_a_500(customer, alice, account):
    statement = _ready(alice, account)
    url = _link(customer, statement, "csv")
    statement.csv.storage.delete(statement.csv.name)
    response = customer.get(url)
    assert response.status_code == 410
    assert customer.get(URL).status_code == 200  # the list (its sizes) too


def test_a_download_is_get_only_and_unknown_formats_are_404(customer, alice, account):
    statement = _ready(alice, account)
    url = _link(customer, statement, "pdf")
    assert customer.post(url).status_code == 405
    token = downloads.token_for(statement_id=statement.pk, fmt="xlsx", user_id=alice.pk)
    assert customer.get(reverse("statement_download", args=[statement.pk, "xlsx", token])).status_code == 404


# --- verify -----------------------------------------------------------------------------------------------


def _upload(data: bytes, name: str = "statement.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


GENUINE = (
    "Genuine SecureBank statement for account ••1234, 1 October 2026 to 31 October 2026, "
    "issued 20 November 2026"
)
NOT_FOUND = "We have no statement with this checksum: the file is not a genuine statement or has been changed"


@pytest.mark.parametrize("fmt", ["pdf", "csv"])
def test_anyone_can_verify_a_genuine_file(client, alice, account, fmt):
    statement = _ready(alice, account)
    data = getattr(statement, fmt).read()
    response = client.post(VERIFY, {"file": _upload(data, f"s.{fmt}")})
    assert response.status_code == 200
    body = response.content.decode()
    assert GENUINE in body
    # The masked account and the period only: no name, no number, no balance.
    for secret in ("Alice", account.number, "50,000", "48,650", "Current"):
        assert secret not in body
    assert getattr(statement, f"{fmt}_sha256") in body


def test_a_pasted_checksum_is_read_whatever_its_spacing_and_case(client, alice, account):
    statement = _ready(alice, account)
    checksum = statement.pdf_sha256.upper()
    pasted = f"  {checksum[:32]}\n{checksum[32:48]} {checksum[48:]}\t"
    response = client.post(VERIFY, {"checksum": pasted})
    assert GENUINE in response.content.decode()


def test_a_changed_file_is_not_genuine(client, alice, account):
    statement = _ready(alice, account)
    data = bytearray(statement.csv.read())
    data[-3] = ord("9") if data[-3] != ord("9") else ord("8")  # one digit of the closing balance
    body = client.post(VERIFY, {"file": _upload(bytes(data), "s.csv")}).content.decode()
    assert NOT_FOUND in body and "Genuine SecureBank" not in body
    body = client.post(VERIFY, {"checksum": "0" * 64}).content.decode()
    assert NOT_FOUND in body


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"checksum": "not a checksum"}, "A checksum is 64 letters"),
        ({"checksum": "ab" * 31}, "A checksum is 64 letters"),  # 62 digits
        ({"checksum": "g" * 64}, "A checksum is 64 letters"),
        ({"checksum": "a" * 201}, "A checksum is 64 letters"),
        ({}, "Upload the statement's file, or paste its checksum."),
        ({"checksum": "   "}, "Upload the statement's file, or paste its checksum."),
        ({"file": b"", "name": "empty.pdf"}, "This file is empty"),
        ({"file": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "name": "photo.png"}, "not a PDF or CSV file"),
        ({"file": b"%PDF-1.7 whatever", "checksum": "a" * 64}, "not both"),
    ],
    ids=["words", "short", "not-hex", "too-long", "nothing", "blank", "empty-file", "png", "both"],
)
def test_bad_input_is_a_form_error(client, data, message):
    posted = dict(data)
    if "file" in posted:
        posted["file"] = _upload(posted.pop("file"), posted.pop("name", "s.pdf"))
    response = client.post(VERIFY, posted)
    assert response.status_code == 200
    body = html.unescape(response.content.decode())
    assert message in body
    assert 'role="alert"' in body
    assert NOT_FOUND not in body and "Genuine" not in body


def test_a_file_over_the_limit_is_a_form_error(client, monkeypatch, alice, account):
    monkeypatch.setattr(views, "VERIFY_MAX_BYTES", 1024)
    statement = _ready(alice, account)
    data = statement.pdf.read()
    assert len(data) > 1024
    body = client.post(VERIFY, {"file": _upload(data)}).content.decode()
    assert "larger than" in body and "Genuine" not in body


def test_the_upload_is_hashed_as_it_arrives_and_not_kept():
    chunks = (b"\xef\xbb\xbfDate,", b"Amount\n", b"1,2\n")
    for limit, too_large in ((100, False), (10, True)):
        handler = HashingUploadHandler(max_bytes=limit)
        handler.new_file("file", "s.csv", "text/csv", None)
        for n, chunk in enumerate(chunks):
            assert handler.receive_data_chunk(chunk, n) is None  # no later handler gets the bytes
        upload = handler.file_complete(19)
        assert (upload.size, upload.too_large, upload.kind, upload.file) == (19, too_large, "csv", None)
    handler = HashingUploadHandler(max_bytes=100)
    handler.new_file("file", "s.csv", "text/csv", None)
    for n, chunk in enumerate(chunks):
        handler.receive_data_chunk(chunk, n)
    assert handler.file_complete(19).sha256 == hashlib.sha256(b"".join(chunks)).hexdigest()
    with pytest.raises(ValueError):
        upload.open()


def test_verify_is_csrf_protected(alice, account):
    statement = _ready(alice, account)
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(VERIFY, {"checksum": statement.pdf_sha256}).status_code == 403
    page = strict.get(VERIFY)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    response = strict.post(VERIFY, {"checksum": statement.pdf_sha256, "csrfmiddlewaretoken": token})
    assert response.status_code == 200 and GENUINE in response.content.decode()


def test_verify_is_rate_limited_per_client(client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "statement_verify": (2, 600)}
    for _ in range(2):
        assert client.post(VERIFY, {"checksum": "0" * 64}).status_code == 200
    refused = client.post(VERIFY, {"checksum": "0" * 64})
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert client.get(VERIFY).status_code == 200  # the page itself is not counted
    other = Client(REMOTE_ADDR="203.0.113.9")
    assert other.post(VERIFY, {"checksum": "0" * 64}).status_code == 200


def test_verify_refuses_a_body_announced_too_large_before_reading_it(client):
    response = client.post(VERIFY, {"checksum": "0" * 64}, CONTENT_LENGTH=str(60 * 1024 * 1024))
    assert response.status_code == 413
    assert "larger than 50 MB" in response.content.decode()


def test_an_upload_without_end_is_cut_off_not_read(rf):
    """A body sent without its length (chunked) reaches the handler: a little past the limit the message
    beside the field, far past it the connection dropped rather than reading on."""
    from django.core.files.uploadhandler import StopUpload

    from transactions.statements.verification import HashingUploadHandler

    handler = HashingUploadHandler(rf.post("/"), max_bytes=10, stop_after=20)
    handler.new_file("file", "s.pdf", "application/pdf", None)
    handler.receive_data_chunk(b"x" * 25, 0)  # past the limit, within the slack
    with pytest.raises(StopUpload):
        handler.receive_data_chunk(b"x" * 10, 25)


def test_a_poll_after_the_session_ended_sends_the_window_to_sign_in(client, alice, account):
    """Signed out in another tab: the row's next poll must not swap the sign-in page into the list."""
    statement, _ = services.statement_request(
        user=alice, account_id=account.pk, period=periods.month(datetime.date(2026, 10, 1))
    )
    response = client.get(
        reverse("statement_status", args=[statement.pk]),
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL="http://testserver/statements/",
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/login/?next=%2Fstatements%2F"


def test_the_poll_swaps_only_the_live_part_until_done_then_the_whole_row(customer, alice, account):
    statement = _request(alice, account)
    url = reverse("statement_status", args=[statement.pk]) + "?part=live"
    live = customer.get(url, **HX)
    body = live.content.decode()
    assert body.lstrip().startswith('<div class="statement-live"') and "Waiting to start: 0%" in body
    assert "<a " not in body and "<button" not in body and "HX-Retarget" not in live
    generate.build(statement.pk)
    done = customer.get(url, **HX)
    assert (done["HX-Retarget"], done["HX-Reswap"]) == (f"#statement-{statement.pk}", "outerHTML")
    body = done.content.decode()
    assert body.lstrip().startswith("<li") and "Download PDF" in body and "hx-trigger" not in body
    assert "is ready to download." in body
