"""Render one statement: its rows streamed once from the ledger into a CSV and a PDF at the same time, both
written to temporary files, checked against the ledger, then saved to the `statements` storage with their
SHA-256, and the row marked ready.

The figures are the ledger's: the opening balance is the `balance_after` of the last entry before the
period, the closing one that of its last entry (selectors.summary, one query), and every row's balance must
follow from the one before it by its amount. A break anywhere (which the ledger's own rules forbid) fails
the statement rather than publish figures that do not add up.

The PDF's footer prints the SHA-256 of the CSV (the statement's data, known once every row is written); a
file cannot contain its own checksum, so the PDF's own is stored beside it and /statements/verify/ accepts
either file or either checksum.

What can go wrong, and what the statement says then (services.py has the states):
- the database or the storage away for a moment (`TRANSIENT`): back to the queue for the task to retry
  later (`RetryLater`), while automatic retries are left; failed (for the customer to retry) after;
- out of time: failed, for the customer to retry (a retry would only run out of time again). The task
  passes a deadline a little before its soft time limit and the row loop stops itself there (`OutOfTime`);
  the soft limit stays the backstop for time spent elsewhere, but its exception is raised asynchronously,
  wherever the worker happens to be, and a library may wrap it (ReportLab's C accelerator turns it into a
  RuntimeError): any error past the deadline counts as out of time. The soft limit is held back while a
  failure is written, so that it cannot leave the statement "running" half-way through;
- a ledger that does not add up, or a bug: failed, and raised for the worker's log;
- the worker killed: nothing here runs; the watchdog (services.fail_stale) sees the heartbeat stop.
Files saved by an attempt that does not end with its statement ready are deleted, when that can be known."""

import csv
import hashlib
import io
import logging
import os
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from billiard.pool import SIG_SOFT_TIMEOUT
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files import File
from django.db import InterfaceError, OperationalError, connection
from django.utils import timezone

from transactions.history.export import BOM, neutralise
from transactions.statements import selectors, services
from transactions.statements.models import Statement, statements_storage
from transactions.statements.pdf import Header, StatementPDF

logger = logging.getLogger(__name__)

PROGRESS_EVERY = 2000  # rows between two progress reports (each one UPDATE)
CSV_HEADER = ("Date (IST)", "Reference", "Description", "Counterparty", "Debit", "Credit", "Balance")
BANK_NAME = "SecureBank"


class LedgerMismatch(Exception):
    """The period's rows do not add up to the ledger's balances."""


class Stopped(Exception):
    """The statement is no longer this task's (the watchdog gave up on it)."""


class OutOfTime(Exception):
    """The task's deadline has passed: stop before the soft time limit strikes somewhere less tidy."""


class RetryLater(Exception):
    """The statement went back to the queue after a failure that passes: the task sends itself again."""

    def __init__(self, attempt: int) -> None:
        super().__init__(f"attempt {attempt} interrupted")
        self.attempt = attempt


# Failures that pass: the database connection lost or refused, the storage (a full or unmounted disk, a
# network file system) refusing a write.
TRANSIENT = (OperationalError, InterfaceError, OSError)
FAILED = "Preparing this statement failed. Please try again."
TOO_LONG = "Preparing this statement took too long. Please try again, or choose a shorter period."
MISMATCH = "This statement could not be prepared. Our team has been told."


def verify_url() -> str:
    return services.verify_url()


def _rupees(paise: int) -> str:
    """Paise as a plain number of rupees, "1234.50": what a spreadsheet reads as a number."""
    sign = "-" if paise < 0 else ""
    return f"{sign}{abs(paise) // 100}.{abs(paise) % 100:02d}"


def statement_reference(statement: Statement) -> str:
    """What a customer or a verifier quotes: "ST" and the statement's id in ten digits."""
    return f"ST{statement.pk:010d}"


def file_name(statement: Statement, extension: str) -> str:
    """The name a customer's download is saved as."""
    last4 = statement.account.number[-4:]
    return f"securebank-statement-{last4}-{statement.first_day}-to-{statement.last_day}.{extension}"


def _sha256(fp: IO[bytes]) -> str:
    fp.seek(0)
    digest = hashlib.sha256()
    while chunk := fp.read(1 << 20):
        digest.update(chunk)
    fp.seek(0)
    return digest.hexdigest()


