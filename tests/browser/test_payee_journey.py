"""Alice adds Bob, who banks with SecureBank too, as a payee, as a customer does: Payees in the navigation,
the form, the review, the step-up (her password: she has no authenticator app), the review again and the
payee's page, which says when Bob can receive money. Once with JavaScript and once without."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import Payee
from portal.models import AuditEvent
from tests.browser.conftest import login, summary_value
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_it_adds_a_payee_through_the_step_up(
    new_page, live_server, javascript, alice, alice_savings, bob_savings
):
    page = new_page(javascript=javascript)
    login(page, live_server, alice.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Payees").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Payees")
    expect(page.get_by_role("heading", name="No payees yet")).to_be_visible()
    page.get_by_role("link", name="Add payee").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Add a payee")
    page.get_by_label("Payee's name").fill("Bob Menon")
    page.get_by_label("Account number", exact=True).fill(bob_savings.number)
    typo = bob_savings.number[:-1] + ("1" if bob_savings.number[-1] != "1" else "2")
    page.get_by_label("Account number again").fill(typo)  # a typing mistake
    page.get_by_label("IFSC").fill("secb0000001")
    page.get_by_role("button", name="Review payee").click()
    expect(page.get_by_label("Account number again")).to_have_accessible_description(
        re.compile("do not match")
    )
    page.get_by_label("Account number again").fill(bob_savings.number)
    page.get_by_role("button", name="Review payee").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Check your new payee")
    expect(summary_value(page, "Account number")).to_have_text(bob_savings.number)
    expect(summary_value(page, "IFSC")).to_have_text("SECB0000001")
    expect(summary_value(page, "Bank")).to_have_text("SecureBank")
    page.get_by_role("button", name="Add payee").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm it's you")
    expect(summary_value(page, "Payee")).to_have_text("Bob Menon")
    expect(summary_value(page, "Account number")).to_have_text(bob_savings.number)
    assert not Payee.objects.exists(), "nothing is added before the step-up"
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Check your new payee")
    expect(page.get_by_role("status").filter(has_text="You confirmed it's you")).to_be_visible()
    assert not Payee.objects.exists()
    page.get_by_role("button", name="Add payee").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Bob Menon")
    payee = Payee.objects.get(owner=alice)
    assert payee.account == bob_savings
    expect(page).to_have_url(f"{live_server.url}/payees/{payee.pk}/")
    expect(page.get_by_role("status")).to_contain_text("Bob Menon was added. Can receive money from")
    expect(page.locator(".notice-warning")).to_contain_text(
        re.compile(r"Time left: (24 hours|23 hours 59 minutes)")
    )
    expect(page.get_by_role("link", name="Send money")).to_have_count(0)
    assert AuditEvent.objects.filter(action="payee.add", actor=alice).count() == 1

    page.get_by_role("link", name="All payees").click()
    expect(page.get_by_role("heading", name="Bob Menon")).to_be_visible()
    expect(page.locator(".payee-status")).to_contain_text("Can receive money from")
