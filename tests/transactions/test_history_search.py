"""The history page's operator search (transactions/history/search.py): what each term means, the errors,
the rendering back to text, and that no text whatever makes it raise anything but SearchError."""

import contextlib
import datetime

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from transactions.categories import CATEGORIES
from transactions.history.filters import HistoryFilter
from transactions.history.search import MAX_LENGTH, MAX_TERMS, SearchError, describe, parse

D = datetime.date


def p(text: str) -> HistoryFilter:
    return parse(text, categories=CATEGORIES)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", HistoryFilter()),
        ("   ", HistoryFilter()),
        ("amount>500", HistoryFilter(amount_min=500_01)),
        ("amount>=500", HistoryFilter(amount_min=500_00)),
        ("amount<500", HistoryFilter(amount_max=499_99)),
        ("amount<=500", HistoryFilter(amount_max=500_00)),
        ("amount:500", HistoryFilter(amount_min=500_00, amount_max=500_00)),
        ("amount:100..2000", HistoryFilter(amount_min=100_00, amount_max=2000_00)),
        ("amount:..2000", HistoryFilter(amount_max=2000_00)),
        ("amount:100..", HistoryFilter(amount_min=100_00)),
        ("amount:500..500", HistoryFilter(amount_min=500_00, amount_max=500_00)),
        ("amount>1,50,000", HistoryFilter(amount_min=150_000_01)),
        ("amount>150,000.5", HistoryFilter(amount_min=150_000_51)),
        ("amount:0.01", HistoryFilter(amount_min=1, amount_max=1)),
        ("amount>₹500", HistoryFilter(amount_min=500_01)),
        ("amount>0", HistoryFilter(amount_min=1)),
        ("amount>=0", HistoryFilter(amount_min=0)),
        ("amount<0", HistoryFilter(amount_max=-1)),
        ("AMOUNT>500", HistoryFilter(amount_min=500_01)),
        ("category:groceries", HistoryFilter(categories=("groceries",))),
        ("category:Groceries", HistoryFilter(categories=("groceries",))),
        ("category:GROCERIES", HistoryFilter(categories=("groceries",))),
        ("category:emi", HistoryFilter(categories=("emi",))),
        ('category:"EMI"', HistoryFilter(categories=("emi",))),
        ("-category:rent", HistoryFilter(exclude_categories=("rent",))),
        ("-category:Rent", HistoryFilter(exclude_categories=("rent",))),
        ("after:2026-01-01", HistoryFilter(date_from=D(2026, 1, 1))),
        ("before:2026-03-31", HistoryFilter(date_to=D(2026, 3, 31))),
        ("month:2026-02", HistoryFilter(date_from=D(2026, 2, 1), date_to=D(2026, 2, 28))),
        ("month:2024-02", HistoryFilter(date_from=D(2024, 2, 1), date_to=D(2024, 2, 29))),
        ("month:2025-12", HistoryFilter(date_from=D(2025, 12, 1), date_to=D(2025, 12, 31))),
        ('to:"Big Bazaar"', HistoryFilter(counterparties=("Big Bazaar",))),
        ("to:“Big Bazaar”", HistoryFilter(counterparties=("Big Bazaar",))),
        ("to:bazaar", HistoryFilter(counterparties=("bazaar",))),
        ("to:a:b", HistoryFilter(counterparties=("a:b",))),
        ("debit", HistoryFilter(direction="debit")),
        ("Credit", HistoryFilter(direction="credit")),
        ("chai", HistoryFilter(words=("chai",))),
        ("chai  samosa", HistoryFilter(words=("chai", "samosa"))),
        ('"big bazaar"', HistoryFilter(words=("big bazaar",))),
        ('"credit"', HistoryFilter(words=("credit",))),
        ('"amount>5"', HistoryFilter(words=("amount>5",))),
        ('"-5"', HistoryFilter(words=("-5",))),
        ("12:30", HistoryFilter(words=("12:30",))),
        ("100%", HistoryFilter(words=("100%",))),
        ("चाय", HistoryFilter(words=("चाय",))),
        ("amount", HistoryFilter(words=("amount",))),
        ("chai\tsamosa\n", HistoryFilter(words=("chai", "samosa"))),
    ],
)
def test_it_parses_each_term(text, expected):
    assert p(text) == expected


