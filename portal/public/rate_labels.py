"""How the rate sheet names a bucket for people: "7 days to 45 days", "1 year to less than 2 years",
"Balances below ₹10 lakh". Pure functions of a bucket's numbers, with no import of the models (which use
them for a row's name), so that neither imports the other."""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from babel.numbers import format_decimal

from portal.money import LOCALE, PAISE_PER_RUPEE, format_paise

DAYS_IN_YEAR = 365
LAKH = 1_00_000 * PAISE_PER_RUPEE
CRORE = 100 * LAKH


class Bucket(Protocol):
    product: str
    tenor_min_days: int | None
    tenor_max_days: int | None
    balance_min_paise: int


def _years(n: int) -> str:
    return f"{n} year" if n == 1 else f"{n} years"


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def tenor_label(tenor_min_days: int, tenor_max_days: int) -> str:
    """Both ends included, in whole years where they are (a year being 365 days, as the buckets are kept):
    7..45 "7 days to 45 days"; 180..364 "180 days to less than 1 year"; 365..729 "1 year to less than
    2 years"; 1825..3650 "5 years to 10 years"; 400..400 "400 days"."""
    low = (
        _years(tenor_min_days // DAYS_IN_YEAR)
        if tenor_min_days % DAYS_IN_YEAR == 0
        else _days(tenor_min_days)
    )
    if tenor_min_days == tenor_max_days:
        return low
    if tenor_max_days % DAYS_IN_YEAR == 0:
        high = _years(tenor_max_days // DAYS_IN_YEAR)
    elif (tenor_max_days + 1) % DAYS_IN_YEAR == 0:
        high = f"less than {_years((tenor_max_days + 1) // DAYS_IN_YEAR)}"
    else:
        high = _days(tenor_max_days)
    return f"{low} to {high}"


def _short(value: Decimal) -> str:
    return format_decimal(value, format="#,##,##0.##", locale=LOCALE)


def rupees_short(paise: int) -> str:
    """An amount as a rate sheet writes a slab's edge: "₹10 lakh", "₹1.5 crore", "₹50,000" (a no-break
    space before lakh and crore: the amount never wraps apart)."""
    if paise >= CRORE and paise % LAKH == 0:
        return f"₹{_short(Decimal(paise) / CRORE)}\u00a0crore"
    if paise >= LAKH and paise % (1_000 * PAISE_PER_RUPEE) == 0:
        return f"₹{_short(Decimal(paise) / LAKH)}\u00a0lakh"
    if paise % PAISE_PER_RUPEE == 0:
        return f"₹{_short(Decimal(paise // PAISE_PER_RUPEE))}"
    return format_paise(paise)


def slab_label(balance_min_paise: int, balance_below_paise: int | None) -> str:
    """ "Balances below ₹10 lakh", "Balances from ₹10 lakh to below ₹1 crore", "Balances of ₹1 crore and
    above"; "All balances" for a single slab from zero."""
    if balance_min_paise == 0:
        return (
            "All balances"
            if balance_below_paise is None
            else f"Balances below {rupees_short(balance_below_paise)}"
        )
    if balance_below_paise is None:
        return f"Balances of {rupees_short(balance_min_paise)} and above"
    return f"Balances from {rupees_short(balance_min_paise)} to below {rupees_short(balance_below_paise)}"


def bucket_label(rate: Bucket, balance_below_paise: int | None = None) -> str:
    """A bucket as people read it: "7 days to 45 days", "1 year to less than 2 years", "Balances below ₹10
    lakh". A savings row seen alone (admin) does not know where its slab ends: "Balances from ₹10 lakh"."""
    if rate.tenor_min_days is None or rate.tenor_max_days is None:
        if balance_below_paise is None and rate.product == "savings":
            return f"Balances from {rupees_short(rate.balance_min_paise)}"
        return slab_label(rate.balance_min_paise, balance_below_paise)
    return tenor_label(rate.tenor_min_days, rate.tenor_max_days)
