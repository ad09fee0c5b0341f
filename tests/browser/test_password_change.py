"""A customer changes their password with the keyboard alone, with and without JavaScript, and signs in
with the new one."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

NEW = "Tamarind-Harbour-Lantern-19"


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_it_changes_the_password_with_the_keyboard(new_page, live_server, javascript, alice):
    page = new_page(javascript=javascript)
    login(page, live_server, alice.email)
    page.goto("/security/password/")
    expect(page.get_by_label("Current password")).to_be_focused()  # autofocus
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Tab")
    expect(page.get_by_label("New password", exact=True)).to_be_focused()
    page.keyboard.type(NEW)
    page.keyboard.press("Tab")
    page.keyboard.type(NEW)
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Password changed.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")

    page.get_by_role("button", name="Sign out").click()
    login(page, live_server, alice.email, NEW)
