"""The insights page (/insights/): the figures of the customer's own accounts over a period, in words, tables
and charts; what it refuses (anonymous, POST, bad dates, another customer's account); what it costs in
queries, cold and warm; its HTMX partial; IST day boundaries; and plotly.js on this page only."""

import datetime
import json
import re
import uuid
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import plotly.graph_objects as go
import pytest
import time_machine
from django.urls import reverse

from accounts.models import Account
from portal.seeding.history import posted_at
from tests.factories import AccountFactory
from transactions import services
from transactions.insights import charts, periods

IST = ZoneInfo("Asia/Kolkata")
NOW = datetime.datetime(2026, 11, 20, 12, 0, tzinfo=IST)
URL = "/insights/"


def ist(*args: int) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=IST)


def pay(account, when, paise, counterparty="Shop", category=None):
    with posted_at(when):
        services.payment_create(
            account=account,
            amount_paise=paise,
            description="Purchase",
            counterparty=counterparty,
            category=category,
            idempotency_key=str(uuid.uuid4()),
        )


def receive(account, when, paise, counterparty="Infosys Ltd", category="salary"):
    with posted_at(when):
        services.deposit_create(
            account=account,
            amount_paise=paise,
            description="Salary",
            counterparty=counterparty,
            category=category,
            idempotency_key=str(uuid.uuid4()),
        )


@pytest.fixture(autouse=True)
def _pinned_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def savings(alice) -> Account:
    """October: a salary, ₹1,000 at Swiggy (dining). November so far: a salary, ₹1,230 at Swiggy, ₹2,500 at
    DMart (groceries)."""
    account = AccountFactory(owner=alice, name="Salary savings", kind=Account.Kind.SAVINGS)
    receive(account, ist(2026, 10, 1, 9), 1_00_000_00)
    pay(account, ist(2026, 10, 5, 20), 1_000_00, "Swiggy", "dining")
    receive(account, ist(2026, 11, 1, 9), 1_00_000_00)
    pay(account, ist(2026, 11, 3, 20), 1_230_00, "Swiggy", "dining")
    pay(account, ist(2026, 11, 10, 11), 2_500_00, "DMart", "groceries")
    account.refresh_from_db()
    return account


@pytest.fixture
def signed_in(client, alice):
    client.force_login(alice)
    return client


def figure(page: str, name: str) -> dict:
    found = re.search(rf'<script type="application/json" id="figure-{name}">(.*?)</script>', page, re.S)
    assert found, f"no figure {name}"
    return json.loads(found.group(1))


