"""The transfer flow to payees (issue 11): one form with own accounts and payees, a review with the amount in
words and the payee, step-up for a new payee or a large amount bound to this payee and amount, every refusal
a message that moves nothing, a review that expires, hidden fields that cannot be changed, and receipts."""

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account
from portal.money import format_paise
from tests.conftest import fund
from tests.factories import PASSWORD, PayeeFactory
from tests.keys import form_key
from tests.transactions.ledger_checks import assert_books_balance
from transactions.models import Entry, OutwardPayment, Transaction

NEW = reverse("transfer_new")
CONFIRM = reverse("transfer_confirm")


@pytest.fixture
def ravi(alice):
    """A payee at HDFC Bank, added a month ago: past cooling-off and the new-payee cap."""
    return PayeeFactory(owner=alice, name="Ravi Kumar", account_number="501000001234")


@pytest.fixture
def bob_payee(alice, bob_savings):
    """Bob's SecureBank savings account as alice's payee (credited in our ledger)."""
    return PayeeFactory(
        owner=alice,
        name="Bob Menon",
        account_number=bob_savings.number,
        ifsc="SECB0000001",
        bank_name="SecureBank",
        account=bob_savings,
    )


def _new_payee(owner, days_ago: float, name="Meena Rao"):
    return PayeeFactory(owner=owner, name=name, created_at=timezone.now() - datetime.timedelta(days=days_ago))


def _data(source, destination, amount="1,500.00", key="k-1", **extra):
    to = f"payee-{destination.pk}" if not isinstance(destination, Account) else destination.pk
    return {
        "source": source.pk,
        "destination": to,
        "amount": amount,
        "description": "",
        "idempotency_key": form_key(key),
        **extra,
    }


def _review(client, data) -> tuple[str, dict]:
    """Post the form; the review's address and what its Confirm posts."""
    response = client.post(NEW, data)
    assert response.status_code == 303, response.content.decode()
    url = response["Location"]
    return url, {**data, "review": url.rstrip("/").rsplit("/", 1)[-1]}


def _state():
    """What must not change when a confirmation is refused: the ledger and every balance."""
    return (
        Transaction.objects.count(),
        Entry.objects.count(),
        OutwardPayment.objects.count(),
        sorted(Account.objects.values_list("pk", "balance")),
    )


def _errors(response) -> str:
    return " ".join(str(e) for e in response.context["form"].non_field_errors()) + " ".join(
        str(e) for errors in response.context["form"].errors.values() for e in errors
    )


# The form


def test_it_offers_own_accounts_and_payees_in_one_select(
    client, alice, alice_savings, alice_current, ravi, bob, settings
):
    settings.TIME_ZONE = "Asia/Kolkata"
    PayeeFactory(owner=bob, name="Not hers")
    PayeeFactory(owner=alice, name="Removed one", removed_at=timezone.now())
    with time_machine.travel(datetime.datetime(2026, 12, 5, 12, 0, tzinfo=datetime.UTC), tick=False):
        cooling = _new_payee(alice, 0, name="Meena Rao")
        client.force_login(alice)
        response = client.get(NEW)
    page = response.content.decode()
    assert f'<option value="{alice_current.pk}">Current · {alice_current.masked_number}</option>' in page
    assert '<optgroup label="Payees">' in page
    assert f'<option value="payee-{ravi.pk}">Ravi Kumar · HDFC Bank ••1234</option>' in page
    assert "Not hers" not in page and "Removed one" not in page
    assert f"payee-{cooling.pk}" not in page  # still cooling off: not offered...
    # ...but named under To, with when it can receive (added 5 Dec 12:00 UTC + 24 h, in IST).
    assert "Meena Rao can receive money from 6 Dec 2026, 5:30 PM IST." in page
    assert "<h1>Move money</h1>" in page


def test_it_prefills_a_payee_from_the_payees_page_link(client, alice, alice_savings, ravi, bob):
    client.force_login(alice)
    form = client.get(f"{NEW}?destination=payee-{ravi.pk}").context["form"]
    assert form["destination"].value() == f"payee-{ravi.pk}"
    page = client.get(f"{NEW}?destination=payee-{ravi.pk}").content.decode()
    assert f'<option value="payee-{ravi.pk}" selected>' in page
    # Another customer's payee named in the link selects nothing.
    theirs = PayeeFactory(owner=bob)
    page = client.get(f"{NEW}?destination=payee-{theirs.pk}").content.decode()
    assert f"payee-{theirs.pk}" not in page and " selected>" not in page.split('name="destination"')[1][:2000]


