"""The bank's own accounts. Money from or to the outside world moves through them, so that every
transaction in the ledger sums to zero and the bank's total never changes."""

from typing import Any

SETTLEMENT = "900000000001"
INTEREST = "900000000002"
FEES = "900000000003"

INTERNAL_ACCOUNTS = {
    SETTLEMENT: "Settlement (money in and out of the bank)",
    INTEREST: "Interest paid to customers",
    FEES: "Fees charged to customers",
}


def ensure_internal_accounts(account_model: Any) -> None:
    """Create the internal accounts if missing. Takes the model so that a migration can pass its own."""
    for number, name in INTERNAL_ACCOUNTS.items():
        account_model.objects.get_or_create(number=number, defaults={"name": name, "kind": "internal"})
