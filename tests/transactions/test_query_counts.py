"""Every page of the transfer flow costs a fixed number of queries, however long the history."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.conftest import spend
from tests.factories import PayeeFactory
from tests.keys import form_key
from transactions.models import OutwardPayment, Transaction


def _flow(client, source, destination):
    """Draw the form, post it, draw the review it redirects to, confirm and open the receipt; the number of
    queries of each step."""
    payload = {
        "source": source.pk,
        "destination": destination.pk,
        "amount": "10",
        "description": "",
        "idempotency_key": form_key(f"key-{source.ledger_version}"),
        "send_again": "1",  # the second flow repeats the first within minutes: "Yes, send again"
    }
    steps = (
        lambda previous: client.get(reverse("transfer_new")),
        lambda previous: client.post(reverse("transfer_new"), payload),
        lambda previous: client.get(previous["Location"]),
        lambda previous: client.post(reverse("transfer_confirm"), payload),
        lambda previous: client.get(previous["Location"]),
    )
    counts, response = [], None
    for step in steps:
        with CaptureQueriesContext(connection) as queries:
            response = step(response)
        assert response.status_code in (200, 303), response
        counts.append(len(queries))
    return counts


STEPS = ["form", "check", "review", "confirm", "receipt"]


@pytest.mark.parametrize("step", STEPS)
def test_it_costs_the_same_queries_with_a_longspend(client, alice, alice_savings, alice_current, step):
    client.force_login(alice)
    short = _flow(client, alice_savings, alice_current)
    spend(alice_savings, 80)
    alice_savings.refresh_from_db()
    long_ = _flow(client, alice_savings, alice_current)
    index = STEPS.index(step)
    assert long_[index] == short[index]


def test_it_confirms_a_transfer_in_a_handful_of_statements(
    client, alice, alice_savings, alice_current, django_assert_max_num_queries
):
    client.force_login(alice)
    data = {
        "source": alice_savings.pk,
        "destination": alice_current.pk,
        "amount": "10",
        "description": "",
        "idempotency_key": form_key("lean"),
    }
    # user, the customer's accounts, then in one transaction: lock, insert the transaction, insert its
    # entries, update both balances, insert its two alerts (plus the savepoint/transaction statements of
    # the test); before it, whether the same transfer was made in the last few minutes (the review asks
    # "send again?").
    with django_assert_max_num_queries(12):
        response = client.post(reverse("transfer_confirm"), data)
    assert response.status_code == 303


def test_a_posting_is_six_statements(alice, alice_savings, alice_current, django_assert_num_queries):
    """The ledger's hot path: lock both accounts, insert the transaction, its entries, both balances in one
    UPDATE, the customers' alerts in one INSERT (transactions/alerts.py), the audit event; plus the test's
    SAVEPOINT and RELEASE around the posting's atomic block."""
    from transactions import services

    with django_assert_num_queries(8):
        services.transfer_create(
            initiator=alice,
            source=alice_savings,
            destination=alice_current,
            amount_paise=1_00,
            description="",
            idempotency_key="six",
        )


def _confirm_to_payee(client, source, payee, key):
    data = {
        "source": source.pk,
        "destination": f"payee-{payee.pk}",
        "amount": "10",
        "description": "",
        "idempotency_key": form_key(key),
        "send_again": "1",
    }
    return client.post(reverse("transfer_confirm"), data)


@pytest.mark.parametrize("at_another_bank", [False, True], ids=["securebank_payee", "outward"])
def test_it_confirms_a_transfer_to_a_payee_in_few_more_statements(
    client, alice, alice_savings, bob_savings, django_assert_num_queries, at_another_bank
):
    """A payee transfer's confirmation (after the customer's first of the day, which makes their limits row):
    user, accounts and payees (one round trip), the replay check, then in one transaction: one UPDATE that
    locks the limits row,
    adds the transfer to the day's total and reads the key and the payee, and the posting's six (accounts
    lock, transaction with its OutwardPayment for another bank, entries, balances, alerts, audit event), no
    savepoint of its own; plus the test's SAVEPOINT and RELEASE. One more than between own accounts (a payee
    still under its new-payee cap: one more, the day's sum sent to it, read after the lock)."""
    payee = (
        PayeeFactory(owner=alice)
        if at_another_bank
        else PayeeFactory(
            owner=alice, account_number=bob_savings.number, ifsc="SECB0000001", account=bob_savings
        )
    )
    client.force_login(alice)
    assert _confirm_to_payee(client, alice_savings, payee, "first").status_code == 303
    with django_assert_num_queries(12):
        response = _confirm_to_payee(client, alice_savings, payee, "second")
    assert response.status_code == 303
    txn = Transaction.objects.get(idempotency_key=form_key("second"))
    assert txn.kind == ("outward" if at_another_bank else "payee")
    assert OutwardPayment.objects.filter(transaction=txn).exists() == at_another_bank
