"""The rate sheet: which line of each bucket applies on a day (selectors for the page and for projections).

A bucket is (product, tenor_min_days, tenor_max_days, balance_min_paise). On a day, its line is the
published row with the latest `effective_from` on or before that day; a bucket whose latest such row has
`offered=False` was withdrawn and is not on the sheet. Unpublished rows (drafts) never count.

The sheet is read in one query: a window function (`ROW_NUMBER() OVER (PARTITION BY bucket ORDER BY
effective_from DESC)`, filtered to the first row, which Django wraps in a subquery) picks each bucket's
latest line in the database, on PostgreSQL and on SQLite (the embedded default) alike, where PostgreSQL's
`DISTINCT ON` would not port. The table is small (a few hundred rows after years of changes); the window
keeps the rows read to one per bucket however long the history grows.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import F, Window
from django.db.models.functions import RowNumber

from portal.public.models import InterestRate, RateProduct
from portal.public.rate_labels import bucket_label, slab_label, tenor_label

__all__ = ["bucket_label", "rate_for", "rate_sheet", "sheet_dates"]

SENIOR_AGE = 60
# The order of the sheet's tables.
PRODUCT_ORDER = ("savings", "fd", "rd")
PRODUCT_TITLES = {"savings": "Savings accounts", "fd": "Fixed deposits", "rd": "Recurring deposits"}


@dataclass(frozen=True, slots=True)
class RateLine:
    """One line of the sheet as it stood on a day."""

    product: str
    tenor_min_days: int | None
    tenor_max_days: int | None
    balance_min_paise: int
    # Savings: where the next slab starts (this slab holds balances below it); None for the top slab.
    balance_below_paise: int | None
    general_rate: Decimal
    senior_rate: Decimal
    effective_from: datetime.date
    note: str
    label: str

    def rate(self, *, senior: bool = False) -> Decimal:
        return self.senior_rate if senior else self.general_rate


@dataclass(frozen=True, slots=True)
class ProductRates:
    product: str
    name: str
    lines: tuple[RateLine, ...]


@dataclass(frozen=True, slots=True)
class RateSheet:
    as_of: datetime.date
    products: tuple[ProductRates, ...]  # only the products with at least one line, in PRODUCT_ORDER
    # The last day on or before as_of that the sheet changed (a new rate, a new or withdrawn bucket).
    last_change: datetime.date | None

    def product(self, product: str) -> ProductRates | None:
        return next((p for p in self.products if p.product == product), None)


# Selectors ------------------------------------------------------------------------------------------------
_BUCKET = ("product", "tenor_min_days", "tenor_max_days", "balance_min_paise")
_COLUMNS = (*_BUCKET, "general_rate", "senior_rate", "effective_from", "offered", "note")


def _latest_lines(as_of: datetime.date) -> list[tuple]:
    """Each bucket's latest published row on or before `as_of` (withdrawals included), in one query."""
    latest = Window(
        RowNumber(),
        partition_by=[F(name) for name in _BUCKET],
        order_by=F("effective_from").desc(),
    )
    rows = (
        InterestRate.objects.filter(published=True, effective_from__lte=as_of)
        .annotate(latest=latest)
        .filter(latest=1)
        .order_by()
        .values_list(*_COLUMNS)
    )
    return list(rows)


def rate_sheet(*, as_of: datetime.date) -> RateSheet:
    """The sheet as it stood on `as_of` (a day in IST): each offered bucket's line, grouped by product
    (savings, fixed deposits, recurring deposits), deposits by tenor and savings by balance. One query."""
    rows = _latest_lines(as_of)
    last_change = max((row[6] for row in rows), default=None)
    products = []
    for product in PRODUCT_ORDER:
        offered = sorted(
            (row for row in rows if row[0] == product and row[7]),
            key=lambda row: (row[1] or 0, row[2] or 0, row[3]),
        )
        lines = []
        for i, (prod, t_min, t_max, b_min, general, senior, effective, _offered, note) in enumerate(offered):
            below = offered[i + 1][3] if product == "savings" and i + 1 < len(offered) else None
            label = tenor_label(t_min, t_max) if t_min is not None else slab_label(b_min, below)
            lines.append(RateLine(prod, t_min, t_max, b_min, below, general, senior, effective, note, label))
        if lines:
            products.append(ProductRates(product, PRODUCT_TITLES[product], tuple(lines)))
    return RateSheet(as_of=as_of, products=tuple(products), last_change=last_change)


def rate_for(
    *,
    product: str,
    tenor_days: int | None = None,
    balance_paise: int = 0,
    as_of: datetime.date,
    senior: bool = False,
) -> Decimal | None:
    """The rate (% p.a.) the sheet of `as_of` gives: for savings, the slab the balance falls in (the whole
    balance earns that slab's rate); for a deposit, the narrowest bucket holding `tenor_days`. None if the
    sheet has no such line (not offered that day). One query."""
    if product != "savings" and tenor_days is None:
        raise ValueError("a deposit's rate needs its tenor in days")
    rates = rate_sheet(as_of=as_of).product(product)
    if rates is None:
        return None
    if product == RateProduct.SAVINGS:
        slab = next(
            (
                line
                for line in rates.lines
                if line.balance_min_paise <= balance_paise
                and (line.balance_below_paise is None or balance_paise < line.balance_below_paise)
            ),
            None,
        )
        return slab.rate(senior=senior) if slab is not None else None
    # A special tenor (444 days) inside a broad bucket (1 year to less than 2 years) wins: the narrowest.
    buckets = [
        line
        for line in rates.lines
        if line.tenor_min_days is not None
        and line.tenor_max_days is not None
        and line.tenor_min_days <= tenor_days <= line.tenor_max_days  # type: ignore[operator]
    ]
    if not buckets:
        return None
    narrowest = min(buckets, key=lambda line: line.tenor_max_days - line.tenor_min_days)  # type: ignore[operator]
    return narrowest.rate(senior=senior)


def sheet_dates(*, until: datetime.date | None = None) -> list[datetime.date]:
    """The days the published sheet changed, oldest first (up to `until` if given): the first is where its
    history starts. One query."""
    dates = InterestRate.objects.filter(published=True)
    if until is not None:
        dates = dates.filter(effective_from__lte=until)
    return list(dates.order_by("effective_from").values_list("effective_from", flat=True).distinct())
