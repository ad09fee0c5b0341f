"""Applying a customer's rules to their past transactions on a real Celery worker: the request commits, its
task goes over the Redis broker to a worker (a thread of this process), which runs it to done, its progress
at 100, and the insights' figures follow the new categories."""

import datetime
import time
import uuid
from zoneinfo import ZoneInfo

import pytest
import time_machine
from celery.contrib.testing.worker import start_worker

import transactions.insights.tasks  # noqa: F401 - registers the task the request sends by name
from accounts.models import Account
from portal.celery import app
from portal.seeding.history import posted_at
from tests.factories import AccountFactory
from tests.threads import HeldOpen, Worker, wait_until_blocked_by
from transactions import services
from transactions.insights import rollup
from transactions.insights.models import EntryCategory, RuleBackfill
from transactions.insights.periods import THIS_MONTH, preset
from transactions.insights.selectors import insights, insights_accounts
from transactions.insights.services import rule_backfill_request, rule_backfill_run, rule_create

IST = ZoneInfo("Asia/Kolkata")
NOW = datetime.datetime(2026, 11, 20, 12, 0, tzinfo=IST)


def _spent(user) -> dict[str, int]:
    found = insights(accounts=insights_accounts(user=user), period=preset(THIS_MONTH))
    return {c.slug: c.spent for c in found.categories if c.spent}


@pytest.mark.django_db(transaction=True)
def test_a_backfill_runs_to_done_on_a_real_worker(alice):
    current = AccountFactory(owner=alice, name="Current", kind=Account.Kind.CURRENT)
    with time_machine.travel(NOW, tick=True):
        with posted_at(NOW - datetime.timedelta(days=19)):
            services.deposit_create(
                account=current,
                amount_paise=50_000_00,
                description="Salary",
                idempotency_key=str(uuid.uuid4()),
            )
        for n in range(12):
            with posted_at(NOW - datetime.timedelta(days=18 - n)):
                services.payment_create(
                    account=current,
                    amount_paise=100_00 + n,
                    description="Food order",
                    counterparty="Swiggy",
                    idempotency_key=str(uuid.uuid4()),
                )
        rollup.catch_up(current.pk)
        assert _spent(alice) == {"dining": 12 * 100_00 + 66}  # the bank's default rule
        rule_create(
            user=alice, field="counterparty", contains="swiggy", direction="out", category="groceries"
        )
        app.control.purge()
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            backfill = rule_backfill_request(user=alice)  # commits, then sends the task
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                backfill.refresh_from_db()
                if backfill.status in (RuleBackfill.Status.DONE, RuleBackfill.Status.FAILED):
                    break
                time.sleep(0.05)
        backfill.refresh_from_db()
        assert (backfill.status, backfill.error) == (RuleBackfill.Status.DONE, "")
        assert backfill.percent == 100
        assert backfill.done == backfill.total == 13  # every entry of the customer looked at
        assert backfill.changed == 12
        assert backfill.finished_at is not None
        assert EntryCategory.objects.filter(source="rule", category="groceries").count() == 12
        assert _spent(alice) == {"groceries": 12 * 100_00 + 66}


@pytest.mark.django_db(transaction=True)
def test_a_backfill_delivered_twice_runs_once_at_a_time(alice):
    """A second delivery of the task (a redelivery, a duplicate) while the first worker runs the backfill
    leaves it to that worker: it neither waits on the worker's locks (the first holds an account's while it
    writes progress on the backfill's row, which the second would hold while it waits: a deadlock) nor
    starts the work again from nothing (progress back to 0, and "0 changed" at the end)."""
    current = AccountFactory(owner=alice, name="Current", kind=Account.Kind.CURRENT)
    services.deposit_create(
        account=current, amount_paise=50_000_00, description="Salary", idempotency_key=str(uuid.uuid4())
    )
    for _ in range(3):
        services.payment_create(
            account=current,
            amount_paise=100_00,
            description="Food order",
            counterparty="Swiggy",
            idempotency_key=str(uuid.uuid4()),
        )
    rollup.catch_up(current.pk)
    rule_create(user=alice, field="counterparty", contains="swiggy", direction="out", category="groceries")
    backfill = RuleBackfill.objects.create(owner=alice)
    swiggy = EntryCategory.objects.filter(account=current).order_by("entry_id").first()
    # Another transaction holds one of the annotations the backfill rewrites: the first run stops there,
    # mid-way, its status "running" committed.
    held = HeldOpen(lambda: list(EntryCategory.objects.select_for_update().filter(pk=swiggy.pk)))
    held.start_and_wait()
    first = Worker(lambda: rule_backfill_run(backfill.pk))
    try:
        first.start()
        wait_until_blocked_by(held.pid, "the first run")
        second = Worker(lambda: rule_backfill_run(backfill.pk))
        second.start()
        assert second.outcome().status == RuleBackfill.Status.RUNNING  # left to the first, at once
    finally:
        held.release()
    held.outcome()
    done = first.outcome()
    assert (done.status, done.done, done.total, done.changed) == (RuleBackfill.Status.DONE, 4, 4, 3)
    assert EntryCategory.objects.filter(source="rule", category="groceries").count() == 3
