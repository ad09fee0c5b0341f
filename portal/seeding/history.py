"""The loaders' way to post history: the ledger services with a time in the past.

No service of `transactions.services` takes a time (a view could pass one on): a posting is dated now. The
demo loader and the tests' history fixtures wrap each posting in `posted_at(when)`, which sets the time
`_post` uses for that posting only, so that history goes through the ledger's one core and keeps every rule
(locks, balances, `balance_after`, idempotency, the audit event) as a posting made today would.

    with posted_at(posting.when):
        services.payment_create(account=..., amount_paise=..., ...)

A loader posts each customer account's history in time order: a posting dated before the newest entry of
a customer account it touches is refused (`TransferError`, code `history_out_of_order`), so that history
order stays posting order (transactions/services.py `_posting_time`). The bank's internal accounts, which
every customer's history goes through, take any order.
"""

import datetime
from collections.abc import Iterator
from contextlib import contextmanager

from django.utils import timezone

from transactions import services


class HistoryError(ValueError):
    """A time a loader may not post at."""


@contextmanager
def posted_at(when: datetime.datetime) -> Iterator[None]:
    """Postings made inside the block are dated `when`: an aware time, not in the future."""
    if timezone.is_naive(when):
        raise HistoryError("A posting's time needs a time zone.")
    if when > timezone.now():
        raise HistoryError("History cannot be dated in the future.")
    token = services._history_time.set(when)
    try:
        yield
    finally:
        services._history_time.reset(token)
