"""portal.money.amount_in_words: an amount as a cheque spells it, with Indian numbering (lakh, crore)."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.money import amount_in_words

_UNITS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen"
)
_TEENS_TENS = "seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety"
WORD_VALUES = dict(
    zip((_UNITS + " " + _TEENS_TENS).split(" "), [*range(20), *range(20, 100, 10)], strict=True)
)
SCALES = {"hundred": 100, "thousand": 1_000, "lakh": 1_00_000, "crore": 1_00_00_000}


@pytest.mark.parametrize(
    ("paise", "words"),
    [
        (1, "One paisa"),
        (50, "Fifty paise"),
        (1_00, "One rupee"),
        (2_00, "Two rupees"),
        (1_01, "One rupee and one paisa"),
        (1_00_000_00, "One lakh rupees"),
        (1_20_000_50, "One lakh twenty thousand rupees and fifty paise"),
        (10_00_00_000_00, "Ten crore rupees"),
        (
            99_99_99_999_99,
            "Ninety-nine crore ninety-nine lakh ninety-nine thousand nine hundred ninety-nine rupees"
            " and ninety-nine paise",
        ),
        (1_000_00_00_000_00, "One thousand crore rupees"),
        (105_00, "One hundred five rupees"),
        (0, "Zero rupees"),
    ],
)
def test_it_spells_amounts_with_indian_numbering(paise, words):
    assert amount_in_words(paise) == words


def _read(words: str) -> int:
    """Words back to a number, the Indian way: each scale multiplies what came before it that is smaller."""
    total, current = 0, 0
    stack: list[tuple[int, int]] = []  # a crore's count may itself hold lakhs and thousands
    for word in words.replace("-", " ").split():
        if word in WORD_VALUES:
            current += WORD_VALUES[word]
        elif word == "hundred":
            current *= 100
        else:
            scale = SCALES[word]
            # Everything below this scale read so far is its count.
            below = sum(v for v, s in stack if s < scale) + current
            stack = [(v, s) for v, s in stack if s >= scale]
            stack.append((below * scale, scale))
            current = 0
    return sum(v for v, _s in stack) + current + total


@given(st.integers(min_value=0, max_value=10_00_00_000_00))
def test_it_reads_back_to_the_same_amount(paise):
    words = amount_in_words(paise)
    match = re.fullmatch(r"(?:(.+) rupees?)?(?: and )?(?:(.+) paise?|(.+) paisa)?", words.lower())
    assert match, words
    rupees = _read(match.group(1)) if match.group(1) else 0
    cents = _read(match.group(2) or match.group(3)) if (match.group(2) or match.group(3)) else 0
    assert rupees * 100 + cents == paise
    assert words[0].isupper() and "  " not in words


def test_it_refuses_what_is_not_paise():
    for bad in (-1, 1.5, "100"):
        with pytest.raises(ValueError, match="paise"):
            amount_in_words(bad)
