"""The spooled canvas (transactions/statements/spooling.py): a statement's pages leave memory as they close
and the file is written object by object, yet the file is byte for byte the one ReportLab's own canvas
writes; memory held per page stays small (measured with tracemalloc, not timed); the ReportLab 5.1.0
internals it relies on are still there."""

import gc
import hashlib
import io
import subprocess
import tempfile
import tracemalloc
import zlib

import pytest
import reportlab
from pypdf import PdfReader
from reportlab import rl_config
from reportlab.lib.pagesizes import A4, A5
from reportlab.pdfbase.pdfdoc import PDFDocument, PDFPage
from reportlab.pdfgen.canvas import Canvas

from tests.statements.test_pdf import CHECKSUM, _flat, _header, _render, _rows
from transactions.statements import spooling
from transactions.statements.pdf import ReceiptContent, ReceiptPDF, StatementPDF

HINDI = "किराया और बिजली — प्रिया शर्मा, क्षत्रिय निवास"
LONG_NOTE = "UPI/" + "4021987361" * 13 + "/RENT"


def _mixed_rows(count: int):
    """Rows as a statement has them: mostly Latin, a tenth Hindi, a fiftieth a long unbroken note."""
    rows = _rows(count)
    for i in range(0, count, 10):
        rows[i] = rows[i].__class__(**{**vars(rows[i]), "description": HINDI, "counterparty": "प्रिया शर्मा"})
    for i in range(7, count, 50):
        rows[i] = rows[i].__class__(**{**vars(rows[i]), "description": LONG_NOTE})
    return rows


class _ReportLabStatement(StatementPDF):
    """The same statement on ReportLab's own canvas: every page kept until `save`, the file built whole."""

    canvas_class = Canvas


class _ReportLabReceipt(ReceiptPDF):
    canvas_class = Canvas


@pytest.fixture
def no_ascii85(monkeypatch):
    """ReportLab's pages without ASCII85 (which the spooled canvas never writes; see spooling.py)."""
    monkeypatch.setattr(rl_config, "useA85", 0)


def test_a_statement_is_the_file_reportlabs_own_canvas_writes(no_ascii85):
    header, rows = _header(130), _mixed_rows(130)
    spooled = _render(header, rows)
    out = io.BytesIO()
    plain = _ReportLabStatement(out, header)
    for row in rows:
        plain.add(row)
    plain.close(CHECKSUM)
    assert plain.page > 3
    assert spooled == out.getvalue()


def test_a_receipt_is_the_file_reportlabs_own_canvas_writes(no_ascii85):
    content = ReceiptContent(
        bank_name="SecureBank",
        reference="SB0000000042",
        amount="₹1,20,000.50",
        amount_words="One lakh twenty thousand rupees and fifty paise",
        direction="Debited from your Savings ••4321",
        details=(("To", "प्रिया शर्मा"), ("Date and time", "1 Oct 2026, 9:00 AM IST")),
        verify_url="https://securebank.example/statements/verify/",
    )
    files = []
    for kind in (ReceiptPDF, _ReportLabReceipt):
        out = io.BytesIO()
        kind(out, content).render(CHECKSUM)
        files.append(out.getvalue())
    assert files[0] == files[1]
    assert "प्रिया शर्मा" in PdfReader(io.BytesIO(files[0]), strict=True).pages[0].extract_text()


def _pages_not_alike(canvas: Canvas) -> None:
    """Pages that differ besides their content: another size, a link, one with nothing drawn, a form."""
    canvas.drawString(72, 720, "First page")
    canvas.showPage()
    canvas.setPageSize(A5)
    canvas.drawString(72, 500, "A smaller page with a link")
    canvas.linkURL("https://securebank.example/", (72, 490, 300, 510))
    canvas.showPage()
    canvas.showPage()  # nothing drawn on it
    canvas.setPageSize(A4)
    canvas.doForm("later")
    canvas.drawString(72, 720, "First page again, in all but its content")
    canvas.showPage()
    canvas.beginForm("later")
    canvas.drawString(0, 0, "a form defined after the pages that use it")
    canvas.endForm()
    canvas.save()


@pytest.mark.parametrize("encrypt", [None, "owner's secret"])
def test_pages_not_alike_are_written_as_reportlab_writes_them(no_ascii85, encrypt):
    files = []
    for kind in (spooling.SpooledCanvas, Canvas):
        out = io.BytesIO()
        _pages_not_alike(kind(out, invariant=1, pageCompression=1, encrypt=encrypt))
        files.append(out.getvalue())
    assert files[0] == files[1]
    reader = PdfReader(io.BytesIO(files[0]), strict=True)
    if encrypt:
        assert reader.decrypt(encrypt)
    assert [round(float(page.mediabox.width)) for page in reader.pages] == [595, 420, 420, 595]
    assert "a form defined after" in reader.pages[3].extract_text()


def test_it_never_returns_the_file_as_bytes():
    canvas = spooling.SpooledCanvas(io.BytesIO())
    canvas.drawString(72, 720, "x")
    with pytest.raises(TypeError):
        canvas.getpdfdata()
    with pytest.raises(TypeError):
        spooling.SpooledCanvas("statement.pdf")  # a file name: ReportLab would open it, out of our hands


