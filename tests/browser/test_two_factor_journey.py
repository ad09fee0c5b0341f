"""Alice turns on two-factor auth, signs out, and signs in again with a code from her app: as a customer
does, with JavaScript and without, the code typed from what the test computes the app would show."""

import datetime

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import AuthenticatorApp
from tests.browser.conftest import login, open_two_factor_setup
from tests.factories import PASSWORD
from tests.twofactor import code_now

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_it_enrols_an_app_then_signs_in_with_its_code(new_page, live_server, javascript, alice):
    page = new_page(javascript=javascript)
    # The server runs in this process: one clock for the test and the portal, moved on by half a minute
    # below so that the app shows a new code (a code is accepted once).
    with time_machine.travel(timezone.now(), tick=True) as clock:
        login(page, live_server, alice.email)
        open_two_factor_setup(page)
        expect(page.get_by_role("heading", level=1)).to_have_text("Two-factor authentication")
        expect(page.get_by_role("img", name="QR code to scan with your authenticator app")).to_be_visible()
        device = AuthenticatorApp.objects.get(user=alice)
        secret = page.locator(".secret code").inner_text()
        assert secret.replace(" ", "") in device.config_url

        page.get_by_label("Code from the app").fill(code_now(device))
        page.get_by_role("button", name="Turn on two-factor authentication").click()

        expect(page.get_by_role("heading", level=1)).to_have_text("Your backup codes")
        expect(page.locator(".code-list li")).to_have_count(10)
        page.get_by_role("link", name="I have stored my codes").click()
        expect(page.get_by_text("Two-factor authentication is on.").first).to_be_visible()
        page.get_by_role("button", name="Sign out").click()

        clock.shift(datetime.timedelta(seconds=30))
        page.goto("/login/")
        page.get_by_label("Email").fill(alice.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Enter your sign-in code")

        page.get_by_label("Code").fill("000000" if code_now(device) != "000000" else "111111")
        page.get_by_role("button", name="Verify and sign in").click()
        expect(page.locator(".field-error")).to_contain_text("That code did not work")

        clock.shift(datetime.timedelta(seconds=2))  # django-otp's back-off after a wrong code
        page.get_by_label("Code").fill(code_now(device))
        page.get_by_role("button", name="Verify and sign in").click()
        expect(page).to_have_url(f"{live_server.url}/")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")
