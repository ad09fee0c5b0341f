"""This wasn't me: freeze outgoing payments, sign out everywhere, record it for staff, tell the customer."""

import uuid

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import Account
from accounts.tasks import notification_send_task
from portal.models import AuditEvent
from tests.conftest import fund
from tests.factories import PASSWORD, AccountFactory
from transactions import services
from transactions.services import TransferError


def _signed_in(user) -> Client:
    client = Client()
    assert client.post(reverse("login"), {"username": user.email, "password": PASSWORD}).status_code == 302
    return client


def test_it_explains_what_will_happen_before_doing_it(alice, alice_savings):
    client = _signed_in(alice)
    page = client.get(reverse("report_compromise")).content.decode()
    assert "Freeze outgoing payments" in page and "Sign you out everywhere" in page
    assert "1800 000 0000" in page
    alice_savings.refresh_from_db()
    assert alice_savings.status == Account.Status.ACTIVE  # a GET changes nothing


def test_it_freezes_every_account_signs_out_everywhere_and_records_it(
    alice, alice_savings, alice_current, bob_savings, django_capture_on_commit_callbacks
):
    closed = AccountFactory(owner=alice, name="Old", status=Account.Status.CLOSED)
    other_device = _signed_in(alice)
    client = _signed_in(alice)

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(reverse("report_compromise"))

    assert response.status_code == 302 and response["Location"] == reverse("report_compromise_done")
    statuses = dict(Account.objects.filter(owner=alice).values_list("pk", "status"))
    assert statuses == {alice_savings.pk: "frozen", alice_current.pk: "frozen", closed.pk: "closed"}
    bob_savings.refresh_from_db()
    assert bob_savings.status == "active"
    assert client.get(reverse("dashboard")).status_code == 302
    assert other_device.get(reverse("dashboard")).status_code == 302
    event = AuditEvent.objects.get(action="security.compromise_reported")
    assert event.actor == alice
    assert event.before["accounts"] == {
        str(alice_savings.pk): "active",
        str(alice_current.pk): "active",
        str(closed.pk): "closed",
    }
    assert event.after["accounts"][str(alice_savings.pk)] == "frozen"
    assert event.after["devices_signed_out"] == 2
    assert len(callbacks) == 1  # the email, queued for after the commit

    done = client.get(response["Location"]).content.decode()
    assert f"SR{event.seq:010d}" in done and "Please call us on" in done


def test_a_transfer_from_a_frozen_account_is_refused(alice, alice_savings, alice_current):
    client = _signed_in(alice)
    client.post(reverse("report_compromise"))
    alice_savings.refresh_from_db()
    with pytest.raises(TransferError) as refused:
        services.transfer_create(
            initiator=alice,
            source=alice_savings,
            destination=alice_current,
            amount_paise=100,
            description="",
            idempotency_key=uuid.uuid4().hex,
        )
    assert refused.value.code == "account_inactive"
    fund(alice_savings, 100)  # money can still come in


def test_the_email_names_accounts_by_their_last_four_digits_only(
    alice, alice_savings, django_capture_on_commit_callbacks
):
    client = _signed_in(alice)
    with django_capture_on_commit_callbacks() as callbacks:
        client.post(reverse("report_compromise"))

    # The callback queues the task; run the task in-process on exactly what notify gave it.
    (queue,) = callbacks
    notification_send_task(*queue.args)

    (email,) = mail.outbox
    assert email.to == [alice.email]
    assert email.subject == "We have frozen payments from your SecureBank accounts"
    assert f"Savings, account ending {alice_savings.number[-4:]}" in email.body
    assert alice_savings.number not in email.body
    assert "SR" in email.body and "1800 000 0000" in email.body


def test_it_needs_a_sign_in_and_the_done_page_says_nothing_private(client):
    assert client.post(reverse("report_compromise"))["Location"].startswith("/login/")
    page = client.get(reverse("report_compromise_done")).content.decode()
    assert "Your accounts are frozen" in page and "reference" not in page
