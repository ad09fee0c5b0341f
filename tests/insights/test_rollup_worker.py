"""A first look at a long history: the page does not sum it while the customer waits; a real Celery worker
(a thread of this process, over the Redis broker) catches the account up, and the figures then appear."""

import datetime
import time
import uuid
from zoneinfo import ZoneInfo

import pytest
import time_machine
from celery.contrib.testing.worker import start_worker

from accounts.models import Account
from portal.celery import app
from portal.seeding.history import posted_at
from tests.factories import AccountFactory
from transactions import services
from transactions.insights import rollup
from transactions.insights.models import RollupState
from transactions.insights.periods import THIS_MONTH, preset
from transactions.insights.selectors import InsightsPending, insights, insights_accounts

IST = ZoneInfo("Asia/Kolkata")
NOW = datetime.datetime(2026, 11, 20, 12, 0, tzinfo=IST)


def _pay(account: Account, when: datetime.datetime, paise: int) -> None:
    with posted_at(when):
        services.payment_create(
            account=account,
            amount_paise=paise,
            description="Groceries",
            counterparty="DMart",
            category="groceries",
            idempotency_key=str(uuid.uuid4()),
        )


@pytest.mark.django_db(transaction=True)
def test_a_long_history_is_caught_up_by_a_worker_not_the_page(alice, monkeypatch):
    monkeypatch.setattr(rollup, "INLINE_CATCH_UP_MAX", 3)
    account = AccountFactory(owner=alice, name="Current", kind=Account.Kind.CURRENT)
    with posted_at(NOW - datetime.timedelta(days=3)):
        services.deposit_create(
            account=account, amount_paise=10_000_00, description="Salary", idempotency_key=str(uuid.uuid4())
        )
    for hour in range(4):
        _pay(account, NOW - datetime.timedelta(days=2) + datetime.timedelta(hours=hour), 100_00)
    app.control.purge()
    with time_machine.travel(NOW, tick=True):
        with pytest.raises(InsightsPending) as pending:
            insights(accounts=insights_accounts(user=alice), period=preset(THIS_MONTH))
        assert [a.pk for a in pending.value.accounts] == [account.pk]
        assert not RollupState.objects.filter(
            account=account, last_entry_id__gt=0
        ).exists()  # not summed here
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                if RollupState.objects.filter(account=account, ledger_version=5).exists():
                    break
                time.sleep(0.05)
        found = insights(accounts=insights_accounts(user=alice), period=preset(THIS_MONTH))
    assert found.spending == 400_00
    assert found.income == 10_000_00
