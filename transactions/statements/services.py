"""What changes a statement: a customer's request (or retry), and its task's claim, progress and outcome.

Every change is a conditional UPDATE of the one row, so that two tasks, a retry and the watchdog never
overwrite each other: a task claims a queued statement (queued → running) and only the claimer writes its
progress and its outcome (`attempt` must still be the one it claimed)."""

import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import Account, User
from portal.audit import audit_record
from portal.celery import app as celery_app
from transactions.statements import periods
from transactions.statements.models import Statement

GENERATE_TASK = "transactions.statements.tasks.statement_generate_task"


class StatementError(Exception):
    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _state(statement: Statement) -> dict[str, object]:
    return {
        "account": statement.account.masked_number,
        "first_day": statement.first_day.isoformat(),
        "last_day": statement.last_day.isoformat(),
        "status": statement.status,
    }


def queue(statement_id: int) -> None:
    """Send the statement's task once the current transaction commits (by name: tasks import this module)."""
    transaction.on_commit(lambda: celery_app.signature(GENERATE_TASK, args=(statement_id,)).delay())


def _requeue(statement_id: int) -> bool:
    """A failed statement, or a ready one whose files were removed, back to the queue; False if it is
    neither (queued, running, or ready with its files: nothing to do)."""
    again = Q(status=Statement.Status.FAILED) | Q(
        status=Statement.Status.READY, files_removed_at__isnull=False
    )
    done = Statement.objects.filter(again, pk=statement_id).update(
        status=Statement.Status.QUEUED, progress=0, error="", heartbeat_at=None, finished_at=None
    )
    if done:
        queue(statement_id)
    return bool(done)


def statement_request(
    *,
    user: User,
    account_id: int,
    period: periods.Period,
    origin: str = Statement.Origin.REQUESTED,
) -> tuple[Statement, bool]:
    """The customer's statement of `account_id` for `period` (checked: ends yesterday at the latest, at most
    five years) and whether this call queued work. The same account and period again returns the statement
    already made or being made (a failed one, or one whose files were removed, is queued again). Raises
    StatementError (not_found) for an account that is not the user's, and PeriodError for a bad period."""
    period = periods.checked(period)
    account = Account.objects.filter(pk=account_id, owner=user).first()
    if account is None:
        raise StatementError("That account is not one of yours.", code="not_found")
    with transaction.atomic():
        try:
            with transaction.atomic():
                statement = Statement.objects.create(
                    account=account,
                    first_day=period.first_day,
                    last_day=period.last_day,
                    origin=origin,
                    requested_by=user if origin == Statement.Origin.REQUESTED else None,
                )
            queue(statement.pk)
            queued = True
        except IntegrityError:
            statement = Statement.objects.select_related("account").get(
                account=account, first_day=period.first_day, last_day=period.last_day
            )
            queued = _requeue(statement.pk)
            if queued:
                statement.refresh_from_db()
        statement.account = account
        if queued:
            audit_record(action="statement.request", actor=user, obj=statement, after=_state(statement))
    return statement, queued


def statement_retry(*, user: User, statement_id: int) -> Statement:
    """Queue again the user's failed statement (or one whose files were removed). StatementError: not_found
    for another's, not_retryable for one that is queued, running or ready."""
    statement = (
        Statement.objects.select_related("account").filter(pk=statement_id, account__owner=user).first()
    )
    if statement is None:
        raise StatementError("That statement is not one of yours.", code="not_found")
    with transaction.atomic():
        if not _requeue(statement.pk):
            raise StatementError("This statement is not waiting for a retry.", code="not_retryable")
        statement.refresh_from_db()
        audit_record(action="statement.retry", actor=user, obj=statement, after=_state(statement))
    return statement


def claim(statement_id: int, now: datetime.datetime | None = None) -> int | None:
    """Take a queued statement for this task: running, attempts + 1. Returns the attempt number, or None if
    it is not queued (ready, failed, or another task holds it): that task then does nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        claimed = (
            Statement.objects.filter(pk=statement_id, status=Statement.Status.QUEUED)
            .select_for_update(skip_locked=True)
            .values_list("attempts", flat=True)
            .first()
        )
        if claimed is None:
            return None
        Statement.objects.filter(pk=statement_id).update(
            status=Statement.Status.RUNNING,
            attempts=F("attempts") + 1,
            progress=0,
            error="",
            started_at=now,
            heartbeat_at=now,
        )
    return claimed + 1


def _mine(statement_id: int, attempt: int):
    return Statement.objects.filter(pk=statement_id, status=Statement.Status.RUNNING, attempts=attempt)


def report_progress(statement_id: int, attempt: int, progress: int) -> bool:
    """The task's progress (per cent) and its heartbeat; False if the statement is no longer its own (the
    watchdog gave up on it): the task should stop."""
    return bool(
        _mine(statement_id, attempt).update(progress=max(0, min(progress, 99)), heartbeat_at=timezone.now())
    )


def finish(statement_id: int, attempt: int, **fields: object) -> bool:
    """Ready, with what the files say (names, checksums, balances); False if the statement is no longer the
    task's own (then its files are not the statement's: the caller deletes them)."""
    return bool(
        _mine(statement_id, attempt).update(
            status=Statement.Status.READY, progress=100, finished_at=timezone.now(), **fields
        )
    )


def fail(statement_id: int, attempt: int | None, error: str) -> bool:
    """Failed with `error` (shown to the customer: no internals), retryable by the customer."""
    found = Statement.objects.filter(pk=statement_id).exclude(status=Statement.Status.READY)
    if attempt is not None:
        found = found.filter(attempts=attempt)
    return bool(found.update(status=Statement.Status.FAILED, error=error[:300], finished_at=timezone.now()))


def fail_stale(now: datetime.datetime | None = None) -> list[int]:
    """The watchdog: statements running without a sign of life for `STATEMENT_STALE_SECONDS` (their worker
    was killed, or lost) are marked failed, for the customer or the schedule to retry. Returns their ids."""
    now = now or timezone.now()
    since = now - datetime.timedelta(seconds=settings.STATEMENT_STALE_SECONDS)
    stale = list(
        Statement.objects.filter(status=Statement.Status.RUNNING, heartbeat_at__lt=since).values_list(
            "pk", flat=True
        )
    )
    if stale:
        Statement.objects.filter(
            pk__in=stale, status=Statement.Status.RUNNING, heartbeat_at__lt=since
        ).update(
            status=Statement.Status.FAILED,
            error="Preparing this statement was interrupted. Please try again.",
            finished_at=now,
        )
    return stale
