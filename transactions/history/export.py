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
Served by WSGI (gunicorn), as the portal is: Django under ASGI would gather a synchronous stream into a list.

The CSV's dates and amounts are written as text by the database (`IndiaMinute`, `PlainAmount`): reading
timestamps into Python and formatting them there was over half of an export's time. Measured
(bench/history_export.py, 2 shared cores): 1,000,000 rows in 13–19 s, RSS flat at about 90 MiB. XlsxWriter
is slower, about 6,000–8,000 rows a second (1,000,000 rows: 164 s, RSS flat), and sends nothing until the
workbook is complete.
"""

import csv
import datetime
import tempfile
from collections.abc import Iterator
from typing import IO, Any
from zoneinfo import ZoneInfo

import xlsxwriter
from django.conf import settings
from django.db import connections, transaction
from django.db.models import CharField, Func, QuerySet
from django.db.models.functions import Abs

from accounts.models import Account
from transactions.categories import CATEGORIES
from transactions.history.cursor import OLDER, Cursor
from transactions.history.selectors import keyset_after
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
# A workbook is built whole before its first byte is sent (a zip): 1,000,000 rows took 164 s here, holding a
# worker and outliving a proxy's read timeout; 100,000 take about 16 s. More than that is refused before
# anything is built (a count bounded at the cap, not over the history); the CSV streams any length.
XLSX_MAX_ROWS = 100_000
TOO_MANY_ROWS = (
    "These entries are more than a spreadsheet download holds (100,000 rows). Choose a shorter date range, "
    "or download them as CSV."
)
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Byte order mark: Excel opens a CSV without it in the machine's legacy code page (a "₹" or a name in
# Devanagari comes out as mojibake); with it, as UTF-8. Python (utf-8-sig), LibreOffice, Numbers and Google
# Sheets all read it as a BOM.
BOM = "\ufeff"

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class TooManyRows(Exception):
    """The selection has more entries than a spreadsheet's sheet holds."""


def neutralise(text: str) -> str:
    """`text`, prefixed with a quote if a spreadsheet would take it for a formula."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def filename(account: Account, day: datetime.date, extension: str) -> str:
    return f"securebank-{account.number[-4:]}-history-{day.isoformat()}.{extension}"


def _each(entries: QuerySet[Entry], fields: tuple[str, ...]) -> Iterator[tuple]:
    """`fields` of each entry in history order, from a server-side cursor, or by keyset where those are off;
    the caller holds a transaction open while it reads (see the module)."""
    if not connections[entries.db].settings_dict.get("DISABLE_SERVER_SIDE_CURSORS"):
        yield from entries.values_list(*fields).iterator(chunk_size=CHUNK)
        return
    values = entries.values_list("created", "id", *fields)
    page = values
    while rows := list(page[:CHUNK]):
        for row in rows:
            yield row[2:]
        created, pk = rows[-1][0], rows[-1][1]
        # The history pages' own keyset condition: `created <= x` bounds the index scan (an OR alone made
        # PostgreSQL walk every row already exported, chunk after chunk).
        page = values.filter(keyset_after(Cursor(created=created, id=pk, direction=OLDER)))


def rows(entries: QuerySet[Entry]) -> Iterator[tuple]:
    """Each entry as the file's cells: (time in India without its zone, reference, description,
    counterparty, category, debit paise or None, credit paise or None, balance after in paise); text cells
    neutralised. Read it inside `transaction.atomic()`."""
    india = ZoneInfo(settings.TIME_ZONE)
    fields = ("created", "transaction_id", "txn_description", "txn_counterparty", "txn_category", "amount")
    for created, txn, description, counterparty, category, amount, balance in _each(
        entries, (*fields, "balance_after")
    ):
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


class IndiaMinute(Func):
    """A time as text to the minute in India (the portal's zone), "2026-03-31 18:05", made by the database:
    reading a timestamp into Python, converting and formatting it was half of a CSV export's time."""

    output_field = CharField()

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:  # PostgreSQL
        sql, params = compiler.compile(self.source_expressions[0])
        return f"to_char(timezone(%s, {sql}), 'YYYY-MM-DD HH24:MI')", [settings.TIME_ZONE, *params]

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:
        sql, params = compiler.compile(self.source_expressions[0])
        offset = ZoneInfo(settings.TIME_ZONE).utcoffset(datetime.datetime.now(datetime.UTC))
        minutes = int(offset.total_seconds() // 60) if offset else 0
        return f"strftime('%%Y-%%m-%%d %%H:%%M', {sql}, '{minutes:+d} minutes')", params


class PlainAmount(Func):
    """Paise as text of rupees with two decimals, 123450 -> "1234.50", -5 -> "-0.05" (no grouping, no ₹),
    made by the database from the integer: exact, no float."""

    output_field = CharField()

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:  # PostgreSQL
        sql, params = compiler.compile(self.source_expressions[0])
        return f"(({sql})::numeric / 100)::numeric(20, 2)::text", params

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:
        sql, params = compiler.compile(self.source_expressions[0])
        sign = f"CASE WHEN ({sql}) < 0 THEN '-' ELSE '' END"
        return f"printf('%%s%%d.%%02d', {sign}, abs({sql}) / 100, abs({sql}) %% 100)", params * 3


class _Echo:
    def write(self, value: str) -> str:
        return value


def _bound_idle(alias: str) -> None:
    """A download that the client stops reading holds its transaction open, idle, and a worker: PostgreSQL
    ends the session after `HISTORY_EXPORT_IDLE_TIMEOUT` idle (the file is then cut short, never wrong)."""
    if connections[alias].vendor == "postgresql":
        with connections[alias].cursor() as cursor:
            cursor.execute(
                "SELECT set_config('idle_in_transaction_session_timeout', %s, true)",
                [f"{settings.HISTORY_EXPORT_IDLE_TIMEOUT}s"],
            )


def csv_chunks(entries: QuerySet[Entry]) -> Iterator[str]:
    """The CSV text in chunks of `CHUNK` rows, the header first (after the BOM), for a
    StreamingHttpResponse. Reads the entries in a transaction of its own while it is consumed. The database
    writes the dates and amounts as text; Python neutralises the text and writes the lines."""
    writerow = csv.writer(_Echo()).writerow
    yield BOM + writerow(HEADER)
    entries = entries.annotate(
        export_when=IndiaMinute("created"),
        export_size=PlainAmount(Abs("amount")),
        export_balance=PlainAmount("balance_after"),
    )
    fields = ("export_when", "transaction_id", "txn_description", "txn_counterparty", "txn_category")
    fields += ("amount", "export_size", "export_balance")
    lines: list[str] = []
    with transaction.atomic(using=entries.db):
        _bound_idle(entries.db)
        for when, txn, description, counterparty, category, amount, size, balance in _each(entries, fields):
            lines.append(
                writerow(
                    (
                        when,
                        f"SB{txn:010d}",
                        neutralise(description),
                        neutralise(counterparty or ""),
                        neutralise(CATEGORIES.get(category, category or "")),
                        size if amount < 0 else "",
                        size if amount > 0 else "",
                        balance,
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
    cap = XLSX_MAX_ROWS if max_rows is None else max_rows
    if entries.order_by()[: cap + 1].count() > cap:  # reads at most cap + 1 rows of the index
        raise TooManyRows
    out = tempfile.TemporaryFile()  # noqa: SIM115 - the response closes it
    try:
        _write_xlsx(out, entries, cap)
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
