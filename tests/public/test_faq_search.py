"""The FAQ search (portal/public/faq.py): PostgreSQL's full-text search, the plainer search for other
databases, and the marking of matched words, which must never let HTML from the query or the content
through."""

import pytest
from django.db import connection

from portal.public import faq
from portal.public.faq import clean_query, excerpt, faq_search, highlight, query_terms, search_contains
from portal.public.models import FaqEntry
from tests.public.faq_data import make_faq


@pytest.fixture
def entries(db):
    return make_faq()


def _slugs(hits) -> list[str]:
    return [hit.slug for hit in hits]


# PostgreSQL


def test_it_finds_other_forms_of_a_word(entries):
    # "charges" finds "charge" (English stemming); the question's match ranks above the answer's.
    assert _slugs(faq_search(query="charges")) == ["imps-fees", "neft-cost"]


def test_it_never_finds_a_draft(entries):
    for query in ("charges", "unpublished", "draft", "locker", "NEFT IMPS"):
        assert not {"secret-draft", "locker-draft"} & set(_slugs(faq_search(query=query)))


def test_it_matches_a_quoted_phrase(entries):
    assert _slugs(faq_search(query='"new payee"')) == ["cooling-off"]
    assert _slugs(faq_search(query='"payee new"')) == []


def test_it_leaves_out_a_minus_word(entries):
    assert _slugs(faq_search(query="transfer")) == ["neft-cost", "cancel-scheduled"]
    assert _slugs(faq_search(query="transfer -neft")) == ["cancel-scheduled"]


def test_it_takes_either_word_with_or(entries):
    assert set(_slugs(faq_search(query="PAN or GST"))) == {"open-account", "imps-fees"}
    assert _slugs(faq_search(query="PAN GST")) == []


def test_it_marks_the_matched_words(entries):
    imps, neft = faq_search(query="charges")
    assert imps.question_html == "Are there <mark>charges</mark> for IMPS?"
    assert imps.topic == "Transfers and payees"
    assert "free of <mark>charge</mark>." in neft.excerpt_html
    assert "<mark>" not in neft.question_html


def test_it_escapes_the_content_around_its_marks(entries):
    FaqEntry.objects.create(
        category=entries["imps-fees"].category,
        slug="html-question",
        question="Is <img src=x onerror=alert(1)> a charge?",
        answer="A <script>alert(1)</script> charge & a \x02fake\x03 mark.",
        published=True,
    )
    (hit,) = [hit for hit in faq_search(query="charge") if hit.slug == "html-question"]
    assert hit.question_html == "Is &lt;img src=x onerror=alert(1)&gt; a <mark>charge</mark>?"
    # PostgreSQL's parser reads the tags in the answer as tags and leaves them out of the excerpt.
    assert hit.excerpt_html == "… <mark>charge</mark> &amp; a fake mark"
    assert "<img" not in hit.question_html


def test_it_uses_the_gin_index_when_the_planner_would(entries):
    with connection.cursor() as cursor:
        # With plain scans of the table and of its btree indexes priced out, only a bitmap scan of an index
        # that answers the condition is left: the planner's choice then shows the GIN index fits the query
        # (with them allowed, it may walk the ordering index instead, by the statistics of the moment).
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        queryset = FaqEntry.objects.filter(published=True)
        from django.contrib.postgres.search import SearchQuery, SearchVector

        vector = SearchVector("question", weight="A", config="english") + SearchVector(
            "answer", weight="B", config="english"
        )
        plan = (
            queryset.annotate(document=vector)
            .filter(document=SearchQuery("charges", search_type="websearch", config="english"))
            .explain()
        )
    assert "public_faqentry_search" in plan


@pytest.mark.parametrize(
    "query",
    [
        "<script>alert(1)</script>",
        '"unbalanced quote',
        "' OR 1=1 --",
        "%_\\",
        "a\x00b",
        "-",
        '""',
        "or",
        "x" * 200,
    ],
)
def test_it_answers_any_query(entries, query):
    cleaned, _trimmed = clean_query(query)
    faq_search(query=cleaned)  # no error


def test_it_caps_the_number_of_hits(entries, monkeypatch):
    monkeypatch.setattr(faq, "MAX_HITS", 2)
    assert len(faq_search(query="transfer or charges or payee")) == 2


def test_it_uses_the_plainer_search_on_other_databases(entries, monkeypatch):
    monkeypatch.setattr(connection, "vendor", "sqlite")
    # No stemming there: "charge" as a substring, in the FAQ's order.
    assert _slugs(faq_search(query="charge")) == ["neft-cost", "imps-fees"]


# The query as read from the page


def test_it_cleans_the_query():
    assert clean_query("  NEFT \x00 \x02charges\x03\t\n ") == ("NEFT charges", False)
    assert clean_query("") == ("", False)
    long, trimmed = clean_query("word " * 1000)
    assert trimmed and len(long) <= faq.MAX_QUERY_CHARS and not long.endswith(" ")


# The plainer search (any database; run here on PostgreSQL through the same ORM lookups)


def _contains(query: str) -> list[str]:
    return _slugs(search_contains(query=query, entries=FaqEntry.objects.filter(published=True)))


def test_its_plainer_search_needs_every_word(entries):
    assert _contains("transfer branch") == ["neft-cost"]
    assert _contains("TRANSFER") == ["neft-cost", "cancel-scheduled"]
    assert _contains("charges") == ["imps-fees"]
    assert _contains("unpublished") == []


def test_its_plainer_search_reads_phrases_minus_and_or(entries):
    assert _contains('"new payee"') == ["cooling-off"]
    assert _contains('"payee new"') == []
    assert _contains("transfer -neft") == ["cancel-scheduled"]
    assert _contains("PAN or GST") == ["open-account", "imps-fees"]
    assert _contains('"unbalanced quote') == []
    assert _contains("%_\\") == []
    assert _contains("' OR 1=1 --") == []


def test_its_plainer_search_marks_and_escapes(entries):
    (hit,) = search_contains(query='"NEFT transfer"', entries=FaqEntry.objects.filter(published=True))
    assert hit.question_html == "What does an <mark>NEFT transfer</mark> cost?"
    assert hit.excerpt_html.startswith("Online <mark>NEFT transfer</mark>s are free of charge.")


def test_it_reads_the_terms_of_a_query():
    terms = query_terms('fees "new payee" or upi -card -"debit card" or %_ "open')
    assert terms.clauses == [["fees"], ["new payee", "upi"], ["open"]]
    assert terms.excluded == ["card", "debit card"]
    assert query_terms("or or").clauses == []


def test_it_marks_words_in_any_case_and_escapes_the_rest():
    html = highlight('<b>NEFT</b> & neft "1+1"', ["neft", "1+1"])
    assert html == "&lt;b&gt;<mark>NEFT</mark>&lt;/b&gt; &amp; <mark>neft</mark> &quot;<mark>1+1</mark>&quot;"
    assert highlight("a <i>", []) == "a &lt;i&gt;"
    assert highlight("no \x02marks\x03 here", ["marks"]) == "no <mark>marks</mark> here"


def test_it_cuts_an_excerpt_around_the_first_match():
    text = " ".join(f"word{n}" for n in range(200)) + " IFSC " + " ".join(f"tail{n}" for n in range(200))
    cut = excerpt(text, ["ifsc"])
    assert cut.startswith("… ") and cut.endswith(" …") and "IFSC" in cut
    assert len(cut) <= faq.EXCERPT_CHARS + 4
    assert excerpt("short text", ["x"]) == "short text"
    assert excerpt(text, ["absent"]).startswith("word0 ")
