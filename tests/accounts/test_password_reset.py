"""Forgotten password (accounts/password_reset.py): ask for a link by email, open it, prove the second factor
when two-factor auth is on, choose a new password; the same answer whether or not the email has an account,
rate limits, a single-use link that works for 30 minutes, every session ended, emails, audit events."""

import datetime
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import time_machine
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import otp, password_reset
from accounts.models import UserSession
from accounts.tasks import password_reset_email_task
from portal.celery import app
from portal.models import AuditEvent
from tests.factories import PASSWORD, UserFactory
from tests.twofactor import BACKUP_CODES, code_now, enrol

ASK = reverse("password_reset")
SENT = reverse("password_reset_sent")
CODE = reverse("password_reset_code")
NEW_PASSWORD = reverse("password_reset_new")
LOGIN = reverse("login")
DASHBOARD = reverse("dashboard")
NEW = "Tamarind-Harbour-Lantern-19"
IST = datetime.timezone(datetime.timedelta(hours=5, minutes=30))
T0 = datetime.datetime(2026, 3, 2, 10, 0, 0, tzinfo=IST)
LINK = re.compile(r"http://testserver(/password-reset/[^/\s]+/[^/\s]+/)")


@pytest.fixture
def eager_tasks():
    """Run Celery tasks in the process that sends them (the email lands in Django's locmem outbox). A test
    below runs a real worker over the Redis broker instead."""
    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


def _ask(client: Client, email: str, **extra):
    return client.post(ASK, {"email": email}, **extra)


def _ask_and_send(client: Client, email: str, capture) -> None:
    """Ask for a link, with the on-commit task run (eagerly): the email, if any, is in the outbox."""
    with capture(execute=True):
        response = _ask(client, email)
    assert response.status_code == 302 and response["Location"] == SENT


def _link(message) -> str:
    match = LINK.search(message.body)
    assert match, message.body
    return match.group(1)


def _reset_email(email: str = "alice@example.com"):
    (message,) = [m for m in mail.outbox if m.to == [email] and "Reset your" in m.subject]
    return message


@pytest.fixture
def link(client, alice, eager_tasks, django_capture_on_commit_callbacks) -> str:
    _ask_and_send(client, alice.email, django_capture_on_commit_callbacks)
    return _link(_reset_email())


def _set(client: Client, password: str = NEW, again: str | None = None):
    return client.post(NEW_PASSWORD, {"new_password1": password, "new_password2": again or password})


def _complete(client: Client, link: str):
    opened = client.get(link)
    assert opened.status_code == 302 and opened["Location"] == NEW_PASSWORD
    return _set(client)


# --- Asking ---------------------------------------------------------------------------------------------


def test_the_login_page_links_to_it(client, db):
    page = client.get(LOGIN).content.decode()
    assert f'<a href="{ASK}">Forgot your password?</a>' in page


def test_it_shows_the_form_to_anyone(client, db):
    response = client.get(ASK)
    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1>Forgot your password?</h1>" in page
    assert 'type="email"' in page and 'autocomplete="email"' in page


def _sent_page(client: Client, email: str) -> tuple[int, str, str]:
    response = _ask(client, email)
    page = client.get(response["Location"]).content.decode()
    page = re.sub(r'"X-CSRFToken": "[^"]+"', "", page)  # per-request token
    return response.status_code, response["Location"], page


def test_it_answers_a_known_and_an_unknown_email_the_same(alice, django_capture_on_commit_callbacks):
    known, unknown = Client(), Client()
    with django_capture_on_commit_callbacks() as known_tasks, CaptureQueriesContext(connection) as known_sql:
        known_answer = _sent_page(known, "alice@example.com")
    with (
        django_capture_on_commit_callbacks() as unknown_tasks,
        CaptureQueriesContext(connection) as unknown_sql,
    ):
        unknown_answer = _sent_page(unknown, "nobody@example.com")

    assert known_answer == unknown_answer  # status, redirect and page
    assert "If the email you typed belongs to a SecureBank account" in known_answer[2]
    # The same work in the request: the same statements, and one task queued after the commit either way.
    assert [q["sql"].split()[0] for q in known_sql] == [q["sql"].split()[0] for q in unknown_sql]
    assert [c.func for c in known_tasks] == [c.func for c in unknown_tasks] == [password_reset._queue_email]
    assert known_tasks[0].args == ("alice@example.com", "http://testserver")
    assert unknown_tasks[0].args == ("nobody@example.com", "http://testserver")