@pytest.mark.parametrize("whose", ["bob", "removed", "cooling", "nonsense"])
def test_it_refuses_a_payee_that_cannot_be_paid_as_a_form_error(client, alice, alice_savings, bob, whose):
    payee = {
        "bob": lambda: PayeeFactory(owner=bob),
        "removed": lambda: PayeeFactory(owner=alice, removed_at=timezone.now()),
        "cooling": lambda: _new_payee(alice, 0.5),
        "nonsense": lambda: None,
    }[whose]()
    client.force_login(alice)
    data = _data(alice_savings, alice_savings, key="k-bad")
    data["destination"] = f"payee-{payee.pk}" if payee else "payee-x"
    before = _state()
    for url in (NEW, CONFIRM):
        response = client.post(url, data)
        assert response.status_code == 200
        expected = "was added recently" if whose == "cooling" else "Choose one of your accounts or payees."
        assert expected in _errors(response)
    assert _state() == before


# Happy paths


def test_it_sends_to_a_payee_who_banks_with_us(client, alice, alice_savings, bob_payee, bob_savings):
    fund(alice_savings, 2_00_000_00)
    client.force_login(alice)
    review_url, confirm = _review(client, _data(alice_savings, bob_payee, amount="1,20,000.50", key="k-in"))
    page = client.get(review_url).content.decode()
    assert '<dt>To</dt><dd class="user-text">Bob Menon</dd>' in page
    assert "<dt>Bank</dt><dd>SecureBank</dd>" in page
    assert f"{bob_payee.masked_account_number}" in page
    assert '<dt>Amount</dt><dd class="amount">₹1,20,000.50</dd>' in page
    assert "One lakh twenty thousand rupees and fifty paise" in page
    assert "<dt>Fees</dt><dd>None</dd>" in page
    assert "Confirm and move ₹1,20,000.50" in page
    # Above ₹50,000: the step-up notice.
    assert "This is a large transfer: when you confirm, we will ask for your password once more." in page

    asked = client.post(CONFIRM, confirm)
    assert asked["Location"].startswith(reverse("step_up") + "?action=transfer.large")
    client.post(asked["Location"], {"password": PASSWORD})
    done = client.post(CONFIRM, confirm)
    txn = Transaction.objects.get(idempotency_key=form_key("k-in"))
    assert done["Location"] == reverse("transfer_detail", args=[txn.pk])
    assert txn.kind == Transaction.Kind.PAYEE and txn.payee == bob_payee
    bob_savings.refresh_from_db()
    assert bob_savings.balance == 10_000_00 + 1_20_000_50

    receipt = client.get(done["Location"]).content.decode()
    assert "₹1,20,000.50 paid to Bob Menon." in receipt
    assert "<dt>Status</dt><dd>Credited</dd>" in receipt
    assert f"SB{txn.pk:010d}" in receipt
    assert " IST</dd>" in receipt
    alice_savings.refresh_from_db()
    assert f"<dt>Savings balance after</dt><dd>{format_paise(alice_savings.balance)}</dd>" in receipt
    # Bob's account is his: its balance is not on alice's receipt.
    assert format_paise(bob_savings.balance) not in receipt and receipt.count("balance after") == 1
    assert_books_balance()


def test_it_sends_to_another_banks_payee_as_an_outward_payment(client, alice, alice_savings, ravi):
    client.force_login(alice)
    _url, confirm = _review(client, _data(alice_savings, ravi, amount="2,000", key="k-out"))
    done = client.post(CONFIRM, confirm)
    txn = Transaction.objects.get(idempotency_key=form_key("k-out"))
    assert done.status_code == 303 and txn.kind == Transaction.Kind.OUTWARD
    receipt = client.get(done["Location"]).content.decode()
    assert "₹2,000.00 sent to Ravi Kumar." in receipt
    assert "<dt>Status</dt><dd>Sent to HDFC Bank</dd>" in receipt
    assert "<dt>Account</dt><dd>••1234</dd>" in receipt
    assert "<dt>Savings balance after</dt><dd>₹48,000.00</dd>" in receipt
    assert "settlement" not in receipt.lower()


