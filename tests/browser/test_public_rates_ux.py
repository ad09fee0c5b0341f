"""/rates/ in Chromium as a first-time visitor tries it: an emptied "Rates as of" comes back to /rates/ (not
/rates/?as_of=), and a date in the URL that is not a day logs nothing in the console."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.public.rates_data import line

pytestmark = pytest.mark.browser


@pytest.fixture
def sheet(transactional_db):
    today = timezone.localdate()
    line("savings", general="2.70", effective=today - datetime.timedelta(days=365))
    line(low=7, high=45, general="3.50", effective=today - datetime.timedelta(days=365))
    line(low=7, high=45, general="3.25", effective=today - datetime.timedelta(days=90))


def test_it_asks_for_todays_sheet_when_the_field_is_emptied(new_page, live_server, sheet):
    page = new_page()
    past = (timezone.localdate() - datetime.timedelta(days=200)).isoformat()
    page.goto(f"/rates/?as_of={past}")
    expect(page.get_by_role("link", name="Back to today's rates")).to_be_visible()
    page.get_by_label("Rates as of").fill("")
    page.get_by_role("button", name="Show rates").click()
    expect(page.get_by_role("link", name="Back to today's rates")).to_have_count(0)
    assert page.url == f"{live_server.url}/rates/"
    expect(page.get_by_role("alert")).to_have_count(0)


@pytest.mark.parametrize("javascript", [True, False])
@pytest.mark.parametrize("as_of", ["abc", "2026-02-30", "1&as_of=2", "9" * 3000])
def test_it_logs_nothing_for_a_date_that_is_not_a_day(new_page, live_server, sheet, javascript, as_of):
    page = new_page(javascript=javascript)
    messages: list[str] = []
    page.on("console", lambda message: messages.append(f"{message.type}: {message.text}"))
    page.goto(f"/rates/?as_of={as_of}")
    expect(page.get_by_role("alert")).to_have_text("Enter a date, like 31/03/2026.")
    expect(page.get_by_label("Rates as of")).to_have_value("")
    assert messages == []


def test_it_announces_the_sheet_it_swapped_in(new_page, live_server, sheet):
    page = new_page()
    page.goto("/rates/")
    status = page.get_by_role("status")
    expect(status).to_have_text("")
    past = timezone.localdate() - datetime.timedelta(days=200)
    page.get_by_label("Rates as of").fill(past.isoformat())
    page.get_by_label("Rates as of").press("Enter")
    expect(status).to_have_text(f"Showing the rates as of {past.day} {past:%B %Y}.")
    expect(page.get_by_label("Rates as of")).to_be_focused()
    cut = timezone.localdate() - datetime.timedelta(days=90)
    page.get_by_role("link", name=f"{cut.day} {cut:%b %Y}").click()
    expect(status).to_have_text(f"Showing the rates as of {cut.day} {cut:%B %Y}.")
    page.get_by_label("Rates as of").fill(timezone.localdate().isoformat())
    page.get_by_role("button", name="Show rates").click()
    expect(status).to_contain_text(", today.")


def test_it_lets_a_date_be_typed_at_a_keyboards_pace(new_page, live_server, sheet):
    """Chromium fires change at each digit typed in the field: nothing is asked until Enter (a swap while
    typing put a new field in, the cursor back in its first part, and the next digit in the wrong place)."""
    page = new_page()
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url) if "as_of" in request.url else None)
    page.goto("/rates/")
    field = page.get_by_label("Rates as of")
    field.focus()
    before = field.input_value()
    for digit in "01012026":  # the parts' order follows the browser's locale: whichever, a day in the past
        page.keyboard.type(digit)
        page.wait_for_timeout(700)
    assert asked == []
    typed = datetime.date.fromisoformat(field.input_value())
    assert typed.isoformat() != before and typed.year == 2026
    field.press("Enter")
    expect(page.locator(".rates-heading")).to_contain_text(f"{typed.day} {typed:%B %Y}")
    assert page.url.endswith(f"/rates/?as_of={typed.isoformat()}")
    expect(field).to_be_focused()
