"""How the statements' periods are named for people, and the recent ones a customer can pick.

An Indian financial year runs from 1 April to 31 March ("FY 2026–27"), and its quarters are counted from
April: Q3 of FY 2026–27 is October to December 2026, Q4 is January to March 2027. A month, quarter or year
that has not ended yet is offered "so far, to yesterday" (a statement covers whole days that have ended:
periods.checked cuts it there), and not at all on its first day, when none of it has ended."""

import datetime

from django.utils.dateformat import format as date_format

from portal.local_time import day
from transactions.insights.periods import add_months, month_end
from transactions.statements import periods

MONTHS_OFFERED = 24
QUARTERS_OFFERED = 8
YEARS_OFFERED = 6
SO_FAR = " (so far, to yesterday)"


def month_label(first: datetime.date) -> str:
    """ "October 2026"."""
    return date_format(first, "F Y")


def financial_year_label(start_year: int) -> str:
    """ "FY 2025–26": the year from 1 April 2025 to 31 March 2026."""
    return f"FY {start_year}–{(start_year + 1) % 100:02d}"


def quarter_label(first: datetime.date) -> str:
    """ "Q3 FY 2026–27 (Oct–Dec 2026)": the quarter that starts on `first`, counted from April."""
    last = add_months(first, 2)
    number = (first.month - 4) % 12 // 3 + 1
    fy = periods.financial_year_start(first).year
    return f"Q{number} {financial_year_label(fy)} ({date_format(first, 'M')}–{date_format(last, 'M Y')})"


def period_label(first_day: datetime.date, last_day: datetime.date) -> str:
    """A statement's period as its customer asked for it: "October 2026", "Q3 FY 2026–27 (Oct–Dec 2026)",
    "FY 2025–26", else its days, "1 Oct 2026 to 19 Nov 2026" (a month so far is named by its days: it is
    not the whole month)."""
    if first_day == first_day.replace(day=1) and last_day == month_end(first_day):
        return month_label(first_day)
    if first_day == periods.quarter_start(first_day) and last_day == periods.quarter(first_day).last_day:
        return quarter_label(first_day)
    if first_day == periods.financial_year_start(first_day) and last_day == datetime.date(
        first_day.year + 1, 3, 31
    ):
        return financial_year_label(first_day.year)
    return f"{day(first_day)} to {day(last_day)}"


def _so_far(last_day: datetime.date, latest: datetime.date) -> str:
    return SO_FAR if last_day > latest else ""


def month_choices(latest: datetime.date) -> list[tuple[str, str]]:
    """The last 24 months that have a day ended, newest first: ("2026-10", "October 2026")."""
    newest = latest.replace(day=1)
    months = (add_months(newest, -n) for n in range(MONTHS_OFFERED))
    return [(f"{m:%Y-%m}", month_label(m) + _so_far(month_end(m), latest)) for m in months]


def quarter_choices(latest: datetime.date) -> list[tuple[str, str]]:
    """The last eight quarters that have a day ended, newest first: ("2026-07-01", "Q2 FY 2026–27 (Jul–Sep
    2026)"); one not ended yet says so in the place of its months: "Q3 FY 2026–27 (Oct 2026 to yesterday)"
    (a select cuts a longer label on a phone)."""
    newest = periods.quarter_start(latest)
    choices = []
    for n in range(QUARTERS_OFFERED):
        first = add_months(newest, -3 * n)
        label = quarter_label(first)
        if periods.quarter(first).last_day > latest:
            label = f"{label.split(' (')[0]} ({date_format(first, 'M Y')} to yesterday)"
        choices.append((first.isoformat(), label))
    return choices


def year_choices(latest: datetime.date) -> list[tuple[str, str]]:
    """The last six financial years that have a day ended, newest first: ("2025", "FY 2025–26")."""
    newest = periods.financial_year_start(latest).year
    years = range(newest, newest - YEARS_OFFERED, -1)
    return [(str(y), financial_year_label(y) + _so_far(datetime.date(y + 1, 3, 31), latest)) for y in years]


def first_whole(choices: list[tuple[str, str]]) -> str:
    """The newest choice that has ended (the one a customer most likely wants), else the newest."""
    return next((value for value, label in choices if not label.endswith("yesterday)")), choices[0][0])
