"""Searches applied to real entries: each operator of the history search selects exactly the right entries of
a small hand-made history (boundary days in India, boundary amounts), and `history_totals` (one SQL
aggregate) equals Python's sums over the same rows."""

import datetime
import uuid
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Account
from portal.seeding.history import posted_at
from tests.factories import AccountFactory, PayeeFactory
from transactions import services
from transactions.categories import CATEGORIES
from transactions.history.filters import HistoryFilter
from transactions.history.search import SearchError, parse
from transactions.history.selectors import history_entries, history_totals
from transactions.models import Entry

IST = ZoneInfo("Asia/Kolkata")


def ist(*args: int) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=IST)


def _key() -> str:
    return str(uuid.uuid4())


def _pay(account, when, rupees_paise, description, counterparty="", category=None, kind="upi"):
    with posted_at(when):
        services.payment_create(
            account=account,
            amount_paise=rupees_paise,
            description=description,
            counterparty=counterparty,
            category=category,
            kind=kind,
            idempotency_key=_key(),
        )


def _receive(account, when, rupees_paise, description, counterparty="", category=None):
    with posted_at(when):
        services.deposit_create(
            account=account,
            amount_paise=rupees_paise,
            description=description,
            counterparty=counterparty,
            category=category,
            idempotency_key=_key(),
        )


@pytest.fixture
def current(alice, bob) -> Account:
    """Alice's current account with ten entries, in the order they were posted (each description names
    one). Boundaries: the first moment and the last minute of a day in India, 23:30 IST on 31 January
    (18:00 UTC, still January in India), amounts either side of ₹500, an entry without a category, and a
    credit whose own counterparty (who paid) differs from the transaction's (the payer's name for Alice)."""
    account = AccountFactory(owner=alice, name="Current", kind=Account.Kind.CURRENT)
    savings = AccountFactory(owner=alice, name="Savings")
    bobs = AccountFactory(owner=bob, name="Savings")
    _receive(savings, ist(2025, 12, 1, 10, 0), 10_000_00, "Opening deposit")
    _receive(bobs, ist(2025, 12, 1, 10, 0), 10_000_00, "Opening deposit")
    _receive(account, ist(2025, 12, 31, 23, 59), 1_00_000_00, "Salary December", "Acme Corp", "salary")
    _pay(account, ist(2026, 1, 1, 0, 0), 500_00, "Big Bazaar Koramangala", "Big Bazaar", "groceries")
    _pay(account, ist(2026, 1, 15, 12, 0), 500_01, "Rent January", "Landlord Rao", "rent")
    _pay(account, ist(2026, 1, 31, 23, 30), 499_99, "Milk and bread", "Nandini Dairy", "groceries")
    with posted_at(ist(2026, 2, 1, 0, 30)):
        services.transfer_create(
            initiator=alice,
            source=savings,
            destination=account,
            amount_paise=2_000_00,
            description="Top up",
            idempotency_key=_key(),
        )
    _pay(account, ist(2026, 2, 28, 23, 59), 100_00, "Dinner", "Bazaar Cafe", "dining")
    _pay(account, ist(2026, 3, 1, 0, 0), 2_000_00, "ATM withdrawal", kind="withdrawal")
    _receive(account, ist(2026, 3, 31, 23, 59), 100_00, "Refund", "Big Bazaar", "groceries")
    _pay(account, ist(2026, 4, 1, 0, 0), 50_000_00, "EMI April", "HDFC Bank", "emi")
    payee = PayeeFactory(
        owner=bob, name="Flatmate", account_number=account.number, ifsc="SECB0000001", account=account
    )
    with posted_at(ist(2026, 4, 2, 10, 0)):
        services.payee_transfer_create(
            initiator=bob,
            source=bobs,
            payee=payee,
            amount_paise=1_000_00,
            description="",
            idempotency_key=_key(),
        )
    assert Entry.objects.filter(account=account).count() == 10
    return account


ALL = {
    "Salary December",
    "Big Bazaar Koramangala",
    "Rent January",
    "Milk and bread",
    "Top up",
    "Dinner",
    "ATM withdrawal",
    "Refund",
    "EMI April",
    "Transfer within SecureBank",
}
S, BB, RJ, MK, TU, DN, ATM, RF, EMI, FB = (
    "Salary December",
    "Big Bazaar Koramangala",
    "Rent January",
    "Milk and bread",
    "Top up",
    "Dinner",
    "ATM withdrawal",
    "Refund",
    "EMI April",
    "Transfer within SecureBank",
)

