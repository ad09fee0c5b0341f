"""Transfers above settings.TRANSFER_STEP_UP_PAISE ask for a fresh code (or the password) once more, bound to
that very transfer (accounts/stepup.py)."""

import pytest
from django.urls import reverse

from tests.conftest import fund
from tests.factories import PASSWORD
from tests.keys import form_key
from tests.twofactor import code_now, enrol
from transactions.models import Transaction

CONFIRM = reverse("transfer_confirm")


@pytest.fixture
def large(settings, alice, alice_savings, alice_current):
    """₹1,000 counts as large here; alice has ₹10,000 in savings."""
    settings.TRANSFER_STEP_UP_PAISE = 1_000_00
    fund(alice_savings, 10_000_00)
    return alice_savings, alice_current


def _review(client, source, destination, amount, key):
    data = {"source": source.pk, "destination": destination.pk, "amount": amount, "description": ""}
    response = client.post(reverse("transfer_new"), {**data, "idempotency_key": form_key(key)})
    assert response.status_code == 303
    token = response["Location"].rstrip("/").rsplit("/", 1)[1]
    return response["Location"], {**data, "idempotency_key": form_key(key), "review": token}


def test_a_small_transfer_needs_no_step_up(client, alice, large):
    client.force_login(alice)
    _url, data = _review(client, *large, "1,000.00", "k-small")
    response = client.post(CONFIRM, data)
    assert response["Location"].startswith("/transfers/")
    assert Transaction.objects.filter(idempotency_key=form_key("k-small")).exists()


def test_a_large_transfer_moves_only_after_a_fresh_code_for_it(client, alice, large):
    device = enrol(alice)
    client.force_login(alice)
    review_url, data = _review(client, *large, "1,000.01", "k-large")
    assert "This is a large transfer" in client.get(review_url).content.decode()

    asked = client.post(CONFIRM, data)
    assert asked.status_code == 302
    assert asked["Location"].startswith(reverse("step_up") + "?action=transfer.large")
    assert not Transaction.objects.filter(idempotency_key=form_key("k-large")).exists()

    proved = client.post(asked["Location"], {"code": code_now(device)})
    assert proved["Location"] == review_url  # back to the review, to confirm once more
    moved = client.post(CONFIRM, data)
    assert moved.status_code == 303
    txn = Transaction.objects.get(idempotency_key=form_key("k-large"))
    assert moved["Location"] == reverse("transfer_detail", args=[txn.pk])
    # A resubmit (double click) lands on the receipt without asking again, and moves nothing more.
    assert client.post(CONFIRM, data)["Location"] == moved["Location"]
    assert Transaction.objects.filter(initiator=alice).count() == 1


def test_a_proof_for_one_transfer_does_not_carry_another(client, alice, large):
    client.force_login(alice)
    _url, first = _review(client, *large, "2,000.00", "k-first")
    asked = client.post(CONFIRM, first)
    client.post(asked["Location"], {"password": PASSWORD})  # no 2FA: the password is the proof
    _url, other = _review(client, *large, "9,000.00", "k-other")
    response = client.post(CONFIRM, other)
    assert response["Location"].startswith(reverse("step_up"))
    assert not Transaction.objects.filter(idempotency_key=form_key("k-other")).exists()
    # Offering a proof to the wrong transfer spends it: the first transfer asks again too.
    assert client.post(CONFIRM, first)["Location"].startswith(reverse("step_up"))
    assert not Transaction.objects.filter(idempotency_key=form_key("k-first")).exists()


def test_a_confirmation_without_a_review_sends_the_step_up_back_to_the_form(client, alice, large):
    """No review posted (not what our pages send; a client of the customer's own): the step-up still
    applies, and leads back to the form since there is no review to return to."""
    client.force_login(alice)
    _url, data = _review(client, *large, "2,000.00", "k-odd")
    response = client.post(CONFIRM, {**data, "review": ""})
    assert response.status_code == 302
    assert response["Location"].endswith("next=/transfers/new/")


@pytest.mark.parametrize("review", ["no/such/review", "not-a-token-of-hers"])
def test_a_review_this_session_does_not_know_is_expired(client, alice, large, review):
    client.force_login(alice)
    _url, data = _review(client, *large, "2,000.00", "k-odd")
    response = client.post(CONFIRM, {**data, "review": review})
    assert response.status_code == 409
    assert "This review expired" in response.content.decode()
    assert not Transaction.objects.filter(idempotency_key=form_key("k-odd")).exists()


