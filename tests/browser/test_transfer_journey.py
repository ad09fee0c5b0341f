"""Alice moves ₹1,250.50 from her savings to her current account, as a customer does: through the login
page, the dashboard, the transfer form, the review and the receipt. Once with JavaScript (the form and the
review are HTMX swaps) and once without (plain form posts); a repeated confirmation moves money once."""

import re

import pytest
from playwright.sync_api import Page, Request, expect

from accounts.models import Account
from tests.browser.conftest import account_balance, login, summary_value
from tests.factories import PASSWORD
from transactions.models import Entry, Transaction

pytestmark = pytest.mark.browser


def _transfers(user) -> list[Transaction]:
    return list(Transaction.objects.filter(initiator=user, kind=Transaction.Kind.TRANSFER))


def _balance(account: Account) -> int:
    return Account.objects.get(pk=account.pk).balance


def _start_transfer(page: Page, live_server, savings: Account, current: Account, amount: str) -> None:
    """Sign in as alice and fill the transfer form up to the review."""
    login(page, live_server, "alice@example.com")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Move money").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Move money between your accounts")
    page.get_by_label("From").select_option(label=f"Savings · {savings.masked_number}")
    page.get_by_label("To", exact=True).select_option(label=f"Current · {current.masked_number}")
    page.get_by_label("Amount (₹)").fill(amount)
    page.get_by_role("button", name="Review transfer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Review your transfer")


def _assert_moved_once(alice, savings: Account, current: Account, paise: int) -> Transaction:
    transfers = _transfers(alice)
    assert len(transfers) == 1
    assert Entry.objects.filter(transaction=transfers[0]).count() == 2
    assert _balance(savings) == 50_000_00 - paise
    assert _balance(current) == paise
    return transfers[0]


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-js"])
def test_it_moves_money_between_own_accounts(
    new_page, live_server, javascript, alice, alice_savings, alice_current
):
    page = new_page(javascript=javascript)
    htmx_requests: list[str] = []
    # Steps only: the inline checks of To and the amount as they change (validate=...) are not steps.
    page.on(
        "request",
        lambda r: (
            htmx_requests.append(r.url)
            if r.headers.get("hx-request") and "validate=" not in (r.post_data or "")
            else None
        ),
    )

    login(page, live_server, "alice@example.com")
    expect(account_balance(page, "Savings")).to_have_text("₹50,000.00")
    expect(account_balance(page, "Current")).to_have_text("₹0.00")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Move money").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Move money between your accounts")
    page.get_by_label("From").select_option(label=f"Savings · {alice_savings.masked_number}")
    page.get_by_label("To", exact=True).select_option(label=f"Current · {alice_current.masked_number}")
    page.get_by_label("Amount (₹)").fill("1,250.50")
    page.get_by_label("Note (optional)").fill("Rent share")
    page.get_by_role("button", name="Review transfer").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Review your transfer")
    expect(summary_value(page, "From")).to_have_text(f"Savings · {alice_savings.masked_number}")
    expect(summary_value(page, "To")).to_have_text(f"Current · {alice_current.masked_number}")
    expect(summary_value(page, "Amount")).to_have_text("₹1,250.50")
    expect(summary_value(page, "Note")).to_have_text("Rent share")
    assert _transfers(alice) == [], "the review must not move money"

    page.get_by_role("button", name="Confirm and move ₹1,250.50").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Money moved")
    txn = _assert_moved_once(alice, alice_savings, alice_current, 1_250_50)
    expect(page).to_have_url(f"{live_server.url}/transfers/{txn.pk}/")
    expect(page.get_by_role("status")).to_have_text("₹1,250.50 moved to Current.")
    expect(page.locator(".receipt-reference-value")).to_have_text(f"SB{txn.pk:010d}")
    expect(summary_value(page, "Date and time")).to_have_text(
        re.compile(r"^\d{1,2} \w{3} \d{4}, \d{1,2}:\d\d [AP]M IST$")
    )
    # Print needs JavaScript to call print(): without it the button is not offered (the Print menu is).
    print_button = page.get_by_role("button", name="Print receipt")
    if javascript:
        expect(print_button).to_be_visible()
    else:
        expect(print_button).to_be_hidden()
    # On paper the site's header is left out: the bank's name heads the page instead (print.css).
    expect(page.get_by_text("SecureBank", exact=True)).to_be_hidden()
    page.emulate_media(media="print")
    expect(page.get_by_text("SecureBank", exact=True)).to_be_visible()
    expect(page.locator(".site-header")).to_be_hidden()
    page.emulate_media(media="screen")
    expect(summary_value(page, "Amount")).to_have_text("₹1,250.50")
    expect(summary_value(page, "Savings balance after")).to_have_text("₹48,749.50")
    expect(summary_value(page, "Current balance after")).to_have_text("₹1,250.50")

    page.get_by_role("link", name="Back to your accounts").click()

    expect(page).to_have_url(f"{live_server.url}/")
    expect(account_balance(page, "Savings")).to_have_text("₹48,749.50")
    expect(account_balance(page, "Current")).to_have_text("₹1,250.50")
    expect(page.get_by_text("Total across your accounts")).to_contain_text("₹50,000.00")
    savings_rows = page.get_by_role("region", name="Savings", exact=True).get_by_role("row")
    expect(savings_rows.filter(has_text="Rent share")).to_contain_text("-₹1,250.50")
    current_rows = page.get_by_role("region", name="Current", exact=True).get_by_role("row")
    expect(current_rows.filter(has_text="Rent share")).to_contain_text("+₹1,250.50")
    # The JavaScript run really went through HTMX (one swap: details -> review); the other never did.
    assert htmx_requests == ([f"{live_server.url}/transfers/new/"] if javascript else [])
    _assert_moved_once(alice, alice_savings, alice_current, 1_250_50)


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-js"])
def test_it_moves_money_once_on_a_double_click_on_confirm(
    new_page, live_server, javascript, alice, alice_savings, alice_current
):
    page = new_page(javascript=javascript)
    _start_transfer(page, live_server, alice_savings, alice_current, "1,250.50")

    page.get_by_role("button", name="Confirm and move ₹1,250.50").dblclick()

    expect(page.get_by_role("heading", level=1)).to_have_text("Money moved")
    txn = _assert_moved_once(alice, alice_savings, alice_current, 1_250_50)
    expect(page).to_have_url(f"{live_server.url}/transfers/{txn.pk}/")


