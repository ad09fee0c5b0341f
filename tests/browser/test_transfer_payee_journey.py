"""Alice pays Ravi, a payee at HDFC Bank added two days ago (past cooling-off, still new): the form offers
him under Payees, the review spells the amount in words and says a new payee asks for her password, the
step-up repeats the transfer, the receipt says "Sent to HDFC Bank", and the dashboard shows the debit. Once
with JavaScript (inline checks, the review swapped in) and once without."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Account
from tests.browser.conftest import account_balance, login, summary_value
from tests.factories import PASSWORD, PayeeFactory
from transactions.models import Transaction

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-js"])
def test_she_sends_money_to_a_new_payee_with_her_password(
    new_page, live_server, javascript, alice, alice_savings
):
    ravi = PayeeFactory(
        owner=alice,
        name="Ravi Kumar",
        account_number="501000001234",
        created_at=timezone.now() - datetime.timedelta(days=2),
    )
    page = new_page(javascript=javascript)
    login(page, live_server, alice.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Move money").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Move money")
    page.get_by_label("From").select_option(label=f"Savings · {alice_savings.masked_number}")
    page.get_by_label("To", exact=True).select_option(label="Ravi Kumar · HDFC Bank ••1234")
    amount = page.get_by_label("Amount (₹)")
    if javascript:  # checked as it changes: too much for the account, said under the field
        amount.fill("60,000")
        amount.blur()
        expect(page.locator("#id_amount_error")).to_have_text(
            "That is more than the ₹50,000.00 available in Savings."
        )
    amount.fill("12,000.50")
    page.get_by_role("button", name="Review transfer").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Review your transfer")
    expect(summary_value(page, "To")).to_have_text("Ravi Kumar")
    expect(summary_value(page, "Bank")).to_have_text("HDFC Bank")
    expect(summary_value(page, "In words")).to_have_text("Twelve thousand rupees and fifty paise")
    expect(summary_value(page, "Fees")).to_have_text("None")
    expect(
        page.get_by_text("Ravi Kumar is a new payee: when you confirm, we will ask for your password")
    ).to_be_visible()
    page.get_by_role("button", name="Confirm and move ₹12,000.50").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm it's you")
    expect(page.get_by_text("send money to a new payee")).to_be_visible()
    assert not Transaction.objects.filter(initiator=alice, payee=ravi).exists()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Review your transfer")
    page.get_by_role("button", name="Confirm and move ₹12,000.50").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Money moved")
    txn = Transaction.objects.get(initiator=alice, payee=ravi)
    expect(page).to_have_url(re.compile(f"/transfers/{txn.pk}/$"))
    expect(page.get_by_role("status")).to_have_text("₹12,000.50 sent to Ravi Kumar.")
    expect(summary_value(page, "Status")).to_have_text("Sent to HDFC Bank")
    expect(summary_value(page, "Account")).to_have_text("••1234")
    expect(summary_value(page, "Savings balance after")).to_have_text("₹37,999.50")
    expect(page.locator(".receipt-reference-value")).to_have_text(f"SB{txn.pk:010d}")

    page.get_by_role("link", name="Back to your accounts").click()
    expect(account_balance(page, "Savings")).to_have_text("₹37,999.50")
    rows = page.get_by_role("region", name="Savings", exact=True).get_by_role("row")
    expect(rows.filter(has_text="Ravi Kumar")).to_contain_text("-₹12,000.50")
    assert Account.objects.get(pk=alice_savings.pk).balance == 37_999_50
    assert Transaction.objects.filter(initiator=alice).count() == 1
