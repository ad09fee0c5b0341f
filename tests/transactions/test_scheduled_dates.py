"""The bank's calendar (transactions/scheduled/dates.py): closed days roll to the next working day, and
monthly occurrences keep to the first date's day of the month, or the month's last day."""

import datetime

import pytest

from transactions.scheduled.dates import (
    add_months,
    bank_holidays,
    closed_reason,
    has_occurrence,
    next_working_day,
    occurrence_date,
)

D = datetime.date

ROLLS = [
    # planned date, the day it runs, why
    (D(2026, 12, 7), D(2026, 12, 7), "a Monday is a working day"),
    (D(2026, 12, 6), D(2026, 12, 7), "Sunday -> Monday"),
    (D(2026, 12, 5), D(2026, 12, 5), "the first Saturday is a working day"),
    (D(2026, 12, 12), D(2026, 12, 14), "second Saturday, then Sunday -> Monday"),
    (D(2026, 12, 19), D(2026, 12, 19), "the third Saturday is a working day"),
    (D(2026, 12, 26), D(2026, 12, 28), "fourth Saturday, then Sunday -> Monday"),
    (D(2027, 1, 30), D(2027, 1, 30), "a fifth Saturday is a working day"),
    (D(2026, 12, 25), D(2026, 12, 28), "Christmas (Fri), fourth Saturday, Sunday -> Monday"),
    (D(2026, 1, 26), D(2026, 1, 27), "Republic Day (Mon) -> Tuesday"),
    (D(2026, 8, 15), D(2026, 8, 17), "Independence Day on the third Saturday, then Sunday -> Monday"),
    (D(2026, 4, 3), D(2026, 4, 4), "Good Friday -> the first Saturday, a working day"),
    (D(2027, 3, 26), D(2027, 3, 29), "Good Friday 2027, fourth Saturday, Sunday -> Monday"),
    (D(2026, 10, 2), D(2026, 10, 3), "Gandhi Jayanti (Fri) -> first Saturday"),
    (D(2026, 3, 31), D(2026, 4, 1), "Mahavir Jayanti on the 31st -> 1 April"),
    (D(2028, 1, 26), D(2028, 1, 26), "beyond the table only the weekly rules apply"),
]


@pytest.mark.parametrize(("planned", "runs_on", "why"), ROLLS, ids=[row[2] for row in ROLLS])
def test_it_rolls_a_closed_day_to_the_next_working_day(planned, runs_on, why):
    assert next_working_day(planned) == runs_on


def test_it_names_why_a_day_is_closed():
    assert closed_reason(D(2026, 12, 25)) == "Christmas"
    assert closed_reason(D(2026, 12, 6)) == "Sunday"
    assert closed_reason(D(2026, 12, 12)) == "Second Saturday"
    assert closed_reason(D(2026, 12, 26)) == "Fourth Saturday"
    assert closed_reason(D(2026, 12, 7)) == ""


def test_the_table_holds_the_national_holidays_of_both_years():
    holidays = bank_holidays()
    for year in (2026, 2027):
        for month, day in ((1, 26), (8, 15), (10, 2), (12, 25)):
            assert D(year, month, day) in holidays
    assert {d.year for d in holidays} == {2026, 2027}


MONTH_ENDS = [
    # first date, occurrence index, planned date
    (D(2026, 1, 31), 1, D(2026, 2, 28)),
    (D(2027, 12, 31), 2, D(2028, 2, 29)),  # a leap year
    (D(2026, 1, 31), 2, D(2026, 3, 31)),  # back to the 31st after a short month
    (D(2026, 1, 31), 3, D(2026, 4, 30)),
    (D(2026, 3, 30), 11, D(2027, 2, 28)),
    (D(2026, 11, 15), 2, D(2027, 1, 15)),  # across a year
]


@pytest.mark.parametrize(("first", "index", "planned"), MONTH_ENDS)
def test_a_monthly_date_falls_on_a_shorter_months_last_day(first, index, planned):
    assert occurrence_date(first, "monthly", index) == planned
    assert add_months(first, index) == planned


def test_a_month_end_that_is_closed_rolls_after_falling_to_the_last_day():
    planned = occurrence_date(D(2026, 1, 31), "monthly", 1)  # 28 Feb 2026, the fourth Saturday
    assert planned == D(2026, 2, 28)
    assert next_working_day(planned) == D(2026, 3, 2)  # Sunday 1 March, then Monday


def test_weekly_occurrences_are_seven_days_apart():
    assert [occurrence_date(D(2026, 12, 7), "weekly", i) for i in range(3)] == [
        D(2026, 12, 7),
        D(2026, 12, 14),
        D(2026, 12, 21),
    ]


def test_a_schedule_ends_at_its_count_or_end_date():
    first = D(2026, 12, 7)
    assert has_occurrence(first=first, frequency="weekly", index=2, end_date=None, count=3)
    assert not has_occurrence(first=first, frequency="weekly", index=3, end_date=None, count=3)
    assert has_occurrence(first=first, frequency="weekly", index=2, end_date=D(2026, 12, 21), count=None)
    assert not has_occurrence(first=first, frequency="weekly", index=3, end_date=D(2026, 12, 27), count=None)
    assert has_occurrence(first=first, frequency="once", index=0, end_date=None, count=None)
    assert not has_occurrence(first=first, frequency="once", index=1, end_date=None, count=None)