def build(statement_id: int, *, retry: bool = False, deadline: float | None = None) -> bool:
    """Claim the statement and make its files; False if it was not queued (another task has it, or it is
    done), or if this attempt ended failed. With `retry` (the task has retries left), a failure that passes
    puts it back in the queue and raises RetryLater; without, it is failed. Past `deadline` (a
    time.monotonic() value) it stops, failed as too long. A ledger that does not add up, or any other error,
    fails it and is raised for the worker's log. An error of the claim itself (the database unreachable) is
    raised as it is: the statement is untouched, still queued."""
    attempt = services.claim(statement_id)
    if attempt is None:
        return False
    try:
        _build(statement_id, attempt, deadline)
    except Stopped:
        return False
    except Exception as error:
        try:
            with _soft_limit_held():
                outcome = _record_failure(statement_id, attempt, error, retry=retry, deadline=deadline)
        except SoftTimeLimitExceeded:  # held back while the failure was written, and written it is
            return False
        if outcome == "retry":
            raise RetryLater(attempt) from error
        if outcome == "raise":
            raise
        return False
    return True


def _record_failure(
    statement_id: int, attempt: int, error: Exception, *, retry: bool, deadline: float | None
) -> str:
    """Write what `error` means for the statement; "retry" (back in the queue), "raise" (a fault to log) or
    "done" (failed, and nothing more to say)."""
    if isinstance(error, LedgerMismatch):
        logger.error("statement %s does not add up to the ledger", statement_id, exc_info=error)
        services.fail(statement_id, attempt, MISMATCH)
        return "raise"
    if _timed_out(error, deadline):
        logger.warning("statement %s: attempt %s ran out of time", statement_id, attempt)
        _drop_connection()
        services.fail(statement_id, attempt, TOO_LONG)
        return "done"
    if not isinstance(error, TRANSIENT):
        logger.error("statement %s: attempt %s failed", statement_id, attempt, exc_info=error)
        services.fail(statement_id, attempt, FAILED)
        return "raise"
    logger.warning("statement %s: attempt %s interrupted", statement_id, attempt, exc_info=error)
    _drop_connection()
    if retry and services.retry_later(statement_id, attempt, services.INTERRUPTED_RETRYING):
        return "retry"
    services.fail(statement_id, attempt, services.INTERRUPTED)
    return "done"


