"""Reads of scheduled transfers. Every customer-facing selector takes the user and filters by it."""

import datetime

from django.db.models import Case, OuterRef, QuerySet, Subquery, Value, When

from accounts.models import Payee, User
from transactions.models import ScheduledRun, ScheduledTransfer


def scheduled_list(*, user: User) -> QuerySet[ScheduledTransfer]:
    """The customer's schedules, active and paused first, then the newest; each with its accounts and payee
    and its latest failed run (`last_failure_on`, `last_failure`: the date and the ledger's reason)."""
    failures = ScheduledRun.objects.filter(
        schedule=OuterRef("pk"), status=ScheduledRun.Status.FAILED
    ).order_by("-occurrence", "-id")
    return (
        ScheduledTransfer.objects.filter(owner=user)
        .select_related("source", "destination", "payee")
        .annotate(
            last_failure_on=Subquery(failures.values("run_date")[:1]),
            last_failure=Subquery(failures.values("reason")[:1]),
        )
        .alias(done=Case(When(status__in=["active", "paused"], then=Value(0)), default=Value(1)))
        .order_by("done", "-created_at", "-id")
    )


def scheduled_get(*, user: User, pk: int) -> ScheduledTransfer | None:
    """One of the customer's schedules, with its accounts and payee; None if it is not theirs."""
    found = ScheduledTransfer.objects.filter(pk=pk, owner=user)
    return found.select_related("source", "destination", "payee").first()


def scheduled_running_to_payee(*, user: User, payee: Payee) -> list[ScheduledTransfer]:
    """The customer's schedules to `payee` that will still pay it (active or paused), the soonest first."""
    running = ScheduledTransfer.objects.filter(
        owner=user, payee=payee, status__in=[ScheduledTransfer.Status.ACTIVE, ScheduledTransfer.Status.PAUSED]
    )
    return list(running.order_by("next_run_date", "id"))


def scheduled_run_list(*, schedule: ScheduledTransfer, limit: int = 50) -> list[ScheduledRun]:
    """A schedule's runs, the latest first, with the postings they made."""
    return list(schedule.runs.select_related("transaction").order_by("-occurrence", "-id")[:limit])


def scheduled_due_ids(*, today: datetime.date, limit: int = 1000) -> list[int]:
    """Active schedules whose next run date is on or before `today`, the most overdue first (index
    scheduledtransfer_due)."""
    due = ScheduledTransfer.objects.filter(status=ScheduledTransfer.Status.ACTIVE, next_run_date__lte=today)
    return list(due.order_by("next_run_date", "id").values_list("pk", flat=True)[:limit])


def payee_choices(*, user: User) -> list[Payee]:
    """The customer's payees that are not removed, by name."""
    return list(Payee.objects.filter(owner=user, removed_at__isnull=True).order_by("name", "id"))
