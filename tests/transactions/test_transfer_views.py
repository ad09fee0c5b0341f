import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from portal.local_time import time_of_day
from tests.conftest import fund
from tests.factories import AccountFactory
from tests.keys import form_key
from transactions.models import Entry, Transaction

NEW = reverse("transfer_new")
CONFIRM = reverse("transfer_confirm")


def _post_data(source, destination, amount="1,250.50", key="key-1", **extra):
    return {
        "source": source.pk,
        "destination": destination.pk,
        "amount": amount,
        "description": "",
        "idempotency_key": form_key(key),
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
    assert f'name="idempotency_key" value="{form_key("key-1")}"' in body
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
    # From the receipt to the transactions of the account the money left.
    assert f'href="{reverse("history", args=[alice_savings.pk])}"' in receipt.content.decode()


def test_the_review_reopened_after_the_confirmation_says_it_was_made(
    client, alice, alice_savings, alice_current
):
    """Back from the receipt (or the review's URL reopened) fetches the review again (no-store): it says the
    transfer was made, when, with its receipt, and offers no confirm; a confirmation posted again anyway
    returns the first receipt."""
    client.force_login(alice)
    review_url = _review_url(client, _post_data(alice_savings, alice_current))
    first = client.post(CONFIRM, _post_data(alice_savings, alice_current))
    made = Transaction.objects.get(initiator=alice)
    again = client.get(review_url)
    assert again.status_code == 200
    page = again.content.decode()
    assert "Confirm and move" not in page
    assert f"This transfer was made at {time_of_day(made.created)}." in page
    assert f'href="{first["Location"]}">See the receipt</a>' in page
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
    again = {
        **data,
        "key": "x",
        "idempotency_key": form_key("second"),
        "send_again": "1",
    }  # "Yes, send again"
    response = client.post(CONFIRM, again)
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
    assert form["idempotency_key"].value() not in (
        "",
        form_key("key-1"),
    )  # a new drawing of the form, a new key
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


def _change(client, review_url: str, **changes) -> str:
    """ "Change details" on a review, as the browser does: draw the form from it, post it changed, and return
    the new review's address."""
    token = review_url.split("/")[-2]
    form = client.get(NEW, {"change": token}).context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    return _review_url(client, {**data, **changes})


def _confirm_data(client, review_url: str) -> dict:
    """The hidden fields of the review's confirm form (what a page left open on it would post)."""
    context = client.get(review_url).context
    data = context["form"].cleaned_data
    return {
        **_post_data(data["source"], data["destination"], context["form"]["amount"].value()),
        "idempotency_key": data["idempotency_key"],
        "review": context["token"],
    }


def test_it_does_not_confirm_a_review_replaced_by_changed_details(
    client, alice, alice_savings, alice_current
):
    """Review ₹100, "Change details" to ₹200 and confirm: the ₹100 review, open again (another tab, Back),
    offers no Confirm, and its confirmation posted anyway moves nothing."""
    client.force_login(alice)
    first_url = _review_url(client, _post_data(alice_savings, alice_current, amount="100", key="k100"))
    stale = _confirm_data(client, first_url)  # the first review's page, still open
    second_url = _change(client, first_url, amount="200")
    moved = client.post(CONFIRM, _confirm_data(client, second_url))
    assert moved.status_code == 303

    again = client.get(first_url)
    assert again.status_code == 200
    body = again.content.decode()
    assert "This review was replaced by a newer one" in body
    assert f'href="{second_url}"' in body
    assert "Confirm and move" not in body
    refused = client.post(CONFIRM, stale)
    assert refused.status_code == 409
    assert "This review was replaced by a newer one" in refused.content.decode()

    transfers = Transaction.objects.filter(initiator=alice)
    assert [t.idempotency_key for t in transfers] == [moved.wsgi_request.POST["idempotency_key"]]
    alice_savings.refresh_from_db()
    assert alice_savings.balance == 50_000_00 - 200_00


def test_it_points_every_replaced_review_to_the_newest(client, alice, alice_savings, alice_current):
    client.force_login(alice)
    first = _review_url(client, _post_data(alice_savings, alice_current, amount="100"))
    second = _change(client, first, amount="200")
    third = _change(client, second, amount="300")
    for url in (first, second):
        body = client.get(url).content.decode()
        assert "This review was replaced by a newer one" in body
        assert f'href="{third}"' in body
    # A second change made from the first review (its form left open in a tab) replaces the third too.
    fourth = _change(client, first, amount="400")
    assert f'href="{fourth}"' in client.get(third).content.decode()
    assert "Confirm and move ₹400.00" in client.get(fourth).content.decode()


def test_it_remembers_a_replaced_review_after_the_session_dropped_it(
    client, alice, alice_savings, alice_current
):
    client.force_login(alice)
    first_url = _review_url(client, _post_data(alice_savings, alice_current, amount="100", key="k100"))
    stale = _confirm_data(client, first_url)
    _change(client, first_url, amount="200")
    for n in range(12):  # other reviews push the first one out of the session
        _review_url(client, _post_data(alice_savings, alice_current, key=f"other-{n}"))
    assert client.get(first_url).status_code == 404
    for data in (stale, {**stale, "review": ""}):
        response = client.post(CONFIRM, data)
        assert response.status_code == 409
        assert "Start a new transfer" in response.content.decode()
    assert not Transaction.objects.filter(initiator=alice).exists()


def test_it_does_not_confirm_a_review_dropped_from_the_session_after_it_expired(
    client, alice, alice_savings, alice_current
):
    """A review page left open in a tab while ten newer reviews pushed it out of the session (which keeps
    the newest 10): its age is no longer known, so its confirmation is expired, 11 minutes later or not."""
    client.force_login(alice)
    with time_machine.travel(datetime(2026, 12, 1, 9, 0, tzinfo=UTC), tick=False) as clock:
        first_url = _review_url(client, _post_data(alice_savings, alice_current, amount="100", key="k-open"))
        stale = _confirm_data(client, first_url)
        for n in range(10):
            _review_url(client, _post_data(alice_savings, alice_current, key=f"newer-{n}"))
        assert client.get(first_url).status_code == 404  # dropped from the session
        clock.shift(timedelta(minutes=11))
        before = _ledger_counts()
        response = client.post(CONFIRM, stale)
        assert response.status_code == 409
        page = response.content.decode()
        assert "This review expired" in page and "Nothing moved." in page
        again = page.split('class="button button-primary" href="')[1].split('"')[0].replace("&amp;", "&")
        assert again.startswith(f"{NEW}?") and "amount=100" in again  # started again from what was posted
        assert client.get(again).context["form"]["amount"].value() == "100"
        assert _ledger_counts() == before
    assert not Transaction.objects.filter(initiator=alice).exists()


def test_it_confirms_two_separate_transfers_started_in_two_tabs(client, alice, alice_savings, alice_current):
    client.force_login(alice)
    first = _review_url(client, _post_data(alice_savings, alice_current, amount="100", key="tab-1"))
    second = _review_url(client, _post_data(alice_savings, alice_current, amount="200", key="tab-2"))
    for url in (first, second):
        assert "Confirm and move" in client.get(url).content.decode()
        assert client.post(CONFIRM, _confirm_data(client, url)).status_code == 303
    assert Transaction.objects.filter(initiator=alice).count() == 2


def test_it_shows_the_receipt_when_a_confirmed_review_is_replaced_and_confirmed_again(
    client, alice, alice_savings, alice_current
):
    """Confirmed, then Back and "Change details" (a second, deliberate transfer): confirming the first review
    again still lands on its receipt and moves nothing more."""
    client.force_login(alice)
    first_url = _review_url(client, _post_data(alice_savings, alice_current, amount="100"))
    data = _confirm_data(client, first_url)
    receipt = client.post(CONFIRM, data)["Location"]
    second_url = _change(client, first_url, amount="200")
    assert client.post(CONFIRM, _confirm_data(client, second_url)).status_code == 303
    assert client.post(CONFIRM, data)["Location"] == receipt
    assert Transaction.objects.filter(initiator=alice).count() == 2


def test_it_shows_the_receipt_with_its_time_in_ist_a_reference_and_print(client, alice):
    """The receipt dates the transfer in the site's format with IST, shows the reference a customer quotes
    in its own block, offers a Print button (hidden until JavaScript shows it) and links the print styles."""
    with time_machine.travel(datetime(2026, 12, 1, 9, 0, tzinfo=UTC), tick=False):  # funded that morning
        alice_savings = fund(AccountFactory(owner=alice, name="Savings"), 50_000_00)
        alice_current = AccountFactory(owner=alice, name="Current")
    client.force_login(alice)
    with time_machine.travel(datetime(2026, 12, 1, 15, 23, tzinfo=UTC), tick=False):  # 8:53 PM in India
        response = client.post(CONFIRM, _post_data(alice_savings, alice_current))
    txn = Transaction.objects.get(initiator=alice)
    body = client.get(response["Location"]).content.decode()
    assert "<dd>1 Dec 2026, 8:53 PM IST</dd>" in body
    assert f'<span class="receipt-reference-value">SB{txn.pk:010d}</span>' in body
    assert (
        '<button type="button" class="button button-quiet" data-print hidden>Print receipt</button>' in body
    )
    assert 'href="/static/css/print.css" media="print"' in body
    assert 'src="/static/js/print.js"' in body


def test_it_shows_on_the_review_the_note_the_receipt_will_show(client, alice, alice_savings, alice_current):
    """An empty note: the review says what the receipt will ("Transfer between own accounts"), never None."""
    client.force_login(alice)
    body = client.get(_review_url(client, _post_data(alice_savings, alice_current))).content.decode()
    assert "Transfer between own accounts" in body
    assert ">None<" not in body.replace("<dd>None</dd>", "")  # (Fees: None is a word, not a Python None)
    txn_url = client.post(CONFIRM, _post_data(alice_savings, alice_current))["Location"]
    assert "Transfer between own accounts" in client.get(txn_url).content.decode()


def test_it_reads_an_amount_typed_in_devanagari_digits(client, alice, alice_savings, alice_current):
    client.force_login(alice)
    review = client.get(_review_url(client, _post_data(alice_savings, alice_current, amount="११"))).content
    assert "Confirm and move ₹11.00" in review.decode()
    assert "eleven rupees" in review.decode().lower()


@pytest.mark.parametrize(
    "key", ["scheduled:7:2026-12-10", "key-1", "A" * 32, "0" * 31, "0" * 33, "", "k" * 500]
)
def test_it_accepts_back_only_a_key_of_the_shape_it_draws(client, alice, alice_savings, alice_current, key):
    """A key the form never draws (uuid4 hex) is refused: "scheduled:<id>:<date>" would otherwise spend a
    scheduled occurrence's key before it runs. The form comes back saying so, with a fresh key."""
    client.force_login(alice)
    data = {**_post_data(alice_savings, alice_current), "idempotency_key": key}
    for url in (NEW, CONFIRM):
        response = client.post(url, data)
        assert response.status_code == 200
        assert "This form has expired. Please start again." in response.content.decode()
        fresh = response.context["form"]["idempotency_key"].value()
        assert re.fullmatch(r"[0-9a-f]{32}", fresh)
    assert not Transaction.objects.filter(initiator=alice).exists()
