"""The periods a customer can look at: whole days in India, inclusive at both ends."""

import datetime
from dataclasses import dataclass

from django.utils import timezone

from portal.local_time import day as day_label

THIS_MONTH, LAST_MONTH, MONTHS_3, MONTHS_6, MONTHS_12, CUSTOM = (
    "month",
    "last-month",
    "3m",
    "6m",
    "12m",
    "custom",
)
CHOICES = (
    (THIS_MONTH, "This month"),
    (LAST_MONTH, "Last month"),
    (MONTHS_3, "Last 3 months"),
    (MONTHS_6, "Last 6 months"),
    (MONTHS_12, "Last 12 months"),
    (CUSTOM, "Custom dates"),
)
# The longest custom period (a chart of daily balances over more than five years says little).
MAX_DAYS = 5 * 366


def today() -> datetime.date:
    return timezone.localdate()


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The first of the month `months` after `day`'s month (negative: before)."""
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def month_end(day: datetime.date) -> datetime.date:
    return add_months(day, 1) - datetime.timedelta(days=1)


def same_day_months_before(day: datetime.date, months: int) -> datetime.date:
    """The same day of the month `months` before, or that month's last day if it is shorter or `day` is its
    own month's last: 20 November -> 20 August; 30 May -> 28 February; 30 November -> 31 August."""
    first = add_months(day, -months)
    last = month_end(first)
    return last if day == month_end(day) else first.replace(day=min(day.day, last.day))


@dataclass(frozen=True)
class Period:
    key: str
    start: datetime.date
    end: datetime.date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def label(self) -> str:
        names = dict(CHOICES)
        if self.key in (THIS_MONTH, LAST_MONTH):
            return f"{names[self.key]} ({self.start:%B %Y})"
        if self.start == self.end:
            return day_label(self.start)
        return f"{day_label(self.start)} to {day_label(self.end)}"

    def months(self) -> list[datetime.date]:
        """The first day of each month the period touches, oldest first."""
        found, month = [], month_start(self.start)
        while month <= self.end:
            found.append(month)
            month = add_months(month, 1)
        return found

    def previous(self) -> "Period":
        """The period just before, as long as this one, to compare with. The month presets: the months just
        before, up to the same day of their last month (this month so far against the same days of last
        month; the last 3 months, which include this month so far, against the 3 before up to the same day:
        against 3 whole months, a steady spender would read "33% less" on the 1st); a period that ends on
        its month's last day against whole months. Else as many days just before."""
        if self.key in (THIS_MONTH, LAST_MONTH, MONTHS_3, MONTHS_6, MONTHS_12):
            months = len(self.months())
            start = add_months(self.start, -months)
            key = LAST_MONTH if self.key == THIS_MONTH else CUSTOM
            return Period(key, start, same_day_months_before(self.end, months))
        return Period(
            CUSTOM, self.start - datetime.timedelta(days=self.days), self.start - datetime.timedelta(days=1)
        )

    @property
    def comparison_label(self) -> str:
        if self.key == THIS_MONTH:
            return "the same days last month"
        if self.key == LAST_MONTH:
            return "the month before"
        if self.key in (MONTHS_3, MONTHS_6, MONTHS_12):
            return f"the {len(self.months())} months before"
        return "the same number of days before"


def preset(key: str, on: datetime.date | None = None) -> Period:
    """A preset period as of `on` (today in India). The "last N months" include this month so far."""
    on = on or today()
    if key == THIS_MONTH:
        return Period(key, month_start(on), on)
    if key == LAST_MONTH:
        start = add_months(on, -1)
        return Period(key, start, month_start(on) - datetime.timedelta(days=1))
    months = {MONTHS_3: 3, MONTHS_6: 6, MONTHS_12: 12}[key]
    return Period(key, add_months(on, -(months - 1)), on)


def custom(start: datetime.date, end: datetime.date) -> Period:
    return Period(CUSTOM, start, end)