def table_rows(page: str, caption_start: str) -> list[list[str]]:
    """The rows of the table whose caption starts so, each as its cells' text."""
    tables = re.findall(r"<table.*?</table>", page, re.S)
    table = next(t for t in tables if re.search(rf"<caption[^>]*>\s*{re.escape(caption_start)}", t))
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)[1:]:
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        rows.append([" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in cells])
    return rows


def test_it_shows_the_months_spending_in_words_tables_and_charts(signed_in, savings):
    response = signed_in.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    headline = re.search(r'<p class="insights-headline">(.*?)</p>', page).group(1)
    assert headline == (
        "You spent ₹3,730.00 so far in November, 273% more than the same days last month; Dining +23%."
    )
    categories = table_rows(page, "Spending by category")
    assert [row[0] for row in categories] == ["Groceries", "Dining"]
    assert categories[1][1].startswith("₹1,230.00") and categories[1][2] == "₹1,000.00"
    assert categories[1][3] == "+23%" and categories[0][3] == "new"
    merchants = table_rows(page, "Who you paid most")
    assert merchants == [["DMart", "₹2,500.00", "1"], ["Swiggy", "₹1,230.00", "1"]]
    months = table_rows(page, "Income, spending and net savings")
    assert months == [["November 2026", "₹1,00,000.00", "₹3,730.00", "+₹96,270.00"]]
    balance = table_rows(page, "Closing balance")
    assert balance[0] == ["Start", "1 Nov 2026", "₹1,99,000.00"]  # the first day's closing, its salary in
    assert balance[-1] == ["Last day", "20 Nov 2026", "₹1,95,270.00"]
    # Every chart is a <figure> with a caption, its figure as data, and a table beside it.
    assert page.count("<figure") == page.count("<figcaption") == 3  # one month: no stacked months chart
    for name in ("categories", "cash-flow", "balance"):
        assert f'data-figure="figure-{name}"' in page
        assert figure(page, name)["data"]
    assert page.count('<details class="chart-data"') == 3


def test_its_charts_are_valid_plotly_with_indian_rupees_and_no_floats(signed_in, savings):
    page = signed_in.get(URL + "?period=3m").content.decode()
    for name in ("categories", "months", "cash-flow", "balance"):
        spec = figure(page, name)
        go.Figure(spec)  # plotly.py validates every property (raises on an unknown or a wrong one)
        for trace in spec["data"]:
            values = trace["x"] if trace.get("orientation") == "h" else trace["y"]
            assert all(isinstance(v, str) for v in values), "amounts go to plotly as decimal strings"
            assert all(c[0].startswith(("₹", "-₹")) for c in trace["customdata"])
            assert "%{customdata[0]}" in trace["hovertemplate"]
            # No plotly.py template rides with the figures (they are plain JSON): a patterned bar must say
            # "overlay" itself, or plotly.js draws only the white stripes and the bar vanishes.
            pattern = trace.get("marker", {}).get("pattern")
            assert pattern is None or pattern.get("fillmode") == "overlay", trace["name"]
    cash_flow = figure(page, "cash-flow")
    assert "₹1,00,000" in cash_flow["layout"]["yaxis"]["ticktext"]
    assert ["₹1,00,000.00", "November 2026"] in cash_flow["data"][0]["customdata"]


def test_it_names_each_category_bar_in_its_hover_and_what_everything_else_holds(signed_in, savings):
    # Nine spending categories: the chart shows seven, then one "Everything else" bar for the smallest two.
    for rupees, slug in enumerate(["rent", "emi", "utilities", "travel", "shopping", "health", "other"], 1):
        pay(savings, ist(2026, 11, 12, 9), rupees * 100_00, "Shop", slug)
    bars = figure(signed_in.get(URL).content.decode(), "categories")["data"][0]
    assert bars["hovertemplate"] == "%{customdata[2]}: %{customdata[0]}<extra></extra>"
    hovers = [f"{name}: {amount}" for amount, _, name in bars["customdata"]]
    assert hovers[0] == "Groceries: ₹2,500.00"  # the category's name, no tick padding before the colon
    assert hovers[-1] == "Everything else (EMI, Rent): ₹300.00"
    assert bars["y"][-1] == "Everything else"


def test_it_counts_the_months_that_saved_only_over_several_months(signed_in, savings):
    one_month = signed_in.get(URL).content.decode()
    assert "came in than went out in" not in one_month  # not "in 1 of 1 month": the sentence before says it
    three_months = signed_in.get(URL, {"period": "3m"}).content.decode()
    assert "More came in than went out in 2 of 3 months." in three_months  # (September had nothing)


def test_it_sends_anonymous_visitors_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_refuses_post(signed_in):
    assert signed_in.post(URL).status_code == 405


def _custom(start: str, end: str) -> dict[str, str]:
    return {"period": "custom", "date_from": start, "date_to": end}


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        (_custom("2026-11-10", "2026-11-01"), "date_to", "before the start"),
        (_custom("2026-11-01", "2026-11-21"), "date_to", "in the future"),
        (_custom("2026-11-21", "2026-11-22"), "date_from", "in the future"),
        (_custom("2019-01-01", "2026-11-20"), "date_to", "at most 1,830 days"),
        (_custom("2026-02-30", "2026-11-20"), "date_from", "a real date"),
        (_custom("", ""), "date_from", "first day"),
        ({"period": "fortnight"}, "period", "one of the periods"),
        ({"account": "x"}, "account", "one of your accounts"),
        ({"date_from": "0001-01-01", "date_to": "2026-11-20"}, "date_from", "a real date"),
    ],
)
def test_it_says_what_is_wrong_with_the_period_or_account(signed_in, savings, params, field, message):
    response = signed_in.get(URL, params)
    assert response.status_code == 200
    page = response.content.decode()
    error = re.search(rf'<p class="field-error" id="id_{field}_error">(.*?)</p>', page, re.S)
    assert error and message in error.group(1)
    # Dates that read but make no period (reversed, future, too long) are not "unreadable": check them.
    assert "Please check the" in page and "couldn't read" not in page
    assert "Spending by category" not in page and "figure-" not in page


def test_a_custom_period_of_the_longest_length_reads(signed_in, savings):
    start = datetime.date(2026, 11, 20) - datetime.timedelta(days=periods.MAX_DAYS - 1)
    response = signed_in.get(URL, _custom(start.isoformat(), "2026-11-20"))
    assert response.status_code == 200
    assert "field-error" not in response.content.decode()
    assert "You spent ₹4,730.00" in response.content.decode()


