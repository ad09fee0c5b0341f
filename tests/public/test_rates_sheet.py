"""The sheet as of a day (portal/public/rates.py): each bucket's latest published line, withdrawn buckets
gone, drafts never counted, in one query; the rate a projection reads; the buckets' names."""

import datetime
from decimal import Decimal

import pytest

from portal.public.rate_labels import rupees_short, slab_label, tenor_label
from portal.public.rates import rate_for, rate_sheet, sheet_dates
from tests.public.rates_data import LAKH, line

D = datetime.date
OLD = D(2025, 12, 1)
CUT = D(2026, 9, 1)

pytestmark = pytest.mark.django_db


def _rates(sheet, product="fd"):
    rates = sheet.product(product)
    return [(r.label, r.general_rate, r.effective_from) for r in rates.lines] if rates else []


@pytest.fixture
def history():
    line(low=7, high=45, general="3.50", effective=OLD)
    line(low=46, high=179, general="5.50", effective=OLD)
    line(low=7, high=45, general="3.25", effective=CUT)


def test_it_shows_the_latest_line_of_each_bucket_before_on_and_after_a_change(history):
    before = rate_sheet(as_of=CUT - datetime.timedelta(days=1))
    assert _rates(before) == [
        ("7 days to 45 days", Decimal("3.50"), OLD),
        ("46 days to 179 days", Decimal("5.50"), OLD),
    ]
    assert before.last_change == OLD
    for day in (CUT, CUT + datetime.timedelta(days=30)):
        sheet = rate_sheet(as_of=day)
        assert _rates(sheet) == [
            ("7 days to 45 days", Decimal("3.25"), CUT),
            ("46 days to 179 days", Decimal("5.50"), OLD),
        ]
        assert sheet.last_change == CUT


def test_it_has_nothing_before_its_history_starts(history):
    sheet = rate_sheet(as_of=OLD - datetime.timedelta(days=1))
    assert sheet.products == ()
    assert sheet.last_change is None


def test_it_never_counts_an_unpublished_line(history):
    line(low=7, high=45, general="9.99", effective=CUT + datetime.timedelta(days=1), published=False)
    line(low=400, high=400, general="7.10", effective=OLD, published=False)
    day = CUT + datetime.timedelta(days=10)
    assert _rates(rate_sheet(as_of=day))[0] == ("7 days to 45 days", Decimal("3.25"), CUT)
    assert [label for label, *_ in _rates(rate_sheet(as_of=day))] == [
        "7 days to 45 days",
        "46 days to 179 days",
    ]
    assert rate_for(product="fd", tenor_days=30, as_of=day) == Decimal("3.25")
    assert rate_for(product="fd", tenor_days=400, as_of=day) is None
    assert sheet_dates() == [OLD, CUT]


def test_it_drops_a_withdrawn_bucket_from_its_day_and_brings_it_back_when_offered_again(history):
    line(low=46, high=179, general="5.50", effective=CUT, offered=False)
    line(low=46, high=179, general="5.00", effective=D(2026, 11, 1))
    assert [label for label, *_ in _rates(rate_sheet(as_of=CUT - datetime.timedelta(days=1)))] == [
        "7 days to 45 days",
        "46 days to 179 days",
    ]
    assert [label for label, *_ in _rates(rate_sheet(as_of=CUT))] == ["7 days to 45 days"]
    assert rate_for(product="fd", tenor_days=100, as_of=CUT) is None
    assert rate_for(product="fd", tenor_days=100, as_of=D(2026, 11, 1)) == Decimal("5.00")


def test_it_groups_products_savings_first_and_sorts_buckets():
    line("rd", 180, 3650, "6.50", effective=OLD)
    line(low=365, high=729, general="6.80", effective=OLD)
    line(low=7, high=45, general="3.50", effective=OLD)
    line("savings", general="3.00", effective=OLD, balance=10 * LAKH)
    line("savings", general="2.70", effective=OLD)
    sheet = rate_sheet(as_of=OLD)
    assert [p.name for p in sheet.products] == ["Savings accounts", "Fixed deposits", "Recurring deposits"]
    assert [r.label for r in sheet.products[0].lines] == [
        "Balances below ₹10\u00a0lakh",
        "Balances of ₹10\u00a0lakh and above",
    ]
    assert [r.label for r in sheet.products[1].lines] == ["7 days to 45 days", "1 year to less than 2 years"]
    assert [r.label for r in sheet.products[2].lines] == ["180 days to 10 years"]


