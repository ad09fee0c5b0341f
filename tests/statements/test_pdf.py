"""The statement PDF as a reader sees it (pypdf): the header, the ledger's figures in ₹ en-IN, the checksum
and "Page X of Y" on every page, Hindi that is drawn with the embedded font and reads back as written, long
notes wrapped inside their column, the same bytes for the same data. How pages leave memory as they close:
test_spooling.py."""

import datetime
import hashlib
import io
import unicodedata
from zoneinfo import ZoneInfo

import pytest
import time_machine
from pypdf import PdfReader

from accounts.models import Account
from tests.factories import AccountFactory
from tests.statements.ledger import post
from transactions.models import Transaction
from transactions.statements import generate, periods, services
from transactions.statements import typesetting as ts
from transactions.statements.pdf import COLUMNS, DESCRIPTION, PAD, Header, StatementPDF
from transactions.statements.selectors import Row, Summary

IST = ZoneInfo("Asia/Kolkata")
NOW = datetime.datetime(2026, 11, 20, 12, 0, tzinfo=IST)
CHECKSUM = hashlib.sha256(b"a statement").hexdigest()
VERIFY = "https://securebank.example/statements/verify/"


def _flat(text: str) -> str:
    """Text with every run of white space as one space (pypdf breaks lines where text objects end)."""
    return " ".join(text.split())


def _header(count: int, customer: str = "Alice Iyer") -> Header:
    return Header(
        bank_name="SecureBank",
        customer_name=customer,
        account_name="Current",
        masked_number="••4321",
        ifsc="SECB0000001",
        first_day=datetime.date(2026, 10, 1),
        last_day=datetime.date(2026, 10, 31),
        generated_at=datetime.datetime(2026, 11, 20, 6, 30, tzinfo=datetime.UTC),
        summary=Summary(opening=10_000_00, closing=10_000_00 - count, credits=0, debits=count, count=count),
        verify_url=VERIFY,
    )


def _rows(count: int, description: str = "Groceries", counterparty: str = "DMart") -> list[Row]:
    start = datetime.datetime(2026, 10, 1, 9, 0, tzinfo=IST)
    return [
        Row(
            when=start + datetime.timedelta(minutes=7 * i),
            reference=f"SB{i + 1:010d}",
            description=description,
            counterparty=counterparty,
            amount=-1,
            balance=10_000_00 - i - 1,
        )
        for i in range(count)
    ]


def _render(header: Header, rows: list[Row]) -> bytes:
    out = io.BytesIO()
    document = StatementPDF(out, header)
    for row in rows:
        document.add(row)
    document.close(CHECKSUM)
    return out.getvalue()


def _post(account: Account, when: datetime.datetime, paise: int, what: str) -> None:
    post(account, when, paise, what, counterparty="प्रिया शर्मा")


@pytest.fixture
def statement(alice):
    alice.full_name = "प्रिया शर्मा"
    alice.save(update_fields=["full_name"])
    account = AccountFactory(owner=alice, name="Current", kind=Account.Kind.CURRENT)
    _post(account, datetime.datetime(2026, 9, 30, 23, 59, tzinfo=IST), 1_23_456_78, "Before")
    _post(account, datetime.datetime(2026, 10, 1, 0, 0, tzinfo=IST), -1_00, "किराया क्षत्रिय")
    _post(account, datetime.datetime(2026, 10, 15, 9, 0, tzinfo=IST), 2_500_50, "Salary")
    with time_machine.travel(NOW, tick=False):
        made, _ = services.statement_request(
            user=alice, account_id=account.pk, period=periods.month(datetime.date(2026, 10, 1))
        )
        assert generate.build(made.pk)
    made.refresh_from_db()
    return made