# Refusals: a message on the form, nothing changed


def test_a_daily_limit_reached_since_the_review_is_a_message_that_moves_nothing(
    client, alice, alice_savings, ravi, settings
):
    client.force_login(alice)
    _url, confirm = _review(client, _data(alice_savings, ravi, amount="2,000"))
    settings.DAILY_TRANSFER_LIMIT_PAISE = 1_000_00
    before = _state()
    response = client.post(CONFIRM, confirm)
    assert response.status_code == 200
    assert "Your daily limit for sending money to others is ₹1,000.00; ₹1,000.00 is left today." in _errors(
        response
    )
    assert _state() == before


def test_the_review_refuses_what_a_limit_would_refuse(client, alice, alice_savings, ravi, settings):
    settings.DAILY_TRANSFER_LIMIT_PAISE = 1_000_00
    client.force_login(alice)
    response = client.post(NEW, _data(alice_savings, ravi, amount="2,000"))
    assert response.status_code == 200
    assert "Your daily limit for sending money to others" in _errors(response)


def test_the_new_payee_cap_is_a_message_before_any_step_up(client, alice, alice_savings):
    fund(alice_savings, 2_00_000_00)
    meena = _new_payee(alice, 2)  # past cooling-off, inside the new-payee period
    client.force_login(alice)
    response = client.post(NEW, _data(alice_savings, meena, amount="1,00,000.01"))
    assert "you can send at most ₹1,00,000.00 a day to Meena Rao, a new payee" in _errors(response)
    before = _state()
    response = client.post(CONFIRM, _data(alice_savings, meena, amount="1,00,000.01"))
    assert response.status_code == 200  # not the step-up page: a code asked for nothing is a code wasted
    assert "a new payee" in _errors(response)
    assert _state() == before


def test_cooling_off_reached_at_confirmation_is_refused_by_the_ledger_too(
    client, alice, alice_savings, settings
):
    """A payee past cooling-off for the form, but not by the ledger's clock: the service's own refusal."""
    meena = _new_payee(alice, 1.5)
    client.force_login(alice)
    _url, confirm = _review(client, _data(alice_savings, meena, amount="100"))
    settings.PAYEE_COOLING_OFF = 3 * 24 * 60 * 60
    before = _state()
    response = client.post(CONFIRM, confirm)
    assert response.status_code == 200
    assert "was added recently" in _errors(response)
    assert _state() == before


def test_insufficient_funds_and_a_frozen_account_are_messages(
    client, alice, alice_savings, alice_current, ravi
):
    client.force_login(alice)
    _url, confirm = _review(client, _data(alice_savings, ravi, amount="40,000", key="k-a"))
    client.post(CONFIRM, _data(alice_savings, alice_current, amount="20,000", key="k-drain"))
    before = _state()
    response = client.post(CONFIRM, confirm)
    assert "Not enough money in" in _errors(response)
    assert _state() == before

    _url, confirm = _review(client, _data(alice_savings, ravi, amount="10", key="k-b"))
    Account.objects.filter(pk=alice_savings.pk).update(status=Account.Status.FROZEN)
    response = client.post(CONFIRM, confirm)
    assert "Choose one of your active accounts." in _errors(response)
    assert _state() == before


def test_a_key_spent_on_another_payment_is_a_message(client, alice, alice_savings, ravi):
    client.force_login(alice)
    _url, confirm = _review(client, _data(alice_savings, ravi, amount="100", key="k-once"))
    client.post(CONFIRM, confirm)
    before = _state()
    response = client.post(CONFIRM, {**_data(alice_savings, ravi, amount="200", key="k-once")})
    assert "already used for a different payment" in _errors(response)
    assert _state() == before


# Step-up