def test_another_customers_account_id_shows_nothing_of_theirs(signed_in, savings, bob):
    bobs = AccountFactory(owner=bob, name="Bob's secret savings")
    receive(bobs, ist(2026, 11, 2, 9), 5_00_000_00, "Bob's employer")
    pay(bobs, ist(2026, 11, 4, 9), 77_777_00, "Bob's jeweller", "shopping")
    for params in ({"account": str(bobs.pk)}, {}, {"account": "all"}):
        page = signed_in.get(URL, params).content.decode()
        assert "Bob" not in page and "77,777" not in page and "jeweller" not in page
    refused = signed_in.get(URL, {"account": str(bobs.pk)}).content.decode()
    assert "Choose one of your accounts." in refused
    assert "figure-" not in refused


def test_it_shows_one_account_and_links_its_categories_to_its_history(signed_in, savings, alice):
    other = AccountFactory(owner=alice, name="Everyday current")
    pay(savings, ist(2026, 11, 12, 9), 1_00, "Chaayos", "dining")  # (savings already has money)
    page = signed_in.get(URL, {"account": str(savings.pk)}).content.decode()
    assert "Salary savings" in page
    history = reverse("history", args=[savings.pk])
    link = re.search(rf'<a href="({re.escape(history)}\?[^"]*category=dining[^"]*)">Dining</a>', page)
    assert link, "the category's row links to the account's history"
    query = parse_qs(urlsplit(link.group(1).replace("&amp;", "&")).query)
    assert query == {
        "date_from": ["2026-11-01"],
        "date_to": ["2026-11-20"],
        "direction": ["debit"],
        "category": ["dining"],
    }
    bars = figure(page, "categories")["data"][0]["customdata"]
    assert all(c[1].startswith(history + "?") for c in bars)  # a click on a bar follows the same link
    listed = signed_in.get(link.group(1).replace("&amp;", "&")).content.decode()
    assert "Chaayos" in listed and "Swiggy" in listed and "DMart" not in listed
    # All accounts: each category's row links each account's history; a bar goes to that row.
    both = signed_in.get(URL).content.decode()
    assert reverse("history", args=[other.pk]) + "?" in both
    assert figure(both, "categories")["data"][0]["customdata"][0][1] == "#spent-groceries"
    assert 'id="spent-groceries"' in both


def test_a_payment_at_2359_ist_on_the_31st_is_in_that_month(signed_in, alice):
    savings = AccountFactory(owner=alice)
    receive(savings, ist(2026, 10, 1, 9), 1_00_000_00)
    pay(savings, ist(2026, 10, 5, 20), 1_000_00, "Swiggy", "dining")
    pay(savings, ist(2026, 10, 31, 23, 59), 555_00, "Late night pharmacy", "health")
    pay(savings, ist(2026, 11, 1, 0, 0), 1_00, "Chaayos", "dining")  # the next minute: November
    october = signed_in.get(URL, {"period": "last-month"}).content.decode()
    assert "Late night pharmacy" in october and "Health" in october
    assert table_rows(october, "Income, spending and net savings") == [
        ["October 2026", "₹1,00,000.00", "₹1,555.00", "+₹98,445.00"]
    ]
    november = signed_in.get(URL, {"period": "month"}).content.decode()
    assert "Late night pharmacy" not in november and "Health" not in november
    first_day = signed_in.get(
        URL, {"period": "custom", "date_from": "2026-11-01", "date_to": "2026-11-01"}
    ).content.decode()
    assert "Late night pharmacy" not in first_day


