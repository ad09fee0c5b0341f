"""The history page of one account: its rows, running balance, pages by keyset and signed cursor, HTMX, and
what it refuses (another customer's account, a forged cursor, anonymous, POST)."""

import datetime
import re

import pytest
import time_machine
from django.urls import reverse

from accounts.models import Account
from tests.factories import AccountFactory
from tests.transactions.history_helpers import NOW, history_url, ist, link, post, shown
from transactions.history.cursor import OLDER, Cursor
from transactions.models import Entry


@pytest.fixture(autouse=True)
def _pinned_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def account(alice) -> Account:
    """Alice's account with 30 entries over 30 days: a salary, then 29 payments, all in history order."""
    account = AccountFactory(owner=alice, name="Everyday")
    start = NOW - datetime.timedelta(days=31)
    post(account, start, 1_00_000_00, "Salary", "Infosys Ltd", "salary")
    for i in range(1, 30):
        post(account, start + datetime.timedelta(days=i), -(100_00 + i), f"Chai {i}", "Chaayos", "dining")
    return account


@pytest.fixture
def signed_in(client, alice):
    client.force_login(alice)
    return client


def _newest_first(account: Account) -> list[int]:
    return list(
        Entry.objects.filter(account=account)
        .order_by("-created", "-id")
        .values_list("transaction_id", flat=True)
    )


def test_it_shows_the_newest_25_entries_with_their_details(signed_in, account):
    response = signed_in.get(history_url(account))
    assert response.status_code == 200
    page = response.content.decode()
    assert shown(response) == _newest_first(account)[:25]
    assert "<html" in page
    assert "5 Dec 2026" in page and "10:00 AM" in page  # dates and times in India (04:30 UTC)
    assert "Chai 29" in page and "Chaayos" in page and "Dining" in page
    assert "-₹100.29" in page and 'class="visually-hidden">Debit </span>' in page
    assert "Infosys Ltd" not in page  # the oldest row is on the next page


def test_it_marks_credits_by_sign_and_text(signed_in, account):
    page = signed_in.get(history_url(account, size="100")).content.decode()
    assert "+₹1,00,000.00" in page
    assert 'class="num credit"><span class="visually-hidden">Credit </span>' in page


def test_it_shows_the_running_balance_after_each_entry(signed_in, account):
    response = signed_in.get(history_url(account, size="100"))
    balances = re.findall(r'<td class="num col-balance">₹([\d,.]+)</td>', response.content.decode())
    entries = list(Entry.objects.filter(account=account).order_by("created", "id"))
    running, expected = 0, []
    for entry in entries:
        running += entry.amount
        expected.append(running)
    shown_paise = [int(b.replace(",", "").replace(".", "")) for b in balances]
    assert shown_paise == expected[::-1]


def test_it_pages_older_and_newer_carrying_the_filters(signed_in, account):
    first = signed_in.get(history_url(account, size="10", text="chai"))
    assert link(first, "prev") == ""
    older = link(first, "next")
    assert "text=chai" in older and "size=10" in older and "cursor=" in older
    second = signed_in.get(older)
    third = signed_in.get(link(second, "next"))
    assert link(third, "next") == ""  # 29 Chai rows: 10, 10, 9
    assert len(shown(third)) == 9
    walked = shown(first) + shown(second) + shown(third)
    assert walked == [t for t in _newest_first(account) if t != _newest_first(account)[-1]]
    back = signed_in.get(link(third, "prev"))
    assert shown(back) == shown(second)
    assert shown(signed_in.get(link(back, "prev"))) == shown(first)


@pytest.mark.parametrize(
    "size,rows",
    [("5", 5), ("100", 30), ("101", 25), ("0", 25), ("-3", 25), ("abc", 25), ("٣", 25), ("9" * 40, 25)],
)
def test_it_takes_a_page_size_up_to_100_and_ignores_a_bad_one(signed_in, account, size, rows):
    response = signed_in.get(history_url(account, size=size))
    assert response.status_code == 200
    assert len(shown(response)) == rows