def test_it_parses_the_issues_example_search():
    assert p('category:groceries after:2026-01-01 -category:rent to:"Big Bazaar" debit amount>500 chai') == (
        HistoryFilter(
            date_from=D(2026, 1, 1),
            amount_min=500_01,
            direction="debit",
            categories=("groceries",),
            exclude_categories=("rent",),
            words=("chai",),
            counterparties=("Big Bazaar",),
        )
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("amount>500 amount>1000", HistoryFilter(amount_min=1000_01)),
        ("amount>1000 amount>500", HistoryFilter(amount_min=1000_01)),
        ("amount:100..2000 amount<=500", HistoryFilter(amount_min=100_00, amount_max=500_00)),
        ("amount>=0 amount<=0", HistoryFilter(amount_min=0, amount_max=0)),
        ("after:2026-01-01 after:2026-02-01", HistoryFilter(date_from=D(2026, 2, 1))),
        ("month:2026-02 before:2026-02-10", HistoryFilter(date_from=D(2026, 2, 1), date_to=D(2026, 2, 10))),
        # An empty range is not an error when two terms make it: it finds nothing.
        ("month:2026-02 month:2026-03", HistoryFilter(date_from=D(2026, 3, 1), date_to=D(2026, 2, 28))),
        ("category:rent category:groceries", HistoryFilter(categories=("rent", "groceries"))),
        ("category:rent category:Rent", HistoryFilter(categories=("rent",))),
        ("to:a to:b", HistoryFilter(counterparties=("a", "b"))),
        ("debit debit", HistoryFilter(direction="debit")),
        ("debit credit", HistoryFilter(amount_min=1, amount_max=0)),
    ],
)
def test_it_combines_repeated_terms(text, expected):
    assert p(text) == expected


def test_it_makes_debit_and_credit_find_nothing_whatever_the_order():
    nothing = [p("debit credit amount>500"), p("amount>500 debit credit"), p("credit amount>500 debit")]
    assert nothing[0] == nothing[1] == nothing[2] == HistoryFilter(amount_min=500_01, amount_max=0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("after:2026-02-30", "after:2026-02-30: 2026-02-30 is not a date (use YYYY-MM-DD)."),
        ("before:2026-2-3", "2026-2-3 is not a date (use YYYY-MM-DD)"),
        ("after:20260101", "20260101 is not a date (use YYYY-MM-DD)"),
        ("after:0000-01-01", "0000-01-01 is not a date"),
        ("after:tomorrow", "tomorrow is not a date"),
        ("month:2026-13", "month:2026-13: 2026-13 is not a month (use YYYY-MM)."),
        ("month:2026-02-01", "2026-02-01 is not a month"),
        ("amount>abc", "amount>abc: abc is not an amount"),
        ("amount>5.123", "5.123 is not an amount. Write rupees like 500, 1,500.50"),
        ("amount>-5", "-5 is not an amount"),
        ("amount:1..2..3", "2..3 is not an amount"),
        ("amount:2000..100", "amount:2000..100: the range starts above where it ends; write the smaller"),
        ("amount:..", "amount:..: give at least one end of the range"),
        ("amount>", "amount> has no value: write it like amount>500"),
        ("to:", 'to: has no value: write it like to:bazaar or to:"Big Bazaar"'),
        ('to:""', 'to:"" has no value'),
        ("category:", "category: has no value"),
        ("after:", "after: has no value"),
        ("foo:bar", "foo:bar: foo is not a search operator. The operators are amount:, category:, after:"),
        ("foo:bar", 'To search for the text, put it in quotes: "foo:bar".'),
        ("amout>500", "Did you mean amount?"),
        ("ctegory:rent", "Did you mean category?"),
        ("price<5", "price is not a search operator"),
        ("after>2026-01-01", "write after:2026-01-01; only amount takes >, >=, < or <="),
        ('to:"Big Bazaar', 'to:"Big Bazaar: the quote is not closed; add a " after the quoted text.'),
        ('chai "big', "the quote is not closed"),
        ('""', "empty quotes search for nothing"),
        ('"  "', "empty quotes search for nothing"),
        (
            "-chai",
            '-chai: excluding words is not supported. Search for what you want, or put it in quotes ("-chai")'
            " to find it as written. Only -category: can exclude.",
        ),
        ("-", 'A lone "-" means nothing here'),
        ("-to:bazaar", "-to:bazaar: only -category: can exclude"),
        ("-amount>5", "only -category: can exclude"),
        ("-debit", "excluding words is not supported"),
        ("category:food", 'category:food: there is no category "food". Try one of: dining, emi, groceries'),
        ("category:grocery", 'there is no category "grocery". Try one of: groceries.'),
        ("-category:rnt", 'there is no category "rnt". Try one of: rent.'),
        ("x" * (MAX_LENGTH + 1), f"Keep the search to {MAX_LENGTH} characters at most (this one has 201)."),
        ("a " * (MAX_TERMS + 1), f"Use at most {MAX_TERMS} search terms (this search has 21)."),
        ("chai\x00", "control character"),
        ("chai\x07", "control character"),
        ("chai\ud800", "control character"),
    ],
)
def test_it_explains_what_is_wrong_and_how_to_fix_it(text, message):
    with pytest.raises(SearchError) as raised:
        p(text)
    assert message in str(raised.value)


