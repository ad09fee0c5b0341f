"""A statement test's history: a deposit (positive paise) or a card payment (negative) dated `when`,
through the ledger's services and the loaders' one door for a time in the past."""

import datetime
import uuid

from accounts.models import Account
from portal.seeding.history import posted_at
from transactions import services


def post(
    account: Account, when: datetime.datetime, paise: int, what: str, counterparty: str = "DMart"
) -> None:
    with posted_at(when):
        if paise > 0:
            services.deposit_create(
                account=account, amount_paise=paise, description=what, idempotency_key=str(uuid.uuid4())
            )
        else:
            services.payment_create(
                account=account,
                amount_paise=-paise,
                description=what,
                counterparty=counterparty,
                category="groceries",
                idempotency_key=str(uuid.uuid4()),
            )
