"""Confirming a transfer again, and making the same transfer twice: the receipt says the first was already
made (and when); a second identical transfer within minutes is asked about on the review before it moves."""

import datetime

import pytest
import time_machine
from django.urls import reverse

from tests.factories import AccountFactory
from tests.keys import form_key
from transactions import selectors
from transactions.models import Transaction

NEW = reverse("transfer_new")
CONFIRM = reverse("transfer_confirm")
IST = datetime.timezone(datetime.timedelta(hours=5, minutes=30))
AT = datetime.datetime(2026, 12, 1, 20, 50, 10, tzinfo=IST)


@pytest.fixture(autouse=True)
def _clock_before_at():
    """Each test, its fixtures included, starts on a clock two minutes before AT (well within a session's
    idle timeout): the accounts' opening deposits are then dated before the transfers a test makes at AT
    (a posting is never dated before an account's newest entry, transactions/services.py
    `_posting_time`)."""
    with time_machine.travel(AT - datetime.timedelta(minutes=2), tick=True):
        yield


def _data(source, destination, key, amount="10"):
    return {
        "source": source.pk,
        "destination": destination.pk,
        "amount": amount,
        "description": "",
        "idempotency_key": form_key(key),
    }


def _review(client, data) -> tuple[str, str]:
    response = client.post(NEW, data)
    assert response.status_code == 303
    url = response["Location"]
    return url, url.rstrip("/").rsplit("/", 1)[-1]


def _transfers(user) -> int:
    return Transaction.objects.filter(initiator=user, kind=Transaction.Kind.TRANSFER).count()


def test_it_says_on_the_first_receipt_that_the_transfer_was_already_made(
    client, alice, alice_savings, alice_current
):
    client.force_login(alice)
    data = _data(alice_savings, alice_current, "k1")
    with time_machine.travel(AT, tick=False) as traveller:
        first = client.post(CONFIRM, data)
        receipt = client.get(first["Location"]).content.decode()
        assert "already made" not in receipt
        traveller.shift(datetime.timedelta(minutes=3))
        again = client.post(CONFIRM, data)  # Back, then Confirm
    assert again["Location"] == first["Location"]
    page = client.get(again["Location"]).content.decode()
    assert "This transfer was already made at 8:50 PM IST." in page
    assert _transfers(alice) == 1


def test_it_asks_before_sending_the_same_amount_to_the_same_account_again(
    client, alice, alice_savings, alice_current
):
    client.force_login(alice)
    with time_machine.travel(AT, tick=False) as traveller:
        client.post(CONFIRM, _data(alice_savings, alice_current, "k1"))
        traveller.shift(datetime.timedelta(minutes=2, seconds=5))
        second = _data(alice_savings, alice_current, "k2")
        review_url, token = _review(client, second)
        review = client.get(review_url).content.decode()
        assert (
            "You sent the same amount to the same account 2 minutes ago (at 8:50 PM IST): send again?"
            in review
        )
        assert 'name="send_again" value="1">Yes, send ₹10.00 again</button>' in review

        # A Confirm without the answer (a review drawn before the first went through) moves nothing.
        asked = client.post(CONFIRM, {**second, "review": token})
        assert asked.status_code == 303 and asked["Location"] == review_url
        assert _transfers(alice) == 1

        sent = client.post(CONFIRM, {**second, "review": token, "send_again": "1"})
    assert sent.status_code == 303 and sent["Location"].startswith("/transfers/")
    assert _transfers(alice) == 2


def test_it_does_not_ask_about_another_amount_another_account_or_after_five_minutes(
    client, alice, alice_savings, alice_current
):
    client.force_login(alice)
    with time_machine.travel(AT, tick=False) as traveller:
        client.post(CONFIRM, _data(alice_savings, alice_current, "k1"))
        other_amount = client.get(_review(client, _data(alice_savings, alice_current, "k2", "11"))[0])
        assert "send again?" not in other_amount.content.decode()
        reverse_direction = _data(alice_current, alice_savings, "k3", "5")
        assert "send again?" not in client.get(_review(client, reverse_direction)[0]).content.decode()
        traveller.shift(datetime.timedelta(minutes=5, seconds=1))
        later = client.get(_review(client, _data(alice_savings, alice_current, "k4"))[0])
        assert "send again?" not in later.content.decode()
        assert client.post(CONFIRM, _data(alice_savings, alice_current, "k4")).status_code == 303
    assert _transfers(alice) == 2


@pytest.mark.parametrize("minutes, said", [(0, "less than a minute ago"), (1, "1 minute ago")])
def test_it_counts_the_minutes_in_words(client, alice, alice_savings, alice_current, minutes, said):
    client.force_login(alice)
    with time_machine.travel(AT, tick=False) as traveller:
        client.post(CONFIRM, _data(alice_savings, alice_current, "k1"))
        traveller.shift(datetime.timedelta(minutes=minutes, seconds=10))
        review = client.get(_review(client, _data(alice_savings, alice_current, "k2"))[0])
    assert f"to the same account {said} (at 8:50 PM IST)" in review.content.decode()


def _asked(client, data) -> bool:
    return "send again?" in client.get(_review(client, data)[0]).content.decode()


def test_it_does_not_ask_about_the_same_amount_the_other_way(client, alice, alice_savings, alice_current):
    client.force_login(alice)
    with time_machine.travel(AT, tick=False):
        client.post(CONFIRM, _data(alice_savings, alice_current, "k1"))
        assert not _asked(client, _data(alice_current, alice_savings, "k2"))
        assert client.post(CONFIRM, _data(alice_current, alice_savings, "k2")).status_code == 303
    assert _transfers(alice) == 2


def test_it_does_not_ask_about_the_same_amount_to_another_account(
    client, alice, alice_savings, alice_current
):
    deposit = AccountFactory(owner=alice, name="Fixed deposit")
    client.force_login(alice)
    with time_machine.travel(AT, tick=False):
        client.post(CONFIRM, _data(alice_savings, alice_current, "k1"))
        assert not _asked(client, _data(alice_savings, deposit, "k2"))
        assert client.post(CONFIRM, _data(alice_savings, deposit, "k2")).status_code == 303
    assert _transfers(alice) == 2


def test_another_customers_identical_transfer_does_not_ask_this_customer(
    client, alice, alice_savings, alice_current, bob, bob_savings
):
    bob_current = AccountFactory(owner=bob, name="Current")
    with time_machine.travel(AT, tick=False) as traveller:
        client.force_login(bob)
        client.post(CONFIRM, _data(bob_savings, bob_current, "k1"))
        client.force_login(alice)
        assert not _asked(client, _data(alice_savings, alice_current, "k1"))  # even under the same key
        client.post(CONFIRM, _data(alice_savings, alice_current, "k2"))
        # And the other way round: alice's transfer is not bob's, even looked up on alice's accounts.
        traveller.shift(datetime.timedelta(minutes=1))
        found = selectors.transfer_same_since(
            user=bob,
            source=alice_savings,
            destination=alice_current,
            amount_paise=10_00,
            since=AT - datetime.timedelta(minutes=5),
            other_than_key="k3",
        )
        assert found is None
        client.force_login(bob)
        assert _asked(client, _data(bob_savings, bob_current, "k4"))  # his own repeat is asked about
