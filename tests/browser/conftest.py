"""Playwright harness: one headless Chromium for the browser tests, a fresh context for each test.

The portal runs in pytest-django's `live_server` (a threaded WSGI server on the test database, which is
transactional: the root conftest puts the internal accounts and categories back before each test).
"""

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect, sync_playwright

from tests.factories import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
DESKTOP = {"width": 1280, "height": 900}
MOBILE = {"width": 390, "height": 844}
SCREENSHOTS = Path("/tmp/securebank-browser")  # noqa: S108 - a scratch folder for failure screenshots

expect.set_options(timeout=5_000)


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One Chromium for every test in tests/browser, closed after the last of them.

    Package scope rather than session scope: Playwright's sync API keeps an asyncio loop marked as running
    in the main thread for as long as it is started, and while it is, Django refuses ORM calls from that
    thread (SynchronousOnlyOperation) and `asyncio.run` / `async_to_sync` refuse to start. Closing it after
    tests/browser keeps the rest of the suite in a normal thread.
    """
    # The tests create data and check balances through the ORM while Playwright's loop is "running" in
    # this thread. Nothing here is async: Django's guard is a false alarm, so switch it off while (and only
    # while) Playwright runs.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Keep each phase's report on the test item, so that fixtures can tell whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


NewPage = Callable[..., Page]


@pytest.fixture
def new_page(request: pytest.FixtureRequest, browser: Browser, live_server) -> Iterator[NewPage]:
    """Make pages in fresh browser contexts (no cookies, no cache): `new_page(viewport=MOBILE,
    javascript=False)`. A failed test leaves screenshots of its pages in /tmp/securebank-browser/."""
    contexts: list[BrowserContext] = []

    def make(*, viewport: dict | None = None, javascript: bool = True) -> Page:
        context = browser.new_context(
            viewport=viewport or DESKTOP,
            java_script_enabled=javascript,
            base_url=live_server.url,
            locale="en-IN",
            timezone_id="Asia/Kolkata",
        )
        context.set_default_timeout(5_000)
        contexts.append(context)
        return context.new_page()

    yield make

    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        stem = re.sub(r"[^\w.-]+", "_", request.node.nodeid)
        for n, context in enumerate(contexts):
            for m, open_page in enumerate(context.pages):
                open_page.screenshot(path=SCREENSHOTS / f"{stem}-{n}-{m}.png", full_page=True)
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: NewPage) -> Page:
    """A desktop-sized page (1280x900) with JavaScript on; `new_page(viewport=MOBILE)` makes a phone."""
    return new_page()


def login(page: Page, live_server, email: str, password: str = PASSWORD) -> None:
    """Sign in through the login page, as a customer does, and wait for the dashboard."""
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")


def account_balance(page: Page, account_name: str) -> Locator:
    """The balance shown on the dashboard card (a region named after the account)."""
    return page.get_by_role("region", name=account_name, exact=True).locator(".balance .amount")


def summary_value(page: Page, term: str) -> Locator:
    """The value next to `term` in the review's or the receipt's summary list."""
    row = page.locator(".summary-list > div").filter(
        has=page.locator("dt", has_text=re.compile(f"^{re.escape(term)}$"))
    )
    return row.locator("dd")


def open_two_factor_setup(page: Page) -> None:
    """Open /security/2fa/: it asks for the password first (step-up), then shows the set-up."""
    page.goto("/security/2fa/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm it's you")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Two-factor authentication")
