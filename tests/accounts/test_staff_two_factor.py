"""Staff second factors come only out of band: the customer's 2FA pages refuse staff, and another verified
member of staff holding `accounts.provision_staff_device` can give a colleague a new authenticator app."""

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import AuthenticatorApp, UserSession
from accounts.tasks import notification_send_task
from portal.models import AuditEvent
from tests.factories import PASSWORD, UserFactory
from tests.twofactor import code_now, enrol, force_login_verified

ADMIN = reverse("admin:index")


@pytest.fixture
def staff(db):
    return UserFactory(email="staff@example.com", is_staff=True)


@pytest.fixture
def admin_user(db):
    user = UserFactory(email="admin@example.com", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["provision_staff_device", "view_user"])
    )
    return user


def _provision_url(user) -> str:
    return reverse("admin:provision_staff_device", args=[user.pk])


@pytest.mark.parametrize("name", ["two_factor", "two_factor_disable", "two_factor_backup_codes_new"])
def test_it_refuses_staff_on_the_customers_two_factor_pages(client, staff, name):
    device = enrol(staff)
    force_login_verified(client, staff)
    for method in (client.get, client.post):
        response = method(reverse(name))
        assert response.status_code == 403
        assert "set up by an administrator" in response.content.decode()
    assert AuthenticatorApp.objects.get(user=staff) == device  # nothing changed


def test_it_lets_a_verified_colleague_with_the_permission_provision_a_staff_device(admin_user, staff):
    victim_session = Client()
    victim_session.force_login(staff)
    force_login_verified(provider := Client(), admin_user)
    change = provider.get(reverse("admin:accounts_user_change", args=[staff.pk])).content.decode()
    assert _provision_url(staff) in change  # the link on the colleague's page in the admin
    page = provider.get(_provision_url(staff))
    assert page.status_code == 200 and "<form" in page.content.decode()

    response = provider.post(_provision_url(staff))
    assert response.status_code == 200
    html = response.content.decode()
    device = AuthenticatorApp.objects.get(user=staff, confirmed=True)
    assert 'class="qr-code"' in html and "Backup codes" in html
    assert response["Cache-Control"].startswith("max-age=0") or "no-cache" in response["Cache-Control"]

    event = AuditEvent.objects.get(action="2fa.enable")
    assert (event.actor, event.object_id, event.after["by"]) == (
        admin_user,
        str(staff.pk),
        "admin provisioning",
    )
    assert victim_session.get(reverse("dashboard")).status_code == 302  # their sessions ended
    assert not UserSession.objects.filter(user=staff, ended_at__isnull=True).exists()

    # The new app signs the colleague into the admin with a code.
    fresh = Client()
    fresh.post(reverse("login"), {"username": staff.email, "password": PASSWORD, "next": ADMIN})
    assert fresh.post(reverse("login_verify"), {"code": code_now(device)})["Location"] == ADMIN
    assert fresh.get(ADMIN).status_code == 200


def test_it_tells_the_colleague_by_email(admin_user, staff, django_capture_on_commit_callbacks):
    force_login_verified(provider := Client(), admin_user)
    with django_capture_on_commit_callbacks() as callbacks:
        provider.post(_provision_url(staff))
    for callback in callbacks:
        if getattr(callback, "args", None):
            notification_send_task(*callback.args)
    (email,) = [m for m in mail.outbox if m.to == [staff.email]]
    assert "admin@example.com" in email.body


def test_it_refuses_staff_without_the_permission_or_a_verified_session(admin_user, staff):
    force_login_verified(plain := Client(), UserFactory(email="plain@example.com", is_staff=True))
    assert plain.post(_provision_url(staff)).status_code == 404

    unverified = Client()
    unverified.force_login(admin_user)  # the right password, no code this session
    assert unverified.post(_provision_url(staff)).status_code == 302
    assert not AuthenticatorApp.objects.filter(user=staff).exists()


def test_it_refuses_to_provision_oneself_or_a_customer(admin_user, alice):
    force_login_verified(provider := Client(), admin_user)
    own = AuthenticatorApp.objects.get(user=admin_user)
    response = provider.post(_provision_url(admin_user))
    assert response.status_code == 400
    assert AuthenticatorApp.objects.get(user=admin_user) == own
    assert provider.post(_provision_url(alice)).status_code == 404
