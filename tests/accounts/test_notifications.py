"""Notifications: `notify` queues an email task after the commit; the task renders and sends it."""

import time
import uuid

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.db import transaction
from django.test import Client
from django.urls import reverse

from accounts import notifications
from accounts.notifications import KINDS, notify
from accounts.tasks import notification_send_task
from portal.celery import app
from tests.factories import PASSWORD, AccountFactory

CONTEXTS = {
    "new_device_login": {
        "at": "2026-11-27T10:00:00+00:00",
        "device": "Firefox on Windows",
        "ip": "203.0.113.9",
    },
    "lockout": {"minutes": 30, "ip": "203.0.113.9"},
    "two_factor_changed": {"change": "an authenticator app was added"},
    "payee_added": {"payee_name": "Ravi Kumar", "payee_account": {"last4": "4321"}},
    "compromise_reported": {"accounts": [{"name": "Savings", "last4": "0042"}], "reference": "SR0000000001"},
    "password_reset": {"reset_url": "https://bank.example/password-reset/MQ/token/", "minutes": 30},
    "password_changed": {"reset": True, "at": "2026-11-27T10:00:00+00:00", "ip": "203.0.113.9"},
    "limits_changed": {
        "at": "2026-11-27T10:00:00+00:00",
        "daily": "₹50,000.00",
        "per_transfer": "the bank's limit, ₹2,00,000.00",
        "pending": True,
        "pending_daily": "₹1,00,000.00",
        "pending_per_transfer": "the bank's limit, ₹2,00,000.00",
        "pending_from": "27 Nov 2026, 3:30 PM IST",
    },
    "scheduled_transfer_failed": {
        "amount": "₹2,500.00",
        "to": "Current (••0042)",
        "occurrence": "7 December 2026",
        "reason": "Not enough money in ••0041 for this amount.",
        "stopped": "",
        "next_run_date": "7 January 2027",
    },
    "budget_near": {
        "category": "Dining",
        "spent": "₹8,200.00",
        "budget": "₹10,000",
        "remaining": "₹1,800.00",
        "over_by": "",
        "percent": 82,
        "month": "November 2026",
    },
    "budget_over": {
        "category": "Dining",
        "spent": "₹10,500.00",
        "budget": "₹10,000",
        "remaining": "₹0.00",
        "over_by": "₹500.00",
        "percent": 105,
        "month": "November 2026",
    },
    "statement_ready": {
        "account": {"name": "Savings", "masked_number": "••0042", "last4": "0042"},
        "period": "October 2026",
        "url": "https://bank.example/statements/",
        "verify_url": "https://bank.example/statements/verify/",
    },
}


def test_every_kind_has_an_email():
    assert set(CONTEXTS) == KINDS


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_the_task_renders_and_sends_each_kind(alice, kind):
    assert notification_send_task(alice.pk, kind, CONTEXTS[kind]) is True

    (email,) = mail.outbox
    assert email.to == ["alice@example.com"]
    assert email.subject and "\n" not in email.subject
    assert email.body.startswith("Hello Alice,")
    assert "&#x27;" not in email.body and "&amp;" not in email.body  # plain text, not HTML-escaped


def test_the_new_device_email_says_when_where_and_what_to_do(alice):
    notification_send_task(alice.pk, "new_device_login", CONTEXTS["new_device_login"])
    body = mail.outbox[0].body
    assert "27 November 2026, 3:30 PM IST" in body  # 10:00 UTC in India
    assert "Firefox on Windows" in body and "203.0.113.9" in body
    assert "This wasn't me" in body


def test_the_task_skips_a_user_who_is_gone_or_inactive(alice):
    alice.is_active = False
    alice.save()
    assert notification_send_task(alice.pk, "lockout", {}) is False
    assert notification_send_task(987654, "lockout", {}) is False
    assert mail.outbox == []


def test_notify_queues_only_when_the_transaction_commits(alice, django_capture_on_commit_callbacks):
    account = AccountFactory(owner=alice, number="123456789012")
    with django_capture_on_commit_callbacks() as callbacks:
        notify(alice, "payee_added", payee_name="Ravi", payee_account=account)
        assert mail.outbox == []
    (queued,) = callbacks
    assert queued.func is notifications._queue
    user_id, kind, context = queued.args
    assert (user_id, kind) == (alice.pk, "payee_added")
    assert context["payee_account"] == {"name": "Savings", "masked_number": "••9012", "last4": "9012"}
    assert "123456789012" not in str(context)


def test_notify_names_the_task_the_worker_runs():
    """notify sends the task by name (accounts.notifications imports nothing of accounts.tasks)."""
    app.loader.import_default_modules()
    assert notification_send_task.name == notifications.SEND_TASK
    assert app.tasks[notifications.SEND_TASK].run is notification_send_task.run


def test_notify_sends_nothing_when_the_action_rolls_back(alice, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        notify(alice, "lockout", minutes=30)
        raise RuntimeError("the action failed")
    assert callbacks == []


def test_notify_refuses_an_unknown_kind(alice):
    with pytest.raises(ValueError, match="Unknown notification kind"):
        notify(alice, "lotery_win")


def test_a_sign_in_from_a_new_browser_emails_the_customer(alice, django_capture_on_commit_callbacks):
    first = Client(HTTP_USER_AGENT="Mozilla/5.0 (Windows NT 10.0) Gecko/20100101 Firefox/133.0")
    with django_capture_on_commit_callbacks() as first_ever:
        first.post(reverse("login"), {"username": alice.email, "password": PASSWORD})
    assert first_ever == []  # a customer's first sign-in is not news
    assert "sb_device" in first.cookies

    first.post(reverse("logout"))
    with django_capture_on_commit_callbacks() as same_browser:
        first.post(reverse("login"), {"username": alice.email, "password": PASSWORD})
    assert same_browser == []  # the device cookie says this browser is known

    stranger = Client(HTTP_USER_AGENT="Mozilla/5.0 (Linux; Android 14) Chrome/131.0 Mobile Safari/537.36")
    with django_capture_on_commit_callbacks() as new_browser:
        stranger.post(
            reverse("login"), {"username": alice.email, "password": PASSWORD}, REMOTE_ADDR="203.0.113.5"
        )
    (queued,) = new_browser
    assert queued.args[1] == "new_device_login"
    assert queued.args[2]["device"] == "Chrome on Android" and queued.args[2]["ip"] == "203.0.113.5"


def test_a_forged_device_cookie_counts_as_a_new_device(alice, django_capture_on_commit_callbacks):
    client = Client()
    client.post(reverse("login"), {"username": alice.email, "password": PASSWORD})
    client.post(reverse("logout"))
    client.cookies["sb_device"] = "made-up"
    with django_capture_on_commit_callbacks() as callbacks:
        client.post(reverse("login"), {"username": alice.email, "password": PASSWORD})
    assert [c.args[1] for c in callbacks] == ["new_device_login"]


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_the_email_after_the_commit(alice):
    """The whole path: notify in a transaction, commit, the task over the Redis broker, a Celery worker
    (in a thread of this process, so it shares the locmem outbox), the email."""
    app.control.purge()  # messages queued by earlier tests with no worker running
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        marker = uuid.uuid4().hex
        with transaction.atomic():
            notify(alice, "two_factor_changed", change=f"test {marker}")
            time.sleep(0.5)
            assert mail.outbox == []  # nothing leaves before the commit
        deadline = time.monotonic() + 15
        while not mail.outbox and time.monotonic() < deadline:
            time.sleep(0.05)
    (email,) = mail.outbox
    assert marker in email.body and email.to == [alice.email]
