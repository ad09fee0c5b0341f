"""A customer made staff in the admin loses the second factor they set up themselves (review finding 2): staff
devices come only from `manage.py enrol_totp` or a colleague's provisioning page."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice

from accounts import otp
from accounts.models import AuthenticatorApp, UserSession
from portal.models import AuditEvent
from tests.factories import PASSWORD, UserFactory
from tests.twofactor import BACKUP_CODES, code_now, enrol, force_login_verified

ADMIN = reverse("admin:index")


@pytest.fixture
def staff(db):
    return UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)


@pytest.fixture
def staff_client(staff):
    client = Client()
    force_login_verified(client, staff)
    return client


def _change(staff_client: Client, user, **fields):
    form = {"email": user.email, "full_name": user.full_name, "is_active": "on"}
    form.update({name: value for name, value in fields.items() if value is not None})
    return staff_client.post(reverse("admin:accounts_user_change", args=[user.pk]), form)


def test_it_removes_the_app_and_backup_codes_a_customer_enrolled_when_they_are_made_staff(
    staff, staff_client, alice, django_capture_on_commit_callbacks
):
    device = enrol(alice)
    code = code_now(device)
    force_login_verified(alices_browser := Client(), alice)
    assert alices_browser.get(reverse("dashboard")).status_code == 200

    with django_capture_on_commit_callbacks() as callbacks:
        response = _change(staff_client, alice, is_staff="on")
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.is_staff

    assert not AuthenticatorApp.objects.filter(user=alice).exists()
    assert not StaticDevice.objects.filter(user=alice).exists()
    assert not otp.code_check(alice, code).ok and not otp.code_check(alice, BACKUP_CODES[0]).ok

    event = AuditEvent.objects.get(action="2fa.disable")
    assert (event.actor, event.object_id) == (staff, str(alice.pk))
    assert event.before == {"app": True, "backup_code_count": len(BACKUP_CODES)}
    assert event.after == {"app": False, "backup_code_count": 0, "reason": "promoted to staff"}
    assert AuditEvent.objects.get(action="admin.change").after == {"is_staff": True}

    # Every session of hers ended (the verified one, which would otherwise open the admin now, too); she is
    # told by email.
    assert alices_browser.get(ADMIN).status_code == 302
    assert alices_browser.get(reverse("dashboard")).status_code == 302
    assert not UserSession.objects.filter(user=alice, ended_at__isnull=True).exists()
    assert [c.args[:2] for c in callbacks if getattr(c, "args", None)] == [(alice.pk, "two_factor_changed")]

    # She signs in with her password and is not let into the admin until a colleague provisions her.
    fresh = Client()
    assert fresh.post(reverse("login"), {"username": alice.email, "password": PASSWORD}).status_code == 302
    response = fresh.get(ADMIN, follow=True)
    assert response.status_code == 403
    assert "enrol_totp" in response.content.decode()


def test_a_colleague_provisions_the_new_staff_member_afterwards(staff, staff_client, alice):
    staff.user_permissions.add(Permission.objects.get(codename="provision_staff_device"))
    enrol(alice)
    _change(staff_client, alice, is_staff="on")
    response = staff_client.post(reverse("admin:provision_staff_device", args=[alice.pk]))
    assert response.status_code == 200
    device = AuthenticatorApp.objects.get(user=alice, confirmed=True)

    fresh = Client()
    fresh.post(reverse("login"), {"username": alice.email, "password": PASSWORD, "next": ADMIN})
    assert fresh.post(reverse("login_verify"), {"code": code_now(device)})["Location"] == ADMIN
    assert fresh.get(ADMIN).status_code == 200


def test_it_leaves_the_second_factor_alone_when_staff_change_anything_else(staff, staff_client, alice):
    device = enrol(alice)
    colleague = UserFactory(email="colleague@example.com", is_staff=True)
    provisioned = enrol(colleague)

    assert _change(staff_client, alice, full_name="Alice Iyer-Rao").status_code == 302
    assert _change(staff_client, colleague, full_name="A Colleague", is_staff="on").status_code == 302

    assert AuthenticatorApp.objects.get(user=alice) == device
    assert AuthenticatorApp.objects.get(user=colleague) == provisioned
    assert otp.backup_codes_left(alice) == otp.backup_codes_left(colleague) == len(BACKUP_CODES)
    assert not AuditEvent.objects.filter(action="2fa.disable").exists()


def test_it_promotes_a_customer_without_two_factor_auth_and_records_no_removal(staff, staff_client, bob):
    assert _change(staff_client, bob, is_staff="on").status_code == 302
    bob.refresh_from_db()
    assert bob.is_staff
    assert not AuditEvent.objects.filter(action="2fa.disable").exists()