@pytest.mark.parametrize(
    "change",
    [
        {"amount": "9,000.00"},  # more money
        {"amount": "1,000.02"},
        {"description": "Rent"},
        {"swap": True},  # the other way round
    ],
)
def test_a_large_transfer_replayed_with_other_details_is_refused_as_a_small_one_is(
    client, alice, large, change
):
    """The same key with other details is another payment: not its receipt (which would say the money
    moved), but the form again with a fresh key, as transfer_create answers a small one."""
    client.force_login(alice)
    _url, data = _review(client, *large, "1,000.01", "k-large")
    asked = client.post(CONFIRM, data)
    client.post(asked["Location"], {"password": PASSWORD})
    first = client.post(CONFIRM, data)
    assert first.status_code == 303
    assert client.post(CONFIRM, data)["Location"] == first["Location"]  # the same request: its receipt

    source, destination = large
    if change.pop("swap", False):
        change = {"source": destination.pk, "destination": source.pk}
        fund(destination, 5_000_00)
    response = client.post(CONFIRM, {**data, **change})
    assert response.status_code == 200
    page = response.content.decode()
    assert "already used for a different payment" in page
    fresh = response.context["form"]["idempotency_key"].value()
    assert fresh and fresh != "k-large"
    assert f'value="{fresh}"' in page
    assert Transaction.objects.filter(initiator=alice).count() == 1


def test_the_review_names_what_the_step_up_will_ask_of_this_customer(client, alice, large):
    client.force_login(alice)
    review_url, _data = _review(client, *large, "1,000.01", "k-large")
    page = client.get(review_url).content.decode()
    assert "we will ask for your password once more" in page
    assert "authenticator app" not in page
    enrol(alice)
    page = client.get(review_url).content.decode()
    assert "we will ask for the code your authenticator app shows (or one of your backup codes)" in page
    assert "your password once more" not in page


def test_the_step_up_page_repeats_the_transfer_and_offers_a_way_back(client, alice, large):
    source, destination = large
    client.force_login(alice)
    review_url, data = _review(client, source, destination, "1,000.01", "k-large")
    page = client.get(client.post(CONFIRM, data)["Location"]).content.decode()
    assert "<dt>Amount</dt><dd>₹1,000.01</dd>" in page
    assert f"<dt>From</dt><dd>{source.name} · {source.masked_number}</dd>" in page
    assert f"<dt>To</dt><dd>{destination.name} · {destination.masked_number}</dd>" in page
    assert f'href="{review_url}">Back to the review</a>' in page
    assert 'form="cancel-transfer" formnovalidate>Cancel the transfer</button>' in page


def test_a_wrong_password_or_code_says_how_many_tries_are_left(client, alice, large):
    client.force_login(alice)
    _review_url, data = _review(client, *large, "1,000.01", "k-large")
    step_up_url = client.post(CONFIRM, data)["Location"]
    first = client.post(step_up_url, {"password": "not-it"}).content.decode()
    assert "That password is not right. Please try again. 4 tries left before we sign you out" in first
    for _ in range(3):
        last = client.post(step_up_url, {"password": "not-it"}).content.decode()
    assert "1 try left before we sign you out for your safety." in last
    enrol(alice)
    code = client.post(step_up_url, {"code": "000000"})
    assert code.status_code == 302 and code["Location"].startswith(reverse("login"))  # the fifth: out


def test_after_the_step_up_the_review_says_it_was_accepted_and_asks_nothing_more(client, alice, large):
    source, destination = large
    client.force_login(alice)
    review_url, data = _review(client, source, destination, "1,000.01", "k-large")
    proved = client.post(client.post(CONFIRM, data)["Location"], {"password": PASSWORD})
    assert proved["Location"] == review_url
    page = client.get(review_url).content.decode()
    assert "You confirmed it's you. Press Confirm to send ₹1,000.01 to " in page
    assert f"{destination.name} · {destination.masked_number}</span>." in page
    assert "we will ask" not in page
    # Another transfer's review (another key) still says it will ask.
    other_url, _other = _review(client, source, destination, "1,000.01", "k-other")
    other = client.get(other_url).content.decode()
    assert "we will ask for your password once more" in other
    assert "You confirmed it's you" not in other


CANCEL = reverse("transfer_cancel")


def test_cancelling_on_the_step_up_page_says_so_and_the_review_can_no_longer_be_confirmed(
    client, alice, large
):
    client.force_login(alice)
    review_url, data = _review(client, *large, "1,000.01", "k-large")
    step_up_url = client.post(CONFIRM, data)["Location"]
    page = client.get(step_up_url).content.decode()
    assert f'action="{CANCEL}"' in page
    assert f'name="review" value="{data["review"]}"' in page
    response = client.post(CANCEL, {"review": data["review"]}, follow=True)
    assert response.redirect_chain == [(reverse("dashboard"), 302)]
    assert "Transfer cancelled. No money moved." in response.content.decode()
    # The cancelled review is not confirmed, even with a proof given for it afterwards.
    client.post(step_up_url, {"password": PASSWORD})
    refused = client.post(CONFIRM, data)
    assert refused.status_code == 409
    assert "This transfer was cancelled" in refused.content.decode()
    assert "This transfer was cancelled" in client.get(review_url).content.decode()
    assert not Transaction.objects.filter(idempotency_key="k-large").exists()


def test_cancelling_answers_post_only_and_only_the_signed_in(client, alice, large):
    assert client.post(CANCEL)["Location"].startswith(reverse("login"))
    client.force_login(alice)
    assert client.get(CANCEL).status_code == 405
    # Without a review of this session (another customer's token, none at all): the message, nothing else.
    response = client.post(CANCEL, {"review": "not-hers"}, follow=True)
    assert "Transfer cancelled. No money moved." in response.content.decode()
