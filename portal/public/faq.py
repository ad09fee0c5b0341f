"""Reads of the FAQ: the published questions by topic, and the search.

Search runs in PostgreSQL's full-text search (the question weighted above the answer, English stemming,
web-search syntax: "a phrase", `or`, `-word`), ranked; on another database (the embedded SQLite default)
a plainer search finds the entries holding every word or phrase, in the FAQ's own order.

The matched words come back marked, and never as HTML from the query or the content: PostgreSQL's
ts_headline marks them with two control characters that cannot occur in the text (they are stripped from
it and from the query first), the whole text is escaped, and only then are the marks turned into
`<mark>` tags. The plainer search marks what it finds the same way, in Python.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import groupby

from django.db import connections, router
from django.db.models import Q, QuerySet
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from portal.public.markdown import answer_text, render_answer
from portal.public.models import FaqEntry

MAX_QUERY_CHARS = 200  # longer searches are cut here (and the page says so)
MAX_HITS = 20
EXCERPT_CHARS = 220  # the plainer search's excerpt of an answer, about the size of ts_headline's

# ts_headline's marks: characters that are stripped from the query and the texts first.
START, STOP = "\x02", "\x03"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"\s+")
_FTS_CONFIG = "english"
_QUESTION_OPTIONS = f"StartSel={START}, StopSel={STOP}, HighlightAll=true"
_ANSWER_OPTIONS = (
    f'StartSel={START}, StopSel={STOP}, MaxWords=32, MinWords=16, MaxFragments=2, FragmentDelimiter=" … "'
)


@dataclass(frozen=True, slots=True)
class Question:
    slug: str
    question: str
    answer_html: SafeString


@dataclass(frozen=True, slots=True)
class Topic:
    name: str
    slug: str
    questions: list[Question]


@dataclass(frozen=True, slots=True)
class Hit:
    slug: str
    topic: str
    question_html: SafeString
    excerpt_html: SafeString


@dataclass(frozen=True, slots=True)
class Search:
    """What the visitor asked (cleaned: what the page echoes) and what it found."""

    query: str = ""
    trimmed: bool = False
    hits: tuple[Hit, ...] = ()


def _published() -> QuerySet[FaqEntry]:
    return FaqEntry.objects.filter(published=True)


def faq_categories() -> list[Topic]:
    """The published questions grouped by topic, in the staff's order (one query). Topics without a
    published question are left out."""
    entries = (
        _published()
        .select_related("category")
        .order_by("category__position", "category__name", "category_id", "position", "id")
    )
    topics = []
    for _category_id, group in groupby(entries, key=lambda entry: entry.category_id):
        members = list(group)
        category = members[0].category
        questions = [Question(e.slug, e.question, render_answer(e.answer)) for e in members]
        topics.append(Topic(category.name, category.slug, questions))
    return topics


def clean_query(raw: str) -> tuple[str, bool]:
    """The search as it will be run and echoed: control characters (NUL, which PostgreSQL refuses in text,
    and the highlight marks) removed, spaces collapsed, cut to MAX_QUERY_CHARS. Returns it and whether it
    was cut."""
    text = _SPACES.sub(" ", _CONTROL.sub("", raw or "")).strip()
    if len(text) <= MAX_QUERY_CHARS:
        return text, False
    return text[:MAX_QUERY_CHARS].rstrip(), True


def faq_read_search(*, raw: str) -> Search:
    """The page's search: the cleaned query and, when there is one, its hits."""
    query, trimmed = clean_query(raw)
    if not query:
        return Search(trimmed=trimmed)
    return Search(query=query, trimmed=trimmed, hits=tuple(faq_search(query=query)))


def faq_search(*, query: str) -> list[Hit]:
    """The published entries that match `query` (already cleaned), best first, at most MAX_HITS."""
    using = router.db_for_read(FaqEntry)
    if connections[using].vendor == "postgresql":
        return _search_postgresql(query, using=using)
    return search_contains(query=query, entries=_published())


# PostgreSQL


def _search_postgresql(query: str, *, using: str) -> list[Hit]:
    from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

    vector = SearchVector("question", weight="A", config=_FTS_CONFIG) + SearchVector(
        "answer", weight="B", config=_FTS_CONFIG
    )
    search = SearchQuery(query, search_type="websearch", config=_FTS_CONFIG)
    rows = list(
        _published()
        .using(using)
        .annotate(document=vector)
        .filter(document=search)
        .annotate(rank=SearchRank(vector, search))
        .order_by("-rank", "category__position", "category__name", "position", "id")
        .values_list("slug", "question", "answer", "category__name")[:MAX_HITS]
    )
    if not rows:
        return []
    questions = [_plain(question) for _slug, question, _answer, _topic in rows]
    answers = [_plain(answer_text(answer)) for _slug, _question, answer, _topic in rows]
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT ts_headline(%s::regconfig, t.q, query, %s), ts_headline(%s::regconfig, t.a, query, %s)"
            " FROM unnest(%s::text[], %s::text[]) WITH ORDINALITY AS t(q, a, n),"
            " websearch_to_tsquery(%s::regconfig, %s) AS query ORDER BY t.n",
            [
                _FTS_CONFIG,
                _QUESTION_OPTIONS,
                _FTS_CONFIG,
                _ANSWER_OPTIONS,
                questions,
                answers,
                _FTS_CONFIG,
                query,
            ],
        )
        headlines = cursor.fetchall()
    return [
        Hit(slug, topic, marked(question_line), marked(_ellipsis(excerpt, answer)))
        for (slug, _q, _a, topic), (question_line, excerpt), answer in zip(
            rows, headlines, answers, strict=True
        )
    ]


