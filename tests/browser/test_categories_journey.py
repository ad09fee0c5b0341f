"""The customer's categories in Chromium: axe-core finds nothing on the rules page, a rule's removal, the
history detail with its category form and the form's own page, on a desktop and a 390 px phone; a customer
changes a category and adds a rule with the keyboard alone; the rules' progress polls until done and stops;
without JavaScript the same forms post and come back with a message."""

import datetime
import uuid

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import Account
from portal.seeding.history import posted_at
from tests.browser.conftest import DESKTOP, MOBILE, login
from tests.browser.test_accessibility import AXE_OPTIONS
from tests.factories import AccountFactory
from transactions import services
from transactions.insights import rollup
from transactions.insights.models import CategoryRule, EntryCategory, RuleBackfill
from transactions.insights.services import rule_backfill_request, rule_backfill_run, rule_create
from transactions.models import Transaction

pytestmark = pytest.mark.browser


@pytest.fixture
def current(alice) -> Account:
    account = AccountFactory(owner=alice, name="Everyday current", kind=Account.Kind.CURRENT)
    start = timezone.now() - datetime.timedelta(days=3)
    with posted_at(start):
        services.deposit_create(
            account=account, amount_paise=20_000_00, description="Salary", idempotency_key=uuid.uuid4().hex
        )
    with posted_at(start + datetime.timedelta(hours=2)):
        services.payment_create(
            account=account,
            amount_paise=450_00,
            description="Swiggy food order",
            counterparty="Swiggy",
            idempotency_key=uuid.uuid4().hex,
        )
    rollup.catch_up(account.pk)  # the bank's default rule: Dining
    return account


def _swiggy(account: Account) -> Transaction:
    return Transaction.objects.get(entries__account=account, counterparty="Swiggy")


def _detail(live_server, account: Account) -> str:
    return f"{live_server.url}{reverse('history_detail', args=[account.pk, _swiggy(account).pk])}"


def rules_page(page: Page, live_server, alice, account: Account) -> None:
    rule_create(user=alice, field="either", contains="Swiggy", direction="out", category="groceries")
    rule_create(user=alice, field="counterparty", contains="Ramesh" * 10, direction="any", category="rent")
    rule_backfill_run(rule_backfill_request(user=alice).pk)
    page.goto(f"{live_server.url}/insights/rules/")
    expect(page.get_by_text("Done: 1 transaction changed category.")).to_be_visible()


def rules_page_with_errors(page: Page, live_server, alice, account: Account) -> None:
    page.goto(f"{live_server.url}/insights/rules/")
    page.get_by_label("For the text").fill("   ")
    page.get_by_role("button", name="Add the rule").click()
    expect(page.get_by_text("Enter the text to look for.")).to_be_visible()


def rules_page_running(page: Page, live_server, alice, account: Account) -> None:
    RuleBackfill.objects.create(owner=alice, status=RuleBackfill.Status.RUNNING, total=10, done=4)
    page.goto(f"{live_server.url}/insights/rules/")
    expect(page.get_by_text("Applying your rules to past transactions: 40%")).to_be_visible()


def rule_remove(page: Page, live_server, alice, account: Account) -> None:
    rule = rule_create(
        user=alice, field="counterparty", contains="Swiggy", direction="out", category="dining"
    )
    page.goto(f"{live_server.url}{reverse('insights_rule_remove', args=[rule.pk])}")
    expect(page.get_by_role("heading", name="Remove this rule?")).to_be_visible()


def detail(page: Page, live_server, alice, account: Account) -> None:
    page.goto(_detail(live_server, account))
    expect(page.get_by_label("Change the category")).to_be_visible()


def detail_after_a_change(page: Page, live_server, alice, account: Account) -> None:
    page.goto(_detail(live_server, account))
    page.get_by_label("Change the category").select_option("health")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Category changed to Health.")).to_be_visible()


def category_page(page: Page, live_server, alice, account: Account) -> None:
    page.goto(f"{live_server.url}{reverse('history_category', args=[account.pk, _swiggy(account).pk])}")
    expect(page.get_by_label("Change the category")).to_be_visible()


PAGES = [
    rules_page,
    rules_page_with_errors,
    rules_page_running,
    rule_remove,
    detail,
    detail_after_a_change,
    category_page,
]


@pytest.mark.parametrize("viewport", [DESKTOP, MOBILE], ids=["desktop", "390px"])
@pytest.mark.parametrize("open_page", PAGES, ids=[p.__name__ for p in PAGES])
def test_it_has_no_accessibility_violations(new_page, live_server, viewport, open_page, alice, current):
    page = new_page(viewport=viewport)
    login(page, live_server, alice.email)
    open_page(page, live_server, alice, current)
    results = Axe().run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, results.generate_report()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page is {overflow} px wider than the {viewport['width']} px screen"


