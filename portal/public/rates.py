"""The rate sheet: which line of each bucket applies on a day, and how a bucket is named for people."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from portal.public.models import InterestRate


def bucket_label(rate: InterestRate) -> str:
    """ "7 days to 45 days", "1 year to 2 years", "Balances from ₹10,00,000"."""
    if rate.tenor_min_days is None:
        return f"Balances from {rate.balance_min_paise // 100:,}"
    return f"{rate.tenor_min_days} to {rate.tenor_max_days} days"
