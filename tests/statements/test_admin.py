"""Statements in the back office: read-only for every staff member; their files for those with the
permission to download them, each download audited with the staff member as actor."""

import datetime
import hashlib

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from portal.models import AuditEvent
from tests.factories import AccountFactory, UserFactory
from tests.twofactor import force_login_verified
from transactions.statements import generate, periods, services
from transactions.statements.models import Statement

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2026, 11, 20, 6, 30, tzinfo=datetime.UTC)


@pytest.fixture
def statement(alice) -> Statement:
    account = AccountFactory(owner=alice)
    with time_machine.travel(NOW, tick=False):
        made, _ = services.statement_request(
            user=alice, account_id=account.pk, period=periods.month(datetime.date(2026, 10, 1))
        )
        generate.build(made.pk)
    made.refresh_from_db()
    return made


def _staff(*perms: str) -> Client:
    user = UserFactory(email=f"staff{len(perms)}@example.com", is_staff=True)
    for codename in perms:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    client = Client()
    force_login_verified(client, user)
    return client


def test_staff_with_the_permission_download_a_statement_and_it_is_audited(statement):
    client = _staff("view_statement", "download_statement")
    page = client.get(reverse("admin:statements_statement_change", args=[statement.pk])).content.decode()
    url = reverse("admin:statement_file", args=[statement.pk, "pdf"])
    assert url in page
    response = client.get(url)
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == statement.pdf_sha256
    event = AuditEvent.objects.get(action="statement.download")
    assert event.actor.email == "staff2@example.com" and event.after["format"] == "pdf"


def test_staff_without_it_see_the_statement_but_not_its_files(statement):
    client = _staff("view_statement")
    assert client.get(reverse("admin:statements_statement_change", args=[statement.pk])).status_code == 200
    assert client.get(reverse("admin:statement_file", args=[statement.pk, "csv"])).status_code == 403
    assert not AuditEvent.objects.filter(action="statement.download").exists()


def test_nobody_changes_or_deletes_a_statement_in_the_admin(statement):
    client = _staff("view_statement", "change_statement", "delete_statement", "download_statement")
    change = reverse("admin:statements_statement_change", args=[statement.pk])
    client.post(change, {"status": "failed"})
    assert client.post(reverse("admin:statements_statement_delete", args=[statement.pk])).status_code == 403
    statement.refresh_from_db()
    assert statement.status == Statement.Status.READY