@pytest.mark.django_db
def test_it_prints_the_header_the_ledgers_figures_and_the_checksum(statement):
    reader = PdfReader(io.BytesIO(statement.pdf.read()), strict=True)
    assert len(reader.pages) == 1
    rent = Transaction.objects.get(description="किराया क्षत्रिय")
    text = _flat(reader.pages[0].extract_text())
    for expected in (
        "SecureBank",
        "Account statement",
        "प्रिया शर्मा",
        "Current",
        statement.account.masked_number,
        "SECB0000001",
        "1 October 2026 to 31 October 2026",
        "Generated 20 November 2026, 12:00 PM IST",
        # Opening, credits, debits, closing (the ledger's: test_generate.py), Indian grouping.
        "Opening balance ₹1,23,456.78 Total credits ₹2,500.50 Total debits ₹1.00 "
        "Closing balance ₹1,25,956.28",
        # The entry at the period's first instant, in IST (its second lines, muted, after its first).
        f"1 Oct 2026 {rent.reference} किराया क्षत्रिय ₹1.00 ₹1,23,455.78 12:00 AM प्रिया शर्मा",
        f"Statement checksum (SHA-256 of its CSV): {statement.csv_sha256}",
        f"Verify at {generate.verify_url()}",
        "Page 1 of 1",
    ):
        assert expected in text, text
    # After the last row: the totals and the closing balance again.
    assert text.index("Totals (2 entries) ₹1.00 ₹2,500.50") < text.index("Closing balance ₹1,25,956.28 End")
    assert (
        reader.metadata.title
        == f"SecureBank statement {statement.account.masked_number}, 1 October 2026 to 31 October 2026"
    )
    assert reader.metadata.author == "SecureBank"


@pytest.mark.django_db
def test_hindi_is_drawn_with_the_embedded_font_and_reads_back_as_written(statement):
    reader = PdfReader(io.BytesIO(statement.pdf.read()))
    page = reader.pages[0]
    fonts = [font.get_object() for font in page["/Resources"]["/Font"].values()]
    ours = [font for font in fonts if "SecureBankSans" in font["/BaseFont"]]
    assert ours and len(ours) == len(fonts), "every glyph from SecureBank Sans"
    for font in ours:
        assert "/FontFile2" in font["/FontDescriptor"], "embedded, not referred to by name"
    text = page.extract_text()
    # A conjunct (क्ष), a vowel sign drawn before its consonant (कि, त्रि), a name as the customer wrote it.
    for words in ("किराया क्षत्रिय", "प्रिया शर्मा"):
        assert words in text


def test_devanagari_is_shaped_into_conjuncts_and_reordered_vowel_signs():
    regular = ts.font(ts.REGULAR)
    kshatriya = regular.shape("क्षत्रिय")
    assert len(kshatriya.text) < len("क्षत्रिय"), "क्ष and त्र are one glyph each"
    ki = [regular.face.charToGlyph[ord(code)] for code in regular.shape("कि").text]
    ka = regular.face.charToGlyph[ord("क")]
    assert len(ki) == 2 and ki[0] != ka and ki[1] == ka, "the vowel sign ि drawn first, before its consonant"


def test_a_long_unbroken_note_wraps_inside_its_column():
    note = "REF" + "0123456789" * 14  # 143 characters without a space
    hindi = "किरायाक्षत्रियप्रियाशर्मा" * 12  # 300 characters without a space
    data = _render(_header(2), [*_rows(1, note, "Landlord"), *_rows(1, hindi, "श्री राम")])
    column = COLUMNS[DESCRIPTION]
    left, right = column.x + PAD, column.x + column.width - PAD
    page = PdfReader(io.BytesIO(data)).pages[0]
    placed: list[tuple[str, float, float]] = []

    def visit(text, cm, tm, font_dict, font_size):
        if text.strip():
            placed.append((text.strip(), tm[4], tm[5]))

    page.extract_text(visitor_text=visit)
    for whole, name in ((note, ts.REGULAR), (hindi, ts.REGULAR)):
        pieces = [(text, x, y) for text, x, y in placed if text in whole and abs(x - left) < 1]
        assert "".join(text for text, _, _ in pieces) == whole, "every piece, in order, nothing lost"
        assert len({y for _, _, y in pieces}) == len(pieces) > 1, "one line each"
        for text, x, _ in pieces:
            assert x + ts.wrap(text, name, 8, 10_000)[0].width <= right + 0.01
    # A Hindi line never starts with a vowel sign or a virama, nor ends with a virama: no conjunct is split.
    for text, _, _ in placed:
        if text in hindi:
            assert unicodedata.category(text[0]) not in ("Mn", "Mc")
            assert not text.endswith("्")


