"""axe-core (WCAG 2.2 A and AA, and Deque's best practices) finds nothing on any page of the transfer
journey, of two-factor auth, of the security pages and of statements (their list in every state, the request
form's errors, a statement's page, a refused download link, the public verify page with each answer), on a
desktop screen and on a 390 px phone; and no page is wider than the screen. The pages hold the longest text
customers can write: account names, descriptions, counterparties and the transfer's note are long unbroken
words in three scripts."""

import datetime
import re
import uuid
from collections.abc import Callable

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.test import override_settings
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts import password_reset as password_reset_rules
from accounts.models import Account, AuthenticatorApp, Payee, User
from portal import ratelimit
from portal.seeding.faq import seed_faq
from tests.browser.conftest import (
    DESKTOP,
    HINDI_ACCOUNT_NAME,
    HINDI_PAYEE_NAME,
    LATIN_ACCOUNT_NAME,
    LATIN_PAYEE_NAME,
    MOBILE,
    TAMIL_ACCOUNT_NAME,
    TAMIL_PAYEE_NAME,
    UPI_REFERENCE,
    login,
    open_two_factor_setup,
    post_long_texts,
)
from tests.conftest import fund
from tests.factories import PASSWORD, AccountFactory, PayeeFactory, UserFactory
from tests.twofactor import code_now, enrol
from transactions import services
from transactions.statements.models import Statement

pytestmark = pytest.mark.browser

AXE_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
    },
    "resultTypes": ["violations"],
}


@pytest.fixture
def alice(db) -> User:
    """Alice with a first name longer than any header has room for."""
    return UserFactory(email="alice@example.com", full_name="Alamelumangathayarammalvenkatalakshmi Iyer")


@pytest.fixture
def alice_savings(alice) -> Account:
    savings = AccountFactory(owner=alice, name=HINDI_ACCOUNT_NAME, kind=Account.Kind.SAVINGS)
    return fund(savings, 50_000_00)


@pytest.fixture
def alice_current(alice, alice_savings) -> Account:
    current = AccountFactory(owner=alice, name=TAMIL_ACCOUNT_NAME, kind=Account.Kind.CURRENT)
    AccountFactory(owner=alice, name=LATIN_ACCOUNT_NAME, kind=Account.Kind.CURRENT)
    post_long_texts(alice_savings, current)
    alice_savings.refresh_from_db()
    current.refresh_from_db()
    return current


