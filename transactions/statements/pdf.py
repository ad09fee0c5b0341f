"""Statement and receipt PDFs (ReportLab). FIRST CUT: plain Helvetica, no Devanagari, no wrapping; the
interface (`Header`, `StatementPDF.add`, `StatementPDF.close`) is what transactions/statements/generate.py
uses and stays."""

import datetime
from dataclasses import dataclass
from typing import BinaryIO
from zoneinfo import ZoneInfo

from django.conf import settings
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from portal.money import format_paise
from transactions.statements.selectors import Row, Summary


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


class StatementPDF:
    """Push-style: `add` each row in order, then `close(checksum)` (the checksum printed in every page's
    footer, known only once every row is written)."""

    def __init__(self, out: BinaryIO, header: Header) -> None:
        self.header = header
        self.canvas = Canvas(out, pagesize=A4, invariant=1)
        self.y = 0.0
        self.page = 0
        self._new_page()

    def _new_page(self) -> None:
        if self.page:
            self.canvas.showPage()
        self.page += 1
        h = self.header
        self.canvas.setFont("Helvetica-Bold", 12)
        self.canvas.drawString(15 * mm, 280 * mm, f"{h.bank_name} account statement")
        self.canvas.setFont("Helvetica", 9)
        self.canvas.drawString(
            15 * mm, 274 * mm, f"{h.customer_name} {h.account_name} {h.masked_number} IFSC {h.ifsc}"
        )
        self.canvas.drawString(15 * mm, 269 * mm, f"Period {h.first_day} to {h.last_day}")
        if self.page == 1:
            self.canvas.drawString(15 * mm, 263 * mm, f"Opening balance {format_paise(h.summary.opening)}")
            self.y = 255 * mm
        else:
            self.y = 262 * mm

    def add(self, row: Row) -> None:
        if self.y < 20 * mm:
            self._new_page()
        india = ZoneInfo(settings.TIME_ZONE)
        when = row.when.astimezone(india).strftime("%d-%m-%Y %H:%M")
        amount, balance = format_paise(row.amount), format_paise(row.balance)
        text = f"{when}  {row.reference}  {row.description[:40]}  {amount}  {balance}"
        self.canvas.drawString(15 * mm, self.y, text)
        self.y -= 5 * mm

    def close(self, checksum: str) -> None:
        if self.y < 30 * mm:
            self._new_page()
        s = self.header.summary
        self.canvas.drawString(15 * mm, self.y, f"Closing balance {format_paise(s.closing)}")
        self.canvas.drawString(15 * mm, 10 * mm, f"SHA-256 {checksum}  {self.header.verify_url}")
        self.canvas.showPage()
        self.canvas.save()
