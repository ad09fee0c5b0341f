"""The history page's filters and search box as GET parameters: each narrows the list, the totals of what
they match are shown, and a value that does not read is said beside its field over the unfiltered list."""

import pytest
import time_machine

from accounts.models import Account
from tests.factories import AccountFactory
from tests.transactions.history_helpers import NOW, history_url, ist, post, shown
from transactions.models import Entry


@pytest.fixture(autouse=True)
def _pinned_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def signed_in(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def account(alice) -> Account:
    account = AccountFactory(owner=alice, name="Everyday")
    post(account, ist("2026-01-01", 9), 2_00_000_00, "Salary for December", "Infosys Ltd", "salary")
    post(account, ist("2026-01-31", 23, 59), -3_003_92, "DMart groceries", "DMart", "groceries")
    post(account, ist("2026-02-01", 0, 1), -500_00, "Big Bazaar groceries", "Big Bazaar", "groceries")
    post(account, ist("2026-02-14", 20), -1_250_00, "Dinner", "Zomato", "dining")
    post(account, ist("2026-03-01", 10), -38_000_00, "Rent for March", "Ramesh Kulkarni", "rent")
    post(account, ist("2026-03-05", 10), 499_50, "Refund", "Amazon", None)
    return account


def _all(account: Account) -> list[int]:
    rows = Entry.objects.filter(account=account).order_by("-created", "-id")
    return list(rows.values_list("transaction_id", flat=True))


def _by_description(account: Account, *descriptions: str) -> list[int]:
    rows = Entry.objects.filter(account=account, transaction__description__in=descriptions)
    return list(rows.order_by("-created", "-id").values_list("transaction_id", flat=True))


@pytest.mark.parametrize(
    "params,expected",
    [
        ({"date_from": "2026-02-01"}, ["Big Bazaar groceries", "Dinner", "Rent for March", "Refund"]),
        ({"date_to": "2026-01-31"}, ["Salary for December", "DMart groceries"]),  # the day's last minute in
        ({"date_from": "2026-01-31", "date_to": "2026-01-31"}, ["DMart groceries"]),
        ({"amount_min": "1,250"}, ["Salary for December", "DMart groceries", "Dinner", "Rent for March"]),
        ({"amount_max": "500"}, ["Big Bazaar groceries", "Refund"]),
        ({"amount_min": "499.50", "amount_max": "₹1,250.00"}, ["Big Bazaar groceries", "Dinner", "Refund"]),
        ({"direction": "credit"}, ["Salary for December", "Refund"]),
        ({"direction": "debit", "amount_max": "1000"}, ["Big Bazaar groceries"]),
        ({"category": "groceries"}, ["DMart groceries", "Big Bazaar groceries"]),
        ({"text": "bazaar"}, ["Big Bazaar groceries"]),
        ({"text": "kulkarni"}, ["Rent for March"]),  # the counterparty
        ({"q": "GROCERIES"}, ["DMart groceries", "Big Bazaar groceries"]),
        ({"q": "groceries", "date_from": "2026-02-01"}, ["Big Bazaar groceries"]),
    ],
)
def test_each_filter_narrows_the_list(signed_in, account, params, expected):
    response = signed_in.get(history_url(account, **params))
    assert response.status_code == 200
    assert shown(response) == _by_description(account, *expected)


def test_it_shows_the_totals_of_a_filter(signed_in, account):
    page = signed_in.get(history_url(account, category="groceries", totals="1")).content.decode()
    assert "<strong>2</strong> transactions" in page
    assert "₹3,503.92" in page  # out
    assert "-₹3,503.92" in page  # net


def test_it_totals_credits_and_debits_of_a_search(signed_in, account):
    page = signed_in.get(history_url(account, date_from="2026-03-01", totals="1")).content.decode()
    assert "<strong>2</strong> transactions" in page
    assert "₹38,000.00" in page and "₹499.50" in page and "-₹37,500.50" in page


def test_it_shows_no_totals_without_a_filter(signed_in, account):
    page = signed_in.get(history_url(account, totals="1")).content.decode()
    assert "Matching" not in page and "Show the totals" not in page


def test_a_filtered_page_asks_for_its_totals_apart(signed_in, account):
    """The page reads its 25 rows only; the totals come by HTMX after it is drawn, or by the link without JS,
    which carries the filter (and the HTMX answer is the totals alone, pushing no address)."""
    page = signed_in.get(history_url(account, category="groceries")).content.decode()
    assert "Matching" not in page
    totals_url = history_url(account, category="groceries", totals="1").replace("&", "&amp;")
    assert f'hx-get="{totals_url}" hx-trigger="load"' in page
    assert f'<a href="{totals_url}">Show the totals' in page
    fragment = signed_in.get(history_url(account, category="groceries", totals="1"), HTTP_HX_REQUEST="true")
    body = fragment.content.decode()
    assert "<strong>2</strong> transactions" in body and "<table" not in body
    assert "HX-Push-Url" not in fragment


def test_it_says_when_nothing_matches(signed_in, account):
    response = signed_in.get(history_url(account, text="nothing like this"))
    assert shown(response) == []
    assert "No transactions match." in response.content.decode()
    totals = signed_in.get(history_url(account, text="nothing like this", totals="1")).content.decode()
    assert "<strong>0</strong> transactions" in totals


@pytest.mark.parametrize(
    "params,field,message",
    [
        ({"amount_min": "abc"}, "amount_min", "Enter an amount in rupees"),
        ({"amount_max": "12.345"}, "amount_max", "at most two digits after the decimal point"),
        ({"amount_min": "-5"}, "amount_min", "Enter an amount greater than zero."),
        ({"amount_min": "9" * 40}, "amount_min", "Enter an amount in rupees"),
        ({"date_from": "2026-02-30"}, "date_from", "Enter a real date, like 2026-01-31."),
        ({"date_to": "yesterday"}, "date_to", "Enter a real date"),
        ({"date_to": "9999-12-31"}, "date_to", "Enter a real date"),
        ({"date_from": "2026-03-01", "date_to": "2026-02-01"}, "date_to", "The end date is before the start"),
        ({"amount_min": "500", "amount_max": "100"}, "amount_max", "This is less than the lowest amount."),
        ({"direction": "sideways"}, "direction", "Choose money in, money out, or both."),
        ({"category": "no-such", "text": "rent"}, "category", "Choose one of the categories in the list."),
        ({"text": "x" * 101}, "text", "Keep the text under 100 characters."),
    ],
)
def test_it_says_what_is_wrong_beside_the_field_and_shows_everything(
    signed_in, account, params, field, message
):
    response = signed_in.get(history_url(account, **params))
    assert response.status_code == 200
    page = response.content.decode()
    error = f'<p class="field-error" id="id_{field}_error">'
    assert error in page
    assert message in page.split(error, 1)[1].split("</p>", 1)[0]
    assert "so nothing is filtered" in page
    assert shown(response) == _all(account)  # the unfiltered list
    assert "Matching" not in page  # no totals of a filter that was not applied


def test_it_says_what_is_wrong_with_the_search_beside_the_box(signed_in, account):
    response = signed_in.get(history_url(account, q="x" * 201, category="groceries"))
    page = response.content.decode()
    message = "Keep the search to 200 characters at most (this one has 201)."
    assert f'<p class="field-error" id="id_q_error">{message}</p>' in page
    assert shown(response) == _all(account)


def test_a_bad_filter_is_not_carried_to_the_page_links(signed_in, account):
    for i in range(30):
        post(account, ist("2026-04-01", 9, i), -1_00, f"Chai {i}")
    page = signed_in.get(history_url(account, amount_min="abc")).content.decode()
    assert 'rel="next" href="/accounts/' in page
    assert "amount_min" not in page.split('rel="next"', 1)[1].split(">", 1)[0]


def test_the_htmx_answer_carries_the_messages_beside_the_fields(signed_in, account):
    response = signed_in.get(history_url(account, date_from="2026-02-30"), HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert "<html" not in page
    assert 'id="id_date_from_error"' in page
    assert 'aria-describedby="id_date_from_error"' in page


def test_it_merges_the_form_and_the_search_into_the_narrower_bounds():
    import datetime

    from transactions.history.filters import HistoryFilter

    form = HistoryFilter(amount_min=0, date_from=datetime.date(2026, 1, 1), categories=("rent",))
    searched = HistoryFilter(date_from=datetime.date(2026, 2, 1), amount_max=500_00, categories=("emi",))
    merged = form.merged(searched)
    assert merged.amount_min == 0  # a bound of zero is a bound, not "none"
    assert merged.amount_max == 500_00
    assert merged.date_from == datetime.date(2026, 2, 1)
    assert merged.categories == ("rent", "emi")


@pytest.mark.parametrize("name", ["q", "text", "amount_min", "date_from", "cursor", "size", "direction"])
def test_a_nul_character_is_a_message_not_a_500(signed_in, account, name):
    response = signed_in.get(history_url(account, **{name: "rent\x00"}))
    assert response.status_code == 200
    assert shown(response) == _all(account)
    if name in ("q", "text"):
        assert "Type letters, digits or punctuation only." in response.content.decode()