def test_the_worker_emails_a_link_only_to_a_customer_who_may_have_one(alice, bob):
    bob.is_active = False
    bob.save(update_fields=["is_active"])
    charlie = UserFactory(email="charlie@example.com")
    charlie.set_unusable_password()
    charlie.save(update_fields=["password"])

    assert password_reset_email_task("nobody@example.com", "http://testserver") is False
    assert password_reset_email_task("bob@example.com", "http://testserver") is False
    assert password_reset_email_task("charlie@example.com", "http://testserver") is False
    assert mail.outbox == []
    assert password_reset_email_task("ALICE@example.com", "https://bank.example") is True

    (message,) = mail.outbox
    assert message.to == ["alice@example.com"]
    assert message.subject == "Reset your SecureBank password"
    assert message.body.startswith("Hello ")
    assert "within 30 minutes" in message.body and "The link works once" in message.body
    assert re.search(r"^https://bank\.example/password-reset/[\w-]+/[\w-]+/$", message.body, re.MULTILINE)


def test_it_checks_the_email_looks_like_one_and_queues_nothing(
    client, db, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as tasks:
        response = _ask(client, "not an email")
    assert response.status_code == 200
    assert "Type an email address like name@example.com." in response.content.decode()
    assert tasks == []


def test_it_limits_requests_per_email_known_or_not(client, alice):
    for email in ("alice@example.com", "nobody@example.com"):
        for _ in range(3):
            assert _ask(client, email, REMOTE_ADDR="198.51.100.7").status_code == 302
        refused = _ask(client, email.upper(), REMOTE_ADDR="203.0.113.9")  # another address, same email
        assert refused.status_code == 429
        assert int(refused["Retry-After"]) > 0
        assert "Too many attempts" in refused.content.decode()


def test_it_limits_requests_per_address(client, db):
    for n in range(10):
        assert _ask(client, f"someone{n}@example.com", REMOTE_ADDR="198.51.100.7").status_code == 302
    assert _ask(client, "someone-else@example.com", REMOTE_ADDR="198.51.100.7").status_code == 429
    assert _ask(client, "someone-else@example.com", REMOTE_ADDR="203.0.113.9").status_code == 302


def test_it_records_each_request_without_saying_so_to_the_visitor(client, alice):
    _ask(client, "alice@example.com")
    _ask(client, "nobody@example.com")
    known, unknown = AuditEvent.objects.filter(action="password.reset_requested").order_by("seq")
    assert (known.object_type, known.object_id, known.after) == (
        "accounts.user",
        str(alice.pk),
        {"email_known": True},
    )
    assert (unknown.object_id, unknown.after) == ("", {"email_known": False})
    assert "nobody@example.com" not in str(unknown.after)


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_the_link_after_the_commit(client):
    """The whole path over the Redis broker: the request queues the task at commit, a Celery worker (a
    thread of this process, sharing the locmem outbox) makes the link and sends it, and the link works."""
    UserFactory(email="alice@example.com", full_name="Alice Iyer")
    app.control.purge()  # messages queued by earlier tests with no worker running
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        assert _ask(client, "alice@example.com").status_code == 302
        deadline = time.monotonic() + 15
        while not mail.outbox and time.monotonic() < deadline:
            time.sleep(0.05)
    message = _reset_email()
    assert client.get(_link(message))["Location"] == NEW_PASSWORD


def test_the_link_uses_site_url_when_it_is_set(
    client, alice, settings, eager_tasks, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://bank.example"
    with django_capture_on_commit_callbacks(execute=True):
        _ask(client, alice.email, HTTP_HOST="localhost")
    body = _reset_email().body
    assert re.search(r"^https://bank\.example/password-reset/[^/\s]+/[^/\s]+/$", body, re.MULTILINE), body
    assert "localhost" not in body


def test_without_site_url_the_link_uses_the_request_s_scheme_and_host(
    client, alice, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _ask(client, alice.email, HTTP_HOST="localhost")
    assert re.search(r"^http://localhost/password-reset/[^/\s]+/[^/\s]+/$", _reset_email().body, re.MULTILINE)
    # A host outside ALLOWED_HOSTS never gets that far: Django refuses it.
    assert _ask(client, alice.email, HTTP_HOST="evil.example").status_code == 400


@pytest.mark.parametrize(
    "value", ["bank.example", "ftp://bank.example", "https://", "https://bank.example?x=1"]
)
def test_it_refuses_to_start_with_a_site_url_it_cannot_use(tmp_path, value):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update({"DEBUG": "1", "VAR_DIR": str(tmp_path), "SITE_URL": value})
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SITE_URL must look like https://bank.example" in result.stderr


# --- The link -------------------------------------------------------------------------------------------


def test_the_link_moves_its_token_out_of_the_address_and_sets_the_password(client, alice, link):
    opened = client.get(link)
    assert opened.status_code == 302
    assert opened["Location"] == NEW_PASSWORD  # no token in the URL the page is shown at
    token = link.rstrip("/").rsplit("/", 1)[-1]
    page = client.get(NEW_PASSWORD)
    assert page.status_code == 200
    assert token not in page.content.decode()
    assert page["Referrer-Policy"] == "same-origin"
    assert "<h1>Choose a new password</h1>" in page.content.decode()

    done = _set(client)
    assert done.status_code == 302 and done["Location"] == LOGIN
    login_page = client.get(LOGIN).content.decode()
    assert "Sign in with your new password" in login_page
    assert "_auth_user_id" not in client.session  # not signed in by the reset
    alice.refresh_from_db()
    assert alice.check_password(NEW) and not alice.check_password(PASSWORD)
    assert client.post(LOGIN, {"username": alice.email, "password": PASSWORD}).status_code == 200
    assert client.post(LOGIN, {"username": alice.email, "password": NEW}).status_code == 302


def test_the_link_works_once(client, alice, link):
    assert _complete(client, link).status_code == 302
    again = Client()
    second = again.get(link)
    assert second.status_code == 200
    assert "This link doesn't work" in second.content.decode()
    assert _set(again, "Another-Quiet-Mango-Orchard-4").status_code == 200  # no link in this browser
    alice.refresh_from_db()
    assert alice.check_password(NEW)


def test_a_second_tab_with_the_same_link_cannot_set_it_again(client, alice, link):
    other_tab = Client()
    assert other_tab.get(link).status_code == 302  # both opened before either is used
    assert client.get(link).status_code == 302
    assert _set(client).status_code == 302
    late = _set(other_tab, "Another-Quiet-Mango-Orchard-4")
    assert late.status_code == 200 and "This link doesn't work" in late.content.decode()
    alice.refresh_from_db()
    assert alice.check_password(NEW)


def test_the_link_stops_working_after_30_minutes(alice):
    with time_machine.travel(T0, tick=False):
        path = password_reset.link_path(alice)
    with time_machine.travel(T0 + datetime.timedelta(minutes=29, seconds=59), tick=False):
        assert Client().get(path)["Location"] == NEW_PASSWORD
    with time_machine.travel(T0 + datetime.timedelta(minutes=30, seconds=1), tick=False):
        expired = Client().get(path)
    assert expired.status_code == 200 and "This link doesn't work" in expired.content.decode()


def test_a_link_opened_in_time_is_refused_once_the_30_minutes_are_over(client, alice):
    with time_machine.travel(T0, tick=False):
        path = password_reset.link_path(alice)
    with time_machine.travel(T0 + datetime.timedelta(minutes=29), tick=False):
        assert client.get(path)["Location"] == NEW_PASSWORD
    with time_machine.travel(T0 + datetime.timedelta(minutes=31), tick=False):
        late = _set(client)
    assert late.status_code == 200 and "This link doesn't work" in late.content.decode()
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_a_sign_in_since_the_link_was_sent_spends_it(client, alice, link):
    assert Client().post(LOGIN, {"username": alice.email, "password": PASSWORD}).status_code == 302
    assert "This link doesn't work" in client.get(link).content.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/password-reset/MQ/forged-token/",
        "/password-reset/not-base64!/x-y/",
        "/password-reset/" + "A" * 200 + "/x/",
        "/password-reset/OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5/x-y/",  # an id beyond bigint
    ],
)
def test_a_made_up_link_opens_nothing(client, alice, path):
    response = client.get(path)
    assert response.status_code == 200
    assert "This link doesn't work" in response.content.decode()
    assert "<h1>This link doesn't work</h1>" in client.get(NEW_PASSWORD).content.decode()


def test_it_says_until_when_sign_in_from_here_is_still_paused(
    client, alice, eager_tasks, django_capture_on_commit_callbacks
):
    """Five wrong passwords paused sign-in to alice from this connection; she resets her password. The new
    password does not lift the pause (whoever guessed is still guessing): the done message says until when."""
    with time_machine.travel(T0, tick=False):
        for _ in range(5):
            client.post(LOGIN, {"username": "alice@example.com", "password": "not-the-password"})
        _ask_and_send(client, alice.email, django_capture_on_commit_callbacks)
        client.get(_link(_reset_email()))
        page = _set(client, NEW, NEW)
        assert page["Location"] == LOGIN
        notices = [str(m) for m in client.get(LOGIN).context["messages"]]
    assert notices[0].startswith("Your password is changed")
    assert notices[1] == (
        "After the failed attempts, sign-in to your account from this connection is still paused until "
        "10:31 AM IST. Sign in then, or now from a device you have signed in on before. For help, call us on "
        "1800 000 0000."
    )


def test_it_says_nothing_of_a_pause_when_there_is_none(client, alice, link):
    client.get(link)
    _set(client)
    notices = [str(m) for m in client.get(LOGIN).context["messages"]]
    assert len(notices) == 1 and notices[0].startswith("Your password is changed")


def test_it_uses_the_projects_password_rules(client, alice, link):
    client.get(link)
    for password, message in [
        ("Short-1", "at least 12 characters"),
        ("1qaz2wsx3edc4rfv", "list of common or leaked passwords"),
    ]:
        response = _set(client, password)
        assert response.status_code == 200
        errors = response.context["form"].errors
        assert message in " ".join(errors["new_password1"])  # on the password, not on "New password again"
        assert "new_password2" not in errors
        assert 'role="alert"' in response.content.decode()
    mismatch = _set(client, NEW, "Something-Else-Entirely-7")
    assert "do not match" in " ".join(mismatch.context["form"].errors["new_password2"])
    assert "new_password1" not in mismatch.context["form"].errors
    both = _set(client, "Short-1", "Short-2")  # a rule broken and a mismatch: each on its own field
    assert "at least 12 characters" in " ".join(both.context["form"].errors["new_password1"])
    assert "do not match" in " ".join(both.context["form"].errors["new_password2"])
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)
    assert _set(client).status_code == 302  # the link still works after refused passwords


