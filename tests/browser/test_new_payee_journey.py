"""The whole life of a new payee, as a customer lives it: Alice adds Bob (who banks with SecureBank too)
through the step-up, is told he can receive money from tomorrow, comes back the next day (the clock moved
25 hours with time-machine: the live server runs in this process and reads the same clock), sends him
₹5,000 from the Send money link on his payee card, is asked for her password again (a payee in its first
days), and sees the receipt, the debit on her dashboard and Bob's credit in the ledger."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Account, Payee
from tests.browser.conftest import account_balance, login, summary_value
from tests.factories import PASSWORD
from transactions.models import Transaction

pytestmark = pytest.mark.browser


def test_she_adds_a_payee_waits_out_the_cooling_off_and_pays_him(
    new_page, live_server, time_machine, alice, alice_savings, bob_savings
):
    # Tomorrow at 10:00 UTC (3:30 PM in India): after the fixtures' postings, which a later one may not
    # precede (history order is posting order).
    start = (timezone.now() + datetime.timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
    time_machine.move_to(start, tick=True)
    next_day = start + datetime.timedelta(days=1)
    page = new_page()
    login(page, live_server, alice.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Payees").click()
    page.get_by_role("link", name="Add payee").click()
    page.get_by_label("Payee's name").fill("Bob Menon")
    page.get_by_label("Account number", exact=True).fill(bob_savings.number)
    page.get_by_label("Account number again").fill(bob_savings.number)
    page.get_by_label("IFSC").fill("SECB0000001")
    page.get_by_role("button", name="Review payee").click()
    page.get_by_role("button", name="Add payee").click()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    page.get_by_role("button", name="Add payee").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Bob Menon")
    payee = Payee.objects.get(owner=alice)
    # Added at 3:30 PM in India (the clock ticks on: a minute or so more): nothing moves for 24 hours.
    expect(page.get_by_role("status")).to_contain_text(
        re.compile(rf"Can receive money from {next_day.day} {next_day:%b %Y}, 3:3\d PM IST")
    )
    expect(page.get_by_role("link", name="Send money")).to_have_count(0)
    page.get_by_role("button", name="Sign out").click()

    # The next day, a little after the cooling-off ended.
    time_machine.move_to(timezone.now() + datetime.timedelta(hours=25), tick=True)
    login(page, live_server, alice.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Payees").click()
    expect(page.locator(".payee-status")).to_contain_text("New payee: up to ₹1,00,000.00 a day")
    page.get_by_role("link", name=re.compile("^Send money")).click()

    expect(page.get_by_label("To", exact=True)).to_have_value(f"payee-{payee.pk}")
    page.get_by_label("From").select_option(label=f"Savings · {alice_savings.masked_number}")
    page.get_by_label("Amount (₹)").fill("5,000")
    page.get_by_role("button", name="Review transfer").click()
    expect(summary_value(page, "To")).to_have_text("Bob Menon")
    expect(summary_value(page, "In words")).to_have_text("Five thousand rupees")
    page.get_by_role("button", name="Confirm and move ₹5,000.00").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm it's you")
    assert not Transaction.objects.filter(payee=payee).exists()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    page.get_by_role("button", name="Confirm and move ₹5,000.00").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Money moved")
    txn = Transaction.objects.get(payee=payee)
    expect(page.locator(".receipt-reference-value")).to_have_text(f"SB{txn.pk:010d}")
    expect(summary_value(page, "Status")).to_have_text("Credited")
    page.get_by_role("link", name="Back to your accounts").click()
    expect(account_balance(page, "Savings")).to_have_text("₹45,000.00")
    rows = page.get_by_role("region", name="Savings", exact=True).get_by_role("row")
    expect(rows.filter(has_text="Bob Menon")).to_contain_text("-₹5,000.00")
    assert Account.objects.get(pk=bob_savings.pk).balance == 10_000_00 + 5_000_00
