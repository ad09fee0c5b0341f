"""An account's history as a file: the rows of `history_entries` (exactly the page's filter, in its order)
as CSV, streamed, or as an XLSX workbook.

Columns: the date and time in India, the reference a customer quotes (SB and ten digits), the description,
the counterparty, the category, the debit and the credit (sizes, one of them empty) and the balance after
the entry. Amounts are plain numbers with two decimals ("1234.50": no grouping, no ₹), so that a
spreadsheet reads them as numbers; the balance may be negative (an overdraft) and stays a number.

Text that a spreadsheet would run as a formula (it starts with =, +, -, @, a tab or a carriage return:
"CSV injection") is prefixed with a quote, in both formats; XLSX cells are written as strings, never as
formulas. A description is the customer's own text or a payer's, so this is not theoretical.

Memory stays flat however long the history: rows come from a PostgreSQL server-side cursor, `CHUNK` rows a
fetch, inside one transaction (a cursor in a transaction is read as it goes; outside one, Django declares it
WITH HOLD and PostgreSQL computes and stores the whole result before the first row). The CSV is written to
the client chunk by chunk; the XLSX workbook (XlsxWriter's `constant_memory`: a row at a time to a temporary
file) is built on disk and then sent. Where server-side cursors are switched off
(`DISABLE_SERVER_SIDE_CURSORS`, for a transaction-pooling PgBouncer), rows are read by keyset instead, one
query per `CHUNK` rows on the history index: `.iterator()` would fetch the whole result into memory.
"""

import csv
import datetime
import tempfile
from collections.abc import Iterator
from typing import IO
from zoneinfo import ZoneInfo

import xlsxwriter
from django.conf import settings
from django.db import connections, transaction
from django.db.models import Q, QuerySet

from accounts.models import Account
from transactions.categories import CATEGORIES
from transactions.models import Entry

CHUNK = 2000  # rows a fetch from the cursor, and rows a chunk of the CSV sent to the client
HEADER = (
    "Date (IST)",
    "Reference",
    "Description",
    "Counterparty",
    "Category",
    "Debit",
    "Credit",
    "Balance after",
)
# Excel's sheet holds 1,048,576 rows: the header and this many entries.
XLSX_MAX_ROWS = 1_048_576 - 1
TOO_MANY_ROWS = (
    "These entries are more than a spreadsheet holds (1,048,575 rows). Choose a shorter date range, or "
    "download them as CSV."
)
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Byte order mark: Excel opens a CSV without it in the machine's legacy code page (a "₹" or a name in
# Devanagari comes out as mojibake); with it, as UTF-8. Python (utf-8-sig), LibreOffice, Numbers and Google
# Sheets all read it as a BOM.
BOM = "\ufeff"

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FIELDS = ("created", "id", "transaction_id", "txn_description", "txn_counterparty", "txn_category")
_FIELDS += ("amount", "balance_after")


class TooManyRows(Exception):
    """The selection has more entries than a spreadsheet's sheet holds."""