def test_it_accepts_the_longest_search_and_the_most_terms():
    assert p("x" * MAX_LENGTH) == HistoryFilter(words=("x" * MAX_LENGTH,))
    assert p(" ".join(f"w{i}" for i in range(MAX_TERMS))).words == tuple(f"w{i}" for i in range(MAX_TERMS))


@pytest.mark.django_db
def test_it_reads_the_categories_from_the_database_once_and_only_when_asked(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert parse("chai amount>5 month:2026-02") == parse("chai amount>5 month:2026-02", categories={})
    with django_assert_num_queries(1):
        assert parse("category:Groceries -category:rent category:dining") == HistoryFilter(
            categories=("groceries", "dining"), exclude_categories=("rent",)
        )


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("", ""),
        ("amount>500", "amount>=500.01"),
        ("amount:500", "amount:500"),
        ("amount:100..2,000.5", "amount:100..2000.50"),
        ("amount<0", "amount<0"),
        ("debit credit", "debit credit"),
        ("month:2026-02", "month:2026-02"),
        ("after:2026-02-01 before:2026-02-28", "month:2026-02"),
        ("before:2026-02-27 after:2026-02-01", "after:2026-02-01 before:2026-02-27"),
        ("chai CATEGORY:Groceries to:“Big Bazaar” credit", 'credit category:groceries to:"Big Bazaar" chai'),
        ('"credit" "-x" "to:y" "a b"', '"credit" "-x" "to:y" "a b"'),
        ("-category:rent", "-category:rent"),
    ],
)
def test_it_describes_a_filter_as_canonical_search_text(text, canonical):
    assert describe(p(text)) == canonical
    assert p(canonical) == p(text)


# Pieces of the grammar, for hypothesis to put together in every order and with noise between them.
_PIECES = [
    *("amount", ">", ">=", "<", "<=", ":", "..", "-", '"', "“", "”", "„", " ", "\t"),
    *("category:", "-category:", "after:", "before:", "month:", "to:", "debit", "credit", "Debit"),
    *("2026-", "02", "-29", "-31", "2024-02", "9999-12", "0001-01-01", "500", "1,50,000", "0", "0.01", "7.5"),
    *("groceries", "Rent", "EMI", "big bazaar", "chai", "%", "_", "\\", "\x00", "\x1f", "é", "चाय", "₹"),
]
grammar_text = st.lists(st.one_of(st.sampled_from(_PIECES), st.text(max_size=3)), max_size=40).map("".join)
any_text = st.one_of(st.text(max_size=MAX_LENGTH + 10), grammar_text)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=any_text)
@example(text='to:"a“b"')
@example(text="x\x1cy")
@example(text="amount:0..0 debit credit")
def test_it_never_raises_anything_but_search_error_and_round_trips(text):
    try:
        parsed = p(text)
    except SearchError as error:
        assert str(error)
        return
    assert isinstance(parsed, HistoryFilter)
    canonical = describe(parsed)
    assert p(canonical) == parsed
    assert describe(p(canonical)) == canonical


