"""The history page in a browser: a filter swaps the results (HTMX) and keeps focus where the customer was,
the address bar follows, Back restores the view before; a row opens its detail in a drawer that takes focus
and gives it back on Escape; by keyboard alone; and without JavaScript the same form and links are pages."""

import csv
import datetime
import re
import uuid

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import Account
from portal.seeding.history import posted_at
from tests.browser.conftest import login
from tests.factories import AccountFactory
from transactions import services

pytestmark = pytest.mark.browser


@pytest.fixture
def everyday(alice) -> Account:
    """30 entries: a salary, then rent and groceries by turns, a day apart."""
    account = AccountFactory(owner=alice, name="Everyday")
    start = timezone.now() - datetime.timedelta(days=40)
    with posted_at(start):
        services.deposit_create(
            account=account,
            amount_paise=5_00_000_00,
            description="Salary",
            counterparty="Infosys Ltd",
            category="salary",
            idempotency_key=uuid.uuid4().hex,
        )
    for i in range(1, 30):
        with posted_at(start + datetime.timedelta(days=i)):
            services.payment_create(
                account=account,
                amount_paise=100_00 + i,
                description=f"{'Rent' if i % 2 else 'Groceries'} {i}",
                counterparty="Big Bazaar",
                category="rent" if i % 2 else "groceries",
                idempotency_key=uuid.uuid4().hex,
            )
    return account


def _rows(page: Page):
    return page.locator(".history-table tbody tr")


def _first(page: Page):
    """The newest row's link (its description)."""
    return page.locator(".history-table tbody a").first


def test_a_filter_swaps_the_results_and_back_restores_them(page: Page, live_server, alice, everyday):
    login(page, live_server, alice.email)
    page.get_by_role("link", name="All transactions").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Everyday")
    expect(_rows(page)).to_have_count(25)
    page.evaluate("window.notReloaded = true")  # gone if the browser loads a whole page

    page.get_by_text("Filters", exact=True).click()
    category = page.get_by_label("Category")
    category.focus()
    category.select_option("groceries")
    expect(page).to_have_url(f"{live_server.url}/accounts/{everyday.pk}/history/?category=groceries")
    expect(_rows(page)).to_have_count(14)
    expect(page.get_by_text("Matching 14 transactions")).to_be_visible()
    expect(page.get_by_label("Category")).to_be_focused()  # focus stays where the customer was
    assert page.evaluate("window.notReloaded") is True  # swapped, not reloaded

    page.get_by_label("Amount from (₹)").fill("abc")
    page.get_by_label("Amount from (₹)").press("Enter")
    expect(page.locator("#id_amount_min_error")).to_contain_text("Enter an amount in rupees")
    expect(_rows(page)).to_have_count(25)  # the unfiltered list
    expect(page.get_by_label("Amount from (₹)")).to_be_focused()

    page.go_back()
    expect(page).to_have_url(f"{live_server.url}/accounts/{everyday.pk}/history/?category=groceries")
    expect(_rows(page)).to_have_count(14)
    expect(page.locator("#id_amount_min_error")).to_have_count(0)
    page.go_back()
    expect(_rows(page)).to_have_count(25)
    expect(page.get_by_text("Matching")).to_have_count(0)


def test_pages_older_and_back(page: Page, live_server, alice, everyday):
    login(page, live_server, alice.email)
    page.goto(f"/accounts/{everyday.pk}/history/?size=10")
    first = _first(page).inner_text()
    page.get_by_role("link", name="Older").press("Enter")  # by keyboard, from the bottom of the page
    expect(page).to_have_url(re.compile(r"cursor="))
    expect(_first(page)).not_to_have_text(first)
    # Focus on the heading that names the rows now shown, their top in view (not left on <body>).
    expect(page.locator("#history-rows-heading")).to_be_focused()
    expect(page.locator("#history-rows-heading")).to_contain_text("Transactions from")
    expect(page.locator(".history-table tbody tr").first).to_be_in_viewport()
    second = _first(page).inner_text()
    page.get_by_role("link", name="Older").click()
    expect(_rows(page).last).to_contain_text("Salary")  # the oldest: 30 rows in three pages of ten
    expect(page.get_by_role("link", name="Older")).to_have_count(0)
    page.go_back()
    expect(_first(page)).to_have_text(second)
    page.go_back()
    expect(_first(page)).to_have_text(first)
    expect(page.get_by_role("link", name="Newer")).to_have_count(0)


def test_the_drawer_takes_focus_and_gives_it_back(page: Page, live_server, alice, everyday):
    login(page, live_server, alice.email)
    page.goto(f"/accounts/{everyday.pk}/history/")
    row = page.locator(".history-table a").nth(1)
    row.focus()
    page.keyboard.press("Enter")
    drawer = page.get_by_role("dialog")
    expect(drawer).to_be_visible()
    expect(drawer.get_by_role("heading", level=2)).to_be_focused()
    expect(drawer).to_contain_text("SB")
    page.keyboard.press("Escape")
    expect(drawer).to_be_hidden()
    expect(row).to_be_focused()

    row.focus()
    page.keyboard.press("Enter")
    expect(drawer.get_by_role("heading", level=2)).to_be_focused()
    drawer.get_by_role("button", name="Close").click()
    expect(drawer).to_be_hidden()
    expect(row).to_be_focused()


