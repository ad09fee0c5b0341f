"""Render one statement: its rows streamed once from the ledger into a CSV and a PDF at the same time, both
written to temporary files, checked against the ledger, then saved to the `statements` storage with their
SHA-256, and the row marked ready.

The figures are the ledger's: the opening balance is the `balance_after` of the last entry before the
period, the closing one that of its last entry (selectors.summary, one query), and every row's balance must
follow from the one before it by its amount. A break anywhere (which the ledger's own rules forbid) fails
the statement rather than publish figures that do not add up.

The PDF's footer prints the SHA-256 of the CSV (the statement's data, known once every row is written); a
file cannot contain its own checksum, so the PDF's own is stored beside it and /statements/verify/ accepts
either file or either checksum."""

import csv
import hashlib
import io
import logging
import tempfile
from typing import IO

from django.conf import settings
from django.core.files import File
from django.urls import reverse
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


def verify_url() -> str:
    return (settings.SITE_URL or "https://securebank.example") + reverse("statement_verify")


def _rupees(paise: int) -> str:
    """Paise as a plain number of rupees, "1234.50": what a spreadsheet reads as a number."""
    sign = "-" if paise < 0 else ""
    return f"{sign}{abs(paise) // 100}.{abs(paise) % 100:02d}"


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


def build(statement_id: int) -> bool:
    """Claim the statement and make its files; False if it was not queued (another task has it, or it is
    done). Any error marks it failed (retryable) and is raised again for the task's retry policy."""
    attempt = services.claim(statement_id)
    if attempt is None:
        return False
    try:
        _build(statement_id, attempt)
    except Stopped:
        return False
    except LedgerMismatch:
        logger.exception("statement %s does not add up to the ledger", statement_id)
        services.fail(statement_id, attempt, "This statement could not be prepared. Our team has been told.")
        raise
    except Exception:
        services.fail(statement_id, attempt, "Preparing this statement failed. Please try again.")
        raise
    return True


def _build(statement_id: int, attempt: int) -> None:
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
        generated_at=timezone.now(),
        summary=summary,
        verify_url=verify_url(),
    )
    with tempfile.TemporaryFile() as pdf_file, tempfile.TemporaryFile() as csv_file:
        text = io.TextIOWrapper(csv_file, encoding="utf-8", newline="", write_through=True)
        writer = csv.writer(text)
        text.write(BOM)
        writer.writerow(CSV_HEADER)
        writer.writerow(
            (statement.first_day.isoformat(), "", "Opening balance", "", "", "", _rupees(summary.opening))
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
            if count % PROGRESS_EVERY == 0 and not services.report_progress(
                statement_id, attempt, count * 100 // max(summary.count, 1)
            ):
                raise Stopped
        if balance != summary.closing or count != summary.count:
            raise LedgerMismatch(f"closing {balance} != {summary.closing} or rows {count} != {summary.count}")
        writer.writerow(
            (statement.last_day.isoformat(), "", "Closing balance", "", "", "", _rupees(summary.closing))
        )
        text.flush()
        text.detach()
        csv_sha256 = _sha256(csv_file)
        document.close(checksum=csv_sha256)
        pdf_sha256 = _sha256(pdf_file)
        storage = statements_storage()
        stem = f"{account.pk}/{statement.pk}-{attempt}"
        pdf_name = storage.save(f"{stem}.pdf", File(pdf_file))
        csv_name = storage.save(f"{stem}.csv", File(csv_file))
    done = services.finish(
        statement_id,
        attempt,
        pdf=pdf_name,
        csv=csv_name,
        pdf_sha256=pdf_sha256,
        csv_sha256=csv_sha256,
        entry_count=summary.count,
        opening_paise=summary.opening,
        closing_paise=summary.closing,
        credits_paise=summary.credits,
        debits_paise=summary.debits,
        files_removed_at=None,
    )
    if not done:  # the watchdog gave up on this run meanwhile: its files are nobody's
        storage.delete(pdf_name)
        storage.delete(csv_name)
        raise Stopped
