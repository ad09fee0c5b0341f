"""A customer who cannot use a mouse moves money with Tab, Shift+Tab, the arrow keys, typing and Enter; the
skip link comes first; and wherever focus is, it can be seen."""

import pytest
from playwright.sync_api import Locator, Page, expect

from accounts.models import Account
from tests.browser.conftest import DESKTOP, MOBILE, account_balance, login
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

# Where focus is, and whether it is drawn: the outline that `:focus-visible` gives every focusable element.
_FOCUS = """() => {
    const el = document.activeElement;
    const style = getComputedStyle(el);
    const label = (el.innerText || el.getAttribute("aria-label") || el.name || el.id || "").trim();
    const seen = el.hasAttribute("data-tab-stop-seen");
    el.setAttribute("data-tab-stop-seen", "");
    return {
        seen,
        element: `${el.tagName.toLowerCase()} "${label.slice(0, 40)}"`,
        isBody: el === document.body,
        outline: `${style.outlineStyle} ${style.outlineWidth}`,
        visible: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0,
    };
}"""


def _focus(page: Page) -> dict:
    return page.evaluate(_FOCUS)


def _assert_focus_visible(page: Page) -> None:
    focus = _focus(page)
    assert focus["visible"], f"focus on {focus['element']} is not visible (outline: {focus['outline']})"


def _tab_to(page: Page, target: Locator, limit: int = 25) -> None:
    """Press Tab until `target` has focus, checking that every stop on the way shows its focus. (A Tab may
    also leave the page for the browser's own controls: the next one comes back to the skip link.)"""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if _focus(page)["isBody"]:
            continue
        _assert_focus_visible(page)
        if target.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError(f"{limit} presses of Tab never reached {target}")


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-js"])
def test_it_moves_money_with_the_keyboard_alone(
    new_page, live_server, javascript, alice, alice_savings: Account, alice_current: Account
):
    page = new_page(javascript=javascript)
    heading = page.get_by_role("heading", level=1)
    page.goto("/login/")
    expect(page.get_by_label("Email")).to_be_focused()  # autofocus
    page.keyboard.type("alice@example.com")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(heading).to_have_text("Hello, Alice")

    _tab_to(page, page.get_by_role("navigation", name="Main").get_by_role("link", name="Move money"))
    page.keyboard.press("Enter")
    expect(heading).to_have_text("Move money between your accounts")

    source, destination = page.get_by_label("From"), page.get_by_label("To", exact=True)
    amount, note = page.get_by_label("Amount (₹)"), page.get_by_label("Note (optional)")
    _tab_to(page, source)
    page.keyboard.press("ArrowDown")  # "Choose an account" -> Savings
    expect(source).to_have_value(str(alice_savings.pk))
    page.keyboard.press("Tab")
    expect(destination).to_be_focused()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")  # -> Savings -> Current
    expect(destination).to_have_value(str(alice_current.pk))
    page.keyboard.press("Tab")
    expect(amount).to_be_focused()
    page.keyboard.type("1,250.50")
    page.keyboard.press("Tab")
    expect(note).to_be_focused()
    page.keyboard.type("By keyboard")
    page.keyboard.press("Shift+Tab")
    expect(amount).to_be_focused()
    expect(amount).to_have_value("1,250.50")
    page.keyboard.press("Enter")

    expect(heading).to_have_text("Review your transfer")
    confirm = page.get_by_role("button", name="Confirm and move ₹1,250.50")
    _tab_to(page, confirm)
    page.keyboard.press("Enter")

    expect(heading).to_have_text("Money moved")
    _tab_to(page, page.get_by_role("link", name="Back to your accounts"))
    page.keyboard.press("Enter")

    expect(account_balance(page, "Savings")).to_have_text("₹48,749.50")
    expect(account_balance(page, "Current")).to_have_text("₹1,250.50")
    assert Account.objects.get(pk=alice_savings.pk).balance == 48_749_50
    assert Account.objects.get(pk=alice_current.pk).balance == 1_250_50