@contextmanager
def _soft_limit_held() -> Iterator[None]:
    """Hold back the soft time limit (billiard's signal, in a prefork child) while a failure is written, so
    that it cannot strike half-way and leave the statement "running". If it came meanwhile, it is raised
    when the block ends."""
    if SIG_SOFT_TIMEOUT is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {SIG_SOFT_TIMEOUT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _out_of_time(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() >= deadline


def _timed_out(error: BaseException, deadline: float | None) -> bool:
    """The time limit, however it arrived: our own stop, the soft limit's exception as itself or inside
    another's chain, or any error once the deadline has passed (the soft limit follows it closely)."""
    seen: BaseException | None = error
    for _ in range(10):  # a chain can loop
        if seen is None:
            break
        if isinstance(seen, OutOfTime | SoftTimeLimitExceeded):
            return True
        seen = seen.__cause__ or seen.__context__
    return _out_of_time(deadline)


def _drop_connection(*, broken_only: bool = False) -> None:
    """After a database error, or a time limit that may have struck inside a query, the connection may be
    unusable or still busy: write the outcome on a new one (with `broken_only`, only if it is found
    unusable). Never inside a transaction (a test's own)."""
    if connection.in_atomic_block:
        return
    if broken_only:
        connection.close_if_unusable_or_obsolete()
    else:
        connection.close()


def _discard(statement_id: int, names: list[str]) -> None:
    """Delete the files an attempt saved, unless they are its statement's after all (a time limit that
    struck just after `finish` committed). If the database cannot say, they stay (an orphan file, never a
    statement without its file)."""
    if not names:
        return
    try:
        _drop_connection(broken_only=True)
        if Statement.objects.filter(pk=statement_id, pdf__in=names).exists():
            return
        storage = statements_storage()
        for name in names:
            storage.delete(name)
    except Exception:  # the original error is what the caller raises: this one is only logged
        logger.exception(
            "statement %s: files %s of an unfinished attempt left in storage", statement_id, names
        )


def _build(statement_id: int, attempt: int, deadline: float | None) -> None:
    statement = Statement.objects.select_related("account__owner").get(pk=statement_id)
    account = statement.account
    summary = selectors.summary(account, statement.first_day, statement.last_day)
    header = Header(
        bank_name=BANK_NAME,
        customer_name=account.owner.full_name if account.owner else "",
        account_name=account.name,
        masked_number=account.masked_number,
        ifsc=settings.BANK_IFSC,
        first_day=statement.first_day,
        last_day=statement.last_day,
        generated_at=statement.issued_at or timezone.now(),
        summary=summary,
        verify_url=verify_url(),
    )
    # The CSV's checksum is the one printed in the PDF: the opening and closing rows name the statement and
    # the account, so that no two statements have the same CSV (two dormant accounts' months otherwise would).
    ref, masked = statement_reference(statement), account.masked_number
    with tempfile.TemporaryFile() as pdf_file, tempfile.TemporaryFile() as csv_file:
        text = io.TextIOWrapper(csv_file, encoding="utf-8", newline="", write_through=True)
        writer = csv.writer(text)
        text.write(BOM)
        writer.writerow(CSV_HEADER)
        writer.writerow(
            (
                statement.first_day.isoformat(),
                ref,
                f"Opening balance of {masked}",
                "",
                "",
                "",
                _rupees(summary.opening),
            )
        )
        document = StatementPDF(pdf_file, header)
        balance, count = summary.opening, 0
        for row in selectors.rows(account, statement.first_day, statement.last_day):
            if row.balance != balance + row.amount:
                raise LedgerMismatch(f"{row.reference}: {balance} + {row.amount} != {row.balance}")
            balance, count = row.balance, count + 1
            writer.writerow(
                (
                    timezone.localtime(row.when).strftime("%Y-%m-%d %H:%M"),
                    row.reference,
                    neutralise(row.description),
                    neutralise(row.counterparty),
                    _rupees(-row.amount) if row.amount < 0 else "",
                    _rupees(row.amount) if row.amount > 0 else "",
                    _rupees(row.balance),
                )
            )
            document.add(row)
            if count % PROGRESS_EVERY == 0:
                if _out_of_time(deadline):
                    raise OutOfTime
                if not services.report_progress(statement_id, attempt, count * 100 // max(summary.count, 1)):
                    raise Stopped
        if balance != summary.closing or count != summary.count:
            raise LedgerMismatch(f"closing {balance} != {summary.closing} or rows {count} != {summary.count}")
        writer.writerow(
            (
                statement.last_day.isoformat(),
                ref,
                f"Closing balance of {masked}",
                "",
                "",
                "",
                _rupees(summary.closing),
            )
        )
        text.flush()
        text.detach()
        csv_sha256 = _sha256(csv_file)
        if _out_of_time(deadline):
            raise OutOfTime
        document.close(checksum=csv_sha256)
        pdf_sha256 = _sha256(pdf_file)
        storage = statements_storage()
        stem = f"{account.pk}/{statement.pk}-{attempt}"
        saved: list[str] = []
        try:
            saved.append(storage.save(f"{stem}.pdf", File(pdf_file)))
            saved.append(storage.save(f"{stem}.csv", File(csv_file)))
            done = services.finish(
                statement_id,
                attempt,
                pdf=saved[0],
                csv=saved[1],
                pdf_sha256=pdf_sha256,
                csv_sha256=csv_sha256,
                pdf_bytes=os.fstat(pdf_file.fileno()).st_size,
                csv_bytes=os.fstat(csv_file.fileno()).st_size,
                issued_at=header.generated_at,
                entry_count=summary.count,
                opening_paise=summary.opening,
                closing_paise=summary.closing,
                credits_paise=summary.credits,
                debits_paise=summary.debits,
                files_removed_at=None,
            )
        except Exception:
            _discard(statement_id, saved)
            raise
    if not done:  # the watchdog gave up on this run meanwhile: its files are nobody's
        _discard(statement_id, saved)
        raise Stopped
    try:
        services.notify_ready(statement)
    except Exception:  # the statement is ready and stays so; only its email is lost (and logged)
        logger.exception("statement %s is ready, but its email could not be queued", statement_id)
