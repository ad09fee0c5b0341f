"""The Content-Security-Policy refuses nothing on any page: every script, style and image the portal and its
admin use comes from our own files. Chromium reports each refusal as a `securitypolicyviolation` event
(recorded by a script Playwright injects before the page's own) and a console error; both must stay empty.
"""

import re
import uuid

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from playwright.sync_api import ConsoleMessage, Page, expect

from portal.audit import audit_record
from tests.browser.conftest import login
from tests.factories import UserFactory
from tests.twofactor import force_login_verified
from transactions import services

pytestmark = pytest.mark.browser

_RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
    const what = `${event.violatedDirective} blocked ${event.blockedURI || "inline"}`;
    window.__cspViolations.push(`${what} at ${event.sourceFile}:${event.lineNumber}`);
});
"""


class Violations:
    """Every refusal seen on a page, from its events and from the console."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.found: list[str] = []
        page.add_init_script(_RECORD_VIOLATIONS)
        page.on("console", self._console)

    def _console(self, message: ConsoleMessage) -> None:
        text = message.text
        if "Content Security Policy" in text or text.startswith("Refused to"):
            self.found.append(f"console on {self.page.url}: {text}")

    def collect(self, where: str) -> None:
        self.page.wait_for_load_state("load")
        for violation in self.page.evaluate("window.__cspViolations || []"):
            self.found.append(f"{where}: {violation}")
        self.page.evaluate("window.__cspViolations = []")

    def visit(self, path: str, status: int = 200) -> None:
        answer = self.page.goto(path)
        assert answer is not None and answer.status == status, (path, answer and answer.status)
        self.collect(path)


def _heading(page: Page, text: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(text)


def test_it_refuses_nothing_on_the_customers_pages(page, live_server, alice, alice_savings, alice_current):
    seen = Violations(page)
    seen.visit("/login/")
    page.get_by_label("Email").fill(alice.email)
    page.get_by_label("Password").fill("not-her-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    seen.collect("login with an error")

    login(page, live_server, alice.email)
    seen.collect("dashboard")
    seen.visit("/transfers/new/")
    page.get_by_label("Amount (₹)").fill("12.345")
    page.get_by_role("button", name="Review transfer").click()  # an HTMX swap with errors
    expect(page.get_by_role("alert")).to_be_visible()
    seen.collect("transfer form with errors")

    page.get_by_label("From").select_option(str(alice_savings.pk))
    page.get_by_label("To", exact=True).select_option(str(alice_current.pk))
    page.get_by_label("Amount (₹)").fill("1,250.50")
    page.get_by_role("button", name="Review transfer").click()
    _heading(page, "Review your transfer")
    seen.collect("review (HTMX)")
    page.reload()
    _heading(page, "Review your transfer")
    seen.collect("review (whole page)")
    page.get_by_role("button", name="Confirm and move ₹1,250.50").click()
    _heading(page, "Money moved")
    seen.collect("receipt")
    seen.visit("/transfers/999999/", status=404)
    seen.visit("/no-such-page/", status=404)

    # The insights page: plotly.js fetched and drawing (its stylesheet and the map library's are ours).
    seen.visit("/insights/?period=3m")
    for n in range(page.locator(".chart[data-figure]").count()):
        page.locator(".chart[data-figure]").nth(n).scroll_into_view_if_needed()
        expect(page.locator(".chart[data-figure]").nth(n)).to_have_class(re.compile(r"\bchart-drawn\b"))
    seen.collect("insights with its charts drawn")
    page.get_by_label("Period", exact=True).select_option("12m")  # an HTMX swap of the charts
    expect(page.locator("#insights-summary-heading")).not_to_contain_text("This month")
    seen.collect("insights swapped")

    assert seen.found == []


def _sign_in_as_staff(page: Page, live_server) -> None:
    """Staff's session made on the server and handed to the browser: the admin's own sign-in (and its
    two-factor step) is tested elsewhere."""
    staff = UserFactory(email="ops@example.com", is_staff=True, is_superuser=True)
    client = Client()
    force_login_verified(client, staff)
    cookie = client.cookies["sessionid"]
    page.context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])


def test_it_refuses_nothing_in_the_admin(page, live_server, alice, alice_savings, alice_current):
    services.transfer_create(
        initiator=alice,
        source=alice_savings,
        destination=alice_current,
        amount_paise=1_00,
        description="",
        idempotency_key=uuid.uuid4().hex,
    )
    audit_record(action="login.success", actor=alice, obj=alice)
    seen = Violations(page)
    seen.visit("/admin/login/")
    _sign_in_as_staff(page, live_server)
    seen.visit("/admin/")
    for model in admin.site._registry:
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        seen.visit(reverse(f"{prefix}_changelist"))
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            seen.visit(reverse(f"{prefix}_change", args=[first.pk]))
    seen.visit(reverse("admin:accounts_user_add"))
    seen.visit(reverse("admin:portal_auditevent_changelist") + "?action=login")

    assert seen.found == []


def test_it_notices_a_refusal(page, live_server, db):
    """The check itself: an inline style added to a page is reported."""
    seen = Violations(page)
    seen.visit("/login/")
    page.evaluate("document.head.insertAdjacentHTML('beforeend', '<style>body { color: red }</style>')")
    page.wait_for_function("window.__cspViolations.length > 0")
    seen.collect("login with an inline style")
    assert any("style-src" in violation for violation in seen.found), seen.found