def test_a_new_payee_asks_for_step_up_even_for_a_small_amount(client, alice, alice_savings):
    meena = _new_payee(alice, 2)
    client.force_login(alice)
    review_url, confirm = _review(client, _data(alice_savings, meena, amount="100", key="k-new"))
    page = client.get(review_url).content.decode()
    assert "Meena Rao is a new payee: when you confirm, we will ask for your password once more." in page
    asked = client.post(CONFIRM, confirm)
    assert asked["Location"].startswith(reverse("step_up") + "?action=transfer.payee")
    assert not Transaction.objects.filter(idempotency_key=form_key("k-new")).exists()
    step_up_page = client.get(asked["Location"]).content.decode()
    assert "send money to a new payee" in step_up_page
    assert "<dt>To</dt><dd>Meena Rao · HDFC Bank" in step_up_page
    assert "Back to the review" in step_up_page
    assert client.post(asked["Location"], {"password": PASSWORD})["Location"] == review_url
    assert client.post(CONFIRM, confirm).status_code == 303
    assert Transaction.objects.filter(idempotency_key=form_key("k-new")).count() == 1


def test_an_established_payee_under_the_threshold_needs_no_step_up(client, alice, alice_savings, ravi):
    client.force_login(alice)
    _url, confirm = _review(client, _data(alice_savings, ravi, amount="50,000", key="k-ok"))
    assert client.post(CONFIRM, confirm)["Location"].startswith("/transfers/")
    assert Transaction.objects.filter(idempotency_key=form_key("k-ok")).exists()


def test_a_proof_for_500_to_a_cannot_confirm_50000_to_b(client, alice, alice_savings):
    fund(alice_savings, 1_00_000_00)
    a, b = _new_payee(alice, 2, name="Payee A"), _new_payee(alice, 2, name="Payee B")
    client.force_login(alice)
    small = _data(alice_savings, a, amount="500", key="k-a")
    for other in (
        _data(alice_savings, b, amount="50,000", key="k-a"),  # another payee and amount, the same key
        _data(alice_savings, a, amount="50,000", key="k-a"),  # another amount
        _data(alice_savings, b, amount="500", key="k-a"),  # another payee
        _data(alice_savings, b, amount="500", key="k-b"),  # another payee and key
    ):
        asked = client.post(CONFIRM, small)
        assert asked["Location"].startswith(reverse("step_up") + "?action=transfer.payee")
        client.post(asked["Location"], {"password": PASSWORD})  # a proof for ₹500 to A
        response = client.post(CONFIRM, other)
        assert response["Location"].startswith(reverse("step_up")), response
        assert not Transaction.objects.filter(initiator=alice).exists()
        # Offered to the wrong transfer, the proof is spent: ₹500 to A asks again.
        assert client.post(CONFIRM, small)["Location"].startswith(reverse("step_up"))
        assert not Transaction.objects.filter(initiator=alice).exists()


# Replays, expiry, tampering


def test_a_replay_and_a_double_submit_move_money_once(client, alice, alice_savings, ravi):
    client.force_login(alice)
    _url, confirm = _review(client, _data(alice_savings, ravi, amount="700", key="k-twice"))
    first = client.post(CONFIRM, confirm)
    for _ in range(2):
        again = client.post(CONFIRM, confirm)
        assert again["Location"] == first["Location"]
    assert Transaction.objects.filter(initiator=alice).count() == 1
    page = client.get(first["Location"]).content.decode()
    assert "This transfer was already made at" in page
    # Even once the payee is removed, the replay finds its receipt.
    ravi.removed_at = timezone.now()
    ravi.save(update_fields=["removed_at"])
    assert client.post(CONFIRM, confirm)["Location"] == first["Location"]
    assert Transaction.objects.filter(initiator=alice).count() == 1


def test_the_same_transfer_to_a_payee_within_minutes_is_asked_about(client, alice, alice_savings, ravi):
    client.force_login(alice)
    client.post(CONFIRM, _data(alice_savings, ravi, amount="10", key="k-first"))
    review_url, confirm = _review(client, _data(alice_savings, ravi, amount="10", key="k-second"))
    assert client.post(CONFIRM, confirm)["Location"] == review_url
    page = client.get(review_url).content.decode()
    assert "You sent the same amount to the same payee less than a minute ago" in page
    assert client.post(CONFIRM, {**confirm, "send_again": "1"}).status_code == 303
    assert Transaction.objects.filter(initiator=alice).count() == 2


