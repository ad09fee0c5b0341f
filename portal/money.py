"""Money at the edges: parse what people type into integer paise, and format paise for people.

Inside the portal an amount is always an ``int`` of paise. ``Decimal`` appears only here.
"""

import re
import unicodedata
from decimal import Decimal

from babel.numbers import format_currency, format_decimal

PAISE_PER_RUPEE = 100
LOCALE = "en_IN"

# Digits with optional lakh/crore or western grouping commas, then at most two decimals.
_AMOUNT_RE = re.compile(r"^(?:\d{1,3}(?:,\d{2})*,\d{3}|\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?$", re.ASCII)
_MAX_DIGITS = 15


class AmountError(ValueError):
    """The text is not an amount of rupees that a person could mean."""


def _ascii_digits(text: str) -> str:
    """Digits of any script (Devanagari '११', Tamil, fullwidth …: Unicode decimal digits) as ASCII ones; the
    rest as it is. A Hindi keyboard types Devanagari digits; the review shows what was read, in ASCII digits
    and in words, before any money moves."""
    return "".join(
        str(unicodedata.decimal(char))
        if not char.isascii() and unicodedata.decimal(char, None) is not None
        else char
        for char in text
    )


def parse_rupees(text: str) -> int:
    """Turn '1,23,456.78' or '₹ 500' (or '₹ ५००') into paise. Refuses signs, exponents and more than two
    decimals."""
    cleaned = _ascii_digits((text or "").strip().removeprefix("₹").strip())
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


def paise_to_grouped_input(paise: int) -> str:
    """A form input's text for an amount as people read it, with Indian grouping and no sign:
    20000000 paise -> '2,00,000.00' (parse_rupees reads it back)."""
    return format_decimal(paise_to_decimal(paise), format="#,##,##0.00", locale=LOCALE)


def group_indian(digits: str) -> str:
    """ASCII digits grouped the Indian way: the last three, then twos: '12345678' -> '1,23,45,678'."""
    if len(digits) <= 3:
        return digits
    head, groups = digits[:-3], [digits[-3:]]
    while len(head) > 2:
        head, pair = head[:-2], head[-2:]
        groups.append(pair)
    groups.append(head)
    return ",".join(reversed(groups))


def format_paise(paise: int) -> str:
    """Indian grouping with the rupee sign: 12345678 paise -> '₹1,23,456.78'; negatives '-₹5.00'. Exactly
    Babel's en_IN currency format (tests/portal/test_money.py checks it against Babel for any amount),
    written out because a page formats hundreds of amounts (the insights' tables and charts) and Babel took
    about 15 µs each."""
    rupees, rest = divmod(abs(paise), PAISE_PER_RUPEE)
    return f"{'-' if paise < 0 else ''}₹{group_indian(str(rupees))}.{rest:02d}"


def format_paise_babel(paise: int) -> str:
    """Babel's own en_IN currency format of an amount: what `format_paise` must equal."""
    return format_currency(paise_to_decimal(paise), "INR", locale=LOCALE)


def format_paise_short(paise: int) -> str:
    """Like format_paise, without the paise when there are none: 8_000_00 -> '₹8,000', 8_000_50 ->
    '₹8,000.50'. For round figures people set themselves (a monthly budget), where ".00" is only noise."""
    text = format_paise(paise)
    return text.removesuffix(".00") if paise % 100 == 0 else text


_ONES = (
    *("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"),
    *("eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"),
)
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
# Indian numbering: a crore is a hundred lakh, a lakh a hundred thousand (1,00,00,000 and 1,00,000).
_SCALES = ((10_000_000, "crore"), (100_000, "lakh"), (1_000, "thousand"), (100, "hundred"))


def _number_in_words(n: int) -> str:
    """0 <= n, in lower-case words with Indian scales: 1_20_000 -> 'one lakh twenty thousand'. A count of
    crores above 99 is itself read the Indian way ('one thousand crore')."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")
    for size, name in _SCALES:
        if n >= size:
            count, rest = divmod(n, size)
            head = f"{_number_in_words(count)} {name}"
            return f"{head} {_number_in_words(rest)}" if rest else head
    raise AssertionError("unreachable")  # pragma: no cover


def amount_in_words(paise: int) -> str:
    """An amount as a cheque spells it, Indian numbering: 1_20_000_50 paise -> 'One lakh twenty thousand
    rupees and fifty paise'; 1 -> 'One paisa'; 100 -> 'One rupee'."""
    if type(paise) is not int or paise < 0:
        raise ValueError("amount_in_words takes a non-negative int of paise")
    rupees, rest = divmod(paise, PAISE_PER_RUPEE)
    parts = []
    if rupees or not rest:
        parts.append(f"{_number_in_words(rupees)} {'rupee' if rupees == 1 else 'rupees'}")
    if rest:
        parts.append(f"{_number_in_words(rest)} {'paisa' if rest == 1 else 'paise'}")
    words = " and ".join(parts)
    return words[0].upper() + words[1:]
