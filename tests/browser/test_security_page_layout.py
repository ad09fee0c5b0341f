"""The security page on a 390 px phone: the sign-ins and the open sessions are cards of labelled lines, not
tables clipped at the card's edge; failed attempts stand out; a real table on a desktop; axe finds nothing."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, MOBILE, SCREENSHOTS, login
from tests.browser.test_accessibility import AXE_OPTIONS

pytestmark = pytest.mark.browser

IPAD_SAFARI = (
    "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)


@pytest.mark.parametrize("viewport", [DESKTOP, MOBILE], ids=["desktop", "390px"])
def test_the_security_page_reads_on_a_phone_and_marks_failed_attempts(
    new_page, live_server, viewport, alice, alice_savings
):
    Client(HTTP_USER_AGENT=IPAD_SAFARI, REMOTE_ADDR="2001:db8:85a3:8d3:1319:8a2e:370:7348").post(
        reverse("login"), {"username": alice.email, "password": "not-her-password"}
    )
    page = new_page(viewport=viewport)
    login(page, live_server, alice.email)
    page.goto("/security/")

    sign_ins = page.get_by_role("table", name="sign-ins and failed attempts")
    failed = sign_ins.locator("tr.attempt-failed")
    expect(failed).to_have_count(1)
    expect(failed.get_by_role("cell").nth(1)).to_have_text("Wrong password")
    expect(failed).to_contain_text("2001:db8:85a3:8d3:1319:8a2e:370:7348")

    # No table scrolls sideways inside its card, and nothing reaches past the screen.
    sideways = page.evaluate(
        "[...document.querySelectorAll('.table-wrap')].map((w) => w.scrollWidth - w.clientWidth)"
    )
    assert all(px <= 0 for px in sideways), sideways
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    header = sign_ins.locator("thead")
    labels = page.evaluate(
        """() => [...document.querySelectorAll('.table-stack tr.attempt-failed td')]
            .map((td) => getComputedStyle(td, '::before').content)"""
    )
    if viewport is MOBILE:
        assert labels == ['"When"', '"Result"', '"Device"', '"IP address"']
        assert header.evaluate("el => el.getBoundingClientRect().height") <= 1  # for screen readers only
    else:
        assert set(labels) == {"none"}
        expect(header).to_be_visible()

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"security-{viewport['width']}.png", full_page=True)
    results = Axe().run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, results.generate_report()
