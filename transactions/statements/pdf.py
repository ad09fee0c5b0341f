"""Statement and receipt PDFs, drawn with ReportLab's canvas (A4 portrait).

Why ReportLab: a statement may have a hundred thousand rows, written by a Celery task in little memory.
ReportLab's canvas is push-style (a row is drawn when it arrives; nothing is laid out twice) and its C
accelerator (rl_accel) measures text quickly; an HTML renderer (WeasyPrint) builds the layout of the whole
document in memory before it writes a byte. Fidelity comes from typesetting.py: one embedded font with
Latin, ₹ and Devanagari, Devanagari shaped by HarfBuzz, text that copies and extracts as written.

A statement (`StatementPDF`): a header on the first page (bank, customer, account, IFSC, period, when it
was made) and a summary box (opening and closing balances, total credits and debits, entries); a table of
the entries with the running balance, its header repeated on every page, rows as tall as their wrapped
description and counterparty, page breaks between rows; after the last row the totals and the closing
balance again. Every page's footer reads "Page X of Y", the statement's checksum and where to verify it.
Y and the checksum are known only once every row is drawn: the footer is two form XObjects ("of Y"; the
checksum and the address) that every page references and that are defined after the last page (a PDF
resolves references at the end; ReportLab writes the form's object once, whatever page refers to it).

Memory: ReportLab keeps every page until `save` (its content stream as text, some 14 KB for a full page of
rows, and a dozen small objects), then builds the whole file in memory once. A statement is drawn on a
`spooling.SpooledCanvas` instead: each page is compressed and moved to a temporary file as it closes, and
`save` writes the file object by object, so memory stays flat however many rows (spooling.py says how, and
what it reaches into; bench/statements.py measures it: README). `_Document.canvas_class` is that canvas;
tests/statements/test_spooling.py compares its file with ReportLab's own `Canvas`'s, byte for byte.

`Canvas(invariant=1)`: no creation time or random file identifier in the file, so the same data gives the
same bytes (a receipt downloaded twice has one checksum)."""

import datetime
from dataclasses import dataclass
from typing import BinaryIO
from zoneinfo import ZoneInfo

from django.conf import settings
from reportlab.lib.colors import Color, HexColor
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from portal.money import format_paise, group_indian
from transactions.statements import typesetting as ts
from transactions.statements.selectors import Row, Summary
from transactions.statements.spooling import SpooledCanvas
from transactions.statements.typesetting import BOLD, REGULAR, Line

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 15 * mm
LEFT, RIGHT, TOP = MARGIN, PAGE_WIDTH - MARGIN, PAGE_HEIGHT - MARGIN
CONTENT = RIGHT - LEFT

INK = HexColor("#17202e")
MUTED = HexColor("#4f5b6b")
RULE = HexColor("#d5dbe3")
BRAND = HexColor("#0b4a6f")
TINT = HexColor("#e6f0f6")
CREDIT = HexColor("#0b6b3a")

SIZE = 8.0  # the table's text
LEADING = 10.5  # Devanagari's vowel signs reach above and below Latin's ascenders and descenders
PAD = 3.5  # a cell's padding, above, below and at each side
FOOTER_RULE = MARGIN + 22
BODY_BOTTOM = FOOTER_RULE + 6  # the lowest a row may reach
PAGE_NUMBER_X = RIGHT - 62  # "Page X" starts here; the form "of Y" follows it
_MONTHS = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def long_date(day: datetime.date) -> str:
    """1 October 2026."""
    return f"{day.day} {day:%B} {day.year}"


def short_date(day: datetime.date) -> str:
    """1 Oct 2026 (English month names whatever the locale: the PDF is in English)."""
    return f"{day.day} {_MONTHS[day.month]} {day.year}"


def clock(moment: datetime.datetime) -> str:
    """8:53 PM (the portal's way: portal/local_time.py)."""
    hour = moment.hour % 12 or 12
    return f"{hour}:{moment.minute:02d} {'AM' if moment.hour < 12 else 'PM'}"


def india() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


@dataclass(frozen=True)
class Header:
    bank_name: str
    customer_name: str
    account_name: str
    masked_number: str
    ifsc: str
    first_day: datetime.date
    last_day: datetime.date
    generated_at: datetime.datetime
    summary: Summary
    verify_url: str

    @property
    def period(self) -> str:
        return f"{long_date(self.first_day)} to {long_date(self.last_day)}"


@dataclass(frozen=True)
class Column:
    title: str
    x: float
    width: float
    right: bool = False  # amounts: right-aligned

    @property
    def inner(self) -> float:
        return self.width - 2 * PAD