def test_a_statement_keeps_no_page_in_memory_once_it_closes():
    """Every closed page is a place in the spool (two numbers) and one pattern shared by all the pages;
    the spool holds each page's compressed operators; readers (pypdf strictly, poppler) open every page."""
    with tempfile.TemporaryFile() as out:
        document = StatementPDF(out, _header(150))
        for row in _mixed_rows(150):
            document.add(row)
        doc = document.canvas._doc
        closed = doc.Pages.pages
        assert len(closed) == document.page - 1 >= 4  # the last page is still being drawn
        patterns = set()
        for page in closed:
            assert type(page) is spooling._ClosedPage
            assert doc.idToObject[page.__InternalName__] is page  # ReportLab's page replaced, not copied
            assert type(page.offset) is int and type(page.length) is int
            assert page.like.stream is None and page.like.Contents is None
            patterns.add(id(page.like))
        assert len(patterns) == 1, "the statement's pages differ only in their content: one pattern"
        assert doc.spool.tell() == sum(page.length for page in closed)
        for page in closed:
            doc.spool.seek(page.offset)
            operators = zlib.decompress(doc.spool.read(page.length))
            assert operators.count(b"BT") > 10 and b"/FormXob.page_count Do" in operators
        doc.spool.seek(0, io.SEEK_END)
        document.close(CHECKSUM)
        assert doc.spool.closed
        out.seek(0)
        data = out.read()
    reader = PdfReader(io.BytesIO(data), strict=True)
    assert len(reader.pages) == document.page
    for number, page in enumerate(reader.pages, start=1):
        assert f"Page {number} of {document.page}" in _flat(page.extract_text())
    with tempfile.NamedTemporaryFile(suffix=".pdf") as named:
        named.write(data)
        named.flush()
        poppler = ["/usr/bin/pdftotext", "-enc", "UTF-8", named.name, "-"]
        text = subprocess.run(poppler, capture_output=True, check=True, text=True).stdout  # noqa: S603
    assert text.count("Statement checksum (SHA-256 of its CSV)") == document.page
    assert "प्रिया शर्मा" in text and "SB0000000150" in text and "Closing balance" in text


def _page_lines(pages: int) -> list[list[str]]:
    """Text for a page of 45 lines that compresses about as a statement's does (digests don't repeat)."""
    digest = hashlib.sha256
    return [
        [f"SB{page:05d}{line:03d} {digest(b'%d.%d' % (page, line)).hexdigest()}" for line in range(45)]
        for page in range(pages)
    ]


def _held_and_peak(pages: list[list[str]]) -> tuple[int, int]:
    """Bytes Python holds (tracemalloc) for a spooled canvas of these pages: once they are drawn (after a
    full collection, which also empties the interpreter's free lists), and at most while `save` writes the
    file; both counted from before the canvas was made."""
    with tempfile.TemporaryFile() as out:
        gc.collect()
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            canvas = spooling.SpooledCanvas(out, invariant=1, pageCompression=1)
            for lines in pages:
                for i, line in enumerate(lines):
                    canvas.drawString(40, 800 - 17 * i, line)
                canvas.showPage()
            gc.collect()
            held = tracemalloc.get_traced_memory()[0] - base
            tracemalloc.reset_peak()
            canvas.save()
            peak = tracemalloc.get_traced_memory()[1] - base
        finally:
            tracemalloc.stop()
    return held, peak


def test_memory_per_page_stays_small():
    """200 pages against 50: what each page adds to memory held (while drawing and at `save`'s peak) is
    ReportLab's numbering of it, some 0.5 KB, not its content (each page here is some 4 KB of operators,
    2 KB compressed; ReportLab's own canvas holds 8 KB a page and peaks at 12 KB a page)."""
    few, many = 50, 200
    pages = _page_lines(many)
    _held_and_peak(pages[:5])  # fonts and caches warm
    held_few, peak_few = _held_and_peak(pages[:few])
    held_many, peak_many = _held_and_peak(pages)
    per_page_held = (held_many - held_few) / (many - few)
    per_page_peak = (peak_many - peak_few) / (many - few)
    assert per_page_held < 1024, f"{per_page_held:.0f} bytes held per page"
    assert per_page_peak < 2048, f"{per_page_peak:.0f} bytes per page at save's peak"


def test_the_reportlab_internals_it_relies_on_are_there():
    """spooling.py reaches into ReportLab 5.1.0 (its docstring lists where). A new version fails here first:
    read spooling.py against its pdfdoc.py and canvas.py, then move the pin."""
    assert reportlab.Version == "5.1.0"
    canvas = Canvas(io.BytesIO(), invariant=1, pageCompression=1)
    doc = canvas._doc
    assert type(doc) is PDFDocument  # made inline by Canvas.__init__: spooling switches its class
    for name in (
        "Pages",
        "Catalog",
        "info",
        "encrypt",
        "idToObject",
        "numberToId",
        "idToObjectNumberAndVersion",
    ):
        assert hasattr(doc, name), name
    assert isinstance(doc._pdfVersion, tuple) and callable(doc.ID) and callable(doc.GetPDFData)
    canvas.drawString(72, 720, "x")
    canvas.showPage()
    page = doc.Pages.pages[-1]
    assert type(page) is PDFPage
    assert isinstance(page.stream, str) and "(x) Tj" in page.stream
    assert page.Contents is None and page.compression == 1 and not page.Override_default_compilation
    assert doc.idToObject[page.__InternalName__] is page
    # save: SaveToFile → GetPDFData → the document's `format`, its result written to the file.
    calls = []

    class Tracing(PDFDocument):
        def format(self):
            calls.append("format")
            return b"what format returned"

    out = io.BytesIO()
    canvas = Canvas(out)
    canvas._doc.__class__ = Tracing
    canvas.save()
    assert calls == ["format"] and out.getvalue() == b"what format returned"
