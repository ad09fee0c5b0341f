"""`manage.py enrol_totp`: how the first member of staff gets into the two-factor-only admin."""

import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.models import AuthenticatorApp
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
