"""The operator search box of the history page: one line of text parsed into a `HistoryFilter`.

The grammar (terms separated by spaces; operator names are case-insensitive):

    amount>500  amount>=500  amount<500  amount<=500   the entry's size in rupees (a debit of ₹500 is 500)
    amount:500                                         exactly ₹500
    amount:100..2000  amount:..2000  amount:100..      a range, ends included, either end open
    category:groceries  category:"Eating out"          the category's slug or name; several: any of them
    -category:rent                                     not in the category (uncategorised: "other")
    after:2026-01-01                                   on or after that day (India's date)
    before:2026-03-31                                  on or before that day (India's date)
    month:2026-02                                      that month, first day to last
    to:bazaar  to:"Big Bazaar"                         the counterparty contains the text
    debit  credit                                      money out / money in
    chai  "big bazaar"                                 the description or the counterparty contains it

Amounts are rupees with at most two decimals, with or without grouping commas (1,50,000 or 150,000);
`amount>500` means at least ₹500.01. Every term narrows the result; repeated terms combine the way
`HistoryFilter.merged` does (the narrowest range, `debit credit` matches nothing, categories: any of them).
Text in quotes is searched for as written, operators and all (`"credit"` finds "Credit card bill").
A `-` before anything but `category:` is refused (excluding words is not supported: the filter has no
field for it); so are control characters (PostgreSQL cannot take a NUL), more than MAX_TERMS terms and more
than MAX_LENGTH characters.

`parse` raises `SearchError` (and nothing else, whatever the text) with a message that names the term and
the fix; `describe` writes a filter back as canonical search text, so `parse(describe(f)) == f` for every
`f` that `parse` returns.
"""

import calendar
import datetime
import difflib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from django.utils.translation import gettext as _

from portal.money import AmountError, parse_rupees
from transactions.history.filters import CREDIT, DEBIT, HistoryFilter

MAX_LENGTH = 200
MAX_TERMS = 20

OPERATORS = ("amount", "category", "after", "before", "month", "to")
_QUOTES = {'"': '"', "“": "”", "”": "”", "„": "“"}  # what opens a quote: what may close it (or ")
_OPERATOR_RE = re.compile(r"([A-Za-z]+)(>=|<=|>|<|:)(.*)", re.DOTALL)
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_MONTH_RE = re.compile(r"\d{4}-\d{2}", re.ASCII)
_ZERO_RE = re.compile(r"₹?0+(?:\.0{1,2})?")


class SearchError(ValueError):
    """The search text does not parse; the message says where and why, fit to show the customer."""


@dataclass(frozen=True)
class _Term:
    raw: str  # as typed, quotes and all (for messages)
    head: str  # the text before the first quote ("" when the term starts with a quote)
    value: str  # the whole term with its quotes taken out
    quoted: bool


def parse(text: str, *, categories: Mapping[str, str] | None = None) -> HistoryFilter:
    """The filter that `text` asks for. `categories` maps each category's slug to its name; without it
    the categories are read from the database once, and only if the text has a `category:` term."""
    if not isinstance(text, str):
        raise SearchError(_("Enter the search as text."))
    if len(text) > MAX_LENGTH:
        raise SearchError(
            _("Keep the search to %(max)d characters at most (this one has %(length)d).")
            % {"max": MAX_LENGTH, "length": len(text)}
        )
    for char in text:
        if unicodedata.category(char) in ("Cc", "Cs") and not char.isspace():
            raise SearchError(
                _("The search contains a control character that cannot be searched for; remove it.")
            )
    terms = _terms(text)
    if len(terms) > MAX_TERMS:
        raise SearchError(
            _("Use at most %(max)d search terms (this search has %(count)d).")
            % {"max": MAX_TERMS, "count": len(terms)}
        )
    _check_spacing(terms)
    reader = _Categories(categories)
    result = HistoryFilter()
    for term in terms:
        result = result.merged(_term_filter(term, reader))
    return result


_EQUALS_RE = re.compile(r"([A-Za-z]+)=(.*)", re.DOTALL)


