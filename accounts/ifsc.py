"""IFSC codes: their format, and the bank a code's first four letters name.

An IFSC (Indian Financial System Code) is 11 characters: the bank's 4 letters, a zero (kept for future
use), then 6 letters or digits for the branch, e.g. HDFC0001234. The banks come from a small table shipped
in the repository (accounts/data/ifsc_banks.csv: about 40 major Indian banks and SecureBank itself; sources
in accounts/data/README.md), read once per process. A code whose bank is not in it is refused: a payee the
bank could not pay is better refused when it is added than when money is sent.
"""

import csv
import re
from functools import cache
from pathlib import Path

BANKS_CSV = Path(__file__).resolve().parent / "data" / "ifsc_banks.csv"
IFSC_FORMAT = re.compile(r"^[A-Z]{4}0[A-Z0-9]{6}$")  # the Payee table's CHECK says the same


@cache
def _banks() -> dict[str, str]:
    with BANKS_CSV.open(newline="", encoding="utf-8") as f:
        return {row["code"].strip().upper(): row["bank"].strip() for row in csv.DictReader(f)}


def ifsc_normalize(value: str) -> str:
    """What a customer typed, as the code is written: spaces dropped, upper case ("hdfc 0001234")."""
    return "".join(value.split()).upper()


def ifsc_valid(ifsc: str) -> bool:
    """Whether `ifsc` (normalized) has the format of an IFSC."""
    return bool(IFSC_FORMAT.match(ifsc))


def bank_for_ifsc(ifsc: str) -> str | None:
    """The name of the bank an IFSC belongs to, by its first four letters; None if the table does not
    know it (or `ifsc` is too short to say)."""
    code = ifsc_normalize(ifsc)[:4]
    return _banks().get(code) if len(code) == 4 else None
