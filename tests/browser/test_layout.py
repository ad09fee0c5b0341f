"""The portal's layout as a customer sees it on a 390 px phone and a 1280 px desktop: amounts are never cut,
the phone's header is one row, the desktop's flows line up, and long text stays inside its box."""

import datetime
import re
import uuid

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    DESKTOP,
    HINDI_PAYEE_NAME,
    LATIN_PAYEE_NAME,
    MOBILE,
    TAMIL_ACCOUNT_NAME,
    TAMIL_PAYEE_NAME,
    UPI_REFERENCE,
    login,
    post_long_texts,
)
from tests.conftest import fund
from tests.factories import AccountFactory, PayeeFactory, UserFactory
from tests.twofactor import force_login_verified
from transactions import services

pytestmark = pytest.mark.browser


def _whole(page: Page, selector: str, *, on_screen: bool = True) -> list[str]:
    """The texts of the elements matching `selector` that are cut: wider than their box, or (`on_screen`)
    reaching past the screen's right edge."""
    return page.evaluate(
        """([selector, onScreen]) => [...document.querySelectorAll(selector)]
            .filter((el) => el.scrollWidth > el.clientWidth
                || (onScreen && el.getBoundingClientRect().right > document.documentElement.clientWidth))
            .map((el) => el.textContent)""",
        [selector, on_screen],
    )


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-js"])
def test_it_shows_each_balance_whole_on_the_transfer_form_on_a_phone(
    new_page, live_server, javascript, alice, alice_savings, alice_current
):
    fund(alice_savings, 6_43_220_41)  # ₹6,93,220.41, the balance a select cut to "₹6,93,22"
    page = new_page(viewport=MOBILE, javascript=javascript)
    login(page, live_server, alice.email)
    page.goto("/transfers/new/")

    accounts = page.get_by_role("list").filter(has_text=alice_savings.masked_number)
    expect(accounts.get_by_role("listitem").filter(has_text="Savings")).to_contain_text("₹6,93,220.41")
    expect(accounts.get_by_role("listitem").filter(has_text="Current")).to_contain_text("₹0.00")
    assert _whole(page, "[data-balance]") == []
    # The options name the account only: a select cuts its option's text at its width.
    source = page.get_by_label("From")
    expect(source.locator("option")).to_have_text(
        [
            "Choose an account",
            f"Savings · {alice_savings.masked_number}",
            f"Current · {alice_current.masked_number}",
        ]
    )
    if not javascript:
        return

    source.select_option(str(alice_savings.pk))
    expect(source).to_have_accessible_description(re.compile(r"Balance ₹6,93,220\.41"))
    expect(page.locator("#id_source_balance")).to_have_text("Balance ₹6,93,220.41")
    assert _whole(page, "#id_source_balance .amount") == []
    destination = page.get_by_label("To", exact=True)
    destination.select_option(str(alice_current.pk))
    expect(page.locator("#id_destination_balance")).to_have_text("Balance ₹0.00")
    # The form comes back from the server (htmx) with an error: the balances are still under the selects.
    page.get_by_label("Amount (₹)").fill("12.345")
    page.get_by_role("button", name="Review transfer").click()
    expect(page.get_by_role("alert")).to_contain_text("Please correct")
    expect(page.locator("#id_source_balance")).to_have_text("Balance ₹6,93,220.41")
    expect(page.locator("#id_destination_balance")).to_have_text("Balance ₹0.00")