def test_many_rows_make_pages_each_with_the_table_header_and_page_x_of_y():
    data = _render(_header(150), _rows(150))
    reader = PdfReader(io.BytesIO(data), strict=True)
    pages = len(reader.pages)
    assert pages > 3
    seen = []
    for number, page in enumerate(reader.pages, start=1):
        text = _flat(page.extract_text())
        assert "Date (IST) Reference Description Debit Credit Balance" in text
        assert f"Page {number} of {pages}" in text
        assert f"Statement checksum (SHA-256 of its CSV): {CHECKSUM}" in text
        seen += [reference for reference in (f"SB{i + 1:010d}" for i in range(150)) if reference in text]
    assert seen == [f"SB{i + 1:010d}" for i in range(150)], "every row once, in order"
    assert "Account statement · ••4321" in _flat(reader.pages[1].extract_text())  # the running header


def test_the_same_data_gives_the_same_bytes():
    rows = _rows(80, "Rent to प्रिया शर्मा", "प्रिया शर्मा")
    first = _render(_header(80), rows)
    # Another document in between shapes words the first never had (new private codes for its glyphs).
    _render(_header(3), _rows(3, "हिन्दी में विवरण र्क", "श्री"))
    assert _render(_header(80), rows) == first


def test_an_empty_period_says_so():
    text = _flat(PdfReader(io.BytesIO(_render(_header(0), []))).pages[0].extract_text())
    assert "Opening balance ₹10,000.00" in text
    assert "No transactions in this period." in text
    assert "Totals (0 entries) ₹0.00 ₹0.00" in text


def test_a_latin_word_breaks_between_a_letter_and_its_marks_never_inside():
    word = "e\u0301" * 60  # é written as e and a combining acute accent, 60 times without a space
    lines = ts.wrap(word, ts.REGULAR, 8, 50)
    assert len(lines) > 1
    assert "".join(line.text for line in lines) == word
    for line in lines:
        assert line.text.startswith("e") and line.width <= 50


def test_the_text_map_is_written_in_blocks_the_pdf_specification_allows():
    cmap = ts.to_unicode_cmap("AAAAAA+SecureBankSans-Regular", ["क", "", "ि", *["x"] * 253])
    counts = [int(line.split()[0]) for line in cmap.splitlines() if line.endswith("beginbfchar")]
    assert counts == [100, 100, 56]
    assert "<00> <0915>" in cmap and "<01> <>" in cmap and "<02> <093F>" in cmap


def test_amounts_of_crores_stay_inside_their_columns():
    """The largest amounts a statement can show (a balance in thousands of crores, totals above ₹100 crore)
    are drawn smaller rather than run into the next column or figure."""
    from transactions.statements.pdf import COLUMNS, fitted
    from transactions.statements.typesetting import BOLD, REGULAR

    for column in COLUMNS:
        if column.right:
            line, size = fitted("-₹9,99,99,99,999.99", REGULAR, 8, column.inner)
            assert line.width <= column.inner and size < 8
    line, _size = fitted("₹9,99,99,99,999.99", BOLD, 10.5, 100)
    assert line.width <= 100
    assert fitted("₹100.00", REGULAR, 8, 60)[1] == 8  # a usual amount keeps its size