def test_without_javascript_the_form_and_links_are_pages(new_page, live_server, alice, everyday):
    page = new_page(javascript=False)
    login(page, live_server, alice.email)
    page.goto(f"/accounts/{everyday.pk}/history/")
    page.get_by_text("Filters", exact=True).click()
    page.get_by_label("Category").select_option("rent")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"category=rent"))
    expect(_rows(page)).to_have_count(15)
    page.get_by_role("searchbox", name="Search").fill("Rent 1")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(_rows(page)).to_have_count(7)  # rent with a 1: Rent 1, 11, 13, 15, 17, 19 and 21
    page.get_by_role("link", name="Show the totals of the matching transactions").click()
    expect(page.get_by_text("Matching 7 transactions")).to_be_visible()
    expect(_rows(page)).to_have_count(7)
    page.goto(f"/accounts/{everyday.pk}/history/")
    page.get_by_role("link", name="Older").click()
    expect(_rows(page)).to_have_count(5)
    page.locator(".history-table a").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Groceries 4")
    page.get_by_role("link", name="Back to the transactions").click()
    expect(_rows(page)).to_have_count(25)


def test_a_search_pages_back_and_downloads_exactly_what_it_shows(page: Page, live_server, alice, everyday):
    """The issue's journey: search `category:groceries after:…`, page to older results, press Back, download
    the CSV and open it: the same ten groceries, newest first."""
    start = timezone.localtime(everyday.entries.order_by("id").first().created)
    after = (start + datetime.timedelta(days=10)).date()  # groceries 10, 12, … 28: ten of them
    login(page, live_server, alice.email)
    page.goto(f"/accounts/{everyday.pk}/history/?size=5")
    page.get_by_role("searchbox", name="Search").fill(f"category:groceries after:{after:%Y-%m-%d}")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.get_by_text("Matching 10 transactions")).to_be_visible()
    expect(_rows(page)).to_have_count(5)
    expect(_first(page)).to_have_text("Groceries 28")

    page.get_by_role("link", name="Older").click()
    expect(page).to_have_url(re.compile(r"cursor="))
    expect(_first(page)).to_have_text("Groceries 18")
    page.go_back()
    expect(_first(page)).to_have_text("Groceries 28")

    with page.expect_download() as download:
        page.get_by_role("link", name="CSV", exact=True).click()
    with open(download.value.path(), encoding="utf-8-sig", newline="") as file:
        header, *rows = list(csv.reader(file))
    assert header[2] == "Description"
    assert [row[2] for row in rows] == [f"Groceries {i}" for i in range(28, 9, -2)]
    assert {row[4] for row in rows} == {"Groceries"}
    assert [row[5] for row in rows] == [f"{100 + i / 100:.2f}" for i in range(28, 9, -2)]


def test_typing_in_a_filter_waits_for_apply_and_the_panel_says_what_is_on(
    page: Page, live_server, alice, everyday
):
    """Only a choice from a list applies at once: amounts and text wait for Enter or Apply (a request sent on
    leaving a field swapped the form while the customer typed in the next). With a search, the panel stays
    open and counts the filters in use."""
    login(page, live_server, alice.email)
    page.goto(f"/accounts/{everyday.pk}/history/?q=groceries")
    page.get_by_text("Filters", exact=True).click()
    page.get_by_label("Amount from (₹)").fill("100")
    page.get_by_label("Amount from (₹)").press("Tab")
    page.keyboard.type("2000")  # into "Amount up to": nothing was sent on leaving "Amount from"
    expect(page.get_by_label("Amount up to (₹)")).to_have_value("2000")
    expect(page).to_have_url(re.compile(r"\?q=groceries$"))
    page.get_by_label("Money").select_option("debit")  # a list: applies at once, the amounts with it
    expect(page).to_have_url(re.compile(r"amount_max=2000"))
    expect(page.get_by_text("Filters (3 on)")).to_be_visible()
    expect(page.get_by_label("Amount up to (₹)")).to_be_visible()  # the panel stayed open beside the search


def test_the_search_help_opens_by_keyboard_beside_the_label_and_closes_on_escape(
    page: Page, live_server, alice, everyday
):
    login(page, live_server, alice.email)
    page.goto(f"/accounts/{everyday.pk}/history/")
    summary = page.locator("details.search-help > summary")
    label = page.locator("label[for=id_q]")
    assert abs(summary.bounding_box()["y"] - label.bounding_box()["y"]) < 24  # on the label's line
    summary.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("table", name="Search operators")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("table", name="Search operators")).to_be_hidden()
    expect(summary).to_be_focused()
