"""The demo's rate sheet (portal/seeding/rates.py): realistic, with history and a draft, written once."""

import datetime
from decimal import Decimal

import pytest

from portal.public.models import InterestRate
from portal.public.rates import rate_for, rate_sheet, sheet_dates
from portal.seeding.rates import seed_rates
from tests.public.rates_data import line

ANCHOR = datetime.date(2026, 12, 6)

pytestmark = pytest.mark.django_db


def test_it_seeds_a_sheet_with_history_and_a_draft_once(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        assert seed_rates(anchor=ANCHOR) == 20
    assert seed_rates(anchor=ANCHOR) == 0
    assert seed_rates(anchor=ANCHOR + datetime.timedelta(days=40)) == 0
    assert InterestRate.objects.count() == 20
    assert sheet_dates(until=ANCHOR) == [datetime.date(2025, 12, 1), datetime.date(2026, 9, 1)]
    today = rate_sheet(as_of=ANCHOR)
    assert [p.product for p in today.products] == ["savings", "fd", "rd"]
    assert [line.label for line in today.product("fd").lines] == [
        "7 days to 45 days",
        "46 days to 179 days",
        "180 days to less than 1 year",
        "1 year to less than 2 years",
        "2 years to less than 3 years",
        "3 years to less than 5 years",
        "5 years to 10 years",
    ]
    assert rate_for(product="fd", tenor_days=400, as_of=ANCHOR) == Decimal("6.55")  # the draft never shows
    assert rate_for(product="fd", tenor_days=444, as_of=datetime.date(2026, 8, 31)) == Decimal("7.25")
    assert rate_for(product="fd", tenor_days=444, as_of=datetime.date(2026, 8, 31), senior=True) == Decimal(
        "7.75"
    )
    assert rate_for(product="fd", tenor_days=30, as_of=datetime.date(2026, 8, 31)) == Decimal("3.50")
    assert rate_for(product="savings", balance_paise=20_00_000_00, as_of=ANCHOR) == Decimal("3.00")


def test_it_leaves_a_sheet_that_staff_made_alone():
    line(effective=ANCHOR)
    assert seed_rates(anchor=ANCHOR) == 0
    assert InterestRate.objects.count() == 1
