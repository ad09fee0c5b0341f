"""The periods and the one each is compared with: as long as itself, so that "8% less than before" is about
spending and not about how many days each side had. The month presets include this month so far: their
previous period stops at the same day of its last month."""

import datetime
import uuid
from zoneinfo import ZoneInfo

import pytest
import time_machine

from accounts.models import Account
from portal.seeding.history import posted_at
from tests.factories import AccountFactory
from transactions import services
from transactions.insights.periods import (
    LAST_MONTH,
    MONTHS_3,
    MONTHS_6,
    MONTHS_12,
    THIS_MONTH,
    custom,
    preset,
)
from transactions.insights.selectors import insights, insights_accounts

IST = ZoneInfo("Asia/Kolkata")
D = datetime.date


@pytest.mark.parametrize(
    ("key", "on", "start", "end", "previous"),
    [
        (THIS_MONTH, D(2026, 11, 20), D(2026, 11, 1), D(2026, 11, 20), (D(2026, 10, 1), D(2026, 10, 20))),
        (THIS_MONTH, D(2026, 3, 31), D(2026, 3, 1), D(2026, 3, 31), (D(2026, 2, 1), D(2026, 2, 28))),
        (LAST_MONTH, D(2026, 11, 20), D(2026, 10, 1), D(2026, 10, 31), (D(2026, 9, 1), D(2026, 9, 30))),
        (MONTHS_3, D(2026, 11, 20), D(2026, 9, 1), D(2026, 11, 20), (D(2026, 6, 1), D(2026, 8, 20))),
        (MONTHS_3, D(2026, 11, 1), D(2026, 9, 1), D(2026, 11, 1), (D(2026, 6, 1), D(2026, 8, 1))),
        # The period ends on its month's last day: so does the one before, whatever its length.
        (MONTHS_3, D(2026, 11, 30), D(2026, 9, 1), D(2026, 11, 30), (D(2026, 6, 1), D(2026, 8, 31))),
        (MONTHS_3, D(2026, 5, 30), D(2026, 3, 1), D(2026, 5, 30), (D(2025, 12, 1), D(2026, 2, 28))),
        (MONTHS_6, D(2026, 11, 20), D(2026, 6, 1), D(2026, 11, 20), (D(2025, 12, 1), D(2026, 5, 20))),
        (MONTHS_12, D(2026, 11, 20), D(2025, 12, 1), D(2026, 11, 20), (D(2024, 12, 1), D(2025, 11, 20))),
    ],
)
def test_each_preset_is_compared_with_as_long_a_time_just_before(key, on, start, end, previous):
    period = preset(key, on)
    assert (period.start, period.end) == (start, end)
    before = period.previous()
    assert (before.start, before.end) == previous
    assert before.end < period.start


def test_a_custom_period_is_compared_with_as_many_days_just_before():
    before = custom(D(2026, 11, 1), D(2026, 11, 10)).previous()
    assert (before.start, before.end) == (D(2026, 10, 22), D(2026, 10, 31))


@pytest.mark.django_db
def test_a_steady_spender_spent_about_the_same_as_before_over_the_last_3_months(alice):
    """₹100 every day since June: the last 3 months (1 September to 20 November) against 1 June to
    20 August, the same 81 days, is ±0%; against the whole of June to August it would look 12% less."""
    account = AccountFactory(owner=alice, name="Current", kind=Account.Kind.CURRENT)
    day = datetime.datetime(2026, 6, 1, 10, 0, tzinfo=IST)
    with posted_at(day):
        services.deposit_create(
            account=account,
            amount_paise=1_00_000_00,
            description="Opening",
            idempotency_key=str(uuid.uuid4()),
        )
    while day.date() <= D(2026, 11, 20):
        with posted_at(day):
            services.payment_create(
                account=account,
                amount_paise=100_00,
                description="Lunch",
                counterparty="Canteen",
                category="dining",
                idempotency_key=str(uuid.uuid4()),
            )
        day += datetime.timedelta(days=1)
    with time_machine.travel(datetime.datetime(2026, 11, 20, 18, 0, tzinfo=IST), tick=False):
        found = insights(accounts=insights_accounts(user=alice), period=preset(MONTHS_3))
    assert (found.spending, found.previous_spending) == (81 * 100_00, 81 * 100_00)
    assert found.spending_change_percent == 0
    assert found.categories[0].change_percent == 0