def test_a_review_expires_after_ten_minutes(client, alice, alice_savings, ravi):
    client.force_login(alice)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        review_url, confirm = _review(client, _data(alice_savings, ravi, amount="10", key="k-late"))
        clock.shift(datetime.timedelta(minutes=9, seconds=59))
        assert "Confirm and move ₹10.00" in client.get(review_url).content.decode()
        clock.shift(datetime.timedelta(seconds=2))
        before = _state()
        response = client.post(CONFIRM, confirm)
        assert response.status_code == 409
        page = response.content.decode()
        assert "This review expired" in page and "Nothing moved." in page
        token = confirm["review"]
        assert f'href="{NEW}?change={token}">Start again with these details</a>' in page
        assert _state() == before
        assert "Confirm and move" not in client.get(review_url).content.decode()
        again = client.get(f"{NEW}?change={token}").context["form"]
        assert again["destination"].value() == f"payee-{ravi.pk}"
        assert again["idempotency_key"].value() != form_key("k-late")


@pytest.mark.parametrize("change", [{"amount": "9,000.00"}, {"destination": "other"}, {"source": "other"}])
def test_tampered_hidden_fields_move_nothing(client, alice, alice_savings, alice_current, ravi, change):
    other_payee = PayeeFactory(owner=alice, name="Someone Else")
    fund(alice_current, 20_000_00)
    if change.get("destination") == "other":
        change = {"destination": f"payee-{other_payee.pk}"}
    if change.get("source") == "other":
        change = {"source": alice_current.pk}
    client.force_login(alice)
    review_url, confirm = _review(client, _data(alice_savings, ravi, amount="100", key="k-t"))
    before = _state()
    response = client.post(CONFIRM, {**confirm, **change})
    assert response.status_code == 303 and response["Location"] == review_url
    assert _state() == before
    page = client.get(review_url).content.decode()
    assert "The details sent were not the ones on this review, so nothing moved." in page
    assert "Confirm and move ₹100.00" in page  # the review as it was, still good to confirm


def test_another_customers_payee_in_the_hidden_field_is_refused(client, alice, alice_savings, ravi, bob):
    theirs = PayeeFactory(owner=bob, name="Bob's payee")
    client.force_login(alice)
    _url, confirm = _review(client, _data(alice_savings, ravi, amount="100", key="k-x"))
    before = _state()
    # In the review's hidden field: not what was reviewed, back to the review.
    response = client.post(CONFIRM, {**confirm, "destination": f"payee-{theirs.pk}"})
    assert response.status_code == 303 and response["Location"].startswith("/transfers/review/")
    # Without a review: not one of hers, a form error.
    response = client.post(CONFIRM, _data(alice_savings, theirs, key="k-y"))
    assert response.status_code == 200
    assert "Choose one of your accounts or payees." in _errors(response)
    assert _state() == before


def test_another_customers_payee_transfer_receipt_is_404(client, alice, alice_savings, ravi, bob):
    client.force_login(alice)
    done = client.post(CONFIRM, _data(alice_savings, ravi, amount="10", key="k-r"))
    client.force_login(bob)
    assert client.get(done["Location"]).status_code == 404


# HTMX inline validation


def test_it_checks_the_amount_inline_without_keeping_anything(client, alice, alice_savings, ravi):
    client.force_login(alice)
    data = {**_data(alice_savings, ravi, amount="ten"), "validate": "amount"}
    response = client.post(NEW, data, headers={"HX-Request": "true"})
    assert response.status_code == 200
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="id_amount_check"')
    assert "Enter an amount in rupees" in page
    assert "id_destination" not in page
    assert "transfer_reviews" not in client.session
    response = client.post(
        NEW, {**data, "amount": "60,000", "validate": "amount"}, headers={"HX-Request": "true"}
    )
    assert "That is more than the ₹50,000.00 available in Savings." in response.content.decode()
    response = client.post(NEW, {**data, "amount": "100"}, headers={"HX-Request": "true"})
    assert "field-error" not in response.content.decode()