def _columns() -> tuple[Column, ...]:
    widths = {"date": 58.0, "reference": 66.0, "debit": 70.0, "credit": 70.0, "balance": 76.0}
    description = CONTENT - sum(widths.values())
    spec = (
        ("Date (IST)", widths["date"], False),
        ("Reference", widths["reference"], False),
        ("Description", description, False),
        ("Debit", widths["debit"], True),
        ("Credit", widths["credit"], True),
        ("Balance", widths["balance"], True),
    )
    columns, x = [], LEFT
    for title, width, right in spec:
        columns.append(Column(title, x, width, right))
        x += width
    return tuple(columns)


COLUMNS = _columns()
DATE, REFERENCE, DESCRIPTION, DEBIT, CREDIT_COLUMN, BALANCE = range(6)


@dataclass(frozen=True)
class Cell:
    """What one column of a row shows: lines of text in one font, colour and size each."""

    lines: tuple[tuple[Line, str, Color, float], ...]


def _cell(*parts: tuple[list[Line], str, Color]) -> Cell:
    return Cell(tuple((line, name, colour, SIZE) for lines, name, colour in parts for line in lines))


def _one(text: str, name: str = REGULAR, colour: Color = INK) -> Cell:
    return _cell(([ts.line(text, name, SIZE)], name, colour)) if text else Cell(())


def fitted(text: str, name: str, size: float, width: float) -> tuple[Line, float]:
    """`text` on one line at `size`, or smaller (down to 5 pt) if it would be wider than `width`: an amount
    of crores still fits its column rather than run into the next one."""
    line = ts.line(text, name, size)
    while line.width > width and size > 5:
        size -= 0.5
        line = ts.line(text, name, size)
    return line, size


def _amount(paise: int, column: int, name: str = REGULAR, colour: Color = INK) -> Cell:
    line, size = fitted(format_paise(paise), name, SIZE, COLUMNS[column].inner)
    return Cell(((line, name, colour, size),))


class _Document:
    """What statements and receipts share: the canvas, text drawing, the footer."""

    kind = "Document"
    # Pages out of memory as they close (spooling.py). ReportLab's own `Canvas` writes the same bytes,
    # keeping every page until the end: tests/statements/test_spooling.py compares the two.
    canvas_class: type[Canvas] = SpooledCanvas

    def __init__(self, out: BinaryIO, title: str, subject: str, bank_name: str) -> None:
        ts.register()
        # The initial font ours: else every page names Helvetica (not embedded) as its starting font.
        self.canvas = self.canvas_class(
            out, pagesize=A4, invariant=1, pageCompression=1, initialFontName=REGULAR, initialFontSize=SIZE
        )
        self.canvas.setTitle(title)
        self.canvas.setAuthor(bank_name)
        self.canvas.setSubject(subject)
        self.canvas.setCreator(f"{bank_name} portal")
        self.page = 0

    def text(
        self, x: float, y: float, text: str, name: str = REGULAR, size: float = SIZE, colour: Color = INK
    ) -> float:
        """`text` on one line at (x, y); returns its width."""
        line = ts.line(text, name, size)
        self.lines(x, y, [line], name, size, colour)
        return line.width

    def lines(
        self,
        x: float,
        y: float,
        lines: list[Line],
        name: str = REGULAR,
        size: float = SIZE,
        colour: Color = INK,
        leading: float = LEADING,
        right: bool = False,
    ) -> None:
        """Lines from baseline `y` down, left-aligned at x (or right-aligned at x)."""
        if not lines:
            return
        t = self.canvas.beginText()
        t.setFont(name, size)
        t.setFillColor(colour)
        for i, line in enumerate(lines):
            t.setTextOrigin(x - line.width if right else x, y - i * leading)
            t.textLine(line.text)
        self.canvas.drawText(t)

    def footer_rule(self) -> None:
        c = self.canvas
        c.setStrokeColor(RULE)
        c.setLineWidth(0.6)
        c.line(LEFT, FOOTER_RULE, RIGHT, FOOTER_RULE)

    def checksum_lines(self, label: str, checksum: str, verify_url: str) -> None:
        """The footer's two lines: the checksum and where to verify it."""
        x = LEFT + self.text(LEFT, MARGIN + 11, f"{label}:", REGULAR, 7, MUTED) + ts.width(" ", REGULAR, 7)
        self.text(x, MARGIN + 11, checksum, BOLD, 7, INK)
        self.text(LEFT, MARGIN + 1, f"Verify at {verify_url}", REGULAR, 7, MUTED)