def neutralise(text: str) -> str:
    """`text`, prefixed with a quote if a spreadsheet would take it for a formula."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def plain_amount(paise: int) -> str:
    """Paise as a plain number of rupees with two decimals: 123450 -> "1234.50", -5 -> "-0.05"."""
    rupees, rest = divmod(abs(paise), 100)
    return f"{'-' if paise < 0 else ''}{rupees}.{rest:02d}"


def filename(account: Account, day: datetime.date, extension: str) -> str:
    return f"securebank-{account.number[-4:]}-history-{day.isoformat()}.{extension}"


def _raw_rows(entries: QuerySet[Entry]) -> Iterator[tuple]:
    """(created, id, transaction id, description, counterparty, category slug, amount, balance after) of
    each entry in history order; the caller holds a transaction open while it reads (see the module)."""
    values = entries.values_list(*_FIELDS)
    if not connections[entries.db].settings_dict.get("DISABLE_SERVER_SIDE_CURSORS"):
        yield from values.iterator(chunk_size=CHUNK)
        return
    page = values
    while rows := list(page[:CHUNK]):
        yield from rows
        created, pk = rows[-1][0], rows[-1][1]
        page = values.filter(Q(created__lt=created) | Q(created=created, id__lt=pk))


def rows(entries: QuerySet[Entry]) -> Iterator[tuple]:
    """Each entry as the file's cells: (time in India without its zone, reference, description,
    counterparty, category, debit paise or None, credit paise or None, balance after in paise); text cells
    neutralised. Read it inside `transaction.atomic()`."""
    india = ZoneInfo(settings.TIME_ZONE)
    for created, _pk, txn, description, counterparty, category, amount, balance in _raw_rows(entries):
        yield (
            created.astimezone(india).replace(tzinfo=None),
            f"SB{txn:010d}",
            neutralise(description),
            neutralise(counterparty or ""),
            neutralise(CATEGORIES.get(category, category or "")),
            -amount if amount < 0 else None,
            amount if amount > 0 else None,
            balance,
        )


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_chunks(entries: QuerySet[Entry]) -> Iterator[str]:
    """The CSV text in chunks of `CHUNK` rows, the header first (after the BOM), for a
    StreamingHttpResponse. Reads the entries in a transaction of its own while it is consumed."""
    writerow = csv.writer(_Echo()).writerow
    yield BOM + writerow(HEADER)
    lines: list[str] = []
    with transaction.atomic(using=entries.db):
        for when, ref, description, counterparty, category, debit, credit, balance in rows(entries):
            lines.append(
                writerow(
                    (
                        when.isoformat(" ", "minutes"),
                        ref,
                        description,
                        counterparty,
                        category,
                        "" if debit is None else plain_amount(debit),
                        "" if credit is None else plain_amount(credit),
                        plain_amount(balance),
                    )
                )
            )
            if len(lines) >= CHUNK:
                yield "".join(lines)
                lines.clear()
    if lines:
        yield "".join(lines)


def xlsx_file(entries: QuerySet[Entry], *, max_rows: int | None = None) -> IO[bytes]:
    """The workbook in a temporary file (deleted when closed), positioned at its start: one sheet, the
    header, then each entry with its date as a date cell, amounts as numbers (format 0.00) and text as
    strings. Raises TooManyRows, before anything is sent, if there are more than `max_rows` entries
    (default `XLSX_MAX_ROWS`): never a sheet cut short."""
    out = tempfile.TemporaryFile()  # noqa: SIM115 - the response closes it
    try:
        _write_xlsx(out, entries, XLSX_MAX_ROWS if max_rows is None else max_rows)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out


def _write_xlsx(out: IO[bytes], entries: QuerySet[Entry], max_rows: int) -> None:
    options = {
        "constant_memory": True,
        # Text is text: never a formula, a number or a link, whatever it looks like.
        "strings_to_formulas": False,
        "strings_to_numbers": False,
        "strings_to_urls": False,
    }
    workbook = xlsxwriter.Workbook(out, options)
    try:
        sheet = workbook.add_worksheet("History")
        bold = workbook.add_format({"bold": True})
        when_format = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        money = workbook.add_format({"num_format": "0.00"})
        for column, width in enumerate((17, 14, 40, 28, 14, 13, 13, 15)):
            sheet.set_column(column, column, width)
        sheet.freeze_panes(1, 0)
        for column, title in enumerate(HEADER):
            sheet.write_string(0, column, title, bold)
        line = 0
        with transaction.atomic(using=entries.db):
            for when, ref, description, counterparty, category, debit, credit, balance in rows(entries):
                line += 1
                if line > max_rows:
                    raise TooManyRows
                sheet.write_datetime(line, 0, when, when_format)
                sheet.write_string(line, 1, ref)
                sheet.write_string(line, 2, description)
                sheet.write_string(line, 3, counterparty)
                sheet.write_string(line, 4, category)
                # Rupees as a spreadsheet number, a double, at the very end: written as "%.16G", a
                # double gives back the exact two decimals of any amount under 10^13 rupees.
                if debit is not None:
                    sheet.write_number(line, 5, debit / 100, money)
                if credit is not None:
                    sheet.write_number(line, 6, credit / 100, money)
                sheet.write_number(line, 7, balance / 100, money)
    finally:
        workbook.close()