def _check_spacing(terms: list[_Term]) -> None:
    """An operator written the way people type it elsewhere (`amount=500`, `amount > 500`) would otherwise
    be searched for as words and match nothing, silently: say how to write it."""
    for i, term in enumerate(terms):
        if term.quoted:
            continue
        if (match := _EQUALS_RE.fullmatch(term.value)) and match.group(1).lower() in OPERATORS:
            name, value = match.group(1).lower(), match.group(2)
            raise SearchError(
                _(
                    "%(term)s: write %(name)s:%(value)s (with a colon), or put it in quotes to find it as "
                    "written."
                )
                % {"term": term.raw, "name": name, "value": value}
            )
        following = terms[i + 1].raw if i + 1 < len(terms) else ""
        spaced = term.value.lower() in OPERATORS and following[:1] in (">", "<", ":", "=")
        if spaced or (term.value[:1] in (">", "<") and i > 0 and terms[i - 1].value.lower() in OPERATORS):
            shown = " ".join(t.raw for t in terms[max(i - 1, 0) if not spaced else i : i + 3])
            raise SearchError(
                _("%(term)s: write an operator without spaces, like amount>500 or after:2026-01-01.")
                % {"term": shown}
            )


def _terms(text: str) -> list[_Term]:
    """Split at spaces outside quotes; an unclosed quote is an error."""
    terms: list[_Term] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        start, parts, head, quoted = i, [], None, False
        while i < n and not text[i].isspace():
            char = text[i]
            if char in _QUOTES:
                close = _closing_quote(text, i + 1, _QUOTES[char])
                if close < 0:
                    shown = text[start : start + 30].rstrip()
                    raise SearchError(
                        _('%(term)s: the quote is not closed; add a " after the quoted text.')
                        % {"term": shown}
                    )
                if head is None:
                    head = "".join(parts)
                parts.append(text[i + 1 : close])
                quoted, i = True, close + 1
            else:
                parts.append(char)
                i += 1
        value = "".join(parts)
        terms.append(
            _Term(raw=text[start:i], head=value if head is None else head, value=value, quoted=quoted)
        )
    return terms


def _closing_quote(text: str, start: int, closer: str) -> int:
    for i in range(start, len(text)):
        if text[i] == closer or text[i] == '"':
            return i
    return -1


class _Categories:
    """The categories (slug -> name), read at most once per parse."""

    def __init__(self, given: Mapping[str, str] | None) -> None:
        self._known = dict(given) if given is not None else None

    def known(self) -> dict[str, str]:
        if self._known is None:
            from transactions.models import Category

            self._known = dict(Category.objects.values_list("slug", "name"))
        return self._known

    def slug(self, text: str, raw: str) -> str:
        known = self.known()
        if not known:
            raise SearchError(_("%(term)s: there are no categories to search by yet.") % {"term": raw})
        wanted = text.casefold()
        for slug, name in known.items():
            if wanted in (slug.casefold(), name.casefold()):
                return slug
        close = difflib.get_close_matches(wanted, list(known), n=3, cutoff=0.6)
        suggestions = close or sorted(known)[:5]
        listed = ", ".join(suggestions) + ("" if close or len(known) <= 5 else ", …")
        raise SearchError(
            _('%(term)s: there is no category "%(name)s". Try one of: %(known)s.')
            % {"term": raw, "name": text, "known": listed}
        )


