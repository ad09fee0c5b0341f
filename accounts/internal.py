"""The bank's own accounts. Money from or to the outside world moves through them, so that every
transaction in the ledger sums to zero and the bank's total never changes.

Settlement (money in and out of the bank) is spread over `settings.SETTLEMENT_SHARDS` accounts, so that
external postings of different customers lock different rows instead of queueing on one. A customer
account's shard is a pure function of its primary key (no query on the posting's path): one account's
postings always use one shard, different accounts spread evenly. The bank's settlement position is the sum
over every shard that exists (accounts/selectors.py: settlement_position), including shards beyond a
lowered SETTLEMENT_SHARDS: those stay valid accounts with their balances, they are just no longer chosen.

Shard 0 is the settlement account of old, `SETTLEMENT` (900000000001), so that data and migrations made
before the shards stay valid; shard k ≥ 1 is 9000001 followed by k in five digits (900000100003 is shard 3).
"""

import hashlib
from typing import Any

from django.conf import settings

SETTLEMENT = "900000000001"  # settlement shard 0
INTEREST = "900000000002"
FEES = "900000000003"

SETTLEMENT_SHARD_PREFIX = "9000001"
_SHARD_DIGITS = 5


def settlement_name(shard: int) -> str:
    return f"Settlement {shard:02d} (money in and out of the bank)"


INTERNAL_ACCOUNTS = {
    SETTLEMENT: settlement_name(0),
    INTEREST: "Interest paid to customers",
    FEES: "Fees charged to customers",
}


def settlement_shards() -> int:
    """How many settlement shards postings choose from now."""
    return settings.SETTLEMENT_SHARDS


def settlement_number(shard: int) -> str:
    """The account number of settlement shard `shard` (0 is the original settlement account)."""
    if not 0 <= shard < 10**_SHARD_DIGITS:
        raise ValueError(f"no settlement shard {shard}")
    return SETTLEMENT if shard == 0 else f"{SETTLEMENT_SHARD_PREFIX}{shard:0{_SHARD_DIGITS}d}"


def settlement_numbers(shards: int | None = None) -> list[str]:
    """The numbers of the shards postings choose from (`shards` of them, by default the setting's)."""
    return [settlement_number(k) for k in range(settlement_shards() if shards is None else shards)]


def settlement_shard_of(number: str) -> int | None:
    """The shard that `number` is, or None if it is not a settlement account (any shard, chosen or not)."""
    if number == SETTLEMENT:
        return 0
    digits = number.removeprefix(SETTLEMENT_SHARD_PREFIX)
    if len(number) != len(SETTLEMENT) or digits == number or not digits.isdigit() or int(digits) == 0:
        return None
    return int(digits)


def is_settlement_number(number: str) -> bool:
    return settlement_shard_of(number) is not None


def settlement_shard(account: int | str, shards: int | None = None) -> int:
    """The shard of a customer account, named by primary key (or, failing that, by number: a different
    key, so the same account named both ways may get two shards; both are valid). A hash rather than
    `pk % shards`, so that accounts made in a pattern (a customer's savings and current, every other pk)
    still spread over every shard. Stable across processes and releases: blake2b, not Python's hash()."""
    count = settlement_shards() if shards is None else shards
    if count == 1:
        return 0
    digest = hashlib.blake2b(str(account).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % count


def settlement_for(account: int | str) -> str:
    """The number of the settlement account that carries `account`'s money in and out of the bank."""
    return settlement_number(settlement_shard(account))


def ensure_internal_accounts(account_model: Any, *, using: str | None = None) -> None:
    """Create the internal accounts that are missing, the settlement shards of the current setting with
    them (never removing one). Takes the model so that a migration can pass its own. Two queries."""
    wanted = dict(INTERNAL_ACCOUNTS)
    wanted.update({settlement_number(k): settlement_name(k) for k in range(1, settlement_shards())})
    manager = account_model.objects.db_manager(using)
    existing = set(manager.filter(number__in=list(wanted)).values_list("number", flat=True))
    missing = [
        account_model(number=number, name=name, kind="internal")
        for number, name in wanted.items()
        if number not in existing
    ]
    if missing:
        manager.bulk_create(missing, ignore_conflicts=True)
