"""accounts/ifsc.py: the IFSC format and the bank a code's first four letters name."""

import csv

import pytest
from django.conf import settings

from accounts.ifsc import BANKS_CSV, bank_for_ifsc, ifsc_normalize, ifsc_valid


@pytest.mark.parametrize(
    ("ifsc", "bank"),
    [
        ("HDFC0001234", "HDFC Bank"),
        ("SBIN0000691", "State Bank of India"),
        ("hdfc0001234", "HDFC Bank"),
        ("UTIB0ABC123", "Axis Bank"),
        ("SECB0000001", "SecureBank"),
    ],
)
def test_it_names_the_bank_by_the_first_four_letters(ifsc, bank):
    assert bank_for_ifsc(ifsc) == bank


@pytest.mark.parametrize("ifsc", ["ZZZZ0001234", "", "HDF", "1234"])
def test_it_knows_no_bank_for_an_unknown_or_short_code(ifsc):
    assert bank_for_ifsc(ifsc) is None


def test_the_table_has_the_major_banks_and_our_own_code_once():
    with BANKS_CSV.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    codes = [row["code"] for row in rows]
    assert len(codes) == len(set(codes)) >= 30
    assert all(len(code) == 4 and code.isalpha() and code.isupper() for code in codes)
    assert bank_for_ifsc(settings.BANK_IFSC) == "SecureBank"


@pytest.mark.parametrize(
    ("typed", "valid"),
    [
        ("HDFC0001234", True),
        (" hdfc 0001234 ", True),
        ("HDFC0ABCDEF", True),
        ("HDFC1001234", False),  # the fifth character is a zero
        ("HDFC000123", False),  # 10 characters
        ("HDFC00012345", False),  # 12
        ("HD1C0001234", False),  # a digit in the bank's letters
        ("HDFC000123-", False),
    ],
)
def test_it_checks_the_format(typed, valid):
    assert ifsc_valid(ifsc_normalize(typed)) is valid