def test_it_moves_money_once_when_the_confirmation_reaches_the_server_three_times(
    page, live_server, alice, alice_savings, alice_current
):
    """Chromium sends a double-click's form once; a flaky network or another browser may not. Post the
    confirm form twice at the same moment, then click Confirm: every answer is the same receipt."""
    _start_transfer(page, live_server, alice_savings, alice_current, "1,250.50")

    landed = page.evaluate(
        """async () => {
            const form = document.querySelector("form[action$='/transfers/confirm/']");
            const post = () => fetch(form.action, {method: "POST", body: new FormData(form)});
            const answers = await Promise.all([post(), post()]);
            return answers.map((answer) => [answer.status, answer.url]);
        }"""
    )
    page.get_by_role("button", name="Confirm and move ₹1,250.50").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Money moved")
    txn = _assert_moved_once(alice, alice_savings, alice_current, 1_250_50)
    receipt = f"{live_server.url}/transfers/{txn.pk}/"
    assert landed == [[200, receipt], [200, receipt]]
    expect(page).to_have_url(receipt)


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-js"])
def test_it_moves_money_once_when_the_customer_goes_back_and_confirms_again(
    new_page, live_server, javascript, alice, alice_savings, alice_current
):
    # The review has its own address (POST/redirect/GET, or the URL HTMX pushes): Back from the receipt
    # fetches it again (every signed-in page is no-store); it says the transfer was made, with no Confirm,
    # and leads to the receipt.
    page = new_page(javascript=javascript)
    confirmations: list[Request] = []
    page.on("request", lambda r: confirmations.append(r) if r.url.endswith("/transfers/confirm/") else None)
    _start_transfer(page, live_server, alice_savings, alice_current, "1,250.50")
    expect(page).to_have_url(re.compile(r"/transfers/review/[\w-]+/$"))
    review = page.url
    page.get_by_role("button", name="Confirm and move ₹1,250.50").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Money moved")
    receipt = page.url

    answer = page.go_back()
    assert answer is not None and answer.status == 200  # fetched again, not ERR_CACHE_MISS
    expect(page).to_have_url(review)
    expect(page.get_by_role("heading", level=1)).to_have_text("Review your transfer")
    expect(page.get_by_role("status")).to_contain_text("This transfer was made at ")
    expect(page.get_by_role("button", name=re.compile("Confirm"))).to_have_count(0)
    page.get_by_role("link", name="See the receipt").click()

    expect(page).to_have_url(receipt)
    expect(page.get_by_role("heading", level=1)).to_have_text("Money moved")
    assert [r.method for r in confirmations] == ["POST"]
    _assert_moved_once(alice, alice_savings, alice_current, 1_250_50)


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-js"])
def test_it_changes_the_details_from_the_review(
    new_page, live_server, javascript, alice, alice_savings, alice_current
):
    page = new_page(javascript=javascript)
    _start_transfer(page, live_server, alice_savings, alice_current, "1,250.50")
    review = page.url

    page.get_by_role("link", name="Change details").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Move money between your accounts")
    expect(page).to_have_url(re.compile(r"/transfers/new/\?change=[\w-]+$"))
    expect(page.get_by_label("Amount (₹)")).to_have_value("1,250.50")
    page.get_by_label("Amount (₹)").fill("100")
    page.get_by_role("button", name="Review transfer").click()
    expect(summary_value(page, "Amount")).to_have_text("₹100.00")
    assert page.url != review  # a new review of the new details
    page.get_by_role("button", name="Confirm and move ₹100.00").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Money moved")
    _assert_moved_once(alice, alice_savings, alice_current, 100_00)


