"""The FAQ in Chromium: questions open by keyboard, the search filters as one types (htmx) and works as a
plain form without JavaScript, and a deep link opens its question, with and without JavaScript."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import MOBILE
from tests.public.faq_data import make_faq

pytestmark = pytest.mark.browser

_FOCUSED = """() => {
    const el = document.activeElement;
    const text = (el.getAttribute("aria-label") || el.textContent || el.name || el.id || "")
        .replace(/\\s+/g, " ");
    return `${el.tagName.toLowerCase()}:${text.trim().slice(0, 40)}`;
}"""


def _tab(page: Page) -> str:
    page.keyboard.press("Tab")
    return page.evaluate(_FOCUSED)


def _details(page: Page, question: str):
    return page.locator("details.faq-item").filter(has=page.locator("summary", has_text=question))


@pytest.fixture
def faq(transactional_db):
    return make_faq()


def test_it_works_by_keyboard(new_page, live_server, faq):
    page = new_page()
    page.goto("/faq/")
    stops = [_tab(page) for _ in range(10)]
    assert stops == [
        "a:Skip to main content",
        "a:₹ SecureBank",
        "a:Interest rates",
        "a:Help & FAQ",
        "a:Online banking",
        "input:q",
        "button:Search",
        "a:Accounts",
        "a:Transfers and payees",
        "summary:What is the minimum balance?",
    ]
    question = _details(page, "What is the minimum balance?")
    expect(question).not_to_have_attribute("open", "")
    page.keyboard.press("Enter")
    expect(question).to_have_attribute("open", "")
    expect(question.get_by_text("Keep an average monthly balance")).to_be_visible()
    # Into the answer: its link, then "Link to this question", then the next question.
    assert _tab(page) == "a:the rates"
    assert _tab(page) == "a:Link to this question: What is the minim"
    assert _tab(page) == "summary:How do I open an account?"
    page.keyboard.press("Space")
    expect(_details(page, "How do I open an account?")).to_have_attribute("open", "")
    page.keyboard.press("Space")
    expect(_details(page, "How do I open an account?")).not_to_have_attribute("open", "")


def test_it_filters_as_one_types(new_page, live_server, faq):
    page = new_page()
    page.goto("/faq/")
    search = page.get_by_label("Search the questions and answers")
    for _ in range(6):
        if _tab(page) == "input:q":
            break
    expect(search).to_be_focused()
    page.keyboard.type("charges")
    status = page.get_by_role("status")
    expect(status).to_have_text("2 answers match “charges”.")
    expect(page).to_have_url(re.compile(r"/faq/\?q=charges$"))
    results = page.locator(".faq-hit")
    expect(results).to_have_count(2)
    expect(results.first.locator("mark")).to_have_text(["charges", "charged"])
    expect(search).to_be_focused()  # typing goes on where it was
    expect(page.locator("details.faq-item")).to_have_count(0)
    page.keyboard.type(" zzz")
    expect(status).to_have_text("No answers match “charges zzz”.")
    search.fill("")
    expect(status).to_have_text("Showing all the questions.")
    expect(page.locator("details.faq-item")).to_have_count(6)
    expect(page).to_have_url(re.compile(r"/faq/$"))
    # A result leads to its question, opened.
    search.fill("IMPS")
    page.get_by_role("link", name="Are there charges for IMPS?").click()
    expect(page).to_have_url(re.compile(r"/faq/#imps-fees$"))
    expect(_details(page, "Are there charges for IMPS?")).to_have_attribute("open", "")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_deep_link_opens_its_question(new_page, live_server, faq, javascript):
    page = new_page(viewport=MOBILE, javascript=javascript)
    page.goto("/faq/#cancel-scheduled")
    question = _details(page, "Can I cancel a scheduled transfer?")
    expect(question).to_have_attribute("open", "")
    expect(question.get_by_text("Yes, any time before it runs.")).to_be_in_viewport()
    expect(question.locator("summary")).to_be_in_viewport()
    if javascript:
        expect(question.locator("summary")).to_be_focused()
        # Another deep link on the same page (the fragment changes, no reload).
        page.get_by_role("link", name="Link to this question: Can I cancel").focus()
        page.evaluate("location.hash = '#open-account'")
        expect(_details(page, "How do I open an account?")).to_have_attribute("open", "")
    expect(page.locator("details.faq-item[open]")).to_have_count(1 if not javascript else 2)


def test_it_searches_without_javascript(new_page, live_server, faq):
    page = new_page(javascript=False)
    page.goto("/faq/")
    page.get_by_label("Search the questions and answers").fill('"new payee"')
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/faq/\?q=%22new\+payee%22$"))
    expect(page.get_by_role("status")).to_have_text('1 answer matches “"new payee"”.')
    expect(page.get_by_label("Search the questions and answers")).to_have_value('"new payee"')
    page.get_by_role("link", name="Why must I wait before paying someone?").click()
    expect(_details(page, "Why must I wait before paying someone?")).to_have_attribute("open", "")
