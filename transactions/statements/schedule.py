"""What the beat does with statements besides the watchdog: the monthly statements, and the clean-up of old
files.

Monthly. On the 1st (India) the previous month's statement of every customer account that was open in it:
opened on or before the month's last day, and not closed before it began. An account keeps no closing date:
a closed account takes no postings (transactions/services.py), so one whose newest posting (`posted_until`)
falls in the month or later was still open in it, and one whose newest posting is older was closed before
the month (or never used: nothing to state). A frozen account is still the customer's: it gets its
statement. The bank's internal accounts get none.

The fan-out never holds the whole bank: `batch_bounds` walks the customer accounts by primary key (keyset,
`BATCH` at a time) and the monthly task sends one batch task per range; each batch inserts its statements in
one INSERT ... SELECT ... ON CONFLICT DO NOTHING (the unique (account, period) makes a second run, a
redelivered batch or two beats insert nothing again), then sends the generate task of every statement of its
range and period that is still queued and was never sent: on a first run, the ones it made; on a redelivery
after a crash between the commit and the sending, the ones that crash left behind; on a second run, none.
The generate tasks go to the `statements` queue (settings CELERY_TASK_ROUTES), so that a month's worth of
them never stands in front of the minute-by-minute work (posting alerts, the audit seal) in the default one.

Clean-up. Files of statements made more than `STATEMENT_RETENTION_DAYS` ago are deleted; the row stays with
its figures and checksums (a file kept by the customer can still be verified) and can be made again on
request. Age counts from when the files were made (`finished_at`), not from the period: a statement of 2021
asked for today is kept as long as one of last month."""

import datetime
import logging
import time
from collections.abc import Iterator

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from accounts.models import Account
from transactions.history.filters import day_start
from transactions.statements import periods, services
from transactions.statements.models import Statement, statements_storage

logger = logging.getLogger(__name__)

BATCH = 1000  # accounts per batch task
REMOVE_BATCH = 500  # statements per query of the clean-up


def monthly_period(month: str | None = None, now: datetime.datetime | None = None) -> periods.Period:
    """The month to make: the one containing the ISO date `month` (any day of it), or the month before this
    one in India. It must have ended (periods.checked)."""
    period = periods.month(datetime.date.fromisoformat(month)) if month else periods.previous_month(now)
    checked = periods.checked(period, now)
    if checked != period:
        raise periods.PeriodError("A monthly statement is made once its month has ended.", code="period_open")
    return checked


def _customer_accounts():
    return Account.objects.exclude(kind=Account.Kind.INTERNAL)


def batch_bounds(size: int | None = None) -> Iterator[tuple[int, int]]:
    """(after_id, up_to_id] ranges of at most `size` (`BATCH`) customer accounts each, in primary-key order,
    covering every customer account there is now: one index read of `size` keys per range."""
    size = size or BATCH
    after = 0
    while True:
        ahead = _customer_accounts().filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)
        up_to = next(iter(ahead[size - 1 : size]), None)
        if up_to is None:
            up_to = ahead.aggregate(last=Max("pk"))["last"]
            if up_to is None:
                return
        yield after, up_to
        after = up_to


def monthly_eligible(period: periods.Period):
    """The customer accounts that get `period`'s monthly statement (see the module's docstring)."""
    return (
        _customer_accounts()
        .filter(opened_on__lte=period.last_day)
        .filter(~Q(status=Account.Status.CLOSED) | Q(posted_until__gte=day_start(period.first_day)))
    )


# The eligible accounts' statements in one statement, a conflict on (account, period) skipped: no model
# instance per row (bulk_create of a thousand took 160 ms of Python, a quarter of a batch's time; this takes
# a few ms). The columns without a database default are all named (tests insert through it).
_INSERT = """
INSERT INTO statements_statement (account_id, first_day, last_day, origin, requested_by_id, status, progress,
                                  error, attempts, pdf, csv, pdf_sha256, csv_sha256, created_at)
SELECT eligible.id, %s, %s, %s, NULL, %s, 0, '', 0, '', '', '', '', %s
  FROM ({eligible}) AS eligible
 ORDER BY eligible.id
    ON CONFLICT (account_id, first_day, last_day) DO NOTHING
"""


def monthly_create(*, after_id: int, up_to_id: int, period: periods.Period) -> list[int]:
    """The monthly statements of the eligible accounts with ids in (after_id, up_to_id], made if missing; the
    ids of those whose task it sends (after the commit)."""
    eligible, params = (
        monthly_eligible(period)
        .filter(pk__gt=after_id, pk__lte=up_to_id)
        .values_list("id", flat=True)
        .query.sql_with_params()
    )
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                _INSERT.format(eligible=eligible),
                [
                    period.first_day,
                    period.last_day,
                    Statement.Origin.MONTHLY,
                    Statement.Status.QUEUED,
                    timezone.now(),
                    *params,
                ],
            )
        unsent = list(
            Statement.objects.filter(
                account_id__gt=after_id,
                account_id__lte=up_to_id,
                first_day=period.first_day,
                last_day=period.last_day,
                status=Statement.Status.QUEUED,
                sent_at__isnull=True,
            )
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        transaction.on_commit(lambda: services.send(unsent), robust=True)
    return unsent


def files_remove_expired(
    now: datetime.datetime | None = None, batch: int = REMOVE_BATCH, until: float | None = None
) -> int:
    """Delete the files of ready statements finished more than `STATEMENT_RETENTION_DAYS` ago; their rows
    keep everything else (figures, checksums) and say when (`files_removed_at`). Returns how many statements
    lost their files. A file the storage refuses to delete leaves its statement as it was, for the next run;
    a file already gone counts as deleted. Stops between two batches once time.monotonic() passes `until`
    (the next run goes on). Safe to run twice, or twice at once."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=settings.STATEMENT_RETENTION_DAYS)
    storage = statements_storage()
    expired = Statement.objects.filter(
        status=Statement.Status.READY, files_removed_at__isnull=True, finished_at__lt=cutoff
    )
    removed = 0
    last: tuple[datetime.datetime, int] | None = None
    while True:
        page = expired
        if last is not None:  # keyset on the index's (finished_at, id): a file that stays is not read again
            page = page.filter(Q(finished_at__gt=last[0]) | Q(finished_at=last[0], pk__gt=last[1]))
        rows = list(page.order_by("finished_at", "pk").values_list("pk", "finished_at", "pdf", "csv")[:batch])
        if not rows or (until is not None and time.monotonic() > until):
            return removed
        last = (rows[-1][1], rows[-1][0])
        gone = []
        for pk, _finished, *names in rows:
            try:
                for name in names:
                    if name:
                        storage.delete(name)
            except Exception:  # any backend's error: this statement waits for the next run, the others go on
                logger.exception("statement %s: its files could not be deleted", pk)
                continue
            gone.append(pk)
        if gone:
            removed += Statement.objects.filter(
                pk__in=gone, status=Statement.Status.READY, files_removed_at__isnull=True
            ).update(files_removed_at=now, pdf="", csv="")
