"""One transaction of an account's history: its reference, kind, description, counterparty, category, time and
the entries on the customer's own accounts only; the receipt for the customer's own transfers; a 404 for a
transaction that did not touch the account or an account that is not theirs."""

import uuid

import pytest
import time_machine
from django.urls import reverse

from accounts.models import Account
from tests.factories import AccountFactory, PayeeFactory
from tests.transactions.history_helpers import NOW, ist, post
from transactions import services


@pytest.fixture(autouse=True)
def _pinned_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def alice_savings(alice):
    """Her savings, opened on 1 Oct 2026: the history these tests post (from November) comes after it
    (a posting may not be dated before an account's newest entry)."""
    account = AccountFactory(owner=alice, name="Savings", kind=Account.Kind.SAVINGS)
    post(account, ist("2026-10-01", 9, 0), 50_000_00, "Opening deposit")
    return account


@pytest.fixture
def signed_in(client, alice):
    client.force_login(alice)
    return client


def _detail(account, txn) -> str:
    return reverse("history_detail", args=[account.pk, txn.pk])


def test_it_shows_a_payment(signed_in, alice_savings):
    txn = post(alice_savings, ist("2026-11-02", 18, 5), -3_003_92, "DMart groceries", "DMart", "groceries")
    response = signed_in.get(_detail(alice_savings, txn))
    assert response.status_code == 200
    page = response.content.decode()
    assert "<html" in page
    assert txn.reference in page
    assert "DMart groceries" in page and "DMart" in page and "Groceries" in page and "UPI payment" in page
    assert "2 Nov 2026, 6:05 PM IST" in page
    assert "-₹3,003.92" in page and 'class="visually-hidden">Debit </span>' in page
    assert "View the receipt" not in page  # not a transfer she made
    assert f'href="{reverse("history", args=[alice_savings.pk])}"' in page


def test_it_shows_both_legs_of_a_transfer_between_her_accounts_and_the_receipt(
    signed_in, alice, alice_savings, alice_current
):
    txn = services.transfer_create(
        initiator=alice,
        source=alice_savings,
        destination=alice_current,
        amount_paise=1_000_00,
        description="Monthly budget",
        idempotency_key=uuid.uuid4().hex,
    )
    for account in (alice_savings, alice_current):
        page = signed_in.get(_detail(account, txn)).content.decode()
        assert alice_savings.masked_number in page and alice_current.masked_number in page
        assert "-₹1,000.00" in page and "+₹1,000.00" in page
        assert f'href="{reverse("transfer_detail", args=[txn.pk])}"' in page


def test_it_never_shows_another_customers_leg(client, alice, bob, alice_savings, bob_savings):
    """Bob pays Alice (a payee at SecureBank): her detail shows her credit, never his account."""
    payee = PayeeFactory(owner=bob, name="Alice", account=alice_savings)
    txn = services.payee_transfer_create(
        initiator=bob,
        source=bob_savings,
        payee=payee,
        amount_paise=500_00,
        description="Dinner share",
        idempotency_key=uuid.uuid4().hex,
    )
    client.force_login(alice)
    page = client.get(_detail(alice_savings, txn)).content.decode()
    assert "+₹500.00" in page
    assert bob_savings.masked_number not in page and bob_savings.number not in page
    assert "-₹500.00" not in page
    assert "View the receipt" not in page  # Bob's transfer, not hers


def test_it_is_404_for_a_transaction_not_on_that_account(signed_in, alice_savings, alice_current):
    txn = post(alice_savings, ist("2026-11-02"), -100_00, "Chai")
    assert signed_in.get(_detail(alice_current, txn)).status_code == 404
    assert signed_in.get(reverse("history_detail", args=[alice_savings.pk, 2_000_000_000])).status_code == 404


def test_it_is_404_for_another_customers_account_or_transaction(client, bob, alice_savings, bob_savings):
    txn = post(alice_savings, ist("2026-11-02"), -100_00, "Chai")
    client.force_login(bob)
    assert client.get(_detail(alice_savings, txn)).status_code == 404
    assert client.get(_detail(bob_savings, txn)).status_code == 404


def test_it_answers_htmx_with_the_drawers_content(signed_in, alice_savings):
    txn = post(alice_savings, ist("2026-11-02"), -100_00, "Chai", "Chaayos")
    response = signed_in.get(_detail(alice_savings, txn), HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert "<html" not in page and "<h1" not in page
    assert '<h2 id="history-detail-title"' in page and "data-drawer-close" in page
    assert txn.reference in page
    assert "HX-Request" in response["Vary"]


def test_the_history_rows_open_the_detail(signed_in, alice_savings):
    txn = post(alice_savings, ist("2026-11-02"), -100_00, "Chai", "Chaayos")
    page = signed_in.get(reverse("history", args=[alice_savings.pk])).content.decode()
    url = _detail(alice_savings, txn)
    assert f'href="{url}" hx-get="{url}" hx-target="#history-drawer-body"' in page


def test_it_sends_anonymous_visitors_to_sign_in(client, alice_savings):
    txn = post(alice_savings, ist("2026-11-02"), -100_00, "Chai")
    response = client.get(_detail(alice_savings, txn))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_it_refuses_post(signed_in, alice_savings):
    txn = post(alice_savings, ist("2026-11-02"), -100_00, "Chai")
    assert signed_in.post(_detail(alice_savings, txn)).status_code == 405