def test_a_review_replaced_by_changed_details_cannot_be_confirmed(
    new_page, live_server, alice, alice_savings, alice_current
):
    """Without JavaScript: review ₹100 (its page open in a second tab too), "Change details" to ₹200 and
    confirm. Back three times reaches the ₹100 review, which says it was replaced and offers no Confirm; the
    tab left open on it confirms, and is told so. The ledger moved once: ₹200."""
    page = new_page(javascript=False)
    _start_transfer(page, live_server, alice_savings, alice_current, "100")
    first_review = page.url
    left_open = page.context.new_page()  # the same browser, the same session
    left_open.goto(first_review)
    expect(left_open.get_by_role("button", name="Confirm and move ₹100.00")).to_be_visible()

    page.get_by_role("link", name="Change details").click()
    page.get_by_label("Amount (₹)").fill("200")
    page.get_by_role("button", name="Review transfer").click()
    newest_review = page.url
    page.get_by_role("button", name="Confirm and move ₹200.00").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Money moved")

    for _ in range(3):
        page.go_back()
    expect(page).to_have_url(first_review)
    expect(page.get_by_role("status")).to_have_text(re.compile("This review was replaced by a newer one"))
    expect(page.get_by_role("button", name=re.compile("Confirm"))).to_have_count(0)
    expect(page.get_by_role("link", name="Go to the newest review")).to_have_attribute(
        "href", newest_review.removeprefix(live_server.url)
    )

    left_open.get_by_role("button", name="Confirm and move ₹100.00").click()
    expect(left_open.get_by_role("status")).to_have_text(
        re.compile("This review was replaced by a newer one")
    )
    _assert_moved_once(alice, alice_savings, alice_current, 200_00)


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-js"])
def test_a_large_transfer_asks_her_to_prove_it_is_her(
    new_page, live_server, settings, javascript, alice, alice_savings, alice_current
):
    """Above TRANSFER_STEP_UP_PAISE (₹1,000 here) confirming asks for the password (she has no 2FA app),
    then returns to the review; confirming again moves the money once."""
    settings.TRANSFER_STEP_UP_PAISE = 1_000_00
    page = new_page(javascript=javascript)
    _start_transfer(page, live_server, alice_savings, alice_current, "2,500")
    expect(page.get_by_text("This is a large transfer")).to_be_visible()

    page.get_by_role("button", name=re.compile("Confirm and move")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm it's you")
    assert _transfers(alice) == []
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Review your transfer")
    page.get_by_role("button", name=re.compile("Confirm and move")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Money moved")
    _assert_moved_once(alice, alice_savings, alice_current, 2_500_00)
