"""The budgets page and the savings projection in Chromium: axe-core finds nothing on either at 1280 and
390 px; a budget is changed by keyboard alone (HTMX) and set, changed and
removed without JavaScript; the projection recalculates as the customer types, keeps focus in the field
and says so in its status line, and works as a plain form without JavaScript."""

import datetime
import re
import uuid

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import Account, User
from tests.browser.conftest import DESKTOP, MOBILE, login
from tests.browser.test_accessibility import AXE_OPTIONS
from tests.browser.test_keyboard import _tab_to
from tests.conftest import fund
from tests.factories import AccountFactory, UserFactory
from tests.public.rates_data import LAKH, line
from transactions import services
from transactions.insights.budgets import budget_set
from transactions.insights.models import Budget

pytestmark = pytest.mark.browser


@pytest.fixture
def alice(transactional_db) -> User:
    return UserFactory(email="alice@example.com", full_name="Alice Iyer")


@pytest.fixture
def spending(alice) -> Account:
    """Groceries nearly used, dining over, shopping untouched; and the rate sheet."""
    savings = fund(AccountFactory(owner=alice, name="Savings", kind=Account.Kind.SAVINGS), 50_000_00)
    for paise, category in ((8_000_00, "groceries"), (1_200_00, "dining")):
        services.payment_create(
            account=savings,
            amount_paise=paise,
            description="Purchase",
            counterparty="Shop",
            category=category,
            idempotency_key=str(uuid.uuid4()),
        )
    budget_set(user=alice, category="groceries", amount_paise=10_000_00)
    budget_set(user=alice, category="dining", amount_paise=1_000_00)
    budget_set(user=alice, category="shopping", amount_paise=1_00_000_00)
    year_ago = timezone.localdate() - datetime.timedelta(days=365)
    line("savings", general="2.70", effective=year_ago)
    line("savings", general="3.00", effective=year_ago, balance=10 * LAKH)
    line("rd", low=180, high=3650, general="6.50", effective=year_ago)
    return savings


def _budgets(page: Page) -> None:
    page.goto("/insights/budgets/")


def _budgets_with_an_error(page: Page) -> None:
    page.goto("/insights/budgets/")
    page.get_by_label("Category").select_option(label="Travel")
    page.get_by_label("Monthly budget (₹)").fill("lots")
    page.get_by_role("button", name="Save budget").click()
    expect(page.locator(".field-error")).to_have_text("Enter an amount in rupees, like 1500 or 1,500.50.")


def _projection(page: Page) -> None:
    page.goto("/insights/projection/?deposit=5%2C000&start=")
    expect(page.get_by_role("heading", name="How we work it out")).to_be_visible()


def _projection_with_an_error(page: Page) -> None:
    page.goto("/insights/projection/?deposit=abc")
    expect(page.locator("#id_deposit_error")).to_be_visible()


@pytest.mark.parametrize("viewport", [DESKTOP, MOBILE], ids=["desktop", "phone"])
@pytest.mark.parametrize(
    "open_page", [_budgets, _budgets_with_an_error, _projection, _projection_with_an_error]
)
def test_it_has_no_accessibility_violations(new_page, live_server, alice, spending, viewport, open_page):
    page = new_page(viewport=viewport)
    login(page, live_server, alice.email)
    open_page(page)
    results = Axe().run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, results.generate_report()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page is {overflow} px wider than the {viewport['width']} px screen"


def test_the_progress_bars_say_their_figures(new_page, live_server, alice, spending):
    page = new_page()
    login(page, live_server, alice.email)
    page.goto("/insights/budgets/")
    groceries = page.get_by_role("progressbar", name="Groceries")
    expect(groceries).to_have_attribute("aria-describedby", "budget-groceries-text")
    expect(page.locator("#budget-groceries-text")).to_have_text("₹8,000 of ₹10,000 (80%) · ₹2,000 left")
    expect(page.locator("#budget-dining-text")).to_have_text("₹1,200 of ₹1,000 (120%) · ₹200 over")
    expect(page.get_by_text("Over budget")).to_be_visible()
    expect(page.get_by_text("Nearly used")).to_be_visible()


