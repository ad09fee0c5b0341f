"""The bank's calendar: which days money moves, and when the occurrences of a schedule fall.

A day is a working day unless it is a Sunday, the second or fourth Saturday of its month (banks in India
close on those by the RBI's rule since 2015), or a bank holiday in the table shipped with the portal
(transactions/data/bank_holidays_2026_2027.csv: a demonstration table, see its header). A scheduled
transfer that falls on a closed day runs on the next working day. Beyond the years of the table only the
Sunday and Saturday rules apply.

Occurrence n of a schedule is planned n weeks (weekly) or n months (monthly) after its first date, always
counted from the first date: a monthly transfer set for the 31st falls on 30 April and 28 (29) February,
and on the 31st again in May. The planned date is what identifies an occurrence; rolling it to a working
day gives the day it runs.
"""

import calendar
import csv
import datetime
from functools import cache
from pathlib import Path

HOLIDAY_FILE = Path(__file__).resolve().parent.parent / "data" / "bank_holidays_2026_2027.csv"

WEEKLY = "weekly"
MONTHLY = "monthly"
ONCE = "once"


@cache
def bank_holidays() -> dict[datetime.date, str]:
    """The holiday table: date -> name. Read once per process."""
    with HOLIDAY_FILE.open(encoding="utf-8") as lines:
        rows = csv.DictReader(line for line in lines if not line.startswith("#"))
        return {datetime.date.fromisoformat(row["date"]): row["name"] for row in rows}


def closed_reason(day: datetime.date) -> str:
    """Why banks are closed on `day` ("Sunday", "Second Saturday", "Christmas"), or "" on a working day."""
    if holiday := bank_holidays().get(day):
        return holiday
    if day.weekday() == calendar.SUNDAY:
        return "Sunday"
    if day.weekday() == calendar.SATURDAY and (day.day - 1) // 7 in (1, 3):
        return "Second Saturday" if (day.day - 1) // 7 == 1 else "Fourth Saturday"
    return ""


def is_working_day(day: datetime.date) -> bool:
    return not closed_reason(day)


def next_working_day(day: datetime.date) -> datetime.date:
    """`day` itself if banks are open on it, else the first working day after it."""
    while not is_working_day(day):
        day += datetime.timedelta(days=1)
    return day


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day of the month `months` later, or that month's last day if it is shorter."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def occurrence_date(first: datetime.date, frequency: str, index: int) -> datetime.date:
    """The planned date of occurrence `index` (0 is the first date itself)."""
    if frequency == WEEKLY:
        return first + datetime.timedelta(weeks=index)
    if frequency == MONTHLY:
        return add_months(first, index)
    if index == 0:
        return first
    raise ValueError("A one-off transfer has one occurrence.")


def occurrence_limit(frequency: str, count: int | None) -> int | None:
    """How many occurrences a schedule may have: one for a one-off, else its count (None: no limit)."""
    return 1 if frequency == ONCE else count


def has_occurrence(
    *, first: datetime.date, frequency: str, index: int, end_date: datetime.date | None, count: int | None
) -> bool:
    """Whether occurrence `index` is part of the schedule (within its count and on or before its end date)."""
    limit = occurrence_limit(frequency, count)
    if limit is not None and index >= limit:
        return False
    return end_date is None or occurrence_date(first, frequency, index) <= end_date
