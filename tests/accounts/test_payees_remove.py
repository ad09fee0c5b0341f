"""Removing a payee: accounts.services.payee_remove and /payees/<id>/remove/ (a confirm page, then POST)."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Payee
from accounts.services import PayeeError, payee_remove
from portal.models import AuditEvent
from tests.factories import PayeeFactory


@pytest.fixture
def payee(alice):
    return PayeeFactory(owner=alice, name="Ravi", account_number="50100012345678")


def _url(payee) -> str:
    return reverse("payee_remove", args=[payee.pk])


def test_it_keeps_the_payee_marked_removed_and_records_it(alice, payee):
    payee_remove(owner=alice, payee_id=payee.pk)
    payee.refresh_from_db()
    assert payee.removed_at is not None
    event = AuditEvent.objects.get(action="payee.remove")
    assert (event.actor, event.object_id) == (alice, str(payee.pk))
    assert event.before == {"name": "Ravi", "account": "••5678", "ifsc": "HDFC0001234", "bank": "HDFC Bank"}


def test_it_refuses_another_customers_payee_and_one_removed_already(alice, bob, payee):
    with pytest.raises(PayeeError):
        payee_remove(owner=bob, payee_id=payee.pk)
    payee.refresh_from_db()
    assert payee.removed_at is None
    payee_remove(owner=alice, payee_id=payee.pk)
    with pytest.raises(PayeeError):
        payee_remove(owner=alice, payee_id=payee.pk)
    assert AuditEvent.objects.filter(action="payee.remove").count() == 1


def test_the_confirm_page_removes_nothing(client, alice, payee):
    client.force_login(alice)
    response = client.get(_url(payee))
    assert response.status_code == 200
    assert "Remove" in response.content.decode() and "Ravi" in response.content.decode()
    payee.refresh_from_db()
    assert payee.removed_at is None


def test_posting_removes_it_and_it_is_gone_from_the_list_and_its_page(client, alice, payee):
    client.force_login(alice)
    response = client.post(_url(payee))
    assert (response.status_code, response["Location"]) == (303, reverse("payee_list"))
    listing = client.get(reverse("payee_list"))
    assert "Ravi was removed from your payees." in listing.content.decode()
    assert list(listing.context["payees"]) == []
    assert client.get(reverse("payee_detail", args=[payee.pk])).status_code == 404
    assert client.post(_url(payee)).status_code == 404


def test_another_customers_payee_is_404_and_unchanged(bob, payee):
    intruder = Client()
    intruder.force_login(bob)
    assert intruder.get(_url(payee)).status_code == 404
    assert intruder.post(_url(payee)).status_code == 404
    assert Payee.objects.get(pk=payee.pk).removed_at is None
    assert not AuditEvent.objects.filter(action="payee.remove").exists()


def test_anonymous_visitors_are_sent_to_sign_in(client, payee):
    assert client.post(_url(payee))["Location"].startswith(reverse("login"))
    assert Payee.objects.get(pk=payee.pk).removed_at is None
