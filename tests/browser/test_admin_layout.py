"""The back office at 1280 px, the width staff work at: the ledger's lists and the audit trail fit the screen
with the customers' long texts in them (no list scrolls sideways), and screenshots to look at."""

import uuid

import pytest
from django.test import Client
from django.urls import reverse

from portal.audit import audit_record
from tests.browser.conftest import DESKTOP, SCREENSHOTS, TAMIL_ACCOUNT_NAME, UPI_REFERENCE, post_long_texts
from tests.factories import AccountFactory, UserFactory
from tests.twofactor import force_login_verified
from transactions import services

pytestmark = pytest.mark.browser


def test_the_ledger_and_audit_lists_fit_1280_px(new_page, live_server, alice, alice_savings):
    current = AccountFactory(owner=alice, name=TAMIL_ACCOUNT_NAME)
    post_long_texts(alice_savings, current)
    services.transfer_create(
        initiator=alice,
        source=alice_savings,
        destination=current,
        amount_paise=12_345_67,
        description=UPI_REFERENCE,
        idempotency_key=uuid.uuid4().hex,
    )
    audit_record(
        action="admin.change",
        actor=alice,
        obj=current,
        before={"name": "Current"},
        after={"name": TAMIL_ACCOUNT_NAME, "status": "frozen"},
    )
    staff = UserFactory(email="ops@example.com", is_staff=True, is_superuser=True)
    client = Client()
    force_login_verified(client, staff)
    page = new_page(viewport=DESKTOP)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name in ["transactions_transaction", "transactions_entry", "portal_auditevent"]:
        page.goto(reverse(f"admin:{name}_changelist"))
        page.screenshot(path=SCREENSHOTS / f"admin-{name}-1280.png", full_page=True)
        sideways = page.evaluate(
            "(() => { const r = document.querySelector('.results');"
            " return r.scrollWidth - r.clientWidth; })()"
        )
        assert sideways <= 0, f"the {name} list scrolls {sideways} px sideways at 1280 px"
        assert page.locator("#result_list tbody tr").count() >= 2
        # Amounts are whole, on one line, in rupees.
        for cell in page.locator("#result_list td.field-amount_display").all():
            assert cell.inner_text().lstrip("-").startswith("₹")
            assert cell.evaluate("el => el.scrollWidth <= el.clientWidth")