def test_a_budget_is_changed_with_the_keyboard_alone(new_page, live_server, alice, spending):
    page = new_page()
    login(page, live_server, alice.email)
    page.goto("/insights/budgets/")
    summary = page.locator("summary", has_text="Change or remove the Dining budget")
    _tab_to(page, summary)
    page.keyboard.press("Enter")
    field = page.get_by_label("Monthly budget for Dining (₹)")
    _tab_to(page, field)
    page.keyboard.press("Control+A")
    page.keyboard.type("1,500")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("Your Dining budget is ₹1,500 a month.")
    expect(page.locator("#budget-dining-text")).to_have_text("₹1,200 of ₹1,500 (80%) · ₹300 left")
    assert page.url.endswith("/insights/budgets/")
    assert Budget.objects.get(owner=alice, category="dining").amount_paise == 1_500_00


def test_budgets_are_set_changed_and_removed_without_javascript(new_page, live_server, alice, spending):
    page = new_page(javascript=False)
    login(page, live_server, alice.email)
    page.goto("/insights/budgets/")
    page.get_by_label("Category").select_option(label="Travel")
    page.get_by_label("Monthly budget (₹)").fill("2,50,000")
    page.get_by_role("button", name="Save budget").click()
    expect(page.get_by_text("Your Travel budget is ₹2,50,000 a month.")).to_be_visible()
    page.locator("summary", has_text="Change or remove the Groceries budget").click()
    page.get_by_label("Monthly budget for Groceries (₹)").fill("12000")
    page.get_by_role("button", name="Save the Groceries budget").click()
    expect(page.locator("#budget-groceries-text")).to_have_text("₹8,000 of ₹12,000 (66%) · ₹4,000 left")
    page.locator("summary", has_text="Change or remove the Shopping budget").click()
    page.get_by_role("button", name="Remove the Shopping budget").click()
    expect(page.get_by_text("Your Shopping budget is removed.")).to_be_visible()
    expect(page.get_by_role("progressbar", name="Shopping")).to_have_count(0)
    assert sorted(Budget.objects.filter(owner=alice).values_list("category", "amount_paise")) == [
        ("dining", 1_000_00),
        ("groceries", 12_000_00),
        ("travel", 2_50_000_00),
    ]


def test_the_projection_recalculates_as_they_type(new_page, live_server, alice, spending):
    page = new_page()
    login(page, live_server, alice.email)
    page.goto("/insights/projection/")
    field = page.get_by_label("Monthly deposit (₹)")
    field.focus()
    page.keyboard.type("5000")
    status = page.get_by_role("status")
    expect(status).to_contain_text("With ₹5,000 a month:")
    expect(field).to_be_focused()
    expect(page.locator(".formula-list li")).to_have_count(3)
    page.keyboard.type("x")
    expect(status).to_have_text(re.compile("Monthly deposit \\(₹\\): Enter an amount in rupees"))
    expect(page.locator(".projection-table")).to_have_count(0)
    expect(field).to_be_focused()


def test_the_projection_works_as_a_plain_form_without_javascript(new_page, live_server, alice, spending):
    page = new_page(javascript=False)
    login(page, live_server, alice.email)
    page.goto("/insights/projection/")
    page.get_by_label("Monthly deposit (₹)").fill("1,000")
    page.get_by_label("Starting balance (₹, optional)").fill("10,00,000")
    page.get_by_role("button", name="Show projection").click()
    expect(page).to_have_url(re.compile(r"/insights/projection/\?deposit=1%2C000&start=10%2C00%2C000$"))
    expect(
        page.get_by_text("At 3.00% a year, today's savings rate for a balance of ₹10,00,000.00")
    ).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("^12 months"))).to_have_count(2)
