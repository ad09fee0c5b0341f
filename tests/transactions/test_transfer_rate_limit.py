"""The transfer_confirm rate limit as the customer meets it: after Confirm, back on the review saying that
the money did not move and from when to confirm again; a replay of a transfer already made is not counted."""

import datetime

import pytest
import time_machine
from django.conf import settings as django_settings
from django.urls import reverse

from tests.keys import form_key
from transactions.models import Transaction

NEW = reverse("transfer_new")
CONFIRM = reverse("transfer_confirm")
IST = datetime.timezone(datetime.timedelta(hours=5, minutes=30))
AT = datetime.datetime(2026, 12, 1, 20, 53, 20, tzinfo=IST)


@pytest.fixture
def frozen():
    with time_machine.travel(AT, tick=False) as traveller:
        yield traveller


@pytest.fixture
def limit_of_one(settings):
    settings.RATE_LIMITS = {**django_settings.RATE_LIMITS, "transfer_confirm": (1, 60)}


def _data(source, destination, key, amount="10"):
    return {
        "source": source.pk,
        "destination": destination.pk,
        "amount": amount,
        "description": "",
        "idempotency_key": form_key(key),
    }


def _review(client, data) -> str:
    response = client.post(NEW, data)
    assert response.status_code == 303
    return response["Location"]


def test_it_sends_a_limited_confirm_back_to_its_review_saying_the_money_did_not_move(
    client, alice, alice_savings, alice_current, limit_of_one, frozen
):
    client.force_login(alice)
    assert client.post(CONFIRM, _data(alice_savings, alice_current, "k1")).status_code == 303
    second = _data(alice_savings, alice_current, "k2", amount="20")
    review_url = _review(client, second)
    token = review_url.rstrip("/").rsplit("/", 1)[-1]

    refused = client.post(CONFIRM, {**second, "review": token})

    assert refused.status_code == 303
    assert refused["Location"] == review_url  # the review's own address, not /transfers/confirm/
    assert Transaction.objects.filter(initiator=alice).count() == 1  # nothing more moved
    page = client.get(review_url).content.decode()
    # The window frees up at 8:54:20 PM: told to the minute, rounded up, in the site's format with IST.
    assert (
        "The money did not move: you have confirmed several transfers in a short time. "
        "Please confirm again from 8:55 PM IST."
    ) in page
    assert "Confirm and move ₹20.00" in page


def test_it_says_the_money_did_not_move_on_the_429_page_without_a_review(
    client, alice, alice_savings, alice_current, limit_of_one, frozen
):
    client.force_login(alice)
    client.post(CONFIRM, _data(alice_savings, alice_current, "k1"))
    refused = client.post(CONFIRM, {**_data(alice_savings, alice_current, "k2"), "send_again": "1"})
    assert refused.status_code == 429
    assert refused["Retry-After"] == "60"
    assert "The money did not move" in refused.content.decode()
    assert "from 8:55 PM IST" in refused.content.decode()


def test_it_does_not_count_a_replay_of_a_transfer_already_made(
    client, alice, alice_savings, alice_current, limit_of_one, frozen
):
    client.force_login(alice)
    data = _data(alice_savings, alice_current, "k1")
    first = client.post(CONFIRM, data)
    for _ in range(3):  # Back then Confirm, or a double click: its receipt each time
        again = client.post(CONFIRM, data)
        assert again.status_code == 303 and again["Location"] == first["Location"]
    assert Transaction.objects.filter(initiator=alice).count() == 1
    # A new transfer is counted (and refused here by the limit).
    again = {**_data(alice_savings, alice_current, "k2"), "send_again": "1"}
    assert client.post(CONFIRM, again).status_code == 429


@pytest.fixture
def limit_of_two(settings):
    settings.RATE_LIMITS = {**django_settings.RATE_LIMITS, "transfer_confirm": (2, 60)}


def test_it_counts_only_confirmations_that_reach_the_posting(
    client, alice, alice_savings, alice_current, limit_of_two, frozen, settings
):
    """A transfer, then the same one again: the "send again?" question, an invalid form and a step-up
    redirect move nothing and are not counted, so "Yes, send again" still goes through under a limit of 2."""
    settings.TRANSFER_STEP_UP_PAISE = 1_000_00
    client.force_login(alice)
    assert client.post(CONFIRM, _data(alice_savings, alice_current, "k1")).status_code == 303
    second = _data(alice_savings, alice_current, "k2")
    review_url = _review(client, second)
    token = review_url.rstrip("/").rsplit("/", 1)[-1]
    asked = client.post(CONFIRM, {**second, "review": token})
    assert asked.status_code == 303 and asked["Location"] == review_url  # the question, not the money
    assert "send again?" in client.get(review_url).content.decode()
    invalid = client.post(CONFIRM, _data(alice_savings, alice_current, "k3", amount="ten"))
    assert invalid.status_code == 200 and "Enter an amount in rupees" in invalid.content.decode()
    step_up = client.post(CONFIRM, _data(alice_savings, alice_current, "k4", amount="2,000"))
    assert step_up.status_code == 302 and step_up["Location"].startswith(reverse("step_up"))
    assert Transaction.objects.filter(initiator=alice).count() == 1

    sent = client.post(CONFIRM, {**second, "review": token, "send_again": "1"})
    assert sent.status_code == 303 and sent["Location"].startswith("/transfers/")
    assert Transaction.objects.filter(initiator=alice).count() == 2
    # The limit holds for what reaches the posting: a third is refused.
    third = {**_data(alice_savings, alice_current, "k5", amount="30"), "send_again": "1"}
    assert client.post(CONFIRM, third).status_code == 429
    assert Transaction.objects.filter(initiator=alice).count() == 2