def _tab_to(page: Page, selector: str, limit: int = 40) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement === document.querySelector({selector!r})"):
            return
    raise AssertionError(f"{limit} presses of Tab never reached {selector}")


def test_it_changes_a_category_and_adds_a_rule_with_the_keyboard(page, live_server, alice, current):
    login(page, live_server, alice.email)
    page.goto(_detail(live_server, current))
    _tab_to(page, "#entry-category-choice")
    page.keyboard.press("End")  # the last choice: "Use my rules or the bank's category"
    page.keyboard.press("ArrowUp")  # the last category by name: Utilities
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # Save
    notice = page.get_by_text("Category changed to Utilities.")
    expect(notice).to_be_visible()
    expect(notice).to_be_focused()  # swapped in place (HTMX), focus on what changed
    expect(page.locator("#entry-category")).to_contain_text("you chose it")
    assert EntryCategory.objects.get(entry__account=current, entry__amount__lt=0).category_id == "utilities"

    page.goto(f"{live_server.url}/insights/rules/")
    _tab_to(page, "#id_text")
    page.keyboard.type("Swiggy")
    page.keyboard.press("Tab")  # On: Money out
    page.keyboard.press("Tab")  # Put it in
    page.keyboard.press("ArrowDown")  # the first category by name: Dining
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # Add the rule
    expect(
        page.get_by_text("Rule added: Counterparty contains “Swiggy” (money out) → Dining.")
    ).to_be_visible()
    assert list(CategoryRule.objects.filter(owner=alice).values_list("contains", "category")) == [
        ("Swiggy", "dining")
    ]


def test_the_progress_polls_until_done_and_stops(page, live_server, alice, current):
    rule_create(user=alice, field="counterparty", contains="Swiggy", direction="out", category="groceries")
    login(page, live_server, alice.email)
    page.goto(f"{live_server.url}/insights/rules/")
    page.get_by_role("button", name="Apply my rules to past transactions").click()
    progress = page.locator("#rules-progress")
    expect(progress).to_have_attribute("hx-trigger", "every 1s")
    expect(page.locator(".rules-progress-status")).to_be_focused()
    rule_backfill_run(RuleBackfill.objects.get(owner=alice).pk)  # as the worker would (none runs here)
    expect(progress.locator(".notice")).to_have_text("Done: 1 transaction changed category.")
    expect(progress).not_to_have_attribute("hx-trigger", "every 1s")
    expect(progress.locator("progress")).to_have_attribute("value", "100")
    # The polls replaced the status line that had focus: focus is on the new one, not back at the page's top.
    expect(page.locator(".rules-progress-status")).to_be_focused()
    expect(page.locator(".rules-progress-status")).to_contain_text("Your rules were applied")
    expect(page).to_have_url(f"{live_server.url}/insights/rules/")


def test_without_javascript_the_forms_post_and_come_back(new_page, live_server, alice, current):
    page = new_page(javascript=False)
    login(page, live_server, alice.email)
    page.goto(_detail(live_server, current))
    page.get_by_label("Change the category").select_option("health")
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(_detail(live_server, current))
    expect(page.get_by_text("Category changed to Health.")).to_be_visible()
    page.get_by_role("link", name="Categorise such transactions automatically with a rule").click()
    page.get_by_role("button", name="Apply my rules to past transactions").click()
    expect(page.get_by_text("Waiting to start applying your rules")).to_be_visible()
    rule_backfill_run(RuleBackfill.objects.get(owner=alice).pk)
    page.get_by_role("link", name="Refresh").click()
    expect(page.get_by_text("Done: 0 transactions changed category.")).to_be_visible()


def test_it_changes_a_category_in_the_history_drawer(page, live_server, alice, current):
    login(page, live_server, alice.email)
    page.goto(f"{live_server.url}{reverse('history', args=[current.pk])}")
    page.get_by_role("link", name="Swiggy food order").click()
    drawer = page.get_by_role("dialog")
    expect(drawer.get_by_role("heading", level=2)).to_be_focused()
    expect(drawer.locator("#entry-category")).to_contain_text("Dining")
    drawer.get_by_label("Change the category").select_option("health")
    drawer.get_by_role("button", name="Save").click()
    expect(drawer.locator("#entry-category .notice")).to_have_text("Category changed to Health.")
    expect(drawer).to_be_visible()  # swapped inside the drawer, which stays open
    assert EntryCategory.objects.get(entry__account=current, entry__amount__lt=0).category_id == "health"
    # Closed, the list's row says the new category, as a reload would.
    page.keyboard.press("Escape")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name="Swiggy food order"))
    expect(row.locator(".col-category")).to_have_text("Health")
    expect(row.locator("[data-row-category]")).to_have_text(" · Health")