def _plain(text: str) -> str:
    return _CONTROL.sub("", text)


_TRAILING = ".,;:!?…) "


def _ellipsis(excerpt: str, whole: str) -> str:
    """ "…" where ts_headline's excerpt (fragments of the answer joined by " … ") starts after the answer's
    start or ends before its end."""
    fragments = excerpt.replace(START, "").replace(STOP, "").split(" … ")
    before = "" if whole.startswith(fragments[0].strip()) else "… "
    after = "" if whole.rstrip(_TRAILING).endswith(fragments[-1].strip().rstrip(_TRAILING)) else " …"
    return f"{before}{excerpt.strip()}{after}"


def marked(text: str) -> SafeString:
    """Text with START…STOP marks as HTML: all of it escaped, then the marks made `<mark>` tags."""
    html = escape(text).replace(START, "<mark>").replace(STOP, "</mark>")
    return mark_safe(html)  # noqa: S308 - escaped above; the only tags are the marks'


# Any database: every word or phrase, in the FAQ's order


@dataclass(frozen=True, slots=True)
class Terms:
    """A search as the plainer search reads it: each clause (a word, a "quoted phrase", or alternatives
    joined by `or`) must match; no `-excluded` word may."""

    clauses: list[list[str]]
    excluded: list[str]

    @property
    def words(self) -> list[str]:
        return [term for clause in self.clauses for term in clause]


_TOKEN = re.compile(r'(-)?(?:"([^"]*)(?:"|$)|([^\s"]+))')


def query_terms(query: str) -> Terms:
    """Words and phrases of a web-search style query. Terms without a letter or digit (`%_\\`, `--`) are
    dropped, as PostgreSQL's parser drops them."""
    clauses: list[list[str]] = []
    excluded: list[str] = []
    join_next = False
    for match in _TOKEN.finditer(query):
        negated, phrase, word = match.groups()
        term = _SPACES.sub(" ", phrase if phrase is not None else word).strip()
        if phrase is None and not negated and term.lower() == "or":
            join_next = bool(clauses)
            continue
        if not any(ch.isalnum() for ch in term):
            join_next = False
            continue
        if negated:
            excluded.append(term)
        elif join_next:
            clauses[-1].append(term)
        else:
            clauses.append([term])
        join_next = False
    return Terms(clauses, excluded)


def _contains(term: str) -> Q:
    return Q(question__icontains=term) | Q(answer__icontains=term)


def search_contains(*, query: str, entries: QuerySet[FaqEntry]) -> list[Hit]:
    """The entries of `entries` that hold every clause of `query` and no excluded word, in the FAQ's order,
    at most MAX_HITS. Plain ORM lookups: it runs on any database."""
    terms = query_terms(query)
    if not terms.clauses and not terms.excluded:
        return []
    condition = Q()
    for clause in terms.clauses:
        alternatives = Q()
        for term in clause:
            alternatives |= _contains(term)
        condition &= alternatives
    for term in terms.excluded:
        condition &= ~_contains(term)
    found = (
        entries.filter(condition)
        .select_related("category")
        .order_by("category__position", "category__name", "position", "id")[:MAX_HITS]
    )
    return [
        Hit(
            entry.slug,
            entry.category.name,
            highlight(_plain(entry.question), terms.words),
            highlight(excerpt(_plain(answer_text(entry.answer)), terms.words), terms.words),
        )
        for entry in found
    ]


def _pattern(words: list[str]) -> re.Pattern[str] | None:
    if not words:
        return None
    alternatives = sorted({w for w in words if w}, key=len, reverse=True)
    return re.compile("|".join(re.escape(w) for w in alternatives), re.IGNORECASE)


def highlight(text: str, words: list[str]) -> SafeString:
    """`text` escaped, each occurrence of a word (any case) in `<mark>`."""
    pattern = _pattern(words)
    if pattern is None:
        return marked(text)
    return marked(pattern.sub(lambda m: f"{START}{m.group(0)}{STOP}", _plain(text)))


def excerpt(text: str, words: list[str], *, size: int = EXCERPT_CHARS) -> str:
    """About `size` characters of `text` around the first word found (its start if none), cut at spaces,
    with "…" where it was cut."""
    if len(text) <= size:
        return text
    pattern = _pattern(words)
    found = pattern.search(text) if pattern else None
    start = max(0, found.start() - size // 3) if found else 0
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < (found.start() if found else start + 20) else start
    end = min(len(text), start + size)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start else end
    return f"{'… ' if start else ''}{text[start:end].strip()}{' …' if end < len(text) else ''}"
