"""Celery entry points of the statements: each takes ids or dates, calls the statements' services, and is
safe to run twice (the claim, the unique (account, period), conditional updates).

Robustness of the generate task (Celery 5.7):
- `acks_late`: the message is acknowledged when the task ends, so a worker that dies mid-statement leaves
  it to the broker (Redis gives it out again after its visibility timeout, an hour: the soft and hard time
  limits and the retry delays stay well under it, or a long task would be handed out twice).
- No `reject_on_worker_lost` nor `retry_on_worker_lost`: either would run the task again at once, while its
  statement still reads "running" under the lost attempt (nothing can tell yet that it died), so the new
  run would claim nothing; and a statement that kills its worker (memory) would be sent round and round.
  The watchdog (`statements_watchdog_task`) sees the heartbeat stop and puts the statement back in the
  queue, at most STATEMENT_AUTO_RETRIES times.
- Failures that pass (the database or the storage away for a moment) retry with exponential backoff and
  jitter: the statement goes back to the queue with a note (services.retry_later) and the task sends
  itself again; `max_retries` bounds one message's retries, the row's attempts bound the statement's.
- Time limits: the task stops itself a little before its soft limit (generate.build's deadline) and the
  statement is failed cleanly ("took too long, try again"), its temporary files gone with the stack; the
  soft limit catches time spent outside the row loop; the hard limit a minute later is for a task stuck
  where the soft one cannot reach (the worker's child is killed: the watchdog then takes over).
  Time limits need the prefork pool (`-P solo` and threads enforce none)."""

import datetime
import random
import time

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from transactions.statements import generate, periods, schedule, services

# Sized for the longest statement: 100,000 entries render in about 20-40 s here, five busy years of a
# current account (about a million) in a few minutes; ten minutes leave room on a loaded worker.
GENERATE_SOFT_SECONDS = 10 * 60
GENERATE_HARD_SECONDS = GENERATE_SOFT_SECONDS + 60
GENERATE_MAX_RETRIES = 3
RETRY_MAX_SECONDS = 10 * 60


def deadline(soft_seconds: float) -> float:
    """The time.monotonic() at which a task stops itself: a tenth of its soft time limit before it, at most
    thirty seconds before."""
    return time.monotonic() + soft_seconds - min(30.0, soft_seconds / 10)


def retry_delay(retry: int) -> float:
    """Seconds before retry number `retry` (1, 2, 3 ...): STATEMENT_RETRY_DELAY_SECONDS doubled each time,
    at most ten minutes, give or take a fifth (so that statements interrupted together do not all come back
    at the same second)."""
    delay = min(settings.STATEMENT_RETRY_DELAY_SECONDS * 2 ** (retry - 1), RETRY_MAX_SECONDS)
    return delay * random.uniform(0.8, 1.2)  # noqa: S311 - spreading retries, not a secret


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=False,
    retry_on_worker_lost=False,
    max_retries=GENERATE_MAX_RETRIES,
    soft_time_limit=GENERATE_SOFT_SECONDS,
    time_limit=GENERATE_HARD_SECONDS,
    ignore_result=True,
)
def statement_generate_task(self, statement_id: int) -> bool:
    """Make one statement's files. Twice, or by two workers at once: one claims it, the other does nothing.
    Returns whether this run made it ready."""
    retries_left = self.request.retries < self.max_retries
    soft = (self.request.timelimit or (None, None))[
        1
    ] or self.soft_time_limit  # this message's, or the task's
    try:
        return generate.build(statement_id, retry=retries_left, deadline=deadline(soft))
    except generate.RetryLater as later:
        retry = self.retry(exc=later.__cause__, countdown=retry_delay(self.request.retries + 1), throw=False)
        services.mark_sent([statement_id])
        raise retry from later
    except (OperationalError, InterfaceError) as error:  # the claim itself: the statement is still queued
        raise self.retry(exc=error, countdown=retry_delay(self.request.retries + 1)) from error


@shared_task(acks_late=True, time_limit=120, soft_time_limit=100, ignore_result=True)
def statements_watchdog_task() -> dict[str, int]:
    """Every two minutes: statements running without a sign of life go back to the queue (or fail, out of
    retries), and queued statements whose task never left, or got lost, have it sent again."""
    stale = services.fail_stale()
    resent = services.resend_unsent()
    return {"requeued": len(stale.requeued), "failed": len(stale.failed), "resent": len(resent)}


@shared_task(
    acks_late=True,
    time_limit=15 * 60,
    soft_time_limit=14 * 60,
    ignore_result=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=60,
    retry_backoff_max=RETRY_MAX_SECONDS,
    max_retries=5,
)
def statements_monthly_task(month: str | None = None) -> int:
    """On the 1st: one batch task per `schedule.BATCH` customer accounts for the previous month (or the month
    of the ISO date `month`). Returns how many batches it sent. Twice: the batches make nothing twice; so a
    run lost altogether is made up by sending it again, any day of the month."""
    period = schedule.monthly_period(month)
    first, last = period.first_day.isoformat(), period.last_day.isoformat()
    sent = 0
    with statements_monthly_batch_task.app.producer_or_acquire() as producer, producer.batch():
        for after_id, up_to_id in schedule.batch_bounds():
            statements_monthly_batch_task.apply_async((after_id, up_to_id, first, last), producer=producer)
            sent += 1
    return sent


@shared_task(
    acks_late=True,
    time_limit=5 * 60,
    soft_time_limit=4 * 60,
    ignore_result=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=30,
    retry_backoff_max=RETRY_MAX_SECONDS,
    max_retries=3,
)
def statements_monthly_batch_task(after_id: int, up_to_id: int, first_day: str, last_day: str) -> int:
    """The monthly statements of the customer accounts with ids in (after_id, up_to_id], and their generate
    tasks. Returns how many tasks it sent (none on a second run)."""
    period = periods.Period(datetime.date.fromisoformat(first_day), datetime.date.fromisoformat(last_day))
    return len(schedule.monthly_create(after_id=after_id, up_to_id=up_to_id, period=period))


@shared_task(acks_late=True, time_limit=30 * 60, soft_time_limit=29 * 60, ignore_result=True)
def statement_files_remove_task() -> int:
    """Daily: delete the files of statements past `STATEMENT_RETENTION_DAYS` (the rows stay), for at most
    25 minutes (a storage that deletes slowly, and a month of a million statements expiring the same night:
    the next runs go on)."""
    return schedule.files_remove_expired(until=time.monotonic() + 25 * 60)
