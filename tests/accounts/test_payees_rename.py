"""Renaming a payee: accounts.services.payee_rename and the payee page's rename form (POST /payees/<id>/)."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.services import PayeeError, payee_rename
from portal.models import AuditEvent
from tests.factories import PayeeFactory


@pytest.fixture
def payee(alice):
    return PayeeFactory(owner=alice, name="Ravi")


def _url(payee) -> str:
    return reverse("payee_detail", args=[payee.pk])


def test_it_renames_and_records_it(alice, payee):
    renamed = payee_rename(owner=alice, payee_id=payee.pk, name="  रवि (landlord)  ")
    payee.refresh_from_db()
    assert renamed.name == payee.name == "रवि (landlord)"
    event = AuditEvent.objects.get(action="payee.rename")
    assert (event.actor, event.object_id, event.before, event.after) == (
        alice,
        str(payee.pk),
        {"name": "Ravi"},
        {"name": "रवि (landlord)"},
    )


def test_the_same_name_changes_and_records_nothing(alice, payee):
    payee_rename(owner=alice, payee_id=payee.pk, name="Ravi")
    assert not AuditEvent.objects.filter(action="payee.rename").exists()


def test_it_refuses_another_customers_or_a_removed_payee(alice, bob, payee):
    with pytest.raises(PayeeError) as caught:
        payee_rename(owner=bob, payee_id=payee.pk, name="Mine now")
    assert caught.value.code == "not_found"
    removed = PayeeFactory(owner=alice, removed_at=payee.created_at)
    with pytest.raises(PayeeError):
        payee_rename(owner=alice, payee_id=removed.pk, name="Back")
    payee.refresh_from_db()
    assert payee.name == "Ravi"


def test_the_page_renames_it(client, alice, payee):
    client.force_login(alice)
    response = client.post(_url(payee), {"name": "Ravi Kumar"})
    assert (response.status_code, response["Location"]) == (303, _url(payee))
    payee.refresh_from_db()
    assert payee.name == "Ravi Kumar"
    assert "Renamed to Ravi Kumar." in client.get(_url(payee)).content.decode()


def test_the_page_shows_a_bad_name_and_changes_nothing(client, alice, payee):
    client.force_login(alice)
    for name, error in (("   ", "Enter a name for the payee."), ("x" * 101, "at most 100 characters")):
        response = client.post(_url(payee), {"name": name})
        assert response.status_code == 200
        assert error in response.content.decode()
    payee.refresh_from_db()
    assert payee.name == "Ravi"


def test_another_customers_payee_is_404_and_unchanged(alice, bob, payee):
    intruder = Client()
    intruder.force_login(bob)
    assert intruder.post(_url(payee), {"name": "Bob's now"}).status_code == 404
    payee.refresh_from_db()
    assert payee.name == "Ravi"
    assert not AuditEvent.objects.filter(action="payee.rename").exists()


def test_anonymous_visitors_are_sent_to_sign_in(client, payee):
    response = client.post(_url(payee), {"name": "Anyone"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    payee.refresh_from_db()
    assert payee.name == "Ravi"


def test_it_takes_get_and_post_only(client, alice, payee):
    client.force_login(alice)
    assert client.put(_url(payee)).status_code == 405
    assert client.delete(_url(payee)).status_code == 405


def test_the_security_page_lists_the_changes_with_the_payees_name(client, alice, payee):
    client.force_login(alice)
    client.post(_url(payee), {"name": "Ravi Kumar"})
    client.post(reverse("payee_remove", args=[payee.pk]))
    body = client.get(reverse("security")).content.decode()
    assert "Payee renamed: Ravi → Ravi Kumar" in body
    assert "Payee removed: Ravi Kumar" in body