class StatementPDF(_Document):
    """Push-style: `add` each row in order, then `close(checksum)` (the checksum printed in every page's
    footer, known only once every row is written)."""

    def __init__(self, out: BinaryIO, header: Header) -> None:
        super().__init__(
            out,
            title=f"{header.bank_name} statement {header.masked_number}, {header.period}",
            subject=f"Account statement, {header.period}",
            bank_name=header.bank_name,
        )
        self.header = header
        self.y = 0.0
        self._new_page()
        self._place(
            [
                _one(short_date(header.first_day)),
                Cell(()),
                _one("Opening balance", BOLD),
                Cell(()),
                Cell(()),
                _amount(header.summary.opening, BALANCE, BOLD),
            ]
        )
        self.entries = 0

    # --- pages ---------------------------------------------------------------------------------------

    def _new_page(self) -> None:
        if self.page:
            self._finish_page()
        self.page += 1
        self.rows_on_page = 0
        self.y = self._first_page_header() if self.page == 1 else self._running_header()
        self._table_header()

    def _finish_page(self) -> None:
        """The footer ("Page X" here, "of Y" and the checksum in the forms defined at `close`), then
        the page closed (and, on a SpooledCanvas, out of memory)."""
        c = self.canvas
        self.footer_rule()
        label = f"Page {self.page}"
        width = self.text(PAGE_NUMBER_X, MARGIN + 11, label, REGULAR, 7, MUTED)
        c.saveState()
        c.translate(PAGE_NUMBER_X + width + ts.width(" ", REGULAR, 7), MARGIN + 11)
        c.doForm("page_count")
        c.restoreState()
        c.doForm("statement_footer")
        c.showPage()

    def _first_page_header(self) -> float:
        h, c = self.header, self.canvas
        self.text(LEFT, TOP - 16, h.bank_name, BOLD, 18, BRAND)
        title = ts.line("Account statement", BOLD, 12)
        self.lines(RIGHT, TOP - 14, [title], BOLD, 12, INK, right=True)
        c.setStrokeColor(BRAND)
        c.setLineWidth(1.2)
        c.line(LEFT, TOP - 24, RIGHT, TOP - 24)
        # Who and what: two columns of label and value.
        half = CONTENT / 2
        left = [
            ("Customer", h.customer_name),
            ("Account", h.account_name),
            ("Account number", h.masked_number),
        ]
        right = [("Period", h.period), ("IFSC", h.ifsc), ("Generated", _generated(h.generated_at))]
        y_left = self._details(LEFT, half - 12, left, TOP - 40)
        y_right = self._details(LEFT + half, half, right, TOP - 40)
        y = min(y_left, y_right) - 6
        return self._summary_box(y)

    def _details(self, x: float, width: float, pairs: list[tuple[str, str]], y: float) -> float:
        label_width = 70.0
        for label, value in pairs:
            self.text(x, y, label, REGULAR, 8, MUTED)
            lines = ts.wrap(value or "—", BOLD if label == "Customer" else REGULAR, 9, width - label_width)
            self.lines(x + label_width, y, lines, BOLD if label == "Customer" else REGULAR, 9, INK, 11.5)
            y -= 11.5 * max(len(lines), 1) + 2
        return y

    def _summary_box(self, top: float) -> float:
        s, c = self.header.summary, self.canvas
        height = 38.0
        c.setFillColor(TINT)
        c.setStrokeColor(RULE)
        c.setLineWidth(0.6)
        c.roundRect(LEFT, top - height, CONTENT, height, 4, stroke=1, fill=1)
        figures = (
            ("Opening balance", format_paise(s.opening)),
            ("Total credits", format_paise(s.credits)),
            ("Total debits", format_paise(s.debits)),
            ("Closing balance", format_paise(s.closing)),
            ("Entries", group_indian(str(s.count))),
        )
        width = CONTENT / len(figures)
        for i, (label, value) in enumerate(figures):
            x = LEFT + 10 + i * width
            self.text(x, top - 14, label, REGULAR, 7.5, MUTED)
            line, size = fitted(value, BOLD, 10.5, width - 12)
            self.lines(x, top - 29, [line], BOLD, size, INK)
        return top - height - 14

    def _running_header(self) -> float:
        h = self.header
        text = f"{h.bank_name} · Account statement · {h.masked_number} · {h.period}"
        self.text(LEFT, TOP - 8, text, REGULAR, 7.5, MUTED)
        return TOP - 16

    def _table_header(self) -> None:
        c = self.canvas
        height = SIZE + 2 * PAD + 2
        c.setFillColor(TINT)
        c.rect(LEFT, self.y - height, CONTENT, height, stroke=0, fill=1)
        baseline = self.y - PAD - SIZE + 1
        for column in COLUMNS:
            x = column.x + column.width - PAD if column.right else column.x + PAD
            line = ts.line(column.title, BOLD, 7.5)
            self.lines(x, baseline, [line], BOLD, 7.5, INK, right=column.right)
        self.y -= height
        c.setStrokeColor(RULE)
        c.setLineWidth(0.6)

    # --- rows ----------------------------------------------------------------------------------------

    def _place(self, cells: list[Cell]) -> None:
        """One row at the current position: on a new page if it does not fit on this one; across pages,
        line by line, if it does not fit on an empty page either (a cell of hundreds of characters)."""
        start = 0
        count = max((len(cell.lines) for cell in cells), default=0) or 1
        while start < count:
            room = int((self.y - BODY_BOTTOM - 2 * PAD) // LEADING)
            if room < count - start and self.rows_on_page:
                self._new_page()
                continue
            end = min(count, start + max(room, 1))
            self._draw_row(cells, start, end)
            start = end
            if start < count:
                self._new_page()

    def _draw_row(self, cells: list[Cell], start: int, end: int) -> None:
        """Lines start..end of the row's cells, then the rule under it. One text object, the lines grouped
        by font and colour (each change of colour is an operator, and ReportLab's costs some 10 µs)."""
        c = self.canvas
        top = self.y - PAD - SIZE + 0.5
        groups: dict[tuple[str, Color, float], list[tuple[float, float, Line]]] = {}
        for column, cell in zip(COLUMNS, cells, strict=True):
            for i, (line, name, colour, size) in enumerate(cell.lines[start:end]):
                x = column.x + column.width - PAD - line.width if column.right else column.x + PAD
                groups.setdefault((name, colour, size), []).append((x, top - i * LEADING, line))
        t = c.beginText()
        for (name, colour, size), placed in groups.items():
            t.setFont(name, size)
            t.setFillColor(colour)
            for x, y, line in placed:
                t.setTextOrigin(x, y)
                t.textLine(line.text)  # textLine, not textOut: no width to measure again
        c.drawText(t)
        self.y -= (end - start) * LEADING + 2 * PAD
        c.line(LEFT, self.y, RIGHT, self.y)
        self.rows_on_page += 1

    def add(self, row: Row) -> None:
        when = row.when.astimezone(india())
        description = ts.wrap(row.description, REGULAR, SIZE, COLUMNS[DESCRIPTION].inner)
        counterparty = ts.wrap(row.counterparty, REGULAR, SIZE, COLUMNS[DESCRIPTION].inner)
        self._place(
            [
                _cell(
                    ([ts.line(short_date(when), REGULAR, SIZE)], REGULAR, INK),
                    ([_clock(when)], REGULAR, MUTED),
                ),
                _one(row.reference),
                _cell((description, REGULAR, INK), (counterparty, REGULAR, MUTED)),
                _amount(-row.amount, DEBIT) if row.amount < 0 else Cell(()),
                _amount(row.amount, CREDIT_COLUMN, REGULAR, CREDIT) if row.amount > 0 else Cell(()),
                _amount(row.balance, BALANCE),
            ]
        )
        self.entries += 1

    def close(self, checksum: str) -> None:
        """The totals and the closing balance after the last row, the footer's forms, the file written."""
        h, s = self.header, self.header.summary
        if not self.entries:
            self._place(
                [Cell(()), Cell(()), _one("No transactions in this period.", REGULAR, MUTED)] + [Cell(())] * 3
            )
        entries = f"{group_indian(str(self.entries))} {'entry' if self.entries == 1 else 'entries'}"
        if self.y - 2 * (LEADING + 2 * PAD) - 14 < BODY_BOTTOM:  # the totals, the closing balance and the
            self._new_page()  # note stay together
        self._place(
            [
                Cell(()),
                Cell(()),
                _one(f"Totals ({entries})", BOLD),
                _amount(s.debits, DEBIT, BOLD),
                _amount(s.credits, CREDIT_COLUMN, BOLD, CREDIT),
                Cell(()),
            ]
        )
        self._place(
            [
                _one(short_date(h.last_day)),
                Cell(()),
                _one("Closing balance", BOLD),
                Cell(()),
                Cell(()),
                _amount(s.closing, BALANCE, BOLD),
            ]
        )
        note = "End of statement. Amounts in Indian rupees; dates and times in India Standard Time (IST)."
        if self.y - 14 < BODY_BOTTOM:
            self._new_page()
        self.text(LEFT, self.y - 12, note, REGULAR, 7, MUTED)
        self._finish_page()
        pages = self.page
        c = self.canvas
        c.beginForm("page_count", lowery=-5, upperx=80, uppery=20)  # around "of Y" at its origin
        self.text(0, 0, f"of {pages}", REGULAR, 7, MUTED)
        c.endForm()
        c.beginForm("statement_footer")
        self.checksum_lines("Statement checksum (SHA-256 of its CSV)", checksum, h.verify_url)
        c.endForm()
        c.save()


def _clock(when: datetime.datetime) -> Line:
    return ts.line(clock(when), REGULAR, SIZE)


def _generated(moment: datetime.datetime) -> str:
    local = moment.astimezone(india())
    return f"{long_date(local.date())}, {clock(local)} IST"


# --- receipts ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceiptContent:
    """What a receipt prints, in order: the reference and the amount set large, then the details as label
    and value. `fields` is everything printed, and what the receipt's checksum is made of
    (transactions/statements/receipts.py)."""

    bank_name: str
    reference: str
    amount: str
    amount_words: str
    direction: str  # "Debited from your account" / "Credited to your account"
    details: tuple[tuple[str, str], ...]
    verify_url: str

    @property
    def fields(self) -> tuple[tuple[str, str], ...]:
        return (
            ("Reference", self.reference),
            ("Amount", self.amount),
            ("Amount in words", self.amount_words),
            ("Debit or credit", self.direction),
            *self.details,
        )


class ReceiptPDF(_Document):
    """One page: the receipt of one transaction for one of the customer's accounts, its checksum in the
    footer (known before drawing: it is the checksum of the receipt's data, not of the file)."""

    def __init__(self, out: BinaryIO, content: ReceiptContent) -> None:
        super().__init__(
            out,
            title=f"{content.bank_name} receipt {content.reference}",
            subject=f"Transaction receipt {content.reference}",
            bank_name=content.bank_name,
        )
        self.content = content

    def render(self, checksum: str) -> None:
        content, c = self.content, self.canvas
        self.text(LEFT, TOP - 16, content.bank_name, BOLD, 18, BRAND)
        self.lines(RIGHT, TOP - 14, [ts.line("Transaction receipt", BOLD, 12)], BOLD, 12, INK, right=True)
        c.setStrokeColor(BRAND)
        c.setLineWidth(1.2)
        c.line(LEFT, TOP - 24, RIGHT, TOP - 24)
        y = TOP - 46
        self.text(LEFT, y, "Reference (quote it if you contact us about this transaction)", REGULAR, 8, MUTED)
        self.text(LEFT, y - 20, content.reference, BOLD, 16, INK)
        # The amount, in figures and in words, in a tinted box.
        words = ts.wrap(content.amount_words, REGULAR, 9.5, CONTENT - 24)
        height = 56 + 12 * len(words)
        top = y - 36
        c.setFillColor(TINT)
        c.setStrokeColor(RULE)
        c.setLineWidth(0.6)
        c.roundRect(LEFT, top - height, CONTENT, height, 4, stroke=1, fill=1)
        self.text(LEFT + 12, top - 16, content.direction, REGULAR, 8, MUTED)
        self.text(LEFT + 12, top - 38, content.amount, BOLD, 20, INK)
        self.lines(LEFT + 12, top - 54, words, REGULAR, 9.5, INK, 12)
        # The details: label on the left, value (wrapped) on the right, a rule under each.
        y = top - height - 22
        label_width = 120.0
        for label, value in content.details:
            lines = ts.wrap(value or "—", REGULAR, 9.5, CONTENT - label_width)
            self.text(LEFT, y, label, REGULAR, 8.5, MUTED)
            self.lines(LEFT + label_width, y, lines, REGULAR, 9.5, INK, 12.5)
            y -= 12.5 * max(len(lines), 1) + 4
            c.setStrokeColor(RULE)
            c.setLineWidth(0.6)
            c.line(LEFT, y + 8, RIGHT, y + 8)
            y -= 6
        note = (
            "This receipt records a movement of money in the SecureBank ledger. Times are India Standard"
            " Time (IST). Anyone can check that a receipt is genuine with the checksum below."
        )
        self.lines(LEFT, y - 8, ts.wrap(note, REGULAR, 7.5, CONTENT), REGULAR, 7.5, MUTED, 10)
        self.footer_rule()
        self.checksum_lines("Receipt checksum (SHA-256 of its data)", checksum, content.verify_url)
        c.showPage()
        c.save()
