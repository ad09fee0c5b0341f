"""Every page of the transfer flow costs a fixed number of queries, however long the history."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.conftest import spend


def _flow(client, source, destination):
    """Draw the form, review, confirm and open the receipt; the number of queries of each step."""
    counts = []
    for method, url, data in (
        ("get", reverse("transfer_new"), None),
        ("post", reverse("transfer_new"), {"amount": "10"}),
        ("post", reverse("transfer_confirm"), {"amount": "10"}),
    ):
        payload = None
        if data is not None:
            payload = {
                "source": source.pk,
                "destination": destination.pk,
                "description": "",
                "idempotency_key": f"key-{len(counts)}-{source.ledger_version}",
                **data,
            }
        with CaptureQueriesContext(connection) as queries:
            response = getattr(client, method)(url, payload)
        counts.append(len(queries))
    with CaptureQueriesContext(connection) as queries:
        assert client.get(response["Location"]).status_code == 200
    counts.append(len(queries))
    return counts


@pytest.mark.parametrize("step", ["form", "review", "confirm", "receipt"])
def test_it_costs_the_same_queries_with_a_longspend(client, alice, alice_savings, alice_current, step):
    client.force_login(alice)
    short = _flow(client, alice_savings, alice_current)
    spend(alice_savings, 80)
    alice_savings.refresh_from_db()
    long_ = _flow(client, alice_savings, alice_current)
    index = ["form", "review", "confirm", "receipt"].index(step)
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
        "idempotency_key": "lean",
    }
    # user, the customer's accounts, then in one transaction: lock, insert the transaction, insert its
    # entries, update both balances (plus the savepoint/transaction statements of the test).
    with django_assert_max_num_queries(10):
        response = client.post(reverse("transfer_confirm"), data)
    assert response.status_code == 302