SEARCHES = [
    ("", ALL),
    # amounts: the size of the entry, debit or credit; > is strict to the paisa
    ("amount>500", {S, RJ, TU, ATM, EMI, FB}),
    ("amount>=500", {S, BB, RJ, TU, ATM, EMI, FB}),
    ("amount<500", {MK, DN, RF}),
    ("amount<=500", {BB, MK, DN, RF}),
    ("amount<500.01", {BB, MK, DN, RF}),
    ("amount:500", {BB}),
    ("amount:500.01", {RJ}),
    ("amount:1,00,000", {S}),
    ("amount:100..2000", {BB, RJ, MK, TU, DN, ATM, RF, FB}),
    ("amount:100.01..1,999.99", {BB, RJ, MK, FB}),
    ("amount:..100", {DN, RF}),
    ("amount:2000..", {S, TU, ATM, EMI}),
    ("amount>0", ALL),
    ("amount<0", set()),
    # direction
    ("debit", {BB, RJ, MK, DN, ATM, EMI}),
    ("credit", {S, TU, RF, FB}),
    ("debit credit", set()),
    ("debit amount:100", {DN}),
    ("credit amount:100", {RF}),
    # categories: slug or name, any of several; an uncategorised entry is "other" (filters.effective_category)
    ("category:groceries", {BB, MK, RF}),
    ("category:Groceries category:RENT", {BB, MK, RF, RJ}),
    ("category:EMI", {EMI}),
    ("-category:groceries", {S, RJ, TU, DN, ATM, EMI, FB}),
    ("-category:groceries -category:transfers", {S, RJ, DN, ATM, EMI}),
    ("category:groceries -category:groceries", set()),
    ("category:other", {ATM}),
    ("-category:other", ALL - {ATM}),
    # days in India, both ends included
    ("after:2026-01-01", ALL - {S}),
    ("before:2025-12-31", {S}),
    ("before:2026-01-31", {S, BB, RJ, MK}),
    ("after:2026-01-31", {MK, TU, DN, ATM, RF, EMI, FB}),
    ("after:2026-02-01", {TU, DN, ATM, RF, EMI, FB}),
    ("after:2026-01-01 before:2026-03-31", {BB, RJ, MK, TU, DN, ATM, RF}),
    ("after:2026-03-01 before:2026-03-01", {ATM}),
    ("month:2025-12", {S}),
    ("month:2026-01", {BB, RJ, MK}),
    ("month:2026-02", {TU, DN}),
    ("month:2026-03", {ATM, RF}),
    ("month:2026-05", set()),
    ("month:2026-01 month:2026-02", set()),
    ("after:0001-01-01", ALL),
    ("before:9999-12-31", ALL),
    ("month:9999-12", set()),
    ("month:0001-01", set()),
    # counterparty (the entry's own, else the transaction's)
    ("to:bazaar", {BB, DN, RF}),
    ('to:"Big Bazaar"', {BB, RF}),
    ("to:BIG to:bazaar", {BB, RF}),
    ("to:menon", {FB}),  # who paid Alice, on her credit
    ("to:flatmate", set()),  # Bob's name for Alice is not hers to see
    # words and phrases: in the description or the counterparty
    ("bazaar", {BB, DN, RF}),
    ("koramangala", {BB}),
    ('"milk and"', {MK}),
    ("rent january", {RJ}),
    ("securebank", {FB}),
    ("menon", {FB}),
    ('"credit"', set()),
    ("%", set()),
    ("Rent_January", set()),
    ("\\", set()),
    # together
    ("category:groceries after:2026-01-01", {BB, MK, RF}),
    ("debit category:groceries after:2026-01-01", {BB, MK}),
    ("credit -category:transfers amount<1000", {RF}),
    ("amount>500 amount<=2000 debit", {RJ, ATM}),
    ("debit month:2026-01 to:bazaar", {BB}),
]


@pytest.mark.parametrize(("text", "expected"), SEARCHES, ids=[text or "(empty)" for text, _ in SEARCHES])
def test_it_selects_exactly_the_right_entries_and_totals_them(current, text, expected):
    found = parse(text, categories=CATEGORIES)
    rows = list(history_entries(account=current, filter=found))
    assert {row.txn_description for row in rows} == expected
    assert len(rows) == len(expected)
    chosen = [e for e in Entry.objects.filter(account=current) if e.transaction.description in expected]
    totals = history_totals(account=current, filter=found)
    assert totals.count == len(chosen)
    assert totals.debits == sum(-e.amount for e in chosen if e.amount < 0)
    assert totals.credits == sum(e.amount for e in chosen if e.amount > 0)
    assert totals.net == sum(e.amount for e in chosen)


def test_it_dates_entries_by_the_day_in_india(current):
    milk = Entry.objects.get(account=current, transaction__description="Milk and bread")
    assert milk.created == datetime.datetime(2026, 1, 31, 18, 0, tzinfo=datetime.UTC)  # 23:30 IST
    first = Entry.objects.get(account=current, transaction__description="Big Bazaar Koramangala")
    assert first.created.astimezone(datetime.UTC).date() == datetime.date(2025, 12, 31)  # 18:30 UTC
    january = history_totals(account=current, filter=parse("month:2026-01"))
    assert january.count == 3 and january.debits == 500_00 + 500_01 + 499_99 and january.credits == 0