def test_it_checks_to_inline(client, alice, alice_savings, bob):
    theirs = PayeeFactory(owner=bob)
    client.force_login(alice)
    data = {**_data(alice_savings, theirs, amount="10"), "validate": "destination"}
    page = client.post(NEW, data, headers={"HX-Request": "true"}).content.decode()
    assert page.lstrip().startswith('<div id="id_destination_check"')
    assert "Choose one of your accounts or payees." in page


# Query counts


def _page_queries(client, source, payee) -> list[int]:
    """Queries of the form, its POST (to the review) and the review page."""
    counts = []
    for step in (
        lambda: client.get(NEW),
        lambda: client.post(NEW, _data(source, payee, amount="10", key="k-q")),
        lambda: client.get(client.post(NEW, _data(source, payee, amount="10", key="k-q"))["Location"]),
    ):
        with CaptureQueriesContext(connection) as captured:
            step()
        counts.append(len(captured))
    return counts


def test_the_form_and_review_cost_the_same_queries_with_many_payees(client, alice, alice_savings, ravi):
    client.force_login(alice)
    few = _page_queries(client, alice_savings, ravi)
    for n in range(30):
        PayeeFactory(owner=alice, name=f"Payee {n}")
    _new_payee(alice, 0.2)
    many = _page_queries(client, alice_savings, ravi)
    assert many == few


def test_the_review_shows_the_default_note_to_a_payee(client, alice, alice_savings, ravi):
    client.force_login(alice)
    url, _confirm = _review(client, _data(alice_savings, ravi))
    body = client.get(url).content.decode()
    assert "Transfer to Ravi Kumar" in body
    assert "None</dd>" not in body.replace("<dt>Fees</dt><dd>None</dd>", "")


def test_the_payee_page_move_money_and_the_refusals_write_one_time_for_a_payee(client, alice, alice_savings):
    """Boundary times are rounded up to the minute in every place that prints them (portal/local_time.py
    date_and_time_from): added 5:29:20 PM IST, the payee receives from 5:30 PM the next day, never 5:29."""
    from transactions import limits

    added = datetime.datetime(2026, 12, 5, 11, 59, 20, tzinfo=datetime.UTC)  # 5:29:20 PM IST
    payee = PayeeFactory(owner=alice, name="Meena Rao", created_at=added)
    client.force_login(alice)
    cooling = "6 Dec 2026, 5:30 PM IST"
    with time_machine.travel(added + datetime.timedelta(hours=1), tick=False):
        assert f"Can receive money from {cooling}" in client.get(f"/payees/{payee.pk}/").content.decode()
        assert f"Meena Rao can receive money from {cooling}." in client.get(NEW).content.decode()
        with pytest.raises(limits.LimitError) as refused:
            limits.precheck(user=alice, payee=payee, amount_paise=100_00)
        assert f"from {cooling}." in refused.value.message
    capped = "10 Dec 2026, 5:30 PM IST"
    with time_machine.travel(added + datetime.timedelta(days=2), tick=False):
        client.force_login(alice)  # a new session: the first timed out meanwhile
        assert f"a day until {capped}" in client.get(f"/payees/{payee.pk}/").content.decode()
        with pytest.raises(limits.LimitError) as refused:
            limits.precheck(user=alice, payee=payee, amount_paise=2_00_000_00)
        assert refused.value.message.startswith(f"Until {capped} you can send")


def test_the_payees_cooling_off_are_listed_a_line_each_under_to(client, alice, alice_savings):
    added = datetime.datetime(2026, 12, 5, 11, 59, 20, tzinfo=datetime.UTC)
    PayeeFactory(owner=alice, name="Meena Rao", created_at=added)
    PayeeFactory(owner=alice, name="Ravi Kumar", created_at=added + datetime.timedelta(hours=2))
    client.force_login(alice)
    with time_machine.travel(added + datetime.timedelta(hours=3), tick=False):
        page = client.get(NEW).content.decode()
    assert (
        '<ul class="hint hint-lines" id="id_destination_helptext">'
        "<li>Meena Rao can receive money from 6 Dec 2026, 5:30 PM IST.</li>"
        "<li>Ravi Kumar can receive money from 6 Dec 2026, 7:30 PM IST.</li></ul>"
    ) in page
    assert 'aria-describedby="id_destination_helptext"' in page