def _term_filter(term: _Term, categories: _Categories) -> HistoryFilter:
    if not term.head:  # starts with a quote: a phrase, searched for as written
        phrase = term.value.strip()
        if not phrase:
            raise SearchError(
                _("%(term)s: empty quotes search for nothing; remove them or type a phrase.")
                % {"term": term.raw}
            )
        return HistoryFilter(words=(phrase,))
    negated = term.head.startswith("-")
    head = term.head[1:] if negated else term.head
    match = _OPERATOR_RE.fullmatch(head)
    if match is None:
        if negated:
            if term.value.strip() == "-":
                raise SearchError(
                    _('A lone "-" means nothing here: remove it, or put "-" in quotes to search for it.')
                )
            raise SearchError(
                _(
                    "%(term)s: excluding words is not supported. Search for what you want, or put it in "
                    'quotes ("%(text)s") to find it as written. Only -category: can exclude.'
                )
                % {"term": term.raw, "text": term.value}
            )
        word = term.value.strip()
        if word.casefold() in (DEBIT, CREDIT) and not term.quoted:
            return HistoryFilter(direction=word.casefold())
        return HistoryFilter(words=(word,))
    name, sign = match.group(1).lower(), match.group(2)
    value = term.value[len(term.head) - len(match.group(3)) :]
    if name not in OPERATORS:
        guess = difflib.get_close_matches(name, OPERATORS, n=1)
        hint = _("Did you mean %(name)s? ") % {"name": guess[0]} if guess else ""
        raise SearchError(
            _(
                "%(term)s: %(name)s is not a search operator. %(hint)sThe operators are %(operators)s, debit "
                'and credit. To search for the text, put it in quotes: "%(text)s".'
            )
            % {
                "term": term.raw,
                "name": match.group(1),
                "hint": hint,
                "operators": ", ".join(o + ":" for o in OPERATORS),
                "text": term.value,
            }
        )
    if negated and name != "category":
        raise SearchError(
            _("%(term)s: only -category: can exclude; remove the - before %(name)s.")
            % {"term": term.raw, "name": name}
        )
    if sign != ":" and name != "amount":
        raise SearchError(
            _("%(term)s: write %(fixed)s; only amount takes >, >=, < or <=.")
            % {"term": term.raw, "fixed": f"{name}:{value}"}
        )
    if not value.strip():
        raise SearchError(
            _("%(term)s has no value: write it like %(example)s.")
            % {"term": term.raw, "example": _EXAMPLES[name]}
        )
    if name == "amount":
        return _amount(term.raw, sign, value)
    if name == "category":
        slug = categories.slug(value.strip(), term.raw)
        return HistoryFilter(exclude_categories=(slug,)) if negated else HistoryFilter(categories=(slug,))
    if name == "after":
        return HistoryFilter(date_from=_date(term.raw, value))
    if name == "before":
        return HistoryFilter(date_to=_date(term.raw, value))
    if name == "month":
        first, last = _month(term.raw, value)
        return HistoryFilter(date_from=first, date_to=last)
    return HistoryFilter(counterparties=(value.strip(),))  # to:


_EXAMPLES = {
    "amount": "amount>500 or amount:100..2000",
    "category": "category:groceries",
    "after": "after:2026-01-01",
    "before": "before:2026-03-31",
    "month": "month:2026-02",
    "to": 'to:bazaar or to:"Big Bazaar"',
}


def _rupees(raw: str, text: str) -> int:
    """Paise for `text` (0 allowed: `amount>0`)."""
    if _ZERO_RE.fullmatch(text.strip()):
        return 0
    try:
        return parse_rupees(text)
    except AmountError:
        raise SearchError(
            _(
                "%(term)s: %(text)s is not an amount. Write rupees like 500, 1,500.50 or 1,50,000 (at most "
                "two decimals)."
            )
            % {"term": raw, "text": text}
        ) from None


def _amount(raw: str, sign: str, value: str) -> HistoryFilter:
    if sign == ">":
        return HistoryFilter(amount_min=_rupees(raw, value) + 1)
    if sign == ">=":
        return HistoryFilter(amount_min=_rupees(raw, value))
    if sign == "<":
        return HistoryFilter(amount_max=_rupees(raw, value) - 1)
    if sign == "<=":
        return HistoryFilter(amount_max=_rupees(raw, value))
    if ".." not in value:
        exact = _rupees(raw, value)
        return HistoryFilter(amount_min=exact, amount_max=exact)
    low_text, _dots, high_text = value.partition("..")
    if not low_text.strip() and not high_text.strip():
        raise SearchError(
            _("%(term)s: give at least one end of the range, like amount:100..2000 or amount:..2000.")
            % {"term": raw}
        )
    low = _rupees(raw, low_text) if low_text.strip() else None
    high = _rupees(raw, high_text) if high_text.strip() else None
    if low is not None and high is not None and low > high:
        raise SearchError(
            _("%(term)s: the range starts above where it ends; write the smaller amount first (%(fixed)s).")
            % {"term": raw, "fixed": f"amount:{high_text}..{low_text}"}
        )
    return HistoryFilter(amount_min=low, amount_max=high)