def test_it_ends_every_session_of_the_customer(alice, link):
    laptop, phone, reset = Client(), Client(), Client()
    for device in (laptop, phone):
        assert device.post(LOGIN, {"username": alice.email, "password": PASSWORD}).status_code == 302
        assert device.get(DASHBOARD).status_code == 200
    # A sign-in since the link was sent spends it: ask again (as a customer would, from the failed page).
    mail.outbox.clear()
    password_reset_email_task(alice.email, "http://testserver")
    assert _complete(reset, _link(_reset_email())).status_code == 302

    for device in (laptop, phone, reset):
        response = device.get(DASHBOARD)
        assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    assert not UserSession.objects.filter(user=alice, ended_at__isnull=True).exists()


def test_it_signs_out_a_browser_that_was_signed_in(client, alice):
    client.force_login(alice)  # a sign-in spends earlier links: this one is sent after it
    password_reset_email_task(alice.email, "http://testserver")
    assert _complete(client, _link(_reset_email())).status_code == 302
    assert "_auth_user_id" not in client.session
    assert client.get(DASHBOARD).status_code == 302


def test_it_emails_the_customer_that_the_password_changed(
    client, alice, link, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _complete(client, link)
    (message,) = mail.outbox
    assert message.to == ["alice@example.com"]
    assert message.subject == "Your SecureBank password was changed"
    assert "reset with a link we emailed you" in message.body
    assert "every device signed in to your account was signed out" in message.body
    assert "This wasn't me" in message.body


def test_it_records_the_reset_without_any_secret(client, alice, link):
    _complete(client, link)
    event = AuditEvent.objects.get(action="password.reset")
    assert event.actor == alice
    assert (event.object_type, event.object_id) == ("accounts.user", str(alice.pk))
    token = link.rstrip("/").rsplit("/", 1)[-1]
    recorded = str(event.before) + str(event.after)
    assert NEW not in recorded and token not in recorded
    assert not AuditEvent.objects.filter(action="password.change").exists()


def test_it_keeps_the_password_out_of_error_reports(client, alice, link):
    client.get(link)
    response = _set(client, "Short-1")
    assert response.wsgi_request.sensitive_post_parameters == ("new_password1", "new_password2")


def test_its_pages_are_never_stored(client, alice, link):
    client.get(link)
    for url in (ASK, SENT, NEW_PASSWORD, link):
        assert "no-store" in client.get(url)["Cache-Control"], url


def test_it_leaves_a_lockout_in_place(client, alice, link):
    for _ in range(5):
        client.post(LOGIN, {"username": alice.email, "password": "not-the-password"})
    # The lockout's failures signed nobody in: the link still works.
    assert _complete(client, link).status_code == 302
    locked = client.post(LOGIN, {"username": alice.email, "password": NEW})
    assert locked.status_code == 429
    assert "Too many failed attempts" in locked.content.decode()


@pytest.mark.parametrize("url", [ASK, SENT, NEW_PASSWORD, CODE])
def test_it_answers_only_get_and_post(client, db, url):
    assert client.put(url).status_code == 405
    assert client.delete(url).status_code == 405


# --- With two-factor auth ------------------------------------------------------------------------------


@pytest.fixture
def device(alice):
    return enrol(alice)


def test_it_asks_for_the_code_before_the_new_password(client, alice, device, link):
    assert client.get(link)["Location"] == NEW_PASSWORD
    asked = client.get(NEW_PASSWORD)
    assert asked.status_code == 302 and asked["Location"] == CODE
    page = client.get(CODE).content.decode()
    assert "Enter your code to reset your password" in page
    # Skipping the code step does not set the password.
    skipped = _set(client)
    assert skipped.status_code == 302 and skipped["Location"] == CODE
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_it_refuses_a_wrong_code_and_records_it(client, alice, device, link):
    client.get(link)
    response = client.post(CODE, {"code": "000000" if code_now(device) != "000000" else "111111"})
    assert response.status_code == 200
    assert "That code did not work" in " ".join(response.context["form"].errors["code"])
    event = AuditEvent.objects.get(action="password.reset_otp_failure")
    assert event.object_id == str(alice.pk) and event.after["failures"] == 1
    assert client.get(NEW_PASSWORD)["Location"] == CODE
    assert response.wsgi_request.sensitive_post_parameters == ("code",)


def test_the_app_code_lets_the_customer_choose_the_password(client, alice, device, link):
    client.get(link)
    verified = client.post(CODE, {"code": code_now(device)})
    assert verified.status_code == 302 and verified["Location"] == NEW_PASSWORD
    assert _set(client).status_code == 302
    alice.refresh_from_db()
    assert alice.check_password(NEW)
    assert "_auth_user_id" not in client.session


def test_a_wrong_backup_code_is_refused_and_a_right_one_works_once(client, alice, device):
    with time_machine.travel(T0, tick=False) as clock:
        client.get(password_reset.link_path(alice))
        wrong = client.post(CODE, {"code": "nope-not-a-code"})
        assert wrong.status_code == 200
        assert "That code did not work" in " ".join(wrong.context["form"].errors["code"])
        clock.shift(datetime.timedelta(seconds=2))  # django-otp's back-off after one wrong code
        assert client.post(CODE, {"code": BACKUP_CODES[3]})["Location"] == NEW_PASSWORD
        assert _set(client).status_code == 302
    alice.refresh_from_db()
    assert alice.check_password(NEW)
    assert otp.backup_codes_left(alice) == 9  # used up: its (hashed) row is gone
    assert not otp.code_check(alice, BACKUP_CODES[3]).ok


def test_wrong_codes_are_limited_and_then_the_link_must_be_opened_again(client, alice, device, link):
    with time_machine.travel(T0, tick=False) as clock:
        # A fresh link at T0 (the fixture's was made at the real time).
        path = password_reset.link_path(alice)
        client.get(path)
        for n in range(1, 5):
            clock.shift(datetime.timedelta(seconds=2**n))  # past django-otp's back-off
            wrong = client.post(CODE, {"code": f"wrong-{n}"})
            assert wrong.status_code == 200
        clock.shift(datetime.timedelta(seconds=60))
        fifth = client.post(CODE, {"code": "wrong-5"})
        assert fifth.status_code == 302 and fifth["Location"] == ASK
        assert "Too many wrong codes" in client.get(ASK).content.decode()
        assert client.get(NEW_PASSWORD).status_code == 200  # the "link doesn't work" page
        assert "This link doesn't work" in client.get(CODE).content.decode()


def test_code_entries_are_rate_limited_per_customer_as_the_other_code_pages(client, alice, device, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "otp": (2, 60)}
    with time_machine.travel(T0, tick=False):
        client.get(password_reset.link_path(alice))
        answers = [client.post(CODE, {"code": f"wrong-{n}"}).status_code for n in range(3)]
        # Another browser with another link for the same customer is counted in the same scope.
        other = Client()
        other.get(password_reset.link_path(alice))
        also = other.post(CODE, {"code": BACKUP_CODES[0]}).status_code
    assert answers == [200, 200, 429] and also == 429


def test_it_accepts_no_code_without_a_link(client, alice, device):
    response = client.post(CODE, {"code": BACKUP_CODES[0]})
    assert response.status_code == 200 and "This link doesn't work" in response.content.decode()
    # Not used up: its (hashed) row is still there, and the code still works.
    assert otp.backup_codes_left(alice) == 10
    assert otp.code_check(alice, BACKUP_CODES[0]).ok


def test_password_change_emails_the_customer_too(client, alice, django_capture_on_commit_callbacks):
    client.force_login(alice)
    with django_capture_on_commit_callbacks() as tasks:
        client.post(
            reverse("password_change"),
            {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW},
        )
    assert [(c.args[0], c.args[1]) for c in tasks] == [(alice.pk, "password_changed")]
    assert tasks[0].args[2]["reset"] is False


@pytest.mark.django_db(transaction=True)
def test_two_tabs_posting_the_same_link_at_once_set_one_password():
    """Both tabs passed the token check before either set the password: the customer's row is locked and
    the token checked again under the lock, so exactly one password is set (real threads and connections)."""
    alice = UserFactory(email="alice@example.com", full_name="Alice Iyer")
    path = password_reset.link_path(alice)
    tabs = [Client(), Client()]
    for tab in tabs:
        assert tab.get(path)["Location"] == NEW_PASSWORD
    passwords = ["Tamarind-Harbour-Lantern-19", "Quiet-Mango-Orchard-Seven-4"]
    barrier = threading.Barrier(2)
    answers: list = [None, None]

    def post(n: int) -> None:
        try:
            barrier.wait()
            answers[n] = _set(tabs[n], passwords[n])
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200, 302]
    (refused,) = [a for a in answers if a.status_code == 200]
    assert "This link doesn't work" in refused.content.decode()
    winner = passwords[[a.status_code for a in answers].index(302)]
    alice.refresh_from_db()
    assert alice.check_password(winner)
    assert AuditEvent.objects.filter(action="password.reset").count() == 1
