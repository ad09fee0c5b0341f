"""Audit events are recorded for sign-ins, sign-outs, money movements and staff changes, in the transaction of
the action: a refused or rolled-back action leaves no event, a replayed transfer records nothing new."""

import json
import uuid

import pytest
from django.contrib.auth.models import Group
from django.db import transaction
from django.urls import reverse

from accounts.models import Account, User
from portal.audit import REDACTED, audit_record, redact
from portal.models import AuditEvent
from tests.factories import PASSWORD, UserFactory
from tests.keys import form_key
from tests.twofactor import force_login_verified
from transactions import services
from transactions.models import Transaction
from transactions.services import TransferError

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) pytest-audit"


def _events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("seq"))


def _only(action: str) -> AuditEvent:
    events = _events(action)
    assert len(events) == 1, f"{len(events)} {action} events"
    return events[0]


def _every_column(event: AuditEvent) -> str:
    return json.dumps(
        {f.attname: getattr(event, f.attname) for f in AuditEvent._meta.fields},
        default=str,
        ensure_ascii=False,
    )


@pytest.fixture
def staff(db) -> User:
    return UserFactory(email="staff@example.com", full_name="Staff Member", is_staff=True, is_superuser=True)


def test_it_records_a_successful_login_with_where_from(client, alice):
    response = client.post(
        reverse("login"), {"username": "alice@example.com", "password": PASSWORD}, HTTP_USER_AGENT=BROWSER
    )
    assert response.status_code == 302

    event = _only("login.success")
    assert (event.actor, event.actor_email) == (alice, "alice@example.com")
    assert (event.object_type, event.object_id) == ("accounts.user", str(alice.pk))
    assert event.ip == "127.0.0.1"
    assert event.user_agent == BROWSER
    assert event.request_id == response.get("X-Request-ID", "")
    assert event.hash is None  # sealed later, by audit_seal
    assert AuditEvent.objects.filter(
        seq=event.seq, before__isnull=True, after__isnull=True
    ).exists()  # SQL NULL


def test_it_records_a_failed_login_with_the_email_and_never_the_password(client, alice):
    response = client.post(
        reverse("login"), {"username": "Alice@Example.com", "password": "not-her-password-42"}
    )
    assert response.status_code == 200

    event = _only("login.failure")
    assert event.actor is None
    assert event.after == {"email": "alice@example.com"}
    assert "not-her-password-42" not in _every_column(event)
    assert not _events("login.success")


def test_it_records_a_failed_login_for_an_unknown_email_the_same_way(client, db):
    client.post(reverse("login"), {"username": "nobody@example.com", "password": "guess-guess-guess"})
    event = _only("login.failure")
    assert event.after == {"email": "nobody@example.com"}
    assert (event.object_type, event.object_id) == ("", "")


def test_it_records_a_logout(client, alice):
    client.force_login(alice)
    response = client.post(reverse("logout"), HTTP_USER_AGENT=BROWSER)
    assert response.status_code == 302

    event = _only("logout")
    assert event.actor == alice
    assert event.user_agent == BROWSER


def test_it_records_nothing_for_a_logout_without_a_session(client, db):
    client.post(reverse("logout"))
    assert not _events("logout")


def _confirm(client, source: Account, destination: Account, key: str):
    return client.post(
        reverse("transfer_confirm"),
        {
            "source": source.pk,
            "destination": destination.pk,
            "amount": "1,250.50",
            "description": "Rent share",
            "idempotency_key": form_key(key),
        },
        HTTP_USER_AGENT=BROWSER,
    )


def test_it_records_one_event_for_a_transfer_over_http_and_none_for_its_replay(
    client, alice, alice_savings, alice_current
):
    client.force_login(alice)
    response = _confirm(client, alice_savings, alice_current, "key-1")
    assert response.status_code == 303
    txn = Transaction.objects.get(idempotency_key=form_key("key-1"))

    event = _only("money.transfer")
    assert (event.actor, event.object_type, event.object_id) == (
        alice,
        "transactions.transaction",
        str(txn.pk),
    )
    assert event.after == {
        "amounts": {str(alice_savings.pk): -1_250_50, str(alice_current.pk): 1_250_50},
        "kind": "transfer",
        "description": "Rent share",
    }
    # Recorded below the view, in the ledger service: where from comes from the request being served.
    assert event.ip == "127.0.0.1"
    assert event.user_agent == BROWSER
    assert event.request_id == response.get("X-Request-ID", "")

    replay = _confirm(client, alice_savings, alice_current, "key-1")
    assert replay["Location"] == response["Location"]
    assert len(_events("money.transfer")) == 1


def test_it_records_one_event_for_a_transfer_by_the_service_and_none_for_its_replay(
    alice, alice_savings, alice_current
):
    def transfer() -> Transaction:
        return services.transfer_create(
            initiator=alice,
            source=alice_savings,
            destination=alice_current,
            amount_paise=99_00,
            description="Chai fund",
            idempotency_key="direct",
        )

    txn = transfer()
    assert transfer().pk == txn.pk

    event = _only("money.transfer")
    assert event.object_id == str(txn.pk)
    assert event.actor_email == "alice@example.com"
    assert event.after["amounts"] == {str(alice_savings.pk): -99_00, str(alice_current.pk): 99_00}
    assert (event.ip, event.user_agent, event.request_id) == (None, "", "")


