"""Staff are made from the shell, not in the admin: the user form shows `is_staff` and `is_superuser`
read-only (the runtime role the admin runs on may not turn them on: accounts/migrations/0006), and
`manage.py staff_grant` (as the database owner) promotes. A customer made staff loses the second factor they
set up themselves (review finding 2): staff devices come only from `manage.py enrol_totp` or a colleague's
provisioning page."""

import io

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice

from accounts import otp
from accounts.models import AuthenticatorApp, User, UserSession
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


def _grant(user, *args: str) -> str:
    out = io.StringIO()
    call_command("staff_grant", user.email, *args, stdout=out)
    return out.getvalue()


def test_it_removes_the_app_and_backup_codes_a_customer_enrolled_when_they_are_made_staff(
    alice, django_capture_on_commit_callbacks
):
    device = enrol(alice)
    code = code_now(device)
    force_login_verified(alices_browser := Client(), alice)
    assert alices_browser.get(reverse("dashboard")).status_code == 200

    with django_capture_on_commit_callbacks() as callbacks:
        _grant(alice)
    alice.refresh_from_db()
    assert alice.is_staff

    assert not AuthenticatorApp.objects.filter(user=alice).exists()
    assert not StaticDevice.objects.filter(user=alice).exists()
    assert not otp.code_check(alice, code).ok and not otp.code_check(alice, BACKUP_CODES[0]).ok

    event = AuditEvent.objects.get(action="2fa.disable")
    assert (event.actor, event.object_id) == (None, str(alice.pk))
    assert event.before == {"app": True, "backup_code_count": len(BACKUP_CODES)}
    assert event.after == {"app": False, "backup_code_count": 0, "reason": "promoted to staff"}
    assert AuditEvent.objects.get(action="staff.grant").after["is_staff"] is True

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
    _grant(alice)
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
    assert _change(staff_client, colleague, full_name="A Colleague").status_code == 302
    assert "Nothing to change" in _grant(colleague)  # already staff: the provisioned app stays

    assert AuthenticatorApp.objects.get(user=alice) == device
    assert AuthenticatorApp.objects.get(user=colleague) == provisioned
    assert otp.backup_codes_left(alice) == otp.backup_codes_left(colleague) == len(BACKUP_CODES)
    assert not AuditEvent.objects.filter(action="2fa.disable").exists()


def test_it_promotes_a_customer_without_two_factor_auth_and_records_no_removal(bob):
    _grant(bob)
    bob.refresh_from_db()
    assert bob.is_staff
    assert not AuditEvent.objects.filter(action="2fa.disable").exists()


def test_it_shows_the_staff_flags_read_only_with_how_to_grant_them(staff_client, alice):
    response = staff_client.get(reverse("admin:accounts_user_change", args=[alice.pk]))
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert "is_staff" not in form.fields and "is_superuser" not in form.fields
    page = response.content.decode()
    assert 'name="is_staff"' not in page and 'name="is_superuser"' not in page
    assert "manage.py staff_grant" in page


def test_it_changes_no_staff_flag_from_a_post_that_sets_them(staff_client, alice):
    device = enrol(alice)
    response = _change(staff_client, alice, full_name="Alice Iyer-Rao", is_staff="on", is_superuser="on")
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.full_name == "Alice Iyer-Rao"  # the rest of the form is saved
    assert not alice.is_staff and not alice.is_superuser
    assert AuthenticatorApp.objects.get(user=alice) == device
    assert AuditEvent.objects.get(action="admin.change").after == {"full_name": "Alice Iyer-Rao"}


def test_it_creates_no_staff_from_the_add_form(staff_client):
    response = staff_client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "new@example.com",
            "full_name": "New Person",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "usable_password": "true",
            "is_staff": "on",
            "is_superuser": "on",
        },
    )
    assert response.status_code == 302, response.content
    created = User.objects.get(email="new@example.com")
    assert not created.is_staff and not created.is_superuser


def test_it_still_deactivates_staff_in_the_admin(staff_client):
    colleague = UserFactory(email="colleague@example.com", is_staff=True)
    form = {"email": colleague.email, "full_name": colleague.full_name}  # Active unticked
    response = staff_client.post(reverse("admin:accounts_user_change", args=[colleague.pk]), form)
    assert response.status_code == 302
    colleague.refresh_from_db()
    assert not colleague.is_active and colleague.is_staff