def test_it_fits_the_phone_header_in_one_row_and_puts_the_navigation_in_a_tab_bar(
    new_page, live_server, alice, alice_savings, alice_current
):
    page = new_page(viewport=MOBILE)
    login(page, live_server, alice.email)

    header = page.locator(".site-header").bounding_box()
    assert header is not None and header["height"] <= 64, f"the header is {header} high"
    expect(page.locator(".site-header").get_by_text("Alice", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_in_viewport()
    # The main navigation sits at the foot of the screen, each tab a thumb-sized target.
    nav = page.get_by_role("navigation", name="Main")
    box = nav.bounding_box()
    assert box is not None and box["y"] + box["height"] == MOBILE["height"], box
    for name in ("Accounts", "Move money", "Security"):
        tab = nav.get_by_role("link", name=name).bounding_box()
        assert tab is not None and tab["height"] >= 44 and tab["width"] >= 44, (name, tab)
    expect(nav.get_by_role("link", name="Accounts")).to_have_attribute("aria-current", "page")
    # Scrolled to the end, nothing of the page is left under the tab bar.
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    footer = page.locator(".site-footer").bounding_box()
    assert footer is not None and footer["y"] + footer["height"] <= box["y"] + 1, (footer, box)


def test_it_makes_the_total_the_largest_amount_on_the_dashboard(
    page, live_server, alice, alice_savings, alice_current
):
    login(page, live_server, alice.email)
    sizes = page.evaluate(
        """() => [document.querySelector('.total .amount'), ...document.querySelectorAll('.balance .amount')]
            .map((el) => parseFloat(getComputedStyle(el).fontSize))"""
    )
    total, balances = sizes[0], sizes[1:]
    assert len(balances) == 2 and all(total > balance for balance in balances), sizes


@pytest.mark.parametrize("viewport", [DESKTOP, MOBILE], ids=["desktop", "390px"])
def test_it_cuts_long_descriptions_to_two_lines_and_keeps_the_amounts_whole(
    new_page, live_server, viewport, alice, alice_savings, alice_current
):
    post_long_texts(alice_savings, alice_current)
    page = new_page(viewport=viewport)
    login(page, live_server, alice.email)

    savings = page.get_by_role("region", name="Savings", exact=True)
    row = savings.get_by_role("row").filter(has_text=UPI_REFERENCE[:40])
    expect(row).to_contain_text("-₹1.00")
    description = row.locator(".clamp").first
    expect(description).to_have_attribute("title", UPI_REFERENCE)  # the whole text, where it is cut
    lines = description.evaluate(
        "el => el.getBoundingClientRect().height / parseFloat(getComputedStyle(el).lineHeight)"
    )
    assert lines <= 2.05, f"the description takes {lines:.1f} lines"
    assert _whole(page, ".account .num") == []
    # The amount column takes no more than the amounts need: the description has the rest.
    widths = row.evaluate("tr => [...tr.cells].map((td) => td.getBoundingClientRect().width)")
    assert widths[-1] < 0.4 * sum(widths), widths


def _left_and_width(page: Page, selector: str) -> tuple[float, float]:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    return round(box["x"]), round(box["width"])


def test_it_lines_up_the_heading_steps_and_card_of_the_transfer_flow_on_a_desktop(
    page, live_server, alice, alice_savings, alice_current
):
    login(page, live_server, alice.email)
    page.goto("/transfers/new/")
    for step in ("Move money between your accounts", "Review your transfer", "Money moved"):
        expect(page.get_by_role("heading", level=1)).to_have_text(step)
        card_left = _left_and_width(page, ".card")[0]
        assert card_left > 200, "the card is centred on a wide screen"
        assert _left_and_width(page, "h1")[0] == card_left, step
        assert _left_and_width(page, ".steps")[0] == card_left, step
        if step == "Move money between your accounts":
            page.get_by_label("From").select_option(str(alice_savings.pk))
            page.get_by_label("To", exact=True).select_option(str(alice_current.pk))
            page.get_by_label("Amount (₹)").fill("1")
            page.get_by_role("button", name="Review transfer").click()
        elif step == "Review your transfer":
            page.get_by_role("button", name="Confirm and move ₹1.00").click()


def test_it_puts_a_message_in_line_with_the_card_below_it_on_a_desktop(page, live_server, db):
    page.goto("/login/verify/")  # no sign-in under way: back to the login page with a message
    expect(page.get_by_role("status")).to_contain_text("Your sign-in timed out")
    assert _left_and_width(page, ".messages") == _left_and_width(page, ".card")


@pytest.mark.parametrize("viewport", [DESKTOP, MOBILE], ids=["desktop", "390px"])
def test_it_wraps_long_text_in_the_admin(new_page, live_server, viewport, alice, alice_savings):
    """Staff see the same customers' text: a long note wraps in the ledger's list and on the transaction's
    page (a list wider than the screen scrolls inside its own box, as Django's admin does)."""
    current = AccountFactory(owner=alice, name=TAMIL_ACCOUNT_NAME)
    post_long_texts(alice_savings, current)
    transfer = services.transfer_create(
        initiator=alice,
        source=alice_savings,
        destination=current,
        amount_paise=1_00,
        description=UPI_REFERENCE,
        idempotency_key=uuid.uuid4().hex,
    )
    staff = UserFactory(email="ops@example.com", is_staff=True, is_superuser=True)
    client = Client()
    force_login_verified(client, staff)
    page = new_page(viewport=viewport)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    pages = [
        reverse("admin:transactions_transaction_changelist"),
        reverse("admin:transactions_transaction_change", args=[transfer.pk]),
        reverse("admin:accounts_account_changelist"),
        reverse("admin:accounts_account_change", args=[current.pk]),
    ]
    for url in pages:
        page.goto(url)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{url} is {overflow} px wider than the screen"
        # Each text fits its cell or field (the list itself may scroll sideways in .results on a phone).
        assert (
            _whole(page, "#result_list td, div.readonly, #content h2, .breadcrumbs", on_screen=False) == []
        ), url


def test_it_fits_the_frozen_account_banner_on_a_phone(
    new_page, live_server, alice, alice_savings, alice_current
):
    alice_savings.name = TAMIL_ACCOUNT_NAME
    alice_savings.status = "frozen"
    alice_savings.save(update_fields=["name", "status"])
    page = new_page(viewport=MOBILE)
    login(page, live_server, alice.email)
    banner = page.locator(".frozen-notice")
    expect(banner).to_contain_text("is frozen")
    expect(banner.get_by_role("link", name="check your sign-ins and devices")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= MOBILE["width"]
    badge = page.locator(".account-head .badge")
    assert badge.evaluate("(el) => el.getClientRects().length") == 1 and badge.bounding_box()["height"] < 40
    page.screenshot(path="/tmp/securebank-browser/dashboard-frozen-390.png", full_page=True)  # noqa: S108


@pytest.mark.parametrize("viewport", [DESKTOP, MOBILE], ids=["desktop", "390px"])
def test_it_shows_the_limits_whole_and_the_form_in_the_screen(
    new_page, live_server, viewport, alice, alice_savings
):
    """The limits page: every amount whole on its line, the pending raise's notice and the form inside the
    card, on a phone too."""
    services.transfer_limits_set(user=alice, daily_paise=50_000_00, per_transfer_paise=None)
    services.transfer_limits_set(
        user=alice, daily_paise=4_99_999_99, per_transfer_paise=1_99_999_99, raise_confirmed=True
    )
    page = new_page(viewport=viewport)
    login(page, live_server, alice.email)
    page.goto("/security/limits/")
    page.get_by_label("Daily limit (₹)").fill("12,34,567.89")
    page.get_by_role("button", name="Save limits").click()
    expect(page.get_by_role("alert")).to_contain_text("Please correct the field marked below")
    assert _whole(page, ".summary-list dd, .summary-list dt, .notice, .field input, .actions .button") == []
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    # Each amount on one line: a figure broken across lines reads as two numbers.
    heights = page.evaluate(
        "[...document.querySelectorAll('.summary-list dd')].map((dd) => dd.getClientRects().length)"
    )
    assert all(rects == 1 for rects in heights), heights
    name = "desktop" if viewport is DESKTOP else "390"
    page.screenshot(path=f"/tmp/securebank-browser/limits-{name}.png", full_page=True)  # noqa: S108


@pytest.mark.parametrize("viewport", [DESKTOP, MOBILE], ids=["desktop", "390px"])
def test_it_wraps_long_payee_names_in_every_script_on_the_payee_pages(new_page, live_server, viewport, alice):
    """Payees named with 100 unbroken characters in Latin, Hindi and Tamil: every page of theirs wraps the
    name inside its box, the page is never wider than the screen, and Send money stays whole."""
    now = timezone.now()
    payees = [
        PayeeFactory(owner=alice, name=LATIN_PAYEE_NAME),
        PayeeFactory(owner=alice, name=HINDI_PAYEE_NAME, created_at=now),
        PayeeFactory(owner=alice, name=TAMIL_PAYEE_NAME, created_at=now - datetime.timedelta(days=2)),
    ]
    page = new_page(viewport=viewport)
    login(page, live_server, alice.email)
    urls = ["/payees/"]
    for payee in payees:
        urls += [f"/payees/{payee.pk}/", f"/payees/{payee.pk}/remove/"]
    for url in urls:
        page.goto(url)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{url} is {overflow} px wider than the screen"
        assert _whole(page, "h1, .payee-name, .payee-status, .summary-list dd, .notice, .button") == [], url
    page.goto("/payees/")
    for payee in payees:
        expect(page.get_by_role("heading", name=payee.name)).to_be_visible()
    sends = page.get_by_role("link", name=re.compile("^Send money"))
    expect(sends).to_have_count(2)  # not to the payee cooling off
    # The add flow's review with a long name.
    page.goto("/payees/new/")
    page.get_by_label("Payee's name").fill(HINDI_PAYEE_NAME[:99] + "x")
    page.get_by_label("Account number", exact=True).fill("501000123456789012")
    page.get_by_label("Account number again").fill("501000123456789012")
    page.get_by_label("IFSC").fill("SBIN0000691")
    page.get_by_role("button", name="Review payee").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your new payee")
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    assert _whole(page, ".summary-list dd, .button") == []


TABS = ("Accounts", "Move money", "Insights", "Statements", "Payees", "Security")


def test_it_fits_six_tabs_in_the_phone_tab_bar(new_page, live_server, alice, alice_savings, alice_current):
    page = new_page(viewport=MOBILE)
    login(page, live_server, alice.email)
    nav = page.get_by_role("navigation", name="Main")
    for current in ("Payees", "Statements", "Move money"):  # the current tab's label is bold: wider
        nav.get_by_role("link", name=current).click()
        expect(nav.get_by_role("link", name=current)).to_have_attribute("aria-current", "page")
        boxes = [nav.get_by_role("link", name=name).bounding_box() for name in TABS]
        assert all(box is not None and box["height"] >= 44 and box["width"] >= 44 for box in boxes), boxes
        assert len({round(box["y"]) for box in boxes}) == 1, "one row"
        assert boxes[-1]["x"] + boxes[-1]["width"] <= MOBILE["width"], "Security is on the screen"
        # Each label on one line at 390 px ("Move money" too), none spilling over its neighbour.
        fits = "(s) => [s.getClientRects().length, s.offsetWidth <= s.parentNode.clientWidth]"
        lines = nav.locator("a span").evaluate_all(f"(spans) => spans.map({fits})")
        assert lines == [[1, True]] * len(TABS), lines
    header = page.locator(".site-header").bounding_box()
    assert header is not None and header["height"] <= 64


@pytest.mark.parametrize("viewport", [DESKTOP, MOBILE], ids=["desktop", "390px"])
def test_it_fits_the_history_and_its_detail_in_the_screen(
    new_page, live_server, viewport, alice, alice_savings, alice_current
):
    """The longest unbroken texts in the history's rows and the drawer: nothing wider than the screen, every
    amount whole; on a phone the date, counterparty and category move under the description."""
    post_long_texts(alice_savings, alice_current)
    page = new_page(viewport=viewport)
    login(page, live_server, alice.email)
    page.goto(f"/accounts/{alice_savings.pk}/history/")
    expect(page.locator(".history-table tbody tr")).to_have_count(3)
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    assert _whole(page, ".history-table td.num") == []
    counterparty = page.locator(".history-table .col-party").first
    inline = page.locator(".history-table .history-inline").first
    if viewport == MOBILE:
        expect(counterparty).to_be_hidden()
        expect(inline).to_be_visible()
    else:
        expect(counterparty).to_be_visible()
        expect(inline).to_be_hidden()
    page.locator(".history-table tbody a").first.click()
    drawer = page.get_by_role("dialog")
    expect(drawer).to_be_visible()
    assert drawer.evaluate("el => el.scrollWidth <= el.clientWidth")
    assert _whole(page, "#history-drawer .num") == []