def test_it_refuses_a_forged_cursor_with_the_newest_page(signed_in, account):
    response = signed_in.get(history_url(account, cursor="not-a-cursor"))
    assert response.status_code == 200
    assert "That page link is not valid" in response.content.decode()
    assert shown(response) == _newest_first(account)[:25]


def test_it_refuses_an_edited_cursor(signed_in, account):
    token = Cursor(created=NOW, id=5, direction=OLDER).sign(account.pk)
    edited = token[:-3] + ("abc" if not token.endswith("abc") else "xyz")
    response = signed_in.get(history_url(account, cursor=edited))
    assert "That page link is not valid" in response.content.decode()


def test_it_refuses_another_accounts_cursor(signed_in, alice, account):
    other = AccountFactory(owner=alice, name="Other")
    newest = Entry.objects.filter(account=account).order_by("-created", "-id").first()
    token = Cursor(created=newest.created, id=newest.pk, direction=OLDER).sign(other.pk)
    response = signed_in.get(history_url(account, cursor=token))
    assert "That page link is not valid" in response.content.decode()
    assert shown(response) == _newest_first(account)[:25]


def test_it_accepts_its_own_cursor_without_a_notice(signed_in, account):
    response = signed_in.get(link(signed_in.get(history_url(account)), "next"))
    assert "not valid" not in response.content.decode()
    assert shown(response) == _newest_first(account)[25:]


def test_it_answers_htmx_with_the_table_only(signed_in, account):
    response = signed_in.get(history_url(account), HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in page and "<h1" not in page
    assert page.lstrip().startswith('<div id="history-results"')
    assert shown(response) == _newest_first(account)[:25]
    assert "HX-Request" in response["Vary"]


def test_it_answers_a_history_restore_with_the_whole_page(signed_in, account):
    response = signed_in.get(
        history_url(account), HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    )
    assert "<html" in response.content.decode()


def test_a_normal_request_gets_the_page_which_no_cache_keeps(signed_in, account):
    response = signed_in.get(history_url(account))
    assert "<html" in response.content.decode()
    assert "HX-Request" in response["Vary"]
    assert "no-store" in response["Cache-Control"]


def test_every_htmx_link_has_a_real_href(signed_in, account):
    page = signed_in.get(history_url(account)).content.decode()
    for tag in re.findall(r"<(?:a|form)\b[^>]*hx-get[^>]*>", page):
        assert 'href="' in tag or 'action="' in tag, tag


def test_it_says_when_there_is_nothing_yet(signed_in, alice):
    empty = AccountFactory(owner=alice, name="New")
    page = signed_in.get(history_url(empty)).content.decode()
    assert "No transactions yet." in page and 'rel="next"' not in page


def test_it_is_404_for_another_customers_account(client, bob, account):
    client.force_login(bob)
    assert client.get(history_url(account)).status_code == 404


def test_it_is_404_for_an_internal_account(signed_in):
    internal = Account.objects.filter(kind=Account.Kind.INTERNAL).first()
    assert signed_in.get(history_url(internal)).status_code == 404


def test_it_sends_anonymous_visitors_to_sign_in(client, account):
    response = client.get(history_url(account))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_refuses_post(signed_in, account):
    assert signed_in.post(history_url(account)).status_code == 405


def test_the_dashboard_links_each_account_to_its_history_and_each_row_to_its_detail(signed_in, account):
    page = signed_in.get(reverse("dashboard")).content.decode()
    assert f'href="{history_url(account)}"' in page
    newest = _newest_first(account)[0]
    assert f'href="{reverse("history_detail", args=[account.pk, newest])}"' in page


def test_it_keeps_rows_of_one_moment_in_id_order(signed_in, alice):
    same = AccountFactory(owner=alice, name="Same")
    moment = ist("2026-11-01")
    ids = [post(same, moment, 100_00 + i, f"Refund {i}").pk for i in range(7)]
    first = signed_in.get(history_url(same, size="3"))
    second = signed_in.get(link(first, "next"))
    third = signed_in.get(link(second, "next"))
    assert shown(first) + shown(second) + shown(third) == ids[::-1]