def test_it_totals_a_search_in_one_query(current, django_assert_num_queries):
    found = parse("debit amount:100..2000 -category:rent", categories=CATEGORIES)
    # One aggregate; before it the read's time limit (set_config), in a savepoint here, and after it the test
    # transaction's own limit put back.
    with django_assert_num_queries(5) as captured:
        totals = history_totals(account=current, filter=found)
    statements = [q["sql"].split()[0] for q in captured.captured_queries]
    assert statements == ["SAVEPOINT", "SELECT", "SELECT", "SELECT", "RELEASE"]
    assert "set_config('statement_timeout'" in captured.captured_queries[1]["sql"]
    assert "set_config('statement_timeout'" in captured.captured_queries[3]["sql"]
    assert (totals.count, totals.debits, totals.credits, totals.net) == (4, 3_099_99, 0, -3_099_99)


def test_it_counts_only_the_accounts_own_entries(current, alice):
    other = AccountFactory(owner=alice, name="Other", kind=Account.Kind.CURRENT)
    _receive(other, ist(2026, 1, 10, 9, 0), 500_00, "Big Bazaar cashback", "Big Bazaar", "groceries")
    assert history_totals(account=current, filter=parse("category:groceries")).count == 3
    assert history_totals(account=other, filter=parse("category:groceries")).count == 1


def _in_python(f: HistoryFilter, entry: Entry) -> bool:
    """What `f` means, said again in Python over one entry (the test's independent reading)."""
    day = entry.created.astimezone(IST).date()
    size = abs(entry.amount)
    txn = entry.transaction
    counterparty = (entry.counterparty or txn.counterparty).casefold()
    text = (txn.description.casefold(), counterparty)
    # The category the customer sees: their own (insights.EntryCategory), else the bank's, else "other".
    mine = getattr(entry, "customer_category", None)
    category = mine.category_id if mine else txn.category_id or "other"
    return (
        (f.date_from is None or day >= f.date_from)
        and (f.date_to is None or day <= f.date_to)
        and (f.amount_min is None or size >= f.amount_min)
        and (f.amount_max is None or size <= f.amount_max)
        and (f.direction is None or (entry.amount < 0) == (f.direction == "debit"))
        and (not f.categories or category in f.categories)
        and category not in f.exclude_categories
        and all(any(w.casefold() in t for t in text) for w in f.words)
        and all(c.casefold() in counterparty for c in f.counterparties)
    )


_term = st.one_of(
    st.builds(
        lambda op, rupees: f"amount{op}{rupees}",
        st.sampled_from([">", ">=", "<", "<=", ":"]),
        st.sampled_from(["0", "99.99", "100", "100.01", "499.99", "500", "500.01", "2000", "1,00,000"]),
    ),
    st.builds(
        lambda a, b: f"amount:{a}..{b}", st.sampled_from(["", "100", "500"]), st.sampled_from(["500", "2000"])
    ),
    st.builds(
        lambda s, c: f"{s}category:{c}", st.sampled_from(["", "-"]), st.sampled_from(sorted(CATEGORIES))
    ),
    st.builds(
        lambda op, d: f"{op}:{d.isoformat()}",
        st.sampled_from(["after", "before"]),
        st.dates(datetime.date(2025, 12, 30), datetime.date(2026, 4, 3)),
    ),
    st.sampled_from(["month:2025-12", "month:2026-01", "month:2026-02", "month:2026-03", "month:2026-04"]),
    st.sampled_from(["to:bazaar", 'to:"big bazaar"', "to:menon", "to:acme", "to:SecureBank"]),
    st.sampled_from(["debit", "credit", "bazaar", "rent", '"and bread"', "top", "within", "a", "e"]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(terms=st.lists(_term, max_size=5))
def test_it_agrees_with_python_for_any_search(current, terms):
    found = parse(" ".join(terms), categories=CATEGORIES)
    entries = list(Entry.objects.filter(account=current).select_related("transaction"))
    expected = [e for e in entries if _in_python(found, e)]
    assert sorted(row.pk for row in history_entries(account=current, filter=found)) == sorted(
        e.pk for e in expected
    )
    totals = history_totals(account=current, filter=found)
    assert totals.count == len(expected)
    assert totals.debits == sum(-e.amount for e in expected if e.amount < 0)
    assert totals.credits == sum(e.amount for e in expected if e.amount > 0)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=60))
def test_no_text_that_parses_breaks_the_query(current, text):
    """Whatever the customer types (NUL, lone surrogates, %, _, backslashes, any script), the page's two
    reads either run or the parser refused the text first: never a database error."""
    try:
        found = parse(text, categories=CATEGORIES)
    except SearchError:
        return
    rows = list(history_entries(account=current, filter=found))
    totals = history_totals(account=current, filter=found)
    assert totals.count == len(rows)
    assert totals.net == sum(row.amount for row in rows)