def _date(raw: str, text: str) -> datetime.date:
    text = text.strip()
    if _DATE_RE.fullmatch(text):
        try:
            return datetime.date.fromisoformat(text)
        except ValueError:
            pass
    raise SearchError(_("%(term)s: %(text)s is not a date (use YYYY-MM-DD).") % {"term": raw, "text": text})


def _month(raw: str, text: str) -> tuple[datetime.date, datetime.date]:
    text = text.strip()
    if _MONTH_RE.fullmatch(text):
        year, month = int(text[:4]), int(text[5:])
        if year >= 1 and 1 <= month <= 12:
            last = calendar.monthrange(year, month)[1]
            return datetime.date(year, month, 1), datetime.date(year, month, last)
    raise SearchError(_("%(term)s: %(text)s is not a month (use YYYY-MM).") % {"term": raw, "text": text})


# ----- writing a filter back as search text -----


def describe(f: HistoryFilter) -> str:
    """`f` as canonical search text: direction, amount, categories, dates, counterparties, words. For a
    filter that `parse` made, `parse(describe(f)) == f` (with the same categories). A double quote inside a
    text cannot be written in the search; it is left out."""
    terms: list[str] = []
    low, high = f.amount_min, f.amount_max
    nothing_by_direction = f.direction is None and low == 1 and high == 0  # what `debit credit` leaves
    if nothing_by_direction:
        terms += [DEBIT, CREDIT]
    elif f.direction:
        terms.append(f.direction)
    if not nothing_by_direction:
        terms += _describe_amount(low, high)
    terms += [f"category:{_quoted(slug)}" for slug in f.categories]
    terms += [f"-category:{_quoted(slug)}" for slug in f.exclude_categories]
    terms += _describe_dates(f.date_from, f.date_to)
    terms += [f"to:{_quoted(name)}" for name in f.counterparties]
    terms += [_word(word) for word in f.words]
    return " ".join(terms)


def _show_rupees(paise: int) -> str:
    rupees, rest = divmod(paise, 100)
    return f"{rupees}.{rest:02d}" if rest else str(rupees)


def _describe_amount(low: int | None, high: int | None) -> list[str]:
    if low is not None and low < 0:
        low = None  # every entry's size is above 0 (`parse` never makes one)
    if high is not None and high < 0:  # nothing: `parse` makes -1 of amount<0
        return ([f"amount>={_show_rupees(low)}"] if low is not None else []) + ["amount<0"]
    if low is not None and high is not None:
        if low == high:
            return [f"amount:{_show_rupees(low)}"]
        if low < high:
            return [f"amount:{_show_rupees(low)}..{_show_rupees(high)}"]
        return [f"amount>={_show_rupees(low)}", f"amount<={_show_rupees(high)}"]
    if low is not None:
        return [f"amount>={_show_rupees(low)}"]
    if high is not None:
        return [f"amount<={_show_rupees(high)}"]
    return []


def _describe_dates(first: datetime.date | None, last: datetime.date | None) -> list[str]:
    if (
        first is not None
        and last is not None
        and first.day == 1
        and (first.year, first.month) == (last.year, last.month)
        and last.day == calendar.monthrange(last.year, last.month)[1]
    ):
        return [f"month:{first.year:04d}-{first.month:02d}"]
    found = []
    if first is not None:
        found.append(f"after:{first.isoformat()}")
    if last is not None:
        found.append(f"before:{last.isoformat()}")
    return found


def _needs_quotes(text: str) -> bool:
    return not text or any(char.isspace() or char in _QUOTES for char in text)


def _quoted(text: str) -> str:
    """An operator's value, in quotes if it has a space or a quote mark (`parse` never leaves a straight
    quote in a value; curly ones are plain text inside straight quotes)."""
    text = text.replace('"', "")
    return f'"{text}"' if _needs_quotes(text) else text


def _word(text: str) -> str:
    """A free word; in quotes if bare it would read as something else (an operator, a direction, an
    exclusion) or holds a space."""
    text = text.replace('"', "")
    if (
        _needs_quotes(text)
        or text.startswith("-")
        or text.casefold() in (DEBIT, CREDIT)
        or _OPERATOR_RE.fullmatch(text)
    ):
        return f'"{text}"'
    return text