def test_it_answers_htmx_with_the_results_alone(signed_in, savings):
    response = signed_in.get(
        URL, {"period": "last-month", "account": "", "date_from": "", "date_to": ""}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "<html" not in page and page.lstrip().startswith('<div id="insights-results"')
    assert "October 2026" in page and figure(page, "categories")
    assert response["HX-Push-Url"] == "/insights/?period=last-month"
    assert "HX-Request" in response["Vary"]
    full = signed_in.get(URL, {"period": "last-month"})
    assert "<html" in full.content.decode() and "HX-Request" in full["Vary"]


@pytest.mark.parametrize("warm", [False, True])
@pytest.mark.parametrize("payments", [3, 60])
def test_it_costs_the_same_queries_whatever_the_history(
    signed_in, alice, django_assert_max_num_queries, warm, payments
):
    for kind in (Account.Kind.SAVINGS, Account.Kind.CURRENT):
        account = AccountFactory(owner=alice, kind=kind)
        receive(account, ist(2026, 8, 1, 9), 10_00_000_00)
        for i in range(payments):
            day = ist(2026, 8, 2, 9) + datetime.timedelta(hours=i * 29)
            pay(account, day, 100_00 + i, f"Shop {i % 7}", ("dining", "groceries", None)[i % 3])
    signed_in.get(URL, {"period": "6m"})  # the sums catch up with the ledger (a write, once)
    if not warm:
        from django.core.cache import cache

        cache.clear()
        signed_in.force_login(alice)  # (the session lived in the cache)
    # Cold: user, accounts, sums' states, categories' names, category sums, opening balances, daily
    # balances, merchants (8). Warm: user, accounts, states (3; the insights and charts: one cache read).
    # Both: the customer's budgets (1: none).
    with django_assert_max_num_queries(4 if warm else 9):
        response = signed_in.get(URL, {"period": "6m"})
    assert response.status_code == 200 and "figure-balance" in response.content.decode()


def test_it_says_when_there_is_nothing_to_show(signed_in, alice, charlie, client):
    AccountFactory(owner=alice, name="New account")
    page = signed_in.get(URL).content.decode()
    assert "No money came in or went out so far in November." in page
    assert "figure-" not in page
    client.force_login(charlie)
    empty = client.get(URL).content.decode()
    assert "No accounts yet" in empty and "insights-form" not in empty


def test_plotly_loads_on_the_insights_page_only_and_after_first_paint(signed_in, savings):
    page = signed_in.get(URL).content.decode()
    assert re.search(r'<script src="/static/js/insights\.js" defer></script>', page)
    assert 'data-plotly-src="/static/js/plotly.min.js"' in page  # fetched by insights.js, not by the page
    assert not re.search(r"<script[^>]+plotly", page)
    for url in (
        reverse("dashboard"),
        reverse("history", args=[savings.pk]),
        reverse("transfer_new"),
        reverse("rates"),
        reverse("faq"),
    ):
        other = signed_in.get(url).content.decode()
        assert "plotly" not in other and "insights.js" not in other, url


def test_the_navigation_links_the_insights_page(signed_in, savings):
    page = signed_in.get(reverse("dashboard")).content.decode()
    assert 'href="/insights/"' in page
    here = signed_in.get(URL).content.decode()
    assert re.search(r'href="/insights/" aria-current="page"', here)


@pytest.mark.parametrize(
    ("low", "high", "texts"),
    [
        (0, 3_73_000, ["₹0", "₹1,000", "₹2,000", "₹3,000", "₹4,000"]),
        (0, 1_20_00_000_00, ["₹0", "₹50,00,000", "₹1,00,00,000", "₹1,50,00,000"]),
        (-50_000_00, 1_00_000_00, ["-₹50,000", "₹0", "₹50,000", "₹1,00,000"]),
    ],
)
def test_axis_ticks_are_round_rupees_in_indian_grouping(low, high, texts):
    axis = charts.ticks(low, high, most=4)
    assert axis["ticktext"] == texts
    assert axis["range"] == [axis["tickvals"][0], axis["tickvals"][-1]]


def test_a_warm_page_is_its_cached_figures_and_a_new_entry_or_a_rename_makes_new_ones(signed_in, savings):
    """The figures' HTML is cached under the sums' versions: with the daily sums gone from under it, the
    same page still shows them (it read none); a new payment moves the ledger version (a new key, so the new
    figures), and a renamed account, which the history links name, makes a new key too."""
    from transactions.insights.models import DayCategory

    first = signed_in.get(URL, {"account": savings.pk}).content.decode()
    assert "₹3,730.00" in first
    DayCategory.objects.filter(account=savings).update(out_paise=0)
    assert "₹3,730.00" in signed_in.get(URL, {"account": savings.pk}).content.decode()
    pay(savings, ist(2026, 11, 15, 12), 270_00, "DMart", "groceries")
    after = signed_in.get(URL, {"account": savings.pk}).content.decode()
    assert "₹270.00" in after  # day 15 recomputed from the entries; the rest of the month was zeroed above
    Account.objects.filter(pk=savings.pk).update(name="Renamed savings")
    renamed = signed_in.get(URL, {"account": savings.pk}).content.decode()
    assert "Renamed savings" in renamed
