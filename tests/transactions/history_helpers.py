"""A history posted through the ledger services, dated in the past (`posted_at`), for the history tests."""

import datetime
import re
import uuid
import zoneinfo

from django.urls import reverse

from accounts.models import Account
from portal.seeding.history import posted_at
from transactions import services
from transactions.models import Transaction

IST = zoneinfo.ZoneInfo("Asia/Kolkata")
NOW = datetime.datetime(2026, 12, 7, 10, 0, tzinfo=IST)  # the tests' pinned clock


def post(
    account: Account,
    when: datetime.datetime,
    amount: int,
    description: str = "",
    counterparty: str = "",
    category: str | None = None,
) -> Transaction:
    """A credit (amount > 0: a deposit) or a debit (a UPI payment) of `amount` paise at `when`."""
    common = {
        "account": account,
        "amount_paise": abs(amount),
        "description": description,
        "counterparty": counterparty,
        "category": category,
        "idempotency_key": uuid.uuid4().hex,
    }
    with posted_at(when):
        if amount > 0:
            return services.deposit_create(**common)
        return services.payment_create(**common)


def ist(day: str, hour: int = 12, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(
        datetime.date.fromisoformat(day), datetime.time(hour, minute), tzinfo=IST
    )


def history_url(account: Account, **params: str) -> str:
    from urllib.parse import urlencode

    url = reverse("history", args=[account.pk])
    return f"{url}?{urlencode(params)}" if params else url


_ROW = re.compile(r'<a class="clamp user-text" href="/accounts/(\d+)/history/(\d+)/"')


def shown(response) -> list[int]:
    """The transaction ids of the page's rows, in order."""
    return [int(txn) for _account, txn in _ROW.findall(response.content.decode())]


def link(response, rel: str) -> str:
    """The href of the pager's link rel="prev" (newer) or rel="next" (older); "" if absent."""
    found = re.search(rf'rel="{rel}" href="([^"]+)"', response.content.decode())
    return found.group(1).replace("&amp;", "&") if found else ""
