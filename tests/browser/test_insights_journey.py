"""The insights page in a browser: open it from the navigation, switch the period (the results swap, the
address bar follows), read the table; a chart's bar leads to that category's history; plotly.js comes only
to this page and only after it has loaded, with nothing refused by the CSP; by keyboard alone; and without
JavaScript the same form is a page, the tables carry the figures and no empty chart box shows."""

import datetime
import re
import uuid

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import Account
from portal.seeding.history import posted_at
from tests.browser.conftest import MOBILE, login
from tests.factories import AccountFactory
from transactions import services
from transactions.insights import periods

pytestmark = pytest.mark.browser

_RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
    window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline"}`);
});
"""


def _post(account: Account, when: datetime.datetime, paise: int, party: str, category: str) -> None:
    with posted_at(when):
        if paise > 0:
            services.deposit_create(
                account=account,
                amount_paise=paise,
                description="Salary",
                counterparty=party,
                category=category,
                idempotency_key=uuid.uuid4().hex,
            )
        else:
            services.payment_create(
                account=account,
                amount_paise=-paise,
                description="Card payment",
                counterparty=party,
                category=category,
                idempotency_key=uuid.uuid4().hex,
            )


@pytest.fixture
def everyday(alice) -> Account:
    """Last month: a salary and ₹4,321 of travel (IndiGo). This month, a minute ago: ₹1,234 of dining."""
    account = AccountFactory(owner=alice, name="Everyday")
    last = periods.preset(periods.LAST_MONTH)
    noon = datetime.time(12, 0, tzinfo=timezone.get_current_timezone())
    _post(account, datetime.datetime.combine(last.start, noon), 1_00_000_00, "Infosys Ltd", "salary")
    travel = datetime.datetime.combine(last.start, noon) + datetime.timedelta(days=2)
    _post(account, travel, -4_321_00, "IndiGo", "travel")
    _post(account, timezone.now() - datetime.timedelta(minutes=1), -1_234_00, "Swiggy", "dining")
    return account


_PLOTLY_TIMING = """() => {
    const page = performance.getEntriesByType("navigation")[0];
    const plotly = performance.getEntriesByType("resource").find((e) => e.name.includes("plotly.min.js"));
    return [page.loadEventEnd, plotly ? plotly.startTime : -1];
}"""


def _category_rows(page: Page):
    return page.locator("#chart-categories ~ details table tbody tr")


def _charts_drawn(page: Page) -> None:
    boxes = page.locator(".chart[data-figure]")
    for n in range(boxes.count()):
        boxes.nth(n).scroll_into_view_if_needed()
        expect(boxes.nth(n).locator(".main-svg").first).to_be_attached()


def test_it_opens_insights_switches_period_and_reads_the_table(page: Page, live_server, alice, everyday):
    page.add_init_script(_RECORD_VIOLATIONS)
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url))
    login(page, live_server, alice.email)
    assert page.evaluate("typeof window.Plotly") == "undefined"
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Insights").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Insights")
    expect(page.locator(".insights-headline")).to_contain_text("You spent ₹1,234.00 so far in")
    expect(_category_rows(page)).to_have_count(1)
    expect(_category_rows(page).first).to_contain_text("Dining")
    expect(_category_rows(page).first).to_contain_text("₹1,234.00")
    _charts_drawn(page)
    assert page.evaluate("typeof window.Plotly") == "object"
    loaded, asked = page.evaluate(_PLOTLY_TIMING)
    assert asked >= loaded > 0, "plotly.js is asked for only after the page's load event"

    page.get_by_label("Period", exact=True).select_option("last-month")  # the results swap at once
    expect(page).to_have_url(f"{live_server.url}/insights/?period=last-month&account=all")
    summary = page.locator("#insights-summary-heading")
    expect(summary).to_contain_text(f"Last month ({periods.preset(periods.LAST_MONTH).start:%B %Y})")
    expect(page.locator("#insights-status")).to_have_text(re.compile(r"^Now showing: Last month \("))
    expect(_category_rows(page)).to_have_count(1)
    row = _category_rows(page).first
    expect(row.locator("th")).to_contain_text("Travel")
    expect(row.locator("td").first).to_contain_text("₹4,321.00")
    expect(page.locator(".insights-figures")).to_contain_text("₹1,00,000.00")  # money in, Indian grouping
    _charts_drawn(page)  # the new period's charts too
    assert page.locator(".js-plotly-plot").count() == page.locator(".chart[data-figure]").count()
    assert page.evaluate("window.__cspViolations") == []
    assert sum("plotly.min.js" in url for url in fetched) == 1  # fetched once, kept for the swaps

    page.go_back()
    expect(summary).to_contain_text("This month")


def test_a_bar_leads_to_its_categorys_history(page: Page, live_server, alice, everyday):
    login(page, live_server, alice.email)
    page.goto(f"/insights/?account={everyday.pk}&period=3m")
    chart = page.locator("#chart-categories")
    chart.scroll_into_view_if_needed()
    bar = chart.locator(".bars .point path").first
    expect(bar).to_be_attached()
    bar.click(force=True)  # (plotly's drag layer sits above the bars and takes the click for them)
    expect(page).to_have_url(f"{live_server.url}/accounts/{everyday.pk}/history/?" + _query(everyday))
    expect(page.locator(".history-table tbody tr")).to_have_count(1)
    expect(page.locator(".history-table tbody")).to_contain_text("IndiGo")


def _query(account: Account) -> str:
    three = periods.preset(periods.MONTHS_3)
    return f"date_from={three.start}&date_to={three.end}&direction=debit&category=travel"


def test_it_works_by_keyboard_alone(page: Page, live_server, alice, everyday):
    login(page, live_server, alice.email)
    page.goto("/insights/")
    for _ in range(40):  # Tab from the top of the page to the period
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "id_period":
            break
    else:
        pytest.fail("Tab never reached the period")
    page.keyboard.press("ArrowDown")  # This month → Last month: the results swap, focus stays
    expect(page.locator("#insights-summary-heading")).to_contain_text("Last month")
    assert page.evaluate("document.activeElement.id") == "id_period"
    for _ in range(40):  # on to the category's link in the table (the chart takes no focus)
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Travel":
            break
    else:
        pytest.fail("Tab never reached the travel row's link")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/accounts/{everyday.pk}/history/?" + _last_month_query())
    expect(page.locator(".history-table tbody")).to_contain_text("IndiGo")


def test_a_date_fields_calendar_button_has_the_sites_focus_ring(page: Page, live_server, alice, everyday):
    login(page, live_server, alice.email)
    page.goto("/insights/")
    page.locator("#id_date_from").focus()  # on its month; Tab goes by the day and the year to its calendar
    for _ in range(3):
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "id_date_from"  # the button is inside the field
    ring = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert ring == "solid", "the field keeps the 3 px ring while its calendar button has focus"


def _last_month_query() -> str:
    last = periods.preset(periods.LAST_MONTH)
    return f"date_from={last.start}&date_to={last.end}&direction=debit&category=travel"


@pytest.mark.parametrize("viewport", [None, MOBILE], ids=["desktop", "390px"])
def test_it_works_without_javascript(new_page, live_server, alice, everyday, viewport):
    page = new_page(javascript=False, viewport=viewport)
    login(page, live_server, alice.email)
    page.goto("/insights/")
    expect(page.locator(".chart").first).to_be_hidden()  # no empty box where a chart would be
    expect(page.get_by_text("Spending by category: table")).to_be_visible()
    page.get_by_label("Period", exact=True).select_option("custom")
    last = periods.preset(periods.LAST_MONTH)
    page.get_by_label("From", exact=True).fill(last.start.isoformat())
    page.get_by_label("To", exact=True).fill(last.end.isoformat())
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#insights-summary-heading")).to_contain_text(f"{last.start.day} {last.start:%b %Y}")
    expect(_category_rows(page).first).to_contain_text("Travel")
    page.get_by_text("Income and spending by month: table").click()  # a <details>: no script needed
    expect(page.get_by_role("row", name=f"{last.start:%B %Y}")).to_contain_text("₹1,00,000.00")