def test_it_records_the_banks_own_postings_without_an_actor(alice_savings):
    event = _only("money.deposit")  # the fixture's opening deposit
    assert event.actor is None
    assert event.actor_email == ""
    assert event.after["amounts"][str(alice_savings.pk)] == 50_000_00


def test_it_records_nothing_when_the_posting_is_rolled_back(alice, alice_savings, alice_current):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.transfer_create(
            initiator=alice,
            source=alice_savings,
            destination=alice_current,
            amount_paise=10_00,
            description="",
            idempotency_key="rolled-back",
        )
        assert len(_events("money.transfer")) == 1  # written inside the posting's transaction...
        raise RuntimeError("the caller's transaction fails after the posting")

    assert not _events("money.transfer")  # ...and gone with it
    assert not Transaction.objects.filter(idempotency_key="rolled-back").exists()


def test_it_records_nothing_for_a_refused_transfer(alice, alice_savings, alice_current):
    with pytest.raises(TransferError):
        services.transfer_create(
            initiator=alice,
            source=alice_current,
            destination=alice_savings,
            amount_paise=1_00,
            description="",
            idempotency_key=str(uuid.uuid4()),
        )
    assert not _events("money.transfer")


def test_it_records_a_staff_change_in_admin_with_before_and_after(client, staff, alice_savings):
    force_login_verified(client, staff)
    url = reverse("admin:accounts_account_change", args=[alice_savings.pk])
    response = client.post(
        url,
        {
            "name": "Renamed",
            "status": "frozen",
            "opened_on": alice_savings.opened_on.isoformat(),
            "initial-opened_on": alice_savings.opened_on.isoformat(),  # as the browser posts it
        },
        HTTP_USER_AGENT=BROWSER,
    )
    assert response.status_code == 302

    event = _only("admin.change")
    assert (event.actor, event.object_type, event.object_id) == (
        staff,
        "accounts.account",
        str(alice_savings.pk),
    )
    assert event.before == {"name": "Savings", "status": "active"}
    assert event.after == {"name": "Renamed", "status": "frozen"}
    assert event.user_agent == BROWSER


def test_it_records_a_user_added_in_admin_without_the_password(client, staff):
    force_login_verified(client, staff)
    new_password = "Sixteen-chars-pass-99"
    response = client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "dev@example.com",
            "full_name": "Dev Rao",
            "password1": new_password,
            "password2": new_password,
            "usable_password": "true",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(email="dev@example.com")

    event = _only("admin.add")
    assert (event.actor, event.object_id) == (staff, str(user.pk))
    assert event.after["email"] == "dev@example.com"
    assert event.after["password1"] == REDACTED
    assert new_password not in _every_column(event)


def test_it_records_a_password_change_in_admin_without_the_password(client, staff, alice):
    force_login_verified(client, staff)
    new_password = "Another-long-pass-77"
    response = client.post(
        reverse("admin:auth_user_password_change", args=[alice.pk]),
        {"password1": new_password, "password2": new_password, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]

    event = _only("admin.change")
    assert (event.actor, event.object_id) == (staff, str(alice.pk))
    assert new_password not in _every_column(event)
    assert User.objects.get(pk=alice.pk).check_password(new_password)


def test_it_records_a_bulk_delete_in_admin(client, staff):
    force_login_verified(client, staff)
    group = Group.objects.create(name="Auditors")
    response = client.post(
        reverse("admin:auth_group_changelist"),
        {"action": "delete_selected", "_selected_action": [group.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Group.objects.filter(pk=group.pk).exists()

    event = _only("admin.delete")
    assert (event.actor, event.object_type, event.object_id) == (staff, "auth.group", str(group.pk))
    assert event.before == {"repr": "Auditors"}


def test_it_redacts_secrets_at_any_depth():
    value = {
        "password": "p",
        "new_password2": "p",
        "otp": "123456",
        "totp_secret": "s",
        "session_key": "k",
        "csrfmiddlewaretoken": "t",
        "backup_codes": ["a", "b"],
        "form": {"pin": "1234", "amount": 5, "footprint": "kept", "idempotency_key": "kept"},
        "items": [{"api_key": "k", "name": "kept"}],
    }
    assert redact(value) == {
        "password": REDACTED,
        "new_password2": REDACTED,
        "otp": REDACTED,
        "totp_secret": REDACTED,
        "session_key": REDACTED,
        "csrfmiddlewaretoken": REDACTED,
        "backup_codes": REDACTED,
        "form": {"pin": REDACTED, "amount": 5, "footprint": "kept", "idempotency_key": "kept"},
        "items": [{"api_key": REDACTED, "name": "kept"}],
    }


def test_it_truncates_the_user_agent_and_ignores_a_malformed_address(rf, alice):
    request = rf.get("/", HTTP_USER_AGENT="x" * 1000, REMOTE_ADDR="not-an-ip")
    request.user = alice
    event = audit_record(action="test.event", request=request)
    event.refresh_from_db()
    assert event.actor == alice
    assert len(event.user_agent) == 300
    assert event.ip is None
