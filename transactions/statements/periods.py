"""The periods a statement covers: whole days in India, inclusive at both ends, ending yesterday at the
latest. A statement is final when it is made (no entry can still arrive in its period), so asking again for
the same account and period can return the one already made.

Kinds: a calendar month, a quarter (April–June, July–September, October–December, January–March), an Indian
financial year (1 April to 31 March) and custom dates up to five years. A month, quarter or year that has not
ended yet runs to yesterday."""

import datetime
from dataclasses import dataclass

from django.utils import timezone

from transactions.insights.periods import add_months, month_end

MONTH, QUARTER, FINANCIAL_YEAR, CUSTOM = "month", "quarter", "fy", "custom"
KINDS = ((MONTH, "Month"), (QUARTER, "Quarter"), (FINANCIAL_YEAR, "Financial year"), (CUSTOM, "Custom dates"))
MAX_DAYS = 5 * 365 + 2  # five years, leap days included


class PeriodError(ValueError):
    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class Period:
    first_day: datetime.date
    last_day: datetime.date

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1


def latest_day(now: datetime.datetime | None = None) -> datetime.date:
    """The last day a statement may cover: yesterday in India."""
    return timezone.localdate(now) - datetime.timedelta(days=1)


def quarter_start(day: datetime.date) -> datetime.date:
    return datetime.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def financial_year_start(day: datetime.date) -> datetime.date:
    """1 April of the Indian financial year `day` falls in."""
    return datetime.date(day.year if day.month >= 4 else day.year - 1, 4, 1)


def month(first: datetime.date) -> Period:
    return Period(first.replace(day=1), month_end(first))


def quarter(first: datetime.date) -> Period:
    start = quarter_start(first)
    return Period(start, add_months(start, 3) - datetime.timedelta(days=1))


def financial_year(first: datetime.date) -> Period:
    start = financial_year_start(first)
    return Period(start, datetime.date(start.year + 1, 3, 31))


def checked(period: Period, now: datetime.datetime | None = None) -> Period:
    """`period` cut to end yesterday at the latest; PeriodError if nothing of it is in the past, if it is
    upside down, or if it is longer than five years."""
    latest = latest_day(now)
    if period.first_day > period.last_day:
        raise PeriodError("The start date must be on or before the end date.", code="period_order")
    if period.first_day > latest:
        raise PeriodError(
            "A statement covers days that have ended: choose a period that starts yesterday or earlier.",
            code="period_future",
        )
    period = Period(period.first_day, min(period.last_day, latest))
    if period.days > MAX_DAYS:
        raise PeriodError("A statement can cover at most five years.", code="period_too_long")
    return period


def previous_month(now: datetime.datetime | None = None) -> Period:
    """The calendar month before this one in India: what the monthly schedule makes on the 1st."""
    this = timezone.localdate(now).replace(day=1)
    return month(this - datetime.timedelta(days=1))
