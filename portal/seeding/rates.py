"""The demo's interest-rate sheet (portal/public): what an Indian bank's sheet looks like, with history.

- A year ago (the 1st of that month): savings in two slabs, fixed deposits in seven tenor buckets and a
  special 444-day deposit, recurring deposits; senior citizens 0.50 % more on deposits.
- A few months ago (the 1st): fixed deposits cut by 0.25 % in every bucket and the 444-day special
  withdrawn (`offered=False`), so the sheet "as of" a day before and after the change differs.
- An unpublished draft (a 400-day special from next week) that no visitor sees.

`seed_rates` writes nothing if the table holds any line: once a sheet exists it is staff's (running the
demo loader again, on any day, leaves it alone).
"""

import datetime
from decimal import Decimal

from django.db import transaction

from portal.public import page_cache
from portal.public.models import InterestRate, RateProduct

LAKH = 1_00_000_00  # paise
SENIOR_EXTRA = Decimal("0.50")
CUT = Decimal("0.25")

# (first day, last day, general rate % a year) a year ago; the cut takes CUT off each.
FIXED_DEPOSITS = (
    (7, 45, "3.50"),
    (46, 179, "5.50"),
    (180, 364, "6.25"),
    (365, 729, "6.80"),
    (730, 1094, "7.00"),
    (1095, 1824, "6.75"),
    (1825, 3650, "6.50"),
)
SPECIAL = (444, 444, "7.25")
SAVINGS = ((0, "2.70"), (10 * LAKH, "3.00"))
RECURRING = ((180, 3650, "6.50"),)


def _first_of_month(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def _line(product: str, general: str, effective: datetime.date, **bucket: object) -> InterestRate:
    rate = Decimal(general)
    senior = rate if product == RateProduct.SAVINGS else rate + SENIOR_EXTRA
    return InterestRate(
        product=product,
        general_rate=rate,
        senior_rate=senior,
        effective_from=effective,
        published=True,
        **bucket,  # type: ignore[arg-type]
    )


def rate_lines(anchor: datetime.date) -> list[InterestRate]:
    """The demo's lines, dated from `anchor` (today in India)."""
    older = _first_of_month(anchor - datetime.timedelta(days=365))
    change = _first_of_month(anchor - datetime.timedelta(days=90))
    fd, rd = RateProduct.FIXED_DEPOSIT, RateProduct.RECURRING_DEPOSIT
    lines = [_line(RateProduct.SAVINGS, rate, older, balance_min_paise=start) for start, rate in SAVINGS]
    for low, high, rate in (*FIXED_DEPOSITS, SPECIAL):
        lines.append(_line(fd, rate, older, tenor_min_days=low, tenor_max_days=high))
    for low, high, rate in FIXED_DEPOSITS:
        lines.append(_line(fd, str(Decimal(rate) - CUT), change, tenor_min_days=low, tenor_max_days=high))
    low, high, rate = SPECIAL
    withdrawn = _line(fd, rate, change, tenor_min_days=low, tenor_max_days=high)
    withdrawn.offered = False
    withdrawn.note = "Special 444-day deposit withdrawn"
    lines.append(withdrawn)
    for low, high, rate in RECURRING:
        lines.append(_line(rd, rate, older, tenor_min_days=low, tenor_max_days=high))
    draft = _line(fd, "7.10", anchor + datetime.timedelta(days=7), tenor_min_days=400, tenor_max_days=400)
    draft.published = False
    draft.note = "Draft: a 400-day special, not yet approved"
    lines.append(draft)
    return lines


def seed_rates(*, anchor: datetime.date) -> int:
    """Write the demo's sheet if there is none yet; the number of lines written."""
    with transaction.atomic():
        if InterestRate.objects.exists():
            return 0
        lines = InterestRate.objects.bulk_create(rate_lines(anchor))
        page_cache.bump("rates")  # bulk_create sends no post_save: move the pages' version here
    return len(lines)
