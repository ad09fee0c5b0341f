"""Lines of the rate sheet for the tests (not the demo's): `line(...)` writes one InterestRate."""

import datetime
from decimal import Decimal

from portal.public.models import InterestRate

LAKH = 1_00_000_00  # paise


def line(
    product: str = "fd",
    low: int | None = 7,
    high: int | None = 45,
    general: str = "3.50",
    senior: str | None = None,
    *,
    effective: datetime.date,
    balance: int = 0,
    published: bool = True,
    offered: bool = True,
    note: str = "",
) -> InterestRate:
    if product == "savings":
        low = high = None
    return InterestRate.objects.create(
        product=product,
        tenor_min_days=low,
        tenor_max_days=high,
        balance_min_paise=balance,
        general_rate=Decimal(general),
        senior_rate=Decimal(senior) if senior else Decimal(general) + Decimal("0.50"),
        effective_from=effective,
        published=published,
        offered=offered,
        note=note,
    )
