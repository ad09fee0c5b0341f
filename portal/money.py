"""Money at the edges: parse what people type into integer paise, and format paise for people.

Inside the portal an amount is always an ``int`` of paise. ``Decimal`` appears only here.
"""

import re
from decimal import Decimal

from babel.numbers import format_currency

PAISE_PER_RUPEE = 100
LOCALE = "en_IN"

# Digits with optional lakh/crore or western grouping commas, then at most two decimals.
_AMOUNT_RE = re.compile(r"^(?:\d{1,3}(?:,\d{2})*,\d{3}|\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?$", re.ASCII)
_MAX_DIGITS = 15


class AmountError(ValueError):
    """The text is not an amount of rupees that a person could mean."""


def parse_rupees(text: str) -> int:
    """Turn '1,23,456.78' or '₹ 500' into paise. Refuses signs, exponents and more than two decimals."""
    cleaned = (text or "").strip().removeprefix("₹").strip()
    if not cleaned:
        raise AmountError("Enter an amount.")
    if cleaned.startswith("-"):
        raise AmountError("Enter an amount greater than zero.")
    if re.fullmatch(r"[0-9]*\.[0-9]{3,}", cleaned.replace(",", "")):
        raise AmountError("Enter an amount with at most two digits after the decimal point.")
    if not _AMOUNT_RE.match(cleaned):
        raise AmountError("Enter an amount in rupees, like 1500 or 1,500.50.")
    digits = cleaned.replace(",", "")
    if len(digits.split(".")[0]) > _MAX_DIGITS:
        raise AmountError("That amount is too large.")
    paise = int(Decimal(digits) * PAISE_PER_RUPEE)
    if paise <= 0:
        raise AmountError("Enter an amount greater than zero.")
    return paise


def paise_to_decimal(paise: int) -> Decimal:
    return Decimal(paise).scaleb(-2)


def paise_to_input(paise: int) -> str:
    """The plain form-input text for an amount: '1500.50'."""
    return f"{paise_to_decimal(paise):.2f}"


def format_paise(paise: int) -> str:
    """Indian grouping with the rupee sign: 12345678 paise -> '₹1,23,456.78'; negatives '-₹5.00'."""
    return format_currency(paise_to_decimal(paise), "INR", locale=LOCALE)
