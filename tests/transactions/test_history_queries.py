"""The history page costs the same queries for an account of 30 entries and one of 300: on the first page and
a cursor page, filtered and not, as a page and as HTMX (no query per row, nothing that grows)."""

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Account
from tests.factories import AccountFactory
from tests.transactions.history_helpers import NOW, history_url, link, post

MAX_QUERIES = 4  # user, account, categories, the page (sessions are in Redis; a filter's totals come apart)


@pytest.fixture(autouse=True)
def _pinned_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def _history(owner, entries: int) -> Account:
    account = AccountFactory(owner=owner)
    start = NOW - datetime.timedelta(days=60)
    post(account, start, 1_00_000_00, "Opening", category="salary")
    for i in range(entries - 1):
        category = ("groceries", "dining", None)[i % 3]
        post(
            account,
            start + datetime.timedelta(minutes=10 * (i + 1)),
            -(1_00 + i),
            f"Chai {i}",
            "Chaayos",
            category,
        )
    return account


def _counts(client, account: Account) -> dict[str, int]:
    counts = {}
    for name, params in (
        ("page", {}),
        ("filtered", {"category": "groceries", "amount_min": "1", "q": "chai"}),
    ):
        for htmx in (False, True):
            headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
            url = history_url(account, size="5", **params)
            connection.queries_log.clear()  # a full log (9,000 queries of posting) would count 0
            with CaptureQueriesContext(connection) as first:
                response = client.get(url, **headers)
            older = link(client.get(url), "next")  # the pager's link (a full page has it as such)
            assert older, "a second page"
            with CaptureQueriesContext(connection) as second:
                client.get(older, **headers)
            counts[f"{name}-{'htmx' if htmx else 'full'}-first"] = len(first)
            counts[f"{name}-{'htmx' if htmx else 'full'}-cursor"] = len(second)
            assert response.status_code == 200
    return counts


def test_it_costs_the_same_queries_for_30_and_300_entries(client, alice):
    client.force_login(alice)
    short, long_ = _history(alice, 30), _history(alice, 300)
    assert _counts(client, short) == _counts(client, long_)


@pytest.mark.parametrize("params", [{}, {"category": "groceries", "q": "chai", "date_from": "2026-10-01"}])
@pytest.mark.parametrize("cursor", [False, True])
def test_it_reads_a_page_in_a_handful_of_queries(
    client, alice, django_assert_max_num_queries, params, cursor
):
    client.force_login(alice)
    account = _history(alice, 300)
    url = history_url(account, **params)
    connection.queries_log.clear()
    if cursor:
        url = link(client.get(url), "next")
    with django_assert_max_num_queries(MAX_QUERIES):
        assert client.get(url).status_code == 200


def test_the_detail_costs_a_fixed_number_of_queries(client, alice, django_assert_max_num_queries):
    from django.urls import reverse

    client.force_login(alice)
    account = _history(alice, 30)
    txn = account.entries.order_by("-id").first().transaction
    with django_assert_max_num_queries(4):  # user, account, transaction, its own entries
        assert client.get(reverse("history_detail", args=[account.pk, txn.pk])).status_code == 200


@pytest.mark.parametrize("entries", [30, 300])
@pytest.mark.parametrize("htmx", [False, True])
def test_the_totals_of_a_filter_cost_a_fixed_number_of_queries(
    client, alice, django_assert_max_num_queries, entries, htmx
):
    """As the page's own request (HTMX: the totals alone) or the no-JS link's page (the page with them)."""
    client.force_login(alice)
    account = _history(alice, entries)
    url = history_url(account, category="groceries", q="chai", totals="1")
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    connection.queries_log.clear()
    # The totals: one aggregate under a time limit (set_config), in a savepoint here.
    totals = 5  # and the test transaction's own limit put back after it
    with django_assert_max_num_queries(MAX_QUERIES - 1 + totals if htmx else MAX_QUERIES + totals):
        response = client.get(url, **headers)
    assert "Matching" in response.content.decode()
    assert ("<table" in response.content.decode()) is not htmx
