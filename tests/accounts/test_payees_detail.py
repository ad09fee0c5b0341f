"""/payees/<id>/: the payee's details, the time left in cooling-off, and what it can receive; another
customer's payee or a removed one is a 404."""

import datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from tests.factories import PayeeFactory

ADDED = datetime.datetime(2026, 12, 5, 12, 0, tzinfo=datetime.UTC)  # 5:30 PM in India


@pytest.fixture
def payee(alice):
    return PayeeFactory(owner=alice, name="Ravi", account_number="50100012345678", created_at=ADDED)


def _page(client, payee, after: datetime.timedelta) -> str:
    with time_machine.travel(ADDED + after, tick=False):
        client.force_login(payee.owner)  # a session of that moment (sessions end after 12 hours)
        response = client.get(reverse("payee_detail", args=[payee.pk]))
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def signed_in(client, alice):
    client.force_login(alice)
    return client


@pytest.mark.parametrize(
    ("after", "left"),
    [
        (datetime.timedelta(0), "24 hours"),
        (datetime.timedelta(seconds=1), "24 hours"),  # rounded up: never less than is left
        (datetime.timedelta(seconds=60), "23 hours 59 minutes"),
        (datetime.timedelta(hours=22, minutes=30), "1 hour 30 minutes"),
        (datetime.timedelta(hours=24) - datetime.timedelta(seconds=1), "1 minute"),
    ],
)
def test_it_shows_the_time_left_in_cooling_off(signed_in, payee, after, left):
    body = _page(signed_in, payee, after)
    assert "Can receive money from 6 Dec 2026, 5:30 PM IST" in body
    assert f'Time left: <strong class="nowrap">{left}</strong>' in body
    assert "destination=payee-" not in body  # no Send money yet


def test_after_cooling_off_it_offers_send_money_under_the_cap(signed_in, payee):
    body = _page(signed_in, payee, datetime.timedelta(hours=24))
    assert "Time left: <strong class" not in body
    assert "New payee: up to ₹1,00,000.00 a day until 10 Dec 2026, 5:30 PM IST" in body
    assert f"/transfers/new/?destination=payee-{payee.pk}" in body
    body = _page(signed_in, payee, datetime.timedelta(days=5))
    assert "Ready to receive money" in body and "New payee" not in body


def test_it_shows_the_details_with_the_number_masked(signed_in, payee):
    body = _page(signed_in, payee, datetime.timedelta(days=30))
    assert "HDFC Bank" in body and "HDFC0001234" in body and "••5678" in body
    assert "50100012345678" not in body
    assert "5 Dec 2026, 5:30 PM IST" in body  # added


def test_another_customers_payee_is_404_and_ones_own_removed_payee_says_so(alice, bob, payee):
    intruder = Client()
    intruder.force_login(bob)
    assert intruder.get(reverse("payee_detail", args=[payee.pk])).status_code == 404
    owner = Client()
    owner.force_login(alice)
    gone = PayeeFactory(owner=alice, removed_at=ADDED)
    assert owner.get(reverse("payee_detail", args=[gone.pk])).status_code == 410
    assert intruder.get(reverse("payee_detail", args=[gone.pk])).status_code == 404
    assert owner.get(reverse("payee_detail", args=[2_000_000_000])).status_code == 404
