"""Celery entry points of the insights: the daily sums' catch-up, the customers' rule backfills and their
budget alerts."""

from celery import shared_task
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone

from accounts.models import Account
from transactions.insights import rollup
from transactions.insights.budgets import budget_alerts_check
from transactions.insights.models import RollupState, RuleBackfill
from transactions.insights.services import rule_backfill_run

CATCH_UP_BATCH = 500


@shared_task(acks_late=True, time_limit=280, soft_time_limit=240, ignore_result=True)
def rollups_catch_up_task() -> int:
    """Beat, every few minutes: catch up the daily sums (and the customers' rules) of the customer accounts
    whose ledger moved since, at most CATCH_UP_BATCH of them a run (the next run takes the rest). Safe to
    run twice: a caught-up account is skipped. Returns how many accounts had new entries."""
    seen = RollupState.objects.filter(account=OuterRef("pk")).values("ledger_version")
    stale = (
        Account.objects.filter(owner__isnull=False)
        .annotate(seen=Subquery(seen))
        .filter(Q(seen__isnull=True) | Q(seen__lt=F("ledger_version")))
        .order_by("pk")
        .values_list("pk", flat=True)[:CATCH_UP_BATCH]
    )
    return sum(rollup.catch_up(account_id) for account_id in list(stale))


@shared_task(acks_late=True, time_limit=10 * 60, soft_time_limit=9 * 60, ignore_result=True)
def rollup_catch_up_task(account_id: int) -> bool:
    """Catch up one account's daily sums (a page found it too far behind to do so while the customer
    waited). Safe to run twice: the second finds nothing new (the state's row lock orders them)."""
    return rollup.catch_up(account_id)


# Retried on a lost worker (acks_late); a run that fails is marked failed with its reason, and the customer
# may ask again (the entries it already did are simply done again: the rules give the same answer).
@shared_task(acks_late=True, time_limit=30 * 60, soft_time_limit=29 * 60, ignore_result=True)
def rule_backfill_run_task(backfill_id: int) -> None:
    try:
        rule_backfill_run(backfill_id)
    except Exception as error:
        RuleBackfill.objects.filter(pk=backfill_id).exclude(status=RuleBackfill.Status.DONE).update(
            status=RuleBackfill.Status.FAILED, error=str(error)[:300], finished_at=timezone.now()
        )
        raise


# Queued by a catch-up that summed new entries of a customer with budgets, and after a budget is set
# (transactions/insights/budgets.py `queue_alerts_check`). Twice, or twice at once, sends each alert once.
@shared_task(acks_late=True, time_limit=120, soft_time_limit=100, ignore_result=True)
def budget_alerts_check_task(user_id: int) -> int:
    """Email the customer about the budgets this month's spending crossed; returns how many emails."""
    return len(budget_alerts_check(user_id))