def _heading(page: Page, text: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(text)


def _fill_transfer(page: Page, savings: Account, current: Account) -> None:
    page.goto("/transfers/new/")
    page.get_by_label("From").select_option(str(savings.pk))
    page.get_by_label("To", exact=True).select_option(str(current.pk))
    page.get_by_label("Amount (₹)").fill("1,250.50")
    page.get_by_label("Note (optional)").fill(UPI_REFERENCE)


def login_page(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    page.goto("/login/")
    _heading(page, "Sign in to SecureBank")


def login_page_with_error(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    page.goto("/login/")
    page.get_by_label("Email").fill("alice@example.com")
    page.get_by_label("Password").fill("not-her-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("do not match")


def dashboard(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    login(page, live_server, alice.email)


def transfer_form(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    login(page, live_server, alice.email)
    page.goto("/transfers/new/")
    _heading(page, "Move money between your accounts")


def transfer_form_with_errors(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    login(page, live_server, alice.email)
    page.goto("/transfers/new/")
    page.get_by_label("From").select_option(str(savings.pk))
    page.get_by_label("Amount (₹)").fill("12.345")
    page.get_by_role("button", name="Review transfer").click()
    expect(page.get_by_role("alert")).to_contain_text("Please correct the 2 fields")


def review(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    login(page, live_server, alice.email)
    _fill_transfer(page, savings, current)
    page.get_by_role("button", name="Review transfer").click()
    _heading(page, "Review your transfer")


def review_reloaded(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    """The review as a whole page at its own address (Back, Reload, or no JavaScript)."""
    review(page, live_server, alice, savings, current)
    page.reload()
    _heading(page, "Review your transfer")


def receipt(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    txn = services.transfer_create(
        initiator=alice,
        source=savings,
        destination=current,
        amount_paise=1_250_50,
        description=UPI_REFERENCE,
        idempotency_key=uuid.uuid4().hex,
    )
    login(page, live_server, alice.email)
    page.goto(f"/transfers/{txn.pk}/")
    _heading(page, "Money moved")


def _payees(alice) -> tuple[Payee, Payee]:
    """A new payee (past cooling-off, still new) and one cooling off, both with long names without spaces."""
    now = timezone.now()
    new = PayeeFactory(owner=alice, name=HINDI_ACCOUNT_NAME, created_at=now - datetime.timedelta(days=2))
    cooling = PayeeFactory(owner=alice, name=TAMIL_ACCOUNT_NAME, created_at=now)
    return new, cooling


def transfer_form_with_payees(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    """To with a Payees group, and the hint naming a payee still cooling off."""
    _payees(alice)
    login(page, live_server, alice.email)
    page.goto("/transfers/new/")
    _heading(page, "Move money")


def review_to_a_new_payee(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    new, _cooling = _payees(alice)
    login(page, live_server, alice.email)
    page.goto(f"/transfers/new/?destination=payee-{new.pk}")
    page.get_by_label("From").select_option(str(savings.pk))
    page.get_by_label("Amount (₹)").fill("1,20,000.50")
    page.get_by_label("Amount (₹)").fill("12,000.50")
    page.get_by_role("button", name="Review transfer").click()
    _heading(page, "Review your transfer")
    expect(page.get_by_text("is a new payee")).to_be_visible()


def receipt_to_a_payee(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    payee = PayeeFactory(owner=alice, name=LATIN_ACCOUNT_NAME)
    txn = services.payee_transfer_create(
        initiator=alice,
        source=savings,
        payee=payee,
        amount_paise=1_250_50,
        description=UPI_REFERENCE,
        idempotency_key=uuid.uuid4().hex,
    )
    login(page, live_server, alice.email)
    page.goto(f"/transfers/{txn.pk}/")
    _heading(page, "Money moved")


def review_made_reopened(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    """Back from the receipt: the review says the transfer was made, with a link to its receipt."""
    review(page, live_server, alice, savings, current)
    page.get_by_role("button", name="Confirm and move").click()
    _heading(page, "Money moved")
    page.go_back()
    _heading(page, "Review your transfer")
    expect(page.get_by_text("This transfer was made at")).to_be_visible()


def review_same_transfer_again(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    """The same amount to the same account a moment after the first: the review asks "send again?"."""
    review(page, live_server, alice, savings, current)
    page.get_by_role("button", name="Confirm and move").click()
    _heading(page, "Money moved")
    page.get_by_role("link", name="Make another transfer").click()
    _fill_transfer(page, savings, current)
    page.get_by_role("button", name="Review transfer").click()
    expect(page.get_by_role("button", name="again")).to_be_visible()


def review_rate_limited(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    """Confirm over the transfer limit: back on the review, saying that the money did not move."""
    with override_settings(RATE_LIMITS={**settings.RATE_LIMITS, "transfer_confirm": (1, 60)}):
        review(page, live_server, alice, savings, current)
        ratelimit.hit("transfer_confirm", str(alice.pk))  # a transfer confirmed a moment ago
        page.get_by_role("button", name="Confirm and move").click()
        expect(page.get_by_text("The money did not move")).to_be_visible()
    _heading(page, "Review your transfer")


def not_found(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    login(page, live_server, alice.email)
    answer = page.goto("/transfers/999999/")
    assert answer is not None and answer.status == 404
    _heading(page, "We couldn't find that page")


def password_change(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    login(page, live_server, alice.email)
    page.goto("/security/password/")
    _heading(page, "Change your password")


def password_change_with_errors(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    login(page, live_server, alice.email)
    page.goto("/security/password/")
    page.get_by_label("Current password").fill("not-her-password")
    page.get_by_label("New password", exact=True).fill("1qaz2wsx3edc4rfv")
    page.get_by_label("New password again").fill("1qaz2wsx3edc4rfv")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("alert")).to_contain_text("Please correct the 2 fields")


def login_locked_out(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    page.goto("/login/")
    for _ in range(5):
        page.get_by_label("Email").fill("alice@example.com")
        page.get_by_label("Password").fill("not-her-password")
        page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Too many failed attempts")


def too_many_requests(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    # A sliding window (portal/ratelimit.py): the second attempt is refused even when the two straddle a
    # minute, as a fixed window's were not.
    with override_settings(RATE_LIMITS={**settings.RATE_LIMITS, "login_ip": (1, 60)}):
        page.goto("/login/")
        for _ in range(2):
            page.get_by_label("Email").fill("alice@example.com")
            page.get_by_label("Password").fill("not-her-password")
            page.get_by_role("button", name="Sign in").click()
        _heading(page, "Too many attempts")


def two_factor_enrol(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    login(page, live_server, alice.email)
    open_two_factor_setup(page)
    page.get_by_role("button", name="Turn on two-factor authentication").click()  # empty: an error
    expect(page.get_by_role("alert")).to_contain_text("Please correct the field marked below")


def backup_codes(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    login(page, live_server, alice.email)
    open_two_factor_setup(page)
    page.get_by_label("Code from the app").fill(code_now(AuthenticatorApp.objects.get(user=alice)))
    page.get_by_role("button", name="Turn on two-factor authentication").click()
    _heading(page, "Your backup codes")


def admin_needs_two_factor(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    UserFactory(email="staff@example.com", is_staff=True)
    page.goto("/login/")
    page.get_by_label("Email").fill("staff@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()  # staff land in the admin, which asks for 2FA
    _heading(page, "Turn on two-factor authentication first")


def login_code(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    enrol(alice)
    page.goto("/login/")
    page.get_by_label("Email").fill(alice.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    _heading(page, "Enter your sign-in code")


def step_up(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    login(page, live_server, alice.email)
    page.goto("/security/verify/?action=payee.add&next=/")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("alert")).to_contain_text("Please correct the field marked below")


def step_up_for_a_transfer(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    """A large transfer's step-up (its amount, from and to repeated), after a wrong password."""
    with override_settings(TRANSFER_STEP_UP_PAISE=1_000_00):
        review(page, live_server, alice, savings, current)
        page.get_by_role("button", name="Confirm and move").click()
        _heading(page, "Confirm it's you")
    page.get_by_label("Password").fill("not-her-password")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("alert")).to_contain_text("Please correct the field marked below")
    expect(page.get_by_text("4 tries left")).to_be_visible()


def security(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    login(page, live_server, alice.email)
    page.get_by_role("link", name="Security").click()
    _heading(page, "Security")


def limits(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    """The limits page with a limit of her own, a raise waiting and money sent today."""
    services.transfer_limits_set(user=alice, daily_paise=50_000_00, per_transfer_paise=None)
    services.transfer_limits_set(
        user=alice, daily_paise=1_00_000_00, per_transfer_paise=20_000_00, raise_confirmed=True
    )
    login(page, live_server, alice.email)
    page.goto("/security/")
    page.get_by_role("link", name="Change your limits").click()
    _heading(page, "Transfer limits")
    expect(page.get_by_text("A higher limit applies from")).to_be_visible()


def limits_with_errors(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    login(page, live_server, alice.email)
    page.goto("/security/limits/")
    page.get_by_label("Daily limit (₹)").fill("abc")
    page.get_by_label("Per-transfer limit (₹)").fill("9,99,99,999")
    page.get_by_role("button", name="Save limits").click()
    expect(page.get_by_role("alert")).to_contain_text("Please correct the 2 fields")


def step_up_for_limits(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    """A raise's step-up, the new limits repeated."""
    services.transfer_limits_set(user=alice, daily_paise=50_000_00, per_transfer_paise=None)
    login(page, live_server, alice.email)
    page.goto("/security/limits/")
    page.get_by_label("Daily limit (₹)").fill("1,00,000")
    page.get_by_role("button", name="Save limits").click()
    _heading(page, "Confirm it's you")
    expect(page.get_by_text("₹1,00,000.00")).to_be_visible()


def report_compromise(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    login(page, live_server, alice.email)
    page.goto("/security/")
    page.get_by_role("link", name="This wasn't me").click()
    _heading(page, "Report activity that wasn't you")


def report_compromise_done(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    report_compromise(page, live_server, alice, savings, current)
    page.get_by_role("button", name="Freeze my accounts and sign me out").click()
    _heading(page, "Your accounts are frozen")


def password_reset(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    page.goto("/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    _heading(page, "Forgot your password?")


def password_reset_with_error(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    page.goto("/password-reset/")
    page.get_by_label("Email").fill("not an email")
    page.get_by_role("button", name="Email me a link").click()
    expect(page.get_by_role("alert")).to_contain_text("Please correct the field marked below")


def password_reset_sent(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    page.goto("/password-reset/")
    page.get_by_label("Email").fill("nobody@example.com")
    page.get_by_role("button", name="Email me a link").click()
    _heading(page, "Check your email")


def password_reset_link_invalid(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    page.goto("/password-reset/MQ/made-up-token/")
    _heading(page, "This link doesn't work")


def password_reset_new_with_errors(
    page: Page, live_server, alice, savings: Account, current: Account
) -> None:
    page.goto(password_reset_rules.link_path(alice))
    _heading(page, "Choose a new password")
    page.get_by_label("New password", exact=True).fill("1qaz2wsx3edc4rfv")
    page.get_by_label("New password again").fill("1qaz2wsx3edc4rfv")
    page.get_by_role("button", name="Set new password").click()
    expect(page.get_by_role("alert")).to_contain_text("Please correct the field marked below")


def password_reset_code(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    enrol(alice)
    page.goto(password_reset_rules.link_path(alice))
    _heading(page, "Enter your code to reset your password")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("alert")).to_contain_text("Please correct the field marked below")


def _schedules(alice, savings: Account, current: Account) -> int:
    """A schedule that ran and failed (more than the balance, to a payee with a long name) and one that
    waits: both on the list; the failed one's id returned for its page."""
    from tests.factories import PayeeFactory
    from transactions.scheduled import services as scheduled

    payee = PayeeFactory(owner=alice, name=LATIN_ACCOUNT_NAME)
    common = {
        "owner": alice,
        "source": savings,
        "first_date": timezone.localdate(),
        "description": UPI_REFERENCE,
    }
    failing = scheduled.scheduled_transfer_create(
        payee=payee, amount_paise=99_00_000_00, frequency="monthly", create_key="a11y-1", **common
    )
    scheduled.scheduled_transfer_create(
        destination=current, amount_paise=2_500_00, frequency="weekly", count=4, create_key="a11y-2", **common
    )
    scheduled.scheduled_transfers_run(today=failing.next_run_date)
    return failing.pk


def scheduled_list(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    _schedules(alice, savings, current)
    login(page, live_server, alice.email)
    page.goto("/transfers/scheduled/")
    _heading(page, "Scheduled transfers")
    expect(page.locator(".schedule-failure")).to_contain_text("Last failed")


def scheduled_detail(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    pk = _schedules(alice, savings, current)
    login(page, live_server, alice.email)
    page.goto(f"/transfers/scheduled/{pk}/")
    expect(page.locator(".run-failed")).to_contain_text("Failed")


def scheduled_cancel(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    pk = _schedules(alice, savings, current)
    login(page, live_server, alice.email)
    page.goto(f"/transfers/scheduled/{pk}/")
    page.get_by_role("link", name="Cancel this transfer").click()
    _heading(page, "Cancel this scheduled transfer?")


def scheduled_form_with_errors(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    login(page, live_server, alice.email)
    page.goto("/transfers/scheduled/new/")
    _heading(page, "New scheduled transfer")
    page.get_by_label("From").select_option(str(savings.pk))
    page.get_by_label("Amount (₹)").fill("12.345")
    page.get_by_role("button", name="Set up transfer").click()
    expect(page.get_by_role("alert")).to_contain_text("Please correct the")


def _long_payees(alice) -> list:
    """Three payees with the longest unbroken names, one in each state: cooling off, capped, ready."""
    now = timezone.now()
    return [
        PayeeFactory(owner=alice, name=HINDI_PAYEE_NAME, created_at=now),
        PayeeFactory(owner=alice, name=TAMIL_PAYEE_NAME, created_at=now - datetime.timedelta(days=2)),
        PayeeFactory(owner=alice, name=LATIN_PAYEE_NAME),
    ]


def payee_list(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    _long_payees(alice)
    login(page, live_server, alice.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Payees").click()
    _heading(page, "Payees")


def payee_list_empty(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    login(page, live_server, alice.email)
    page.goto("/payees/")
    expect(page.get_by_role("heading", name="No payees yet")).to_be_visible()


def payee_form_with_errors(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    login(page, live_server, alice.email)
    page.goto("/payees/new/")
    page.get_by_label("Account number", exact=True).fill("12345")
    page.get_by_label("IFSC").fill("hdfc123")
    page.get_by_role("button", name="Review payee").click()
    expect(page.get_by_role("alert")).to_contain_text("Please correct the 4 fields")


def payee_review(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    login(page, live_server, alice.email)
    page.goto("/payees/new/")
    page.get_by_label("Payee's name").fill(TAMIL_PAYEE_NAME)
    page.get_by_label("Account number", exact=True).fill("501000123456789012")
    page.get_by_label("Account number again").fill("501000123456789012")
    page.get_by_label("IFSC").fill("hdfc0001234")
    page.get_by_role("button", name="Review payee").click()
    _heading(page, "Check your new payee")


def payee_step_up(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    payee_review(page, live_server, alice, savings, current)
    page.get_by_role("button", name="Add payee").click()
    _heading(page, "Confirm it's you")


def payee_detail(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    payee = _long_payees(alice)[0]  # cooling off: the time left
    login(page, live_server, alice.email)
    page.goto(f"/payees/{payee.pk}/")
    expect(page.locator(".notice-warning")).to_contain_text("Time left:")


def payee_detail_rename_error(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    payee = _long_payees(alice)[2]
    login(page, live_server, alice.email)
    page.goto(f"/payees/{payee.pk}/")
    page.get_by_label("Payee's name").fill("")
    page.get_by_role("button", name="Save name").click()
    expect(page.get_by_role("alert")).to_contain_text("Please correct the field marked below")


def payee_remove(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    payee = _long_payees(alice)[1]
    login(page, live_server, alice.email)
    page.goto(f"/payees/{payee.pk}/remove/")
    expect(page.get_by_role("button", name="Remove payee")).to_be_visible()


def balance_on_a_day(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    login(page, live_server, alice.email)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    page.goto(f"/accounts/{savings.pk}/balance/?on={yesterday.isoformat()}")
    _heading(page, "Balance on a date")
    expect(page.locator("#balance-closing")).to_be_visible()


def balance_on_a_day_with_error(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    login(page, live_server, alice.email)
    page.goto(f"/accounts/{savings.pk}/balance/")
    page.get_by_label("Balance at the end of").fill("2999-01-01")
    page.get_by_role("button", name="Show balance").click()
    expect(page.get_by_role("alert")).to_contain_text("Please correct the field marked below")


def _history(alice, savings: Account) -> None:
    """Thirty more entries (two pages), their texts the longest unbroken ones, one a transfer of her own."""
    for i in range(30):
        services.payment_create(
            account=savings,
            amount_paise=1_00 + i,
            description=(UPI_REFERENCE, HINDI_ACCOUNT_NAME, TAMIL_ACCOUNT_NAME)[i % 3],
            counterparty=(TAMIL_ACCOUNT_NAME, UPI_REFERENCE, HINDI_ACCOUNT_NAME)[i % 3],
            category="groceries",
            idempotency_key=uuid.uuid4().hex,
        )


def history(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    _history(alice, savings)
    login(page, live_server, alice.email)
    page.get_by_role("link", name="All transactions").first.click()
    expect(page.locator(".history-table tbody tr")).to_have_count(25)


def history_filtered_with_errors(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    """A filter that reads (totals shown), then one that does not (its message beside it)."""
    _history(alice, savings)
    login(page, live_server, alice.email)
    page.goto(f"/accounts/{savings.pk}/history/?category=groceries")
    expect(page.get_by_text("Matching 30 transactions")).to_be_visible()
    page.get_by_label("Amount from (₹)").fill("abc")
    page.get_by_label("Amount from (₹)").press("Enter")
    expect(page.locator("#id_amount_min_error")).to_contain_text("Enter an amount")


def history_older_page(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    _history(alice, savings)
    login(page, live_server, alice.email)
    page.goto(f"/accounts/{savings.pk}/history/")
    page.get_by_role("link", name="Older").click()
    expect(page.get_by_role("link", name="Newer")).to_be_visible()


def history_drawer(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    """A transfer of her own opened from the history in the drawer."""
    services.transfer_create(
        initiator=alice,
        source=savings,
        destination=current,
        amount_paise=1_250_50,
        description=UPI_REFERENCE,
        idempotency_key=uuid.uuid4().hex,
    )
    login(page, live_server, alice.email)
    page.goto(f"/accounts/{savings.pk}/history/")
    page.locator(".history-table tbody a").first.click()
    expect(page.get_by_role("dialog").get_by_role("link", name="View the receipt")).to_be_visible()


def history_detail(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    txn = services.transfer_create(
        initiator=alice,
        source=savings,
        destination=current,
        amount_paise=1_250_50,
        description=UPI_REFERENCE,
        idempotency_key=uuid.uuid4().hex,
    )
    login(page, live_server, alice.email)
    page.goto(f"/accounts/{current.pk}/history/{txn.pk}/")
    expect(page.get_by_role("link", name="View the receipt")).to_be_visible()


def _rate_sheet() -> None:
    """The demo's rate sheet (two sheets of history, a withdrawn bucket, a draft)."""
    from portal.seeding.rates import seed_rates

    seed_rates(anchor=timezone.localdate())


def rates_page(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    _rate_sheet()
    page.goto("/rates/")
    _heading(page, "Interest rates")
    expect(page.get_by_role("button", name="Print this rate sheet")).to_be_visible()


def rates_page_with_an_invalid_date(
    page: Page, live_server, alice, savings: Account, current: Account
) -> None:
    """A day after today, sent by the form's button (HTMX): the message beside the field, today's sheet."""
    _rate_sheet()
    page.goto("/rates/")
    page.get_by_label("Rates as of").fill("2999-01-01")
    page.get_by_role("button", name="Show rates").click()
    expect(page.locator("#id_as_of_error")).to_contain_text("Choose today")
    expect(page.get_by_role("button", name="Show rates")).to_be_focused()  # still where it was


def rates_page_as_of_a_past_day(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    """A day before the last change, chosen in the date field: the sheet swaps (HTMX) and the URL follows."""
    _rate_sheet()
    page.goto("/rates/")
    day = timezone.localdate() - datetime.timedelta(days=200)
    page.get_by_label("Rates as of").fill(day.isoformat())
    page.get_by_label("Rates as of").press("Enter")
    expect(page.locator(".rates-heading")).to_contain_text(f"{day.day} {day:%B %Y}")
    assert page.url.endswith(f"/rates/?as_of={day.isoformat()}")


def faq(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    """The FAQ with a question opened (its answer holds links, bold text and a list)."""
    seed_faq()
    page.goto("/faq/#neft-rtgs-imps-upi")
    _heading(page, "Help and frequently asked questions")
    expect(page.locator("details[open]")).to_have_count(1)


def faq_search_results(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    seed_faq()
    page.goto("/faq/")
    page.get_by_label("Search the questions and answers").fill("payee charges")
    expect(page.get_by_role("status")).to_contain_text("match “payee charges”")


def faq_search_no_results(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    seed_faq()
    page.goto("/faq/?q=%3Cscript%3Emortgage")
    expect(page.get_by_role("status")).to_have_text("No answers match “<script>mortgage”.")


def _charts_drawn(page: Page) -> None:
    """Bring each chart near the screen (insights.js draws it then) and wait until plotly.js has drawn all."""
    boxes = page.locator(".chart[data-figure]")
    for n in range(boxes.count()):
        boxes.nth(n).scroll_into_view_if_needed()
        expect(boxes.nth(n)).to_have_class(re.compile(r"\bchart-drawn\b"))
    page.evaluate("window.scrollTo(0, 0)")


def insights(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    """All accounts this month: the longest merchant names in the top merchants, every chart drawn."""
    login(page, live_server, alice.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Insights").click()
    _heading(page, "Insights")
    _charts_drawn(page)


def insights_one_account(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    login(page, live_server, alice.email)
    page.goto(f"/insights/?account={savings.pk}&period=3m")
    _charts_drawn(page)


def insights_with_errors(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    login(page, live_server, alice.email)
    page.goto("/insights/")
    today = timezone.localdate()
    page.get_by_label("Period", exact=True).select_option("custom")
    page.get_by_label("From", exact=True).fill(today.isoformat())
    page.get_by_label("To", exact=True).fill((today - datetime.timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#id_date_to_error")).to_contain_text("before the start")


def _statements(alice, savings: Account, current: Account) -> dict[str, Statement]:
    """Statements of her accounts with the longest names, one in each state: ready (its files made), failed,
    waiting, and 40 % made. No worker runs here: the waiting ones stay as they are."""
    from transactions.statements import generate, periods
    from transactions.statements import services as statements

    last = periods.previous_month()
    earlier = periods.month(last.first_day - datetime.timedelta(days=1))
    made = {}
    for name, account, period in (
        ("ready", savings, last),
        ("failed", current, last),
        ("queued", savings, earlier),
        ("running", current, earlier),
    ):
        made[name], _ = statements.statement_request(user=alice, account_id=account.pk, period=period)
    assert generate.build(made["ready"].pk)
    failed = made["failed"].pk
    statements.fail(failed, statements.claim(failed), "Preparing this statement failed.")
    statements.report_progress(made["running"].pk, statements.claim(made["running"].pk), 40)
    for statement in made.values():
        statement.refresh_from_db()
    return made


def _hold_polling(page: Page) -> None:
    """The waiting statements' rows ask for themselves every two seconds: hold those requests, so that nothing
    is swapped while axe reads the page (a page load still goes through)."""
    page.route(
        re.compile(r"/statements/\d+/(\?detail=1)?$"),
        lambda route: route.abort() if route.request.headers.get("hx-request") else route.continue_(),
    )


def statements_page(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    """Every state of a statement in the list, the ready one's checksum opened."""
    _statements(alice, savings, current)
    _hold_polling(page)
    login(page, live_server, alice.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Statements").click()
    _heading(page, "Statements")
    expect(page.locator(".statement")).to_have_count(4)
    page.locator(".statement-checksum > summary").click()
    expect(page.locator(".checksum-list")).to_be_visible()


def statements_form_with_errors(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    """Custom dates upside down, and no account chosen."""
    login(page, live_server, alice.email)
    page.goto("/statements/")
    page.get_by_label("Custom dates (up to five years)").check()
    page.get_by_label("From", exact=True).fill("2026-03-31")
    page.get_by_label("To", exact=True).fill("2026-01-01")
    page.get_by_role("button", name="Request statement").click()
    expect(page.get_by_role("alert")).to_contain_text("Please correct the 2 fields")


def statement_page(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    """A statement being made, on its own page (the Refresh link's, without JavaScript)."""
    running = _statements(alice, savings, current)["running"]
    _hold_polling(page)
    login(page, live_server, alice.email)
    page.goto(f"/statements/{running.pk}/")
    _heading(page, "Statement")
    expect(page.get_by_role("progressbar")).to_have_attribute("value", "40")


def statement_link_refused(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    ready = _statements(alice, savings, current)["ready"]
    login(page, live_server, alice.email)
    answer = page.goto(f"/statements/{ready.pk}/download/pdf/1abc:made-up/")
    assert answer is not None and answer.status == 403
    _heading(page, "This link does not work")


def verify_statement(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    """Signed out, as a visa officer opens it."""
    page.goto("/statements/verify/")
    _heading(page, "Verify a statement")


def verify_statement_genuine(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    ready = _statements(alice, savings, current)["ready"]
    page.goto("/statements/verify/")
    page.get_by_label("Statement file (PDF or CSV)").set_input_files(
        {"name": "statement.pdf", "mimeType": "application/pdf", "buffer": ready.pdf.read()}
    )
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("status")).to_contain_text("Genuine SecureBank statement")


def verify_statement_not_genuine(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    page.goto("/statements/verify/")
    page.get_by_label("Or its checksum (SHA-256)").fill("ab" * 32)
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("status")).to_contain_text("We have no statement with this checksum")


def verify_statement_with_errors(page: Page, live_server, alice, savings: Account, current: Account) -> None:
    page.goto("/statements/verify/")
    page.get_by_label("Or its checksum (SHA-256)").fill("not a checksum")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("alert")).to_contain_text("Please correct the field marked below")


PAGES: list[Callable[..., None]] = [
    login_page,
    login_page_with_error,
    dashboard,
    transfer_form,
    transfer_form_with_errors,
    review,
    review_reloaded,
    receipt,
    transfer_form_with_payees,
    review_to_a_new_payee,
    receipt_to_a_payee,
    not_found,
    password_change,
    password_change_with_errors,
    login_locked_out,
    too_many_requests,
    review_made_reopened,
    review_same_transfer_again,
    review_rate_limited,
    two_factor_enrol,
    backup_codes,
    admin_needs_two_factor,
    login_code,
    step_up,
    step_up_for_a_transfer,
    security,
    limits,
    limits_with_errors,
    step_up_for_limits,
    report_compromise,
    report_compromise_done,
    password_reset,
    password_reset_with_error,
    password_reset_sent,
    password_reset_link_invalid,
    password_reset_new_with_errors,
    password_reset_code,
    scheduled_list,
    scheduled_detail,
    scheduled_cancel,
    scheduled_form_with_errors,
    payee_list,
    payee_list_empty,
    payee_form_with_errors,
    payee_review,
    payee_step_up,
    payee_detail,
    payee_detail_rename_error,
    payee_remove,
    balance_on_a_day,
    balance_on_a_day_with_error,
    history,
    history_filtered_with_errors,
    history_older_page,
    history_drawer,
    history_detail,
    rates_page,
    rates_page_with_an_invalid_date,
    rates_page_as_of_a_past_day,
    faq,
    faq_search_results,
    faq_search_no_results,
    insights,
    insights_one_account,
    insights_with_errors,
    statements_page,
    statements_form_with_errors,
    statement_page,
    statement_link_refused,
    verify_statement,
    verify_statement_genuine,
    verify_statement_not_genuine,
    verify_statement_with_errors,
]


@pytest.mark.parametrize("viewport", [DESKTOP, MOBILE], ids=["desktop", "390px"])
@pytest.mark.parametrize("open_page", PAGES, ids=[p.__name__ for p in PAGES])
def test_it_has_no_accessibility_violations(
    new_page, live_server, viewport, open_page, alice, alice_savings, alice_current
):
    page = new_page(viewport=viewport)
    open_page(page, live_server, alice, alice_savings, alice_current)

    results = Axe().run(page, options=AXE_OPTIONS)

    assert results.violations_count == 0, results.generate_report()
    # WCAG 1.4.10 (reflow): nothing wider than the screen, so no page scrolls sideways on a phone.
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page is {overflow} px wider than the {viewport['width']} px screen"
    # Nor does anything spill out of its card (a table that scrolls inside its .table-wrap is fine).
    spills = page.evaluate(
        """() => [...document.querySelectorAll('.card, .site-header')]
            .filter((box) => box.scrollWidth > box.clientWidth)
            .map((box) => `${box.className}: ${box.scrollWidth - box.clientWidth} px`)"""
    )
    assert spills == [], f"content spills out of {spills}"
