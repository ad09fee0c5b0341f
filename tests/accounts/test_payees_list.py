"""/payees/: the customer's payees, what each can receive now, and a fixed number of queries."""

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import PayeeFactory

LIST = reverse("payee_list")
ADDED = datetime.datetime(2026, 12, 5, 12, 0, tzinfo=datetime.UTC)  # 5:30 PM in India


@pytest.fixture
def signed_in(client, alice):
    client.force_login(alice)
    return client


def test_it_shows_an_empty_state_with_a_way_to_add(signed_in):
    body = signed_in.get(LIST).content.decode()
    assert "No payees yet" in body
    assert reverse("payee_new") in body


def test_it_lists_only_the_customers_active_payees_by_name(signed_in, alice, bob):
    PayeeFactory(owner=alice, name="Zoya")
    PayeeFactory(owner=alice, name="Anil")
    PayeeFactory(owner=alice, name="Gone", removed_at=ADDED)
    PayeeFactory(owner=bob, name="Bob's landlord")
    response = signed_in.get(LIST)
    assert [p.name for p in response.context["payees"]] == ["Anil", "Zoya"]
    body = response.content.decode()
    assert "Gone" not in body and "Bob&#x27;s landlord" not in body


def test_it_shows_bank_and_masked_number_never_the_whole(signed_in, alice):
    PayeeFactory(owner=alice, account_number="50100012345678")
    body = signed_in.get(LIST).content.decode()
    assert "HDFC Bank" in body and "••5678" in body
    assert "50100012345678" not in body


@pytest.mark.parametrize(
    ("after", "status", "sends"),
    [
        (datetime.timedelta(0), "Can receive money from 6 Dec 2026, 5:30 PM IST", False),
        (
            datetime.timedelta(hours=24) - datetime.timedelta(seconds=1),
            "Can receive money from 6 Dec 2026, 5:30 PM IST",
            False,
        ),
        (
            datetime.timedelta(hours=24),
            "New payee: up to ₹1,00,000.00 a day until 10 Dec 2026, 5:30 PM IST",
            True,
        ),
        (
            datetime.timedelta(days=5) - datetime.timedelta(seconds=1),
            "New payee: up to ₹1,00,000.00 a day until 10 Dec 2026, 5:30 PM IST",
            True,
        ),
        (datetime.timedelta(days=5), "Ready to receive money", True),
    ],
    ids=["just-added", "cooling-last-second", "cooled", "capped-last-second", "ready"],
)
def test_it_says_what_each_payee_can_receive_at_the_boundaries(signed_in, alice, after, status, sends):
    payee = PayeeFactory(owner=alice, name="Ravi", created_at=ADDED)
    with time_machine.travel(ADDED + after, tick=False):
        signed_in.force_login(alice)  # a session of that moment (sessions end after 12 hours)
        body = signed_in.get(LIST).content.decode()
    assert status in body
    send_link = f"/transfers/new/?destination=payee-{payee.pk}"
    assert (send_link in body) is sends


def test_it_rounds_the_time_it_can_receive_from_up_to_the_minute(signed_in, alice):
    PayeeFactory(owner=alice, created_at=ADDED + datetime.timedelta(seconds=20))
    with time_machine.travel(ADDED, tick=False):
        assert "from 6 Dec 2026, 5:31 PM IST" in signed_in.get(LIST).content.decode()


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(LIST).status_code == 200
    return len(queries)


def test_it_costs_the_same_queries_however_many_payees(signed_in, alice):
    PayeeFactory(owner=alice)
    one = _queries(signed_in)
    for n in range(20):
        PayeeFactory(owner=alice, created_at=ADDED + datetime.timedelta(days=n % 7))
    assert _queries(signed_in) == one


def test_it_takes_get_only_and_wants_a_sign_in(client, signed_in):
    assert signed_in.post(LIST).status_code == 405
    client.logout()
    assert client.get(LIST)["Location"].startswith(reverse("login"))


def test_the_navigation_links_to_payees(signed_in):
    body = signed_in.get(reverse("dashboard")).content.decode()
    assert f'href="{LIST}"' in body
    assert f'href="{LIST}" aria-current="page"' in signed_in.get(LIST).content.decode()
