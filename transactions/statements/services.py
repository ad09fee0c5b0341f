"""What changes a statement: a customer's request (or retry), and its task's claim, progress and outcome.

Every change is a conditional UPDATE of the one row, so that two tasks, a retry and the watchdog never
overwrite each other: a task claims a queued statement (queued → running) and only the claimer writes its
progress and its outcome (`attempt` must still be the one it claimed).

The row, not the broker's message, says what is left to do. A message may arrive twice (acks_late, a
retry, the watchdog's resend): the claim makes every copy but one do nothing. A message may also be lost
(the worker killed after the commit, the broker away): `sent_at` stays empty, or grows old, and the
watchdog sends the statement's task again. A statement interrupted by something that passes (its worker
killed, the database or the storage away for a moment) goes back to the queue by itself, with a note, up
to `STATEMENT_AUTO_RETRIES` times; after that, or for a failure that would only repeat (a time-out, a
ledger that does not add up), it is failed and waits for the customer's retry:
- queued, with `error` and attempts > 0 (`Statement.retrying`): "interrupted, we will try again";
- failed: "failed, please try again" (the page's retry button, `statement_retry`)."""

import datetime
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, User
from accounts.notifications import notify
from portal.audit import audit_record
from portal.celery import app as celery_app
from transactions.statements import periods
from transactions.statements.models import Statement

logger = logging.getLogger(__name__)

GENERATE_TASK = "transactions.statements.tasks.statement_generate_task"
# A queued statement whose task has not been marked sent this long after it was made is taken for one whose
# sending failed (sending follows the commit by milliseconds).
SEND_GRACE_SECONDS = 2 * 60
RESEND_LIMIT = 1000  # statements the watchdog sends again per run

INTERRUPTED_RETRYING = "Preparing this statement was interrupted. We will try again in a few minutes."
INTERRUPTED = "Preparing this statement was interrupted. Please try again."


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
    transaction.on_commit(lambda: send([statement_id]), robust=True)


def send(statement_ids: Sequence[int]) -> None:
    """Hand each statement's task to the broker now, then note when (`sent_at`). One producer and, on Redis,
    one pipeline per thousand messages (kombu's `Producer.batch`: a round trip and a client per message
    were most of the monthly fan-out's time, bench/statement_fanout.py). A crash between the sending and
    the note leaves `sent_at` empty and the watchdog sends again: a second task for one statement does
    nothing."""
    if not statement_ids:
        return
    task = celery_app.signature(GENERATE_TASK)
    with celery_app.producer_or_acquire() as producer, producer.batch():
        for statement_id in statement_ids:
            # The arguments' repr for logs and monitors, given: Celery's own (saferepr) is 40 µs a message.
            task.clone(args=(statement_id,)).apply_async(
                producer=producer, argsrepr=f"({statement_id},)", kwargsrepr="{}"
            )
    mark_sent(statement_ids)


def mark_sent(statement_ids: Sequence[int]) -> None:
    Statement.objects.filter(pk__in=statement_ids, status=Statement.Status.QUEUED).update(
        sent_at=timezone.now()
    )


