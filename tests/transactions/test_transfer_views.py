import pytest
from django.urls import reverse

from tests.factories import AccountFactory
from transactions.models import Entry, Transaction

NEW = reverse("transfer_new")
CONFIRM = reverse("transfer_confirm")


def _post_data(source, destination, amount="1,250.50", key="key-1", **extra):
    return {
        "source": source.pk,
        "destination": destination.pk,
        "amount": amount,
        "description": "",
        "idempotency_key": key,
        **extra,
    }


def _ledger_counts():
    return Transaction.objects.count(), Entry.objects.count()


def _review_url(client, data) -> str:
    """Post the form and return the review's address (POST/redirect/GET)."""
    response = client.post(NEW, data)
    assert response.status_code == 303, response.content
    assert response["Location"].startswith("/transfers/review/")
    return response["Location"]


def test_it_redirects_anonymous_to_login(client):
    for url in (NEW, reverse("transfer_detail", args=[1])):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_it_draws_the_form_with_a_fresh_idempotency_key(client, alice, alice_savings, alice_current):
    client.force_login(alice)
    first = client.get(NEW).context["form"].initial["idempotency_key"]
    second = client.get(NEW).context["form"].initial["idempotency_key"]
    assert first and second and first != second


def test_it_offers_only_the_customers_own_accounts(client, alice, alice_savings, alice_current, bob_savings):
    client.force_login(alice)
    body = client.get(NEW).content.decode()
    assert alice_savings.masked_number in body
    assert f'value="{bob_savings.pk}"' not in body


def test_it_reviews_then_confirms_then_shows_the_receipt(client, alice, alice_savings, alice_current):
    client.force_login(alice)
    review_url = _review_url(client, _post_data(alice_savings, alice_current))
    review = client.get(review_url)
    assert review.status_code == 200
    body = review.content.decode()
    assert "Confirm and move ₹1,250.50" in body
    assert 'name="idempotency_key" value="key-1"' in body
    assert _ledger_counts() == (1, 2)  # only the opening deposit: reviewing moves nothing

    response = client.post(CONFIRM, _post_data(alice_savings, alice_current))
    txn = Transaction.objects.get(initiator=alice)
    assert response.status_code == 303
    assert response["Location"] == reverse("transfer_detail", args=[txn.pk])
    alice_savings.refresh_from_db()
    alice_current.refresh_from_db()
    assert (alice_savings.balance, alice_current.balance) == (50_000_00 - 1_250_50, 1_250_50)

    receipt = client.get(response["Location"])
    assert receipt.status_code == 200
    assert "₹1,250.50 moved to Current" in receipt.content.decode()


def test_it_draws_the_review_again_after_the_confirmation(client, alice, alice_savings, alice_current):
    """Back from the receipt fetches the review again (no-store): it is drawn as before, and confirming it
    again returns the first receipt."""
    client.force_login(alice)
    review_url = _review_url(client, _post_data(alice_savings, alice_current))
    first = client.post(CONFIRM, _post_data(alice_savings, alice_current))
    again = client.get(review_url)
    assert again.status_code == 200
    assert "Confirm and move ₹1,250.50" in again.content.decode()
    second = client.post(CONFIRM, _post_data(alice_savings, alice_current))
    assert second["Location"] == first["Location"]
    assert Transaction.objects.filter(initiator=alice).count() == 1


def test_it_hides_another_customers_review(client, alice, alice_savings, alice_current, bob, bob_savings):
    client.force_login(alice)
    review_url = _review_url(client, _post_data(alice_savings, alice_current))
    client.force_login(bob)
    assert client.get(review_url).status_code == 404
    assert client.get(reverse("transfer_review", args=["no-such-token"])).status_code == 404


