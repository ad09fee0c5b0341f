"""Where a monthly saving gets a customer in 6, 12 and 24 months, at today's rates from the sheet
(portal/public/rates.py).

The model, as the page explains it. A savings account in India earns interest on its daily balance,
credited every quarter. Say the deposit D arrives on the first of each month and nothing else moves: the
balance is then constant through each month, and a month earns r/12 of it (simple interest within the
quarter). A quarter starting at B holds B + D, B + 2D and B + 3D in its three months, so it earns
r/12 × (3B + 6D) = i × (B + 2D), with i = r/4, credited at its end:

    B' = B + 3D + i × (B + 2D) = (1 + i) × B + (3 + 2i) × D

After n quarters (n = 4t, t in years) from a starting balance P, summing the geometric series:

    A = P × (1 + i)^n + D × (3 + 2i) × ((1 + i)^n − 1) ÷ i          (i = r/4; i = 0: A = P + 3n × D)

It is worked in Decimal with 40 digits and rounded once, half up, to the paisa, so the figure on the page
is the formula's with the shown numbers. (A bank rounds each quarter's credit: a paisa or so apart over two
years.) The rate is the savings slab of the starting balance today, for the whole time: a balance that grows
into a higher slab would earn a little more. A recurring deposit of the same term, if the sheet offers one,
is shown beside it with the same formula and P = 0 (its rate is fixed for the term).
"""

import calendar
import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

from django.db.models import Sum

from accounts.models import Account, User
from portal.public.models import RateProduct
from portal.public.rates import rate_for
from transactions.insights.periods import add_months

HORIZONS = (6, 12, 24)  # months: whole quarters
DEPOSIT_MAX_PAISE = 10_00_000_00  # ₹10 lakh a month
START_MAX_PAISE = 100_00_00_000_00  # ₹100 crore
_PRECISION = 40


def quarterly_rate(rate: Decimal) -> Decimal:
    """i = r/4 as a fraction: 6.50 (% a year) -> 0.01625."""
    return rate / Decimal(400)


def project(*, start_paise: int, deposit_paise: int, rate: Decimal, months: int) -> int:
    """The balance in paise after `months` (a multiple of 3) from `start_paise`, with `deposit_paise` on
    the first of each month, at `rate` % a year credited quarterly (the module's formula)."""
    if months % 3:
        raise ValueError("a projection runs whole quarters")
    n = months // 3
    with localcontext() as context:
        context.prec = _PRECISION
        i = quarterly_rate(rate)
        start, deposit = Decimal(start_paise), Decimal(deposit_paise)
        if i == 0:
            total = start + 3 * n * deposit
        else:
            growth = (1 + i) ** n
            total = start * growth + deposit * (3 + 2 * i) * (growth - 1) / i
        return int(total.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Line:
    """One horizon's projection."""

    months: int
    start: int  # paise
    deposit: int  # paise a month
    rate: Decimal  # % a year
    balance: int  # paise at the end

    @property
    def quarters(self) -> int:
        return self.months // 3

    @property
    def paid_in(self) -> int:
        return self.start + self.deposit * self.months

    @property
    def interest(self) -> int:
        return self.balance - self.paid_in

    @property
    def rate_fraction(self) -> str:
        """r as a fraction, for the substituted formula: 6.50 -> "0.065"."""
        return _plain(self.rate / 100)

    @property
    def i(self) -> str:
        return _plain(quarterly_rate(self.rate))


@dataclass(frozen=True)
class DepositLine:
    """A recurring deposit of the same term (P = 0), or its rate missing from the sheet."""

    months: int
    tenor_days: int
    rate: Decimal | None
    balance: int | None


@dataclass(frozen=True)
class Projection:
    deposit: int
    start: int
    start_is_balance: bool  # the start is the customer's savings balance (not a figure they typed)
    rate: Decimal | None  # None: no savings rate on today's sheet for this balance
    as_of: datetime.date
    lines: list[Line]
    deposits: list[DepositLine]

    @property
    def has_deposits(self) -> bool:
        return any(d.rate is not None for d in self.deposits)


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


def months_later(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` later, or that month's last day (31 August + 6 months: 28 or 29 February)."""
    first = add_months(day, months)
    return first.replace(day=min(day.day, calendar.monthrange(first.year, first.month)[1]))


def savings_balance(*, user: User) -> int:
    """The user's savings accounts' balance together (open ones; never below zero). One query."""
    total = (
        Account.objects.filter(owner=user, kind=Account.Kind.SAVINGS)
        .exclude(status=Account.Status.CLOSED)
        .aggregate(total=Sum("balance"))["total"]
    )
    return max(total or 0, 0)


def projection(
    *, deposit_paise: int, start_paise: int, as_of: datetime.date, start_is_balance: bool = False
) -> Projection:
    """The projections at HORIZONS months, at the savings rate for `start_paise` on the sheet of `as_of`,
    and a recurring deposit of each term where the sheet has one. One query per rate looked up."""
    rate = rate_for(product=RateProduct.SAVINGS, balance_paise=start_paise, as_of=as_of)
    lines = []
    if rate is not None:
        lines = [
            Line(
                months=months,
                start=start_paise,
                deposit=deposit_paise,
                rate=rate,
                balance=project(
                    start_paise=start_paise, deposit_paise=deposit_paise, rate=rate, months=months
                ),
            )
            for months in HORIZONS
        ]
    deposits = []
    for months in HORIZONS:
        days = (months_later(as_of, months) - as_of).days  # the sheet keys deposits by days
        rd_rate = rate_for(product=RateProduct.RECURRING_DEPOSIT, tenor_days=days, as_of=as_of)
        balance = (
            project(start_paise=0, deposit_paise=deposit_paise, rate=rd_rate, months=months)
            if rd_rate is not None
            else None
        )
        deposits.append(DepositLine(months=months, tenor_days=days, rate=rd_rate, balance=balance))
    return Projection(
        deposit=deposit_paise,
        start=start_paise,
        start_is_balance=start_is_balance,
        rate=rate,
        as_of=as_of,
        lines=lines,
        deposits=deposits,
    )
