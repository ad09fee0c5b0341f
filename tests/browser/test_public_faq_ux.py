"""The FAQ's search as a first-time visitor tries it: the URL follows the search, and Back leaves the
FAQ in one step however slowly the words were typed."""

import pytest
from playwright.sync_api import expect

from tests.public.faq_data import make_faq

pytestmark = pytest.mark.browser


@pytest.fixture
def faq(transactional_db):
    return make_faq()


def test_it_keeps_one_history_entry_while_searching(new_page, live_server, faq):
    page = new_page()
    page.goto("/rates/")
    page.goto("/faq/")
    entries = page.evaluate("history.length")
    page.get_by_label("Search the questions and answers").press_sequentially("new payee", delay=400)
    expect(page.locator("#faq-status")).to_contain_text("“new payee”")
    assert page.url.endswith("/faq/?q=new+payee") or page.url.endswith("/faq/?q=new%20payee")
    assert page.evaluate("history.length") == entries
    page.go_back()
    expect(page).to_have_url(f"{live_server.url}/rates/")


def test_it_is_styled_on_a_desktop_too(new_page, live_server, faq):
    """The FAQ's rules once sat inside the rate sheet's phone-only @media block (a lost closing brace): on a
    desktop the questions had the browser's own triangles and the search ran the whole width."""
    page = new_page()
    page.goto("/faq/")
    assert page.locator(".faq").evaluate("el => getComputedStyle(el).maxWidth") == "832px"
    summary = page.locator("details.faq-item > summary").first
    assert summary.evaluate("el => getComputedStyle(el).listStyleType") == "none"
    assert summary.evaluate("el => getComputedStyle(el, '::before').content") != "none"