def test_it_moves_focus_to_the_review_after_the_htmx_swap(
    page, live_server, alice, alice_savings: Account, alice_current: Account
):
    """The button that had focus is gone with the swapped form: portal.js moves focus to the new heading,
    so that a screen reader announces the review and the next Tab starts from it, not from the top."""
    login(page, live_server, alice.email)
    page.goto("/transfers/new/")
    page.get_by_label("From").select_option(str(alice_savings.pk))
    page.get_by_label("To", exact=True).select_option(str(alice_current.pk))
    page.get_by_label("Amount (₹)").fill("1,250.50")
    page.get_by_role("button", name="Review transfer").press("Enter")

    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("Review your transfer")
    expect(heading).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Confirm and move ₹1,250.50")).to_be_focused()


def test_it_offers_a_skip_link_as_the_first_tab_stop(page, live_server, alice, alice_savings, alice_current):
    login(page, live_server, alice.email)
    first_in_main = {
        "/": page.get_by_role("main").get_by_role("link", name="Move money"),
        "/transfers/new/": page.get_by_label("From"),
    }
    for path, target in first_in_main.items():
        page.goto(path)
        page.keyboard.press("Tab")

        skip = page.get_by_role("link", name="Skip to main content")
        expect(skip).to_be_focused()
        expect(skip).to_be_in_viewport()
        _assert_focus_visible(page)

        page.keyboard.press("Enter")
        expect(page.get_by_role("main")).to_be_focused()
        page.keyboard.press("Tab")
        expect(target).to_be_focused()


def test_it_shows_focus_on_every_tab_stop(page, live_server, alice, alice_savings, alice_current):
    login(page, live_server, alice.email)
    hidden: list[str] = []
    for path in ("/", "/transfers/new/", "/transfers/999999/"):
        page.goto(path)
        stops: list[str] = []
        for _ in range(40):
            page.keyboard.press("Tab")
            focus = _focus(page)
            if focus["isBody"] or focus["seen"]:
                break
            stops.append(focus["element"])
            if not focus["visible"]:
                hidden.append(f"{path}: {focus['element']} (outline: {focus['outline']})")
        assert len(stops) >= 5, f"{path}: only {stops} reachable by Tab"
        # Shift+Tab goes back to the last stop, and shows it too.
        page.keyboard.press("Shift+Tab")
        _assert_focus_visible(page)
        assert _focus(page)["element"] == stops[-1]
    assert hidden == [], "focus is invisible on:\n" + "\n".join(hidden)


# What has focus, named by where it is: "skip", "brand", "nav:<link>", "sign out", "main", "other".
_WHERE = """() => {
    const el = document.activeElement;
    const text = (el.innerText || "").trim();
    if (el === document.body) return "body";
    if (el.classList.contains("skip-link")) return "skip";
    if (el.classList.contains("brand")) return "brand";
    if (el.closest("nav.site-nav")) return `nav:${text}`;
    if (text === "Sign out") return "sign out";
    if (el.closest("main")) return "main";
    return `other:${text.slice(0, 30)}`;
}"""


@pytest.mark.parametrize(
    ("viewport", "expected"),
    [
        (
            "390px",
            [
                "skip",
                "brand",
                "sign out",
                "main",
                "nav:Accounts",
                "nav:Move money",
                "nav:Insights",
                "nav:Statements",
                "nav:Payees",
                "nav:Security",
            ],
        ),
        (
            "desktop",
            [
                "skip",
                "brand",
                "nav:Accounts",
                "nav:Move money",
                "nav:Insights",
                "nav:Statements",
                "nav:Payees",
                "nav:Security",
                "sign out",
                "main",
            ],
        ),
    ],
)
def test_the_tab_order_follows_the_screen(
    new_page, live_server, alice, alice_savings, alice_current, viewport, expected
):
    """On a phone the main navigation is a tab bar at the foot of the screen: Tab reaches it after the page's
    content (as it sits), not between the bank's name and Sign out; on a wide screen it sits in the header.
    (The page's own stops, however many, count as one "main".)"""
    page = new_page(viewport=MOBILE if viewport == "390px" else DESKTOP)
    login(page, live_server, alice.email)
    stops: list[str] = []
    for _ in range(60):
        page.keyboard.press("Tab")
        where = page.evaluate(_WHERE)
        if where != "body" and (not stops or stops[-1] != where):
            stops.append(where)
        if stops and stops[-1] == expected[-1]:
            break
    assert stops == expected
