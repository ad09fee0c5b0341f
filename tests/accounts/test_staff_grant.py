"""`manage.py staff_grant`: how someone becomes staff (or stops), as the database owner (accounts/0006)."""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connections
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice

from accounts.models import AuthenticatorApp
from manage import OWNER_COMMANDS
from portal.models import AuditEvent
from tests.factories import UserFactory
from tests.twofactor import enrol, force_login_verified

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("staff_grant", *args, stdout=out)
    return out.getvalue()


def test_it_makes_a_customer_staff_audits_it_and_removes_the_app_they_enrolled(alice):
    enrol(alice)
    text = _run("Alice@Example.com")
    alice.refresh_from_db()
    assert alice.is_staff and not alice.is_superuser
    assert not AuthenticatorApp.objects.filter(user=alice).exists()
    assert not StaticDevice.objects.filter(user=alice).exists()
    assert "manage.py enrol_totp alice@example.com" in text

    event = AuditEvent.objects.get(action="staff.grant")
    assert (event.actor, event.object_id) == (None, str(alice.pk))
    assert event.before == {"is_staff": False, "is_superuser": False}
    assert event.after == {"is_staff": True, "is_superuser": False, "by": "manage.py staff_grant"}
    assert AuditEvent.objects.get(action="2fa.disable").after["reason"] == "promoted to staff"


def test_it_makes_a_superuser_and_keeps_a_provisioned_staff_app(alice):
    _run(alice.email)
    provisioned = enrol(alice)  # as enrol_totp or a colleague would
    _run(alice.email, "--superuser")
    alice.refresh_from_db()
    assert alice.is_staff and alice.is_superuser
    assert AuthenticatorApp.objects.get(user=alice) == provisioned
    assert AuditEvent.objects.filter(action="staff.grant").count() == 2


def test_it_revokes(alice):
    _run(alice.email, "--superuser")
    _run(alice.email, "--revoke", "--superuser")
    alice.refresh_from_db()
    assert alice.is_staff and not alice.is_superuser

    force_login_verified(browser := Client(), alice)
    assert browser.get(reverse("admin:index")).status_code == 200
    _run(alice.email, "--revoke")
    alice.refresh_from_db()
    assert not alice.is_staff and not alice.is_superuser
    assert browser.get(reverse("admin:index")).status_code == 302
    events = AuditEvent.objects.filter(action="staff.revoke").order_by("seq")
    assert [e.after for e in events] == [
        {"is_staff": True, "is_superuser": False, "by": "manage.py staff_grant"},
        {"is_staff": False, "is_superuser": False, "by": "manage.py staff_grant"},
    ]


def test_it_changes_and_audits_nothing_when_there_is_nothing_to_change(alice):
    assert "Nothing to change" in _run(alice.email, "--revoke")
    assert not AuditEvent.objects.filter(action__startswith="staff.").exists()


def test_it_refuses_an_unknown_email_and_changes_nothing(alice):
    with pytest.raises(CommandError, match="No user"):
        _run("nobody@example.com", "--superuser")
    alice.refresh_from_db()
    assert not alice.is_staff
    assert not AuditEvent.objects.exists()


def test_it_runs_as_the_owner_through_manage_py():
    assert {"staff_grant", "createsuperuser"} <= OWNER_COMMANDS


@pytest.mark.django_db(transaction=True)
def test_it_promotes_through_manage_py_with_the_runtime_role_as_database_url(settings):
    """The operator's shell: DATABASE_URL is the runtime role (refused by the trigger), DATABASE_OWNER_URL
    the owner, which manage.py connects as for this command."""
    UserFactory(email="ops@example.com")
    params = connections["default"].settings_dict
    where = f"{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}/{params['NAME']}"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_RUNTIME_ROLE"}
    env.update(
        {
            "DATABASE_URL": f"postgres://{settings.DATABASE_RUNTIME_ROLE}@{where}",
            "DATABASE_OWNER_URL": f"postgres://{params['USER']}@{where}",
        }
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "staff_grant", "ops@example.com"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "is now staff" in result.stdout