def _requeue(statement_id: int) -> bool:
    """A failed statement, or a ready one whose files were removed, back to the queue; False if it is
    neither (queued, running, or ready with its files: nothing to do)."""
    again = Q(status=Statement.Status.FAILED) | Q(
        status=Statement.Status.READY, files_removed_at__isnull=False
    )
    done = Statement.objects.filter(again, pk=statement_id).update(
        status=Statement.Status.QUEUED,
        attempts_before=F("attempts"),
        progress=0,
        error="",
        heartbeat_at=None,
        finished_at=None,
        sent_at=None,
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
    # One conditional UPDATE: if another transaction holds the row (the sender marking it sent, a second
    # worker claiming it), it waits and then looks again at the row as that one left it. (Skipping a locked
    # row instead left a statement queued for hours: its only task ran while `mark_sent` held the row.)
    with transaction.atomic():
        claimed = Statement.objects.filter(pk=statement_id, status=Statement.Status.QUEUED).update(
            status=Statement.Status.RUNNING,
            attempts=F("attempts") + 1,
            progress=0,
            error="",
            started_at=now,
            heartbeat_at=now,
        )
        if not claimed:
            return None
        return Statement.objects.filter(pk=statement_id).values_list("attempts", flat=True).get()


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
    if attempt is not None:  # only while that attempt runs: the watchdog may have queued it again meanwhile
        found = found.filter(status=Statement.Status.RUNNING, attempts=attempt)
    return bool(found.update(status=Statement.Status.FAILED, error=error[:300], finished_at=timezone.now()))


def retry_later(statement_id: int, attempt: int, error: str) -> bool:
    """After a failure that passes (the database or the storage away for a moment): back to the queue with
    `error` as a note, for the task to send itself again, if this attempt still has automatic retries left
    (`STATEMENT_AUTO_RETRIES`); otherwise failed, for the customer to retry. True if it went back to the
    queue; the task marks it sent once its retry has left (`mark_sent`)."""
    retries_left = Q(attempts__lte=F("attempts_before") + settings.STATEMENT_AUTO_RETRIES)
    if (
        _mine(statement_id, attempt)
        .filter(retries_left)
        .update(
            status=Statement.Status.QUEUED, progress=0, error=error[:300], heartbeat_at=None, sent_at=None
        )
    ):
        return True
    fail(statement_id, attempt, INTERRUPTED)
    return False


@dataclass(frozen=True)
class Stale:
    requeued: list[int]  # back in the queue, their tasks sent
    failed: list[int]  # out of automatic retries: the customer's to retry


def fail_stale(now: datetime.datetime | None = None) -> Stale:
    """The watchdog: statements running without a sign of life for `STATEMENT_STALE_SECONDS` (their worker
    was killed, or lost) go back to the queue with a note and their task is sent again, if they have
    automatic retries left; the others are marked failed, for the customer to retry.

    A statement whose task is still alive but that the watchdog took back stops at its next progress report
    (its attempt is no longer the statement's), and its files, if it got that far, are deleted."""
    now = now or timezone.now()
    since = now - datetime.timedelta(seconds=settings.STATEMENT_STALE_SECONDS)
    with transaction.atomic():
        stale = list(
            Statement.objects.filter(status=Statement.Status.RUNNING, heartbeat_at__lt=since)
            .select_for_update(skip_locked=True)
            .values_list("pk", "attempts", "attempts_before")
        )
        most = settings.STATEMENT_AUTO_RETRIES
        again = [pk for pk, attempts, before in stale if attempts - before <= most]
        given_up = [pk for pk, attempts, before in stale if attempts - before > most]
        if again:
            Statement.objects.filter(pk__in=again).update(
                status=Statement.Status.QUEUED,
                progress=0,
                error=INTERRUPTED_RETRYING,
                heartbeat_at=None,
                sent_at=None,
            )
            transaction.on_commit(lambda: send(again), robust=True)
        if given_up:
            Statement.objects.filter(pk__in=given_up).update(
                status=Statement.Status.FAILED, error=INTERRUPTED, finished_at=now
            )
    if stale:
        logger.warning("statements without a sign of life: %s queued again, %s failed", again, given_up)
    return Stale(requeued=again, failed=given_up)


def resend_unsent(now: datetime.datetime | None = None, limit: int = RESEND_LIMIT) -> list[int]:
    """The watchdog's other half: send again the task of queued statements whose task never left (made, or
    queued again, `SEND_GRACE_SECONDS` ago and not marked sent: the sender died after the commit, or the
    broker was away), or left `STATEMENT_RESEND_SECONDS` ago and was never taken (lost by the broker). A
    statement still waiting its turn in a long queue may get a second task that way: it does nothing."""
    now = now or timezone.now()
    never = Q(sent_at__isnull=True, created_at__lt=now - datetime.timedelta(seconds=SEND_GRACE_SECONDS))
    long_ago = Q(sent_at__lt=now - datetime.timedelta(seconds=settings.STATEMENT_RESEND_SECONDS))
    ids = list(
        Statement.objects.filter(never | long_ago, status=Statement.Status.QUEUED)
        .order_by("sent_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    if ids:
        logger.warning("statements whose task never left, or got lost, sent again: %s", ids)
        send(ids)
    return ids


def statements_url() -> str:
    """The statements page, for an email (a link to the page: the customer signs in there, no download link
    leaves the bank)."""
    return (settings.SITE_URL or "https://securebank.example") + "/statements/"


def verify_url() -> str:
    """The page where anyone checks that a statement file is genuine (also printed in the PDF's footer)."""
    return (settings.SITE_URL or "https://securebank.example") + reverse("statement_verify")


def period_label(first_day: datetime.date, last_day: datetime.date) -> str:
    """ "October 2026" for a calendar month, "1 Oct 2026 to 15 Nov 2026" otherwise."""
    if first_day.day == 1 and periods.month(first_day).last_day == last_day:
        return first_day.strftime("%B %Y")
    return f"{first_day.day} {first_day:%b %Y} to {last_day.day} {last_day:%b %Y}"


def notify_ready(statement: Statement) -> bool:
    """Email the owner that a monthly statement is ready: the schedule made it while nobody was watching. Not
    a requested statement (its customer is on the page, which shows it ready), nor a monthly one made again
    after its files were removed (its customer asked for that, on the page). `statement` is the row as its
    task claimed it (select_related account__owner), before `finish`. True if an email was queued."""
    owner = statement.account.owner
    if (
        statement.origin != Statement.Origin.MONTHLY
        or statement.files_removed_at is not None
        or owner is None
    ):
        return False
    notify(
        owner,
        "statement_ready",
        account=statement.account,
        period=period_label(statement.first_day, statement.last_day),
        url=statements_url(),
        verify_url=verify_url(),
    )
    return True
