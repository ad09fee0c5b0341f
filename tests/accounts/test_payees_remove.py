"""Removing a payee: accounts.services.payee_remove and /payees/<id>/remove/ (a confirm page, then POST)."""

import datetime
import uuid
import zoneinfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from accounts.models import Payee
from accounts.services import PayeeError, payee_remove
from portal.models import AuditEvent
from tests.factories import PayeeFactory
from transactions.scheduled.services import scheduled_transfer_create, scheduled_transfer_pause

IST = zoneinfo.ZoneInfo("Asia/Kolkata")


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
    gone = client.get(reverse("payee_detail", args=[payee.pk]))
    assert gone.status_code == 410
    assert "This payee was removed on " in gone.content.decode()
    assert client.post(_url(payee)).status_code == 404


def test_a_removed_payees_old_page_says_when_and_is_404_to_another_customer(client, alice, bob, payee):
    from portal.local_time import date_and_time

    payee_remove(owner=alice, payee_id=payee.pk)
    payee.refresh_from_db()
    url = reverse("payee_detail", args=[payee.pk])
    client.force_login(alice)
    page = client.get(url)
    assert page.status_code == 410
    assert f"This payee was removed on {date_and_time(payee.removed_at)}." in page.content.decode()
    assert "Ravi" in page.content.decode() and "50100012345678" not in page.content.decode()
    assert client.post(url, {"name": "New name"}).status_code == 410
    payee.refresh_from_db()
    assert payee.name == "Ravi"
    client.force_login(bob)
    assert client.get(url).status_code == 404


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


def _schedule(owner, source, payee, **overrides):
    fields = {
        "owner": owner,
        "source": source,
        "payee": payee,
        "amount_paise": 1_000_00,
        "description": "",
        "frequency": "once",
        "first_date": datetime.date(2026, 12, 7),
        "create_key": uuid.uuid4().hex,
        **overrides,
    }
    return scheduled_transfer_create(**fields)


@pytest.fixture
def _sunday():
    with time_machine.travel(datetime.datetime(2026, 12, 6, 10, tzinfo=IST), tick=False):
        yield


@pytest.mark.usefixtures("_sunday")
def test_removing_cancels_the_running_schedules_to_the_payee_and_no_other(alice, bob, alice_savings, payee):
    once = _schedule(alice, alice_savings, payee)
    monthly = _schedule(alice, alice_savings, payee, frequency="monthly")
    scheduled_transfer_pause(user=alice, schedule_id=monthly.pk)
    other = _schedule(alice, alice_savings, PayeeFactory(owner=alice, name="Meera"))
    payee_remove(owner=alice, payee_id=payee.pk)
    for schedule in (once, monthly):
        schedule.refresh_from_db()
        assert (schedule.status, schedule.status_reason) == ("cancelled", "The payee was removed.")
        assert schedule.next_run_date is None
    other.refresh_from_db()
    assert other.status == "active"
    cancels = AuditEvent.objects.filter(action="transfer.schedule.cancel")
    assert sorted(int(e.object_id) for e in cancels) == sorted([once.pk, monthly.pk])


@pytest.mark.usefixtures("_sunday")
def test_a_refused_removal_cancels_nothing(alice, bob, alice_savings, payee):
    schedule = _schedule(alice, alice_savings, payee)
    with pytest.raises(PayeeError):
        payee_remove(owner=bob, payee_id=payee.pk)
    schedule.refresh_from_db()
    assert schedule.status == "active"


@pytest.mark.usefixtures("_sunday")
def test_the_confirm_page_says_which_schedules_will_be_cancelled(client, alice, alice_savings, payee):
    _schedule(alice, alice_savings, payee)
    client.force_login(alice)
    page = client.get(_url(payee)).content.decode()
    assert "1 scheduled transfer to them will be cancelled:" in page
    assert "₹1,000.00 on 7 Dec 2026" in page
    _schedule(alice, alice_savings, payee, frequency="monthly", first_date=datetime.date(2027, 1, 1))
    page = client.get(_url(payee)).content.decode()
    assert "2 scheduled transfers to them will be cancelled:" in page
    assert "₹1,000.00 every month, next on 1 Jan 2027" in page


def test_the_confirm_page_says_nothing_of_schedules_when_there_are_none(client, alice, payee):
    client.force_login(alice)
    assert "will be cancelled" not in client.get(_url(payee)).content.decode()
