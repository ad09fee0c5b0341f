"""The idle warning: a dialog a little before the session ends; "Stay signed in" keeps the session, doing
nothing ends it. The timeouts are shortened to seconds for these tests (the live server shares settings)."""

import re
import time

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.browser.conftest import login
from tests.browser.test_accessibility import AXE_OPTIONS

pytestmark = pytest.mark.browser

IDLE = 8
WARNING = 5


@pytest.fixture
def short_sessions(settings):
    settings.SESSION_IDLE_TIMEOUT = IDLE
    settings.SESSION_IDLE_WARNING = WARNING
    settings.SESSION_ACTIVITY_RESOLUTION = 1


def test_stay_signed_in_keeps_the_session(page, live_server, alice, short_sessions):
    login(page, live_server, alice.email)
    signed_in = time.monotonic()

    dialog = page.get_by_role("dialog", name="Are you still there?")
    expect(dialog).to_be_visible(timeout=(IDLE - WARNING + 3) * 1000)
    expect(dialog).to_contain_text("You'll be signed out in")
    stay = dialog.get_by_role("button", name="Stay signed in")
    expect(stay).to_be_focused()
    expect(dialog.get_by_role("button", name="OK")).to_be_hidden()  # only when the 12 hours are up
    results = Axe().run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, results.generate_report()

    stay.press("Enter")
    expect(dialog).to_be_hidden()

    # Past the moment the session would have ended without the ping.
    time.sleep(max(0, signed_in + IDLE + 1.5 - time.monotonic()))
    page.goto("/security/")
    expect(page).to_have_url(f"{live_server.url}/security/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Security")


def test_doing_nothing_ends_at_the_login_page_and_comes_back_after(page, live_server, alice, short_sessions):
    login(page, live_server, alice.email)
    page.goto("/security/")

    expect(page).to_have_url(f"{live_server.url}/login/?next=/security/", timeout=(IDLE + 4) * 1000)
    expect(page.get_by_role("status")).to_contain_text("without activity")
    page.get_by_label("Email").fill(alice.email)
    page.get_by_label("Password").fill("correct-horse-battery-staple")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server.url}/security/")


def test_without_javascript_the_server_still_signs_out(new_page, live_server, alice, short_sessions):
    page = new_page(javascript=False)
    login(page, live_server, alice.email)
    time.sleep(IDLE + 1.5)
    page.goto("/transfers/new/")
    expect(page).to_have_url(f"{live_server.url}/login/?next=/transfers/new/")


def test_the_warning_counts_down_and_offers_sign_out_now(page, live_server, alice, short_sessions):
    login(page, live_server, alice.email)
    dialog = page.get_by_role("dialog", name="Are you still there?")
    expect(dialog).to_be_visible(timeout=(IDLE - WARNING + 3) * 1000)
    countdown = dialog.locator("[data-session-countdown]")
    expect(countdown).to_have_text(re.compile(r"^0:0[0-5]$"))
    first = countdown.text_content()
    expect(countdown).not_to_have_text(first)  # redrawn as the seconds pass
    # The live region speaks the time once, not at every redraw.
    expect(dialog.locator("[data-session-announce]")).to_have_text(re.compile(r"^\d seconds? left\.$"))

    dialog.get_by_role("button", name="Sign out now").click()
    expect(page).to_have_url(f"{live_server.url}/login/")
    expect(page.get_by_role("status")).to_contain_text("You have signed out")
