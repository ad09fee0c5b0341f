"""`manage.py enrol_totp`: how the first member of staff gets into the two-factor-only admin."""

import io
import re

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from accounts.models import AuthenticatorApp, UserSession
from accounts.tasks import notification_send_task
from portal.models import AuditEvent
from tests.factories import PASSWORD, UserFactory
from tests.twofactor import code_now


@pytest.fixture
def staff(db):
    return UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)


def test_it_prints_a_key_that_signs_staff_into_the_admin(client, staff):
    out = io.StringIO()
    call_command("enrol_totp", "Staff@Example.com", "--no-qr", stdout=out)
    text = out.getvalue()
    device = AuthenticatorApp.objects.get(user=staff, confirmed=True)
    assert device.config_url in text
    assert len(re.findall(r"[a-z2-9]{5}-[a-z2-9]{5}", text)) == 10
    assert AuditEvent.objects.get(action="2fa.enable").object_id == str(staff.pk)

    client.post(reverse("login"), {"username": staff.email, "password": PASSWORD, "next": "/admin/"})
    client.post(reverse("login_verify"), {"code": code_now(device)})
    assert client.get(reverse("admin:index")).status_code == 200


def test_it_draws_the_qr_code_in_the_terminal(staff):
    out = io.StringIO()
    call_command("enrol_totp", staff.email, stdout=out)
    assert "█" in out.getvalue() or "▀" in out.getvalue()


def test_it_refuses_customers_and_an_existing_device_without_replace(staff, alice):
    with pytest.raises(CommandError, match="No staff member"):
        call_command("enrol_totp", alice.email, stdout=io.StringIO())
    call_command("enrol_totp", staff.email, "--no-qr", stdout=io.StringIO())
    with pytest.raises(CommandError, match="already on"):
        call_command("enrol_totp", staff.email, "--no-qr", stdout=io.StringIO())
    first = AuthenticatorApp.objects.get(user=staff).key
    call_command("enrol_totp", staff.email, "--no-qr", "--replace", stdout=io.StringIO())
    assert AuthenticatorApp.objects.get(user=staff).key != first


def test_replacing_a_device_ends_every_session_and_tells_the_person(
    staff, django_capture_on_commit_callbacks
):
    """The operator replaces a (maybe stolen) staff app: whoever holds a session of theirs is signed out at
    once, and the person hears of it, as with every other 2FA change."""
    call_command("enrol_totp", staff.email, "--no-qr", stdout=io.StringIO())
    holder = Client()
    holder.post(reverse("login"), {"username": staff.email, "password": PASSWORD})
    holder.post(reverse("login_verify"), {"code": code_now(AuthenticatorApp.objects.get(user=staff))})
    assert holder.get(reverse("admin:index")).status_code == 200

    with django_capture_on_commit_callbacks() as callbacks:
        call_command("enrol_totp", staff.email, "--no-qr", "--replace", stdout=io.StringIO())
    assert holder.get(reverse("admin:index")).status_code == 302
    assert holder.get(reverse("dashboard")).status_code == 302
    assert not UserSession.objects.filter(user=staff, ended_at__isnull=True).exists()

    (queued,) = [c for c in callbacks if getattr(c, "args", None) and c.args[1] == "two_factor_changed"]
    notification_send_task(*queued.args)
    (email,) = mail.outbox
    assert email.to == [staff.email]
    assert "replacing the old one" in email.body
