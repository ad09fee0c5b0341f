import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.money import (
    AmountError,
    format_paise,
    format_paise_babel,
    paise_to_grouped_input,
    paise_to_input,
    parse_rupees,
)

MAX_PAISE = 10**15


@pytest.mark.parametrize(
    ("text", "paise"),
    [
        ("1500", 1500_00),
        ("1,500.50", 1500_50),
        ("1,23,456.78", 1_23_456_78),
        ("123,456.78", 1_23_456_78),
        ("₹ 500", 500_00),
        ("₹500", 500_00),
        ("  42.5 ", 42_50),
        ("0.01", 1),
        ("1,00,00,000", 1_00_00_000_00),
    ],
)
def test_it_parses_rupees_into_paise(text, paise):
    assert parse_rupees(text) == paise
    assert type(parse_rupees(text)) is int


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "₹",
        "abc",
        "-5",
        "+5",
        "0",
        "0.00",
        "1.234",
        "1e5",
        "1,2,3",
        "1,,000",
        "1.",
        ".5",
        "1_000",
        "NaN",
        "nan",
        "Infinity",
        "-Infinity",
        "12 34",
        "9" * 16,
    ],
)
def test_it_refuses_what_is_not_an_amount(text):
    with pytest.raises(AmountError):
        parse_rupees(text)


def test_it_refuses_none():
    with pytest.raises(AmountError):
        parse_rupees(None)


@pytest.mark.parametrize(
    ("paise", "text"),
    [
        (1, "₹0.01"),
        (100, "₹1.00"),
        (12345678, "₹1,23,456.78"),
        (1000000000, "₹1,00,00,000.00"),
        (99999_99, "₹99,999.99"),
    ],
)
def test_it_formats_paise_with_indian_grouping(paise, text):
    assert format_paise(paise) == text


def _indian_grouping(rupees: int) -> str:
    digits = str(rupees)
    head, tail = digits[:-3], digits[-3:]
    groups = []
    while len(head) > 2:
        groups.insert(0, head[-2:])
        head = head[:-2]
    if head:
        groups.insert(0, head)
    return ",".join([*groups, tail])


@given(st.integers(min_value=1, max_value=MAX_PAISE))
def test_it_reads_back_what_it_writes_into_a_form(paise):
    assert parse_rupees(paise_to_input(paise)) == paise
    assert parse_rupees(paise_to_grouped_input(paise)) == paise


def test_a_grouped_input_has_indian_grouping_and_no_sign():
    assert paise_to_grouped_input(2_00_000_00) == "2,00,000.00"
    assert paise_to_grouped_input(1_23_45_678_90) == "1,23,45,678.90"
    assert paise_to_grouped_input(5) == "0.05"


@given(st.integers(min_value=1, max_value=MAX_PAISE))
def test_it_formats_every_amount_with_the_rupee_sign_and_lakh_grouping(paise):
    text = format_paise(paise)
    assert text.startswith("₹")
    assert text == f"₹{_indian_grouping(paise // 100)}.{paise % 100:02d}"


@given(st.integers(min_value=-(10**20), max_value=10**20))
def test_it_formats_exactly_as_babel_does_for_any_amount(paise):
    """`format_paise` is written out for speed: it must equal Babel's en_IN currency format, negatives,
    zero and amounts past a thousand crore included."""
    assert format_paise(paise) == format_paise_babel(paise)


@given(st.integers(min_value=1, max_value=MAX_PAISE))
def test_it_parses_its_own_formatting(paise):
    assert parse_rupees(format_paise(paise)) == paise


@pytest.mark.parametrize(
    ("text", "paise"),
    [
        ("११", 11_00),  # Devanagari, as a Hindi keyboard types it
        ("₹ १,२५०.५०", 1_250_50),
        ("१,२३,४५६.७८", 1_23_456_78),
        ("௧௨௩", 123_00),  # Tamil
        ("١٢٣", 123_00),  # Arabic-Indic
        ("１２３", 123_00),  # fullwidth, as some phone keyboards type it
    ],
)
def test_it_reads_digits_of_other_scripts_as_the_same_numbers(text, paise):
    """The review then shows the amount in ASCII digits and in words before anything moves."""
    assert parse_rupees(text) == paise


@pytest.mark.parametrize("text", ["१.२३४", "-११", "१e५", "१ २"])
def test_it_refuses_in_other_scripts_what_it_refuses_in_ascii(text):
    with pytest.raises(AmountError):
        parse_rupees(text)