# Well-formed searches: every term valid, so each one parses and must survive the round trip.
_valid_term = st.one_of(
    st.builds(
        lambda op, n: f"amount{op}{n}", st.sampled_from([">", ">=", "<", "<=", ":"]), st.integers(0, 10**6)
    ),
    st.builds(lambda a, b: f"amount:{min(a, b)}..{max(a, b)}", st.integers(0, 999), st.integers(0, 999)),
    st.builds(lambda a: f"amount:..{a}", st.integers(0, 999)),
    st.builds(lambda a: f"amount:{a}..", st.integers(0, 999)),
    st.builds(
        lambda s, c: f"{s}category:{c}", st.sampled_from(["", "-"]), st.sampled_from(sorted(CATEGORIES))
    ),
    st.builds(
        lambda op, d: f"{op}:{d.isoformat()}",
        st.sampled_from(["after", "before"]),
        st.dates(D(2024, 1, 1), D(2027, 12, 31)),
    ),
    st.builds(lambda d: f"month:{d:%Y-%m}", st.dates(D(2024, 1, 1), D(2027, 12, 31))),
    st.builds(
        lambda t: f'to:"{t}"',
        st.text(st.characters(blacklist_characters='"“”„'), min_size=1).filter(str.strip),
    ),
    st.sampled_from(["debit", "credit", "chai", '"Big Bazaar"', '"credit"']),
)


@settings(max_examples=300, deadline=None)
@given(terms=st.lists(_valid_term, max_size=8))
def test_it_round_trips_any_well_formed_search(terms):
    text = " ".join(terms)
    try:
        parsed = p(text)
    except SearchError as error:
        assert "control character" in str(error) or "characters at most" in str(error)
        return
    assert p(describe(parsed)) == parsed


_amounts = st.none() | st.integers(-5, 10**9)
_dates = st.none() | st.dates()
_texts = st.lists(st.text(min_size=1, max_size=8), max_size=3, unique=True).map(tuple)
filters = st.builds(
    HistoryFilter,
    date_from=_dates,
    date_to=_dates,
    amount_min=_amounts,
    amount_max=_amounts,
    direction=st.sampled_from([None, "debit", "credit"]),
    categories=st.lists(st.sampled_from(sorted(CATEGORIES)), max_size=2, unique=True).map(tuple),
    exclude_categories=st.lists(st.sampled_from(sorted(CATEGORIES)), max_size=2, unique=True).map(tuple),
    words=_texts,
    counterparties=_texts,
)


@given(data=st.data(), terms=st.lists(_valid_term, max_size=6))
@example(data=None, terms=["debit", "debit", "credit"])
@example(data=None, terms=["debit", "credit", "amount>5"])
def test_it_combines_terms_the_same_in_any_order(data, terms):
    """`debit credit amount>5` is `amount>5 credit debit`: each range the same, the lists in another
    order."""
    shuffled = data.draw(st.permutations(terms)) if data is not None else terms[::-1]
    try:
        one, other = p(" ".join(terms)), p(" ".join(shuffled))
    except SearchError:
        return  # (a to: of control characters, or too long)
    for name in ("date_from", "date_to", "amount_min", "amount_max", "direction"):
        assert getattr(one, name) == getattr(other, name)
    for name in ("categories", "exclude_categories", "words", "counterparties"):
        assert set(getattr(one, name)) == set(getattr(other, name))


@given(f=filters)
def test_it_describes_any_filter_without_failing(f):
    """A filter the form made (not the search) may hold what the search cannot say; describing it still
    gives text, and that text parses or is refused with a SearchError."""
    text = describe(f)
    assert isinstance(text, str)
    with contextlib.suppress(SearchError):
        p(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("amount=500", "amount=500: write amount:500 (with a colon)"),
        ("to=Swiggy", "to=Swiggy: write to:Swiggy (with a colon)"),
        ("amount > 500", "amount > 500: write an operator without spaces, like amount>500"),
        ("chai amount >500", "amount >500: write an operator without spaces"),
        ("after :2026-01-01", "after :2026-01-01: write an operator without spaces"),
    ],
)
def test_it_says_how_to_write_an_operator_typed_with_spaces_or_equals(text, message):
    """Searched for as words they would match nothing, silently."""
    with pytest.raises(SearchError) as raised:
        parse(text, categories=CATEGORIES)
    assert str(raised.value).startswith(message)


def test_it_still_finds_such_text_in_quotes():
    assert parse('"amount=500"', categories=CATEGORIES) == HistoryFilter(words=("amount=500",))
