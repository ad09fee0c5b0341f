"""A customer who forgot their password: "Forgot your password?" on the login page, the email, the link,
the code when two-factor auth is on, a new password, and signing in with it; with and without JavaScript."""

import re

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from portal.celery import app
from tests.browser.conftest import login
from tests.factories import PASSWORD
from tests.twofactor import code_now, enrol

pytestmark = pytest.mark.browser

NEW = "Tamarind-Harbour-Lantern-19"
LINK = re.compile(r"https?://[^/\s]+(/password-reset/[^/\s]+/[^/\s]+/)")


@pytest.fixture
def eager_tasks():
    """The live server runs the email task where it is sent, so the email lands in the locmem outbox. The
    portal queues it by name (accounts.password_reset), and a signature runs eagerly only for a task the
    app has registered: import the task module here, or whether it is depends on which tests ran first."""
    import accounts.tasks  # noqa: F401

    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


def ask_for_a_link(page: Page, email: str) -> str:
    """From the login page to "Check your email"; returns the path of the link in the email."""
    page.goto("/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Forgot your password?")
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Email me a link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    (message,) = [m for m in mail.outbox if m.to == [email]]
    match = LINK.search(message.body)
    assert match, message.body
    return match.group(1)


def choose_password(page: Page) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a new password")
    assert "/password-reset/new-password/" in page.url  # the token left the address bar
    page.get_by_label("New password", exact=True).fill(NEW)
    page.get_by_label("New password again").fill(NEW)
    page.get_by_role("button", name="Set new password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to SecureBank")
    expect(page.get_by_role("status")).to_contain_text("Sign in with your new password")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_it_resets_a_forgotten_password_and_signs_in_with_the_new_one(
    new_page, live_server, javascript, alice, eager_tasks
):
    page = new_page(javascript=javascript)
    link = ask_for_a_link(page, alice.email)
    page.goto(link)
    choose_password(page)

    login(page, live_server, alice.email, NEW)

    # The link worked once.
    again = new_page(javascript=javascript)
    again.goto(link)
    expect(again.get_by_role("heading", level=1)).to_have_text("This link doesn't work")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_it_asks_for_the_code_when_two_factor_auth_is_on(
    new_page, live_server, javascript, alice, eager_tasks
):
    device = enrol(alice)
    page = new_page(javascript=javascript)
    page.goto(ask_for_a_link(page, alice.email))
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your code to reset your password")
    page.get_by_label("Code").fill(code_now(device))
    page.get_by_role("button", name="Verify").click()
    choose_password(page)

    page.get_by_label("Email").fill(alice.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("do not match")  # the old password is gone