def test_it_gives_the_rate_of_a_savings_slab_and_of_a_deposit_bucket():
    line("savings", general="2.70", senior="2.70", effective=OLD)
    line("savings", general="3.00", senior="3.25", effective=OLD, balance=10 * LAKH)
    line(low=365, high=729, general="6.80", effective=OLD)
    line(low=444, high=444, general="7.25", effective=OLD)
    assert rate_for(product="savings", balance_paise=0, as_of=OLD) == Decimal("2.70")
    assert rate_for(product="savings", balance_paise=10 * LAKH - 1, as_of=OLD) == Decimal("2.70")
    assert rate_for(product="savings", balance_paise=10 * LAKH, as_of=OLD) == Decimal("3.00")
    assert rate_for(product="savings", balance_paise=10 * LAKH, as_of=OLD, senior=True) == Decimal("3.25")
    assert rate_for(product="fd", tenor_days=365, as_of=OLD) == Decimal("6.80")
    assert rate_for(product="fd", tenor_days=729, as_of=OLD, senior=True) == Decimal("7.30")
    assert rate_for(product="fd", tenor_days=444, as_of=OLD) == Decimal("7.25")  # the special wins
    assert rate_for(product="fd", tenor_days=730, as_of=OLD) is None
    assert rate_for(product="rd", tenor_days=365, as_of=OLD) is None
    assert rate_for(product="fd", tenor_days=365, as_of=OLD - datetime.timedelta(days=1)) is None
    with pytest.raises(ValueError, match="tenor"):
        rate_for(product="fd", as_of=OLD)


def test_it_reads_the_sheet_in_one_query_however_long_the_history(django_assert_num_queries):
    for i in range(60):
        for low, high in ((7, 45), (46, 179), (180, 364), (365, 729), (730, 1094)):
            line(low=low, high=high, general=f"{3 + i / 100:.2f}", effective=OLD + datetime.timedelta(days=i))
    with django_assert_num_queries(1):
        sheet = rate_sheet(as_of=D(2027, 1, 1))
    assert len(sheet.products[0].lines) == 5
    assert {r.general_rate for r in sheet.products[0].lines} == {Decimal("3.59")}
    with django_assert_num_queries(1):
        assert rate_for(product="fd", tenor_days=500, as_of=D(2027, 1, 1)) == Decimal("3.59")


def test_it_lists_the_days_the_published_sheet_changed(history):
    line(low=7, high=45, general="3.00", effective=D(2027, 1, 1))
    assert sheet_dates() == [OLD, CUT, D(2027, 1, 1)]
    assert sheet_dates(until=D(2026, 12, 6)) == [OLD, CUT]


@pytest.mark.parametrize(
    ("low", "high", "label"),
    [
        (7, 45, "7 days to 45 days"),
        (1, 1, "1 day"),
        (400, 400, "400 days"),
        (180, 364, "180 days to less than 1 year"),
        (365, 729, "1 year to less than 2 years"),
        (730, 1094, "2 years to less than 3 years"),
        (1825, 3650, "5 years to 10 years"),
        (365, 365, "1 year"),
        (366, 730, "366 days to 2 years"),
    ],
)
def test_it_names_a_term_in_days_and_whole_years(low, high, label):
    assert tenor_label(low, high) == label


def test_it_names_savings_slabs_with_indian_amounts():
    assert rupees_short(10 * LAKH) == "₹10\u00a0lakh"
    assert rupees_short(250 * LAKH) == "₹2.5\u00a0crore"
    assert rupees_short(150_000_00) == "₹1.5\u00a0lakh"
    assert rupees_short(50_000_00) == "₹50,000"
    assert slab_label(0, None) == "All balances"
    assert slab_label(0, 10 * LAKH) == "Balances below ₹10\u00a0lakh"
    assert slab_label(10 * LAKH, 100 * LAKH) == "Balances from ₹10\u00a0lakh to below ₹1\u00a0crore"
    assert slab_label(100 * LAKH, None) == "Balances of ₹1\u00a0crore and above"
