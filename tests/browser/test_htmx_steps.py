"""What portal.js does after an htmx step: focus on the error summary (not the heading above it) and a tab
title that names the step."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login

pytestmark = pytest.mark.browser


def test_it_focuses_the_error_summary_and_names_each_step_in_the_tab_title(
    page, live_server, alice, alice_savings, alice_current
):
    login(page, live_server, alice.email)
    page.goto("/transfers/new/")
    expect(page).to_have_title("Move money · SecureBank")
    page.get_by_label("From").select_option(str(alice_savings.pk))
    page.get_by_label("To", exact=True).select_option(str(alice_current.pk))
    page.get_by_label("Amount (₹)").fill("twelve")
    page.get_by_role("button", name="Review transfer").click()

    errors = page.locator("#form-errors")
    expect(errors).to_be_visible()
    expect(errors).to_be_focused()
    expect(page).to_have_title("Check the details · Move money · SecureBank")

    page.get_by_label("Amount (₹)").fill("1,250.50")
    page.get_by_role("button", name="Review transfer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Review your transfer")
    expect(page).to_have_title("Review your transfer · SecureBank")
