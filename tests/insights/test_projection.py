"""The savings projection (transactions/insights/projection.py, /insights/projection/): the formula against a
hand calculation and a month-by-month one in Decimal, the rates read from the sheet (the savings slab of the
starting balance, a recurring deposit of the term), no rate a clear message, HTMX answered with the results,
bad input a message and never a 500."""

import datetime
from decimal import ROUND_HALF_UP, Decimal, localcontext
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.models import Account
from tests.conftest import fund
from tests.factories import AccountFactory
from tests.public.rates_data import LAKH, line
from transactions.insights.projection import months_later, project, projection, savings_balance

IST = ZoneInfo("Asia/Kolkata")
NOW = datetime.datetime(2026, 11, 20, 12, 0, tzinfo=IST)
TODAY = NOW.date()
YEAR_AGO = TODAY - datetime.timedelta(days=365)
PROJECTION = reverse("insights_projection")


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def signed_in(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def sheet(db):
    line("savings", general="2.70", effective=YEAR_AGO)
    line("savings", general="3.00", effective=YEAR_AGO, balance=10 * LAKH)
    line("rd", low=180, high=3650, general="6.50", effective=YEAR_AGO)


def month_by_month(start_rupees: str, deposit_rupees: str, rate: str, months: int) -> Decimal:
    """The model in its own words, no closed formula: each month the deposit arrives on the 1st, the month
    earns r/12 of that balance, and every third month the interest so far is added. In rupees."""
    with localcontext() as context:
        context.prec = 40
        balance, deposit, r = Decimal(start_rupees), Decimal(deposit_rupees), Decimal(rate) / 100
        accrued = Decimal(0)
        for month in range(1, months + 1):
            balance += deposit
            accrued += balance * r / 12
            if month % 3 == 0:
                balance += accrued
                accrued = Decimal(0)
        return balance.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def test_it_matches_a_hand_calculation():
    """₹10,000 to start, ₹1,000 a month, 4 % a year (i = 0.01 a quarter), 6 months:
    quarter 1 earns 0.04/12 × (11,000 + 12,000 + 13,000) = ₹120: 10,000 + 3,000 + 120 = ₹13,120;
    quarter 2 earns 0.04/12 × (14,120 + 15,120 + 16,120) = ₹151.20: 13,120 + 3,000 + 151.20 = ₹16,271.20.
    The formula: 10,000 × 1.01² + 1,000 × 3.02 × (1.01² − 1) ÷ 0.01 = 10,201 + 6,070.20."""
    assert project(start_paise=10_000_00, deposit_paise=1_000_00, rate=Decimal("4.00"), months=6) == 16_271_20


@pytest.mark.parametrize("months", [6, 12, 24])
@pytest.mark.parametrize(
    ("start", "deposit", "rate"),
    [
        ("0", "5000", "2.70"),
        ("664550.53", "5000", "2.70"),
        ("25000000", "0.01", "3.00"),
        ("1", "1000000", "7.25"),
    ],
)
def test_it_equals_the_month_by_month_working(start, deposit, rate, months):
    expected = month_by_month(start, deposit, rate, months)
    paise = project(
        start_paise=int(Decimal(start) * 100),
        deposit_paise=int(Decimal(deposit) * 100),
        rate=Decimal(rate),
        months=months,
    )
    assert Decimal(paise) / 100 == expected


def test_a_zero_rate_only_adds_up():
    assert project(start_paise=500_00, deposit_paise=1_000_00, rate=Decimal("0"), months=24) == 24_500_00


def test_it_runs_whole_quarters_only():
    with pytest.raises(ValueError, match="quarters"):
        project(start_paise=0, deposit_paise=100, rate=Decimal("3"), months=7)


def test_a_term_ends_the_same_day_months_later():
    assert months_later(datetime.date(2026, 8, 31), 6) == datetime.date(2027, 2, 28)
    assert months_later(datetime.date(2026, 11, 20), 12) == datetime.date(2027, 11, 20)


def test_it_takes_the_savings_slab_of_the_starting_balance(sheet):
    low = projection(deposit_paise=1_000_00, start_paise=10 * LAKH - 1, as_of=TODAY)
    high = projection(deposit_paise=1_000_00, start_paise=10 * LAKH, as_of=TODAY)
    assert low.rate == Decimal("2.70") and high.rate == Decimal("3.00")
    assert [line.months for line in high.lines] == [6, 12, 24]
    assert high.lines[1].balance == project(
        start_paise=10 * LAKH, deposit_paise=1_000_00, rate=Decimal("3.00"), months=12
    )
    assert high.lines[1].paid_in == 10 * LAKH + 12 * 1_000_00
    assert high.lines[1].interest == high.lines[1].balance - high.lines[1].paid_in


def test_it_shows_a_recurring_deposit_where_the_sheet_offers_the_term(db):
    line("savings", general="2.70", effective=YEAR_AGO)
    line("rd", low=365, high=3650, general="6.50", effective=YEAR_AGO)  # no 6-month deposit
    found = projection(deposit_paise=5_000_00, start_paise=0, as_of=TODAY)
    assert [(d.months, d.tenor_days, d.rate) for d in found.deposits] == [
        (6, 181, None),
        (12, 365, Decimal("6.50")),
        (24, 731, Decimal("6.50")),  # 2028 is a leap year
    ]
    assert found.deposits[0].balance is None
    assert found.deposits[1].balance == project(
        start_paise=0, deposit_paise=5_000_00, rate=Decimal("6.50"), months=12
    )


def test_the_default_start_is_the_open_savings_accounts_balance(alice):
    fund(AccountFactory(owner=alice, name="Savings"), 12_345_00)
    fund(AccountFactory(owner=alice, name="Savings 2"), 1_000_00)
    fund(AccountFactory(owner=alice, name="Current", kind=Account.Kind.CURRENT), 99_000_00)
    AccountFactory(owner=alice, name="Closed", status=Account.Status.CLOSED)
    assert savings_balance(user=alice) == 13_345_00


# --- the page -----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_sends_anonymous_to_sign_in(client):
    response = client.get(PROJECTION, {"deposit": "500"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_it_refuses_a_post(signed_in):
    assert signed_in.post(PROJECTION, {"deposit": "500"}).status_code == 405


def test_it_asks_for_a_deposit_first(signed_in, sheet):
    html = signed_in.get(PROJECTION).content.decode()
    assert "Enter a monthly deposit to see what it could grow to" in html
    assert "field-error" not in html


def test_it_projects_from_the_savings_balance_with_the_formula_and_its_numbers(
    signed_in, alice, sheet, django_assert_max_num_queries
):
    fund(AccountFactory(owner=alice, name="Savings"), 10_000_00)
    with django_assert_max_num_queries(12):
        response = signed_in.get(PROJECTION, {"deposit": "1,000", "start": ""})
    html = response.content.decode()
    assert response.status_code == 200
    balance = project(start_paise=10_000_00, deposit_paise=1_000_00, rate=Decimal("2.70"), months=12)
    assert "At 2.70% a year, today's savings rate for a balance of ₹10,000.00 (your savings balance)" in html
    assert "A = P × (1 + i)" in html
    assert (
        'A = ₹10,000.00 × (1 + 0.00675)<sup><span class="visually-hidden">to the power </span>4</sup>'
        " + ₹1,000.00 × (3 + 2 × 0.00675)" in html
    )
    assert f"With ₹1,000 a month: ₹{Decimal(balance) / 100:,.2f} after 12 months." in html
    assert "Or in a recurring deposit of ₹1,000 a month" in html


def test_a_typed_start_replaces_the_balance_even_zero(signed_in, alice, sheet):
    fund(AccountFactory(owner=alice, name="Savings"), 10_000_00)
    html = signed_in.get(PROJECTION, {"deposit": "1000", "start": "0"}).content.decode()
    assert "for a balance of ₹0.00</caption>" in html
    html = signed_in.get(PROJECTION, {"deposit": "1000", "start": "10,00,000"}).content.decode()
    assert "At 3.00% a year" in html


def test_no_savings_rate_on_the_sheet_is_a_clear_message(signed_in):
    response = signed_in.get(PROJECTION, {"deposit": "1000"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Today's rate sheet has no savings rate for a balance of ₹0.00, so we can't project it." in html
    assert "<table" not in html


@pytest.mark.parametrize(
    ("deposit", "start", "message"),
    [
        ("", "", "Enter how much you would put in each month."),
        ("abc", "", "Enter an amount in rupees, like 1500 or 1,500.50."),
        ("-500", "", "Enter an amount greater than zero."),
        ("0", "", "Enter an amount greater than zero."),
        ("10,00,000.01", "", "Enter at most ₹10,00,000.00 a month."),
        ("500", "lots", "Enter an amount in rupees, like 1500 or 1,500.50."),
        ("500", "-1", "Enter an amount greater than zero."),
        ("500", "1,00,00,00,000.01", "Enter at most ₹1,00,00,00,000.00."),
        ("9" * 40, "", "Ensure this value has at most 24 characters (it has 40)."),
    ],
)
@pytest.mark.parametrize("htmx", [False, True])
def test_bad_input_is_a_message_not_an_error(signed_in, sheet, deposit, start, message, htmx):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = signed_in.get(PROJECTION, {"deposit": deposit, "start": start}, **headers)
    html = response.content.decode()
    assert response.status_code == 200
    assert message in html and "<table" not in html
    if htmx:
        assert 'id="projection-status" hx-swap-oob="innerHTML"' in html and "<html" not in html


def test_it_answers_htmx_with_the_results_and_the_status_line(signed_in, sheet):
    response = signed_in.get(PROJECTION, {"deposit": "2500"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html and "<form" not in html
    assert '<p id="projection-status" hx-swap-oob="innerHTML">With ₹2,500 a month:' in html
    assert "<table" in html and "How we work it out" in html
    assert response["Vary"].count("HX-Request") == 1


def test_the_page_triggers_no_eval_in_htmx(signed_in, sheet):
    """The CSP forbids eval: an hx-trigger with a [filter] would need it."""
    html = signed_in.get(PROJECTION).content.decode()
    assert 'hx-trigger="input changed delay:300ms from:#id_deposit' in html
    assert "[" not in html.split('hx-trigger="', 1)[1].split('"', 1)[0]


def test_the_insights_page_partial_links_to_the_projection(sheet):
    """templates/transactions/insights/_projection.html: a plain GET form, and the 12-month line if given."""
    html = render_to_string("transactions/insights/_projection.html", {})
    assert f'action="{PROJECTION}"' in html and 'name="deposit"' in html
    found = projection(deposit_paise=5_000_00, start_paise=0, as_of=TODAY)
    html = render_to_string("transactions/insights/_projection.html", {"projection": found})
    assert (
        f"With ₹5,000 a month, your savings could be <strong>₹{Decimal(found.lines[1].balance) / 100:,.2f}"
        in html
    )
    assert 'value="5,000"' in html