def test_it_sends_anonymous_visitors_of_a_review_to_login(client, alice, alice_savings, alice_current):
    client.force_login(alice)
    review_url = _review_url(client, _post_data(alice_savings, alice_current))
    client.logout()
    response = client.get(review_url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_checks_a_review_again_when_it_is_drawn(client, alice, alice_savings, alice_current):
    """An account frozen after the form was checked: the review shows the form with the reason instead."""
    client.force_login(alice)
    review_url = _review_url(client, _post_data(alice_savings, alice_current))
    alice_savings.status = "frozen"
    alice_savings.save(update_fields=["status"])
    response = client.get(review_url)
    assert response.status_code == 200
    assert "source" in response.context["form"].errors
    assert "Confirm and move" not in response.content.decode()


def test_it_keeps_only_the_newest_reviews_in_the_session(client, alice, alice_savings, alice_current):
    client.force_login(alice)
    urls = [_review_url(client, _post_data(alice_savings, alice_current, key=f"k{n}")) for n in range(12)]
    assert client.get(urls[0]).status_code == 404
    assert client.get(urls[-1]).status_code == 200
    assert len(client.session["transfer_reviews"]) == 10


def test_it_moves_money_once_when_confirm_is_submitted_twice(client, alice, alice_savings, alice_current):
    client.force_login(alice)
    data = _post_data(alice_savings, alice_current, amount="40,000")
    first = client.post(CONFIRM, data)
    second = client.post(CONFIRM, data)  # a double click, or the browser resubmitting
    assert first.status_code == second.status_code == 303
    assert first["Location"] == second["Location"]
    assert Transaction.objects.filter(initiator=alice).count() == 1
    alice_savings.refresh_from_db()
    assert alice_savings.balance == 10_000_00


def test_it_shows_the_first_receipt_when_a_resubmit_would_no_longer_validate(
    client, alice, alice_savings, alice_current
):
    client.force_login(alice)
    data = _post_data(alice_savings, alice_current, amount="50,000")
    first = client.post(CONFIRM, data)
    alice_savings.status = "frozen"
    alice_savings.save(update_fields=["status"])
    second = client.post(CONFIRM, data)
    assert second.status_code == 303
    assert second["Location"] == first["Location"]


@pytest.mark.parametrize(
    "amount", ["abc", "-5", "0", "0.00", "1.234", "1e5", "", "50,000.01", "99999999999999999999"]
)
def test_it_refuses_bad_amounts_with_a_form_error_and_moves_nothing(
    client, alice, alice_savings, alice_current, amount
):
    client.force_login(alice)
    before = _ledger_counts()
    for url in (NEW, CONFIRM):
        response = client.post(url, _post_data(alice_savings, alice_current, amount=amount))
        assert response.status_code == 200
        assert response.context["form"].errors
    assert _ledger_counts() == before
    alice_savings.refresh_from_db()
    assert alice_savings.balance == 50_000_00


def test_it_refuses_another_customers_account_as_source_or_destination(
    client, alice, alice_savings, alice_current, bob_savings
):
    client.force_login(alice)
    before = _ledger_counts()
    for url in (NEW, CONFIRM):
        steal = client.post(url, _post_data(bob_savings, alice_current, amount="10"))
        assert "source" in steal.context["form"].errors
        gift = client.post(url, _post_data(alice_savings, bob_savings, amount="10"))
        assert "destination" in gift.context["form"].errors
    assert _ledger_counts() == before
    bob_savings.refresh_from_db()
    assert bob_savings.balance == 10_000_00


def test_it_refuses_the_same_account_on_both_sides(client, alice, alice_savings):
    client.force_login(alice)
    response = client.post(CONFIRM, _post_data(alice_savings, alice_savings, amount="10"))
    assert "destination" in response.context["form"].errors
    assert Transaction.objects.filter(initiator=alice).count() == 0


def test_it_shows_the_ledgers_refusal_as_a_form_error(client, alice, alice_savings, alice_current):
    """Funds checked at review can be gone at confirmation: the service's error is shown, nothing moves."""
    client.force_login(alice)
    data = _post_data(alice_savings, alice_current, amount="30,000", key="first")
    client.post(CONFIRM, data)
    response = client.post(CONFIRM, {**data, "key": "x", "idempotency_key": "second"})
    assert response.status_code == 200
    assert "Not enough money" in response.content.decode()
    assert Transaction.objects.filter(initiator=alice).count() == 1


def test_it_answers_htmx_with_the_flow_fragment_only(client, alice, alice_savings, alice_current):
    client.force_login(alice)
    response = client.post(NEW, _post_data(alice_savings, alice_current), headers={"HX-Request": "true"})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="transfer-flow"' in body
    assert "<html" not in body
    assert "Confirm and move" in body
    # The swapped-in review gets its own address in the history: the same page a reload or Back draws.
    review_url = response["HX-Push-Url"]
    assert review_url.startswith("/transfers/review/")
    page = client.get(review_url)
    assert "<html" in page.content.decode()
    assert "Confirm and move ₹1,250.50" in page.content.decode()


def test_it_answers_an_htmx_history_restore_with_the_whole_page(client, alice, alice_savings, alice_current):
    client.force_login(alice)
    review_url = _review_url(client, _post_data(alice_savings, alice_current))
    headers = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
    for url in (review_url, NEW):
        assert "<html" in client.get(url, headers=headers).content.decode()


def test_it_returns_to_the_form_with_the_details_when_asked_to_change_them(
    client, alice, alice_savings, alice_current
):
    client.force_login(alice)
    review_url = _review_url(client, _post_data(alice_savings, alice_current, description="Rent"))
    review = client.get(review_url).content.decode()
    change_url = f"{NEW}?change={review_url.split('/')[-2]}"
    assert f'href="{change_url}"' in review

    form = client.get(change_url).context["form"]
    assert form["amount"].value() == "1,250.50"
    assert form["description"].value() == "Rent"
    assert form["source"].value() == str(alice_savings.pk)
    assert form["idempotency_key"].value() not in ("", "key-1")  # a new drawing of the form, a new key
    assert Transaction.objects.filter(initiator=alice).count() == 0
    # Another customer's token (or an unknown one) refills nothing.
    assert client.get(f"{NEW}?change=nope").context["form"]["amount"].value() is None


def test_it_refuses_wrong_methods(client, alice, alice_savings):
    client.force_login(alice)
    assert client.get(CONFIRM).status_code == 405
    assert client.put(NEW).status_code == 405
    assert client.post(reverse("transfer_review", args=["any"])).status_code == 405


def test_it_hides_another_customers_receipt(client, alice, alice_savings, alice_current, bob):
    client.force_login(alice)
    response = client.post(CONFIRM, _post_data(alice_savings, alice_current))
    client.force_login(bob)
    assert client.get(response["Location"]).status_code == 404
    assert client.get(reverse("transfer_detail", args=[999999])).status_code == 404


def test_it_does_not_offer_frozen_accounts_as_a_source(client, alice, alice_current):
    frozen = AccountFactory(owner=alice, status="frozen", name="Frozen savings")
    client.force_login(alice)
    response = client.post(NEW, _post_data(frozen, alice_current, amount="1"))
    assert "source" in response.context["form"].errors


def test_it_gives_a_fresh_key_when_a_spent_transfer_is_edited(client, alice, alice_savings, alice_current):
    """Back from the receipt to the review, then "Change details": the next transfer must not be refused
    as a replay of the first."""
    client.force_login(alice)
    data = _post_data(alice_savings, alice_current, amount="100")
    token = _review_url(client, data).split("/")[-2]
    client.post(CONFIRM, data)
    form = client.get(NEW, {"change": token}).context["form"]
    assert form["idempotency_key"].value() != data["idempotency_key"]
    assert form["amount"].value() == "100"
    client.post(CONFIRM, {**data, "amount": "200", "idempotency_key": form["idempotency_key"].value()})
    assert Transaction.objects.filter(initiator=alice).count() == 2


def test_it_redraws_the_form_with_a_fresh_key_when_the_key_was_spent_on_another_transfer(
    client, alice, alice_savings, alice_current
):
    client.force_login(alice)
    data = _post_data(alice_savings, alice_current, amount="100")
    client.post(CONFIRM, data)
    response = client.post(CONFIRM, {**data, "amount": "200"})  # the same key, other details
    assert response.status_code == 200
    assert "already used for a different payment" in response.content.decode()
    fresh = response.context["form"]["idempotency_key"].value()
    assert fresh and fresh != data["idempotency_key"]
    assert f'value="{fresh}"' in response.content.decode()
    assert client.post(CONFIRM, {**data, "amount": "200", "idempotency_key": fresh}).status_code == 303
    assert Transaction.objects.filter(initiator=alice).count() == 2
