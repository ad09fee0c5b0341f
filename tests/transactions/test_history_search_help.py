"""The history search's help fragment (templates/transactions/_search_help.html) says what the parser does:
every operator is in it, every example in it parses (or is refused, where the help says so), its limits
are the parser's."""

import datetime
import html
import re

from django.template.loader import render_to_string

from transactions.categories import CATEGORIES
from transactions.history.filters import HistoryFilter
from transactions.history.search import MAX_LENGTH, MAX_TERMS, OPERATORS, SearchError, parse

UNSUPPORTED = {"-chai"}  # shown as what does not work


def _help() -> str:
    return render_to_string("transactions/_search_help.html")


def _examples(page: str) -> list[str]:
    return [html.unescape(code) for code in re.findall(r"<code>(.*?)</code>", page)]


def test_it_is_a_disclosure_named_search_help_that_works_without_javascript():
    page = _help()
    assert page.strip().startswith("<details") and page.rstrip().endswith("</details>")
    summary = re.search(r"<summary[^>]*>(.*?)</summary>", page).group(1)
    assert '<span class="visually-hidden">Search help</span>' in summary
    assert '<span aria-hidden="true">?</span>' in summary
    assert "<script" not in page


def test_it_shows_every_operator_with_an_example():
    examples = _examples(_help())
    for operator in OPERATORS:
        assert any(
            example.startswith(f"{operator}:") or example.startswith(f"{operator}>") for example in examples
        )
    assert {"debit", "credit", "-category:rent", "amount:100..2000", '"big bazaar"'} <= set(examples)
    assert {"amount>=500", "amount<500", "amount<=500", "amount:..2000", "amount:100.."} <= set(examples)


def test_every_example_in_the_help_parses_as_it_says():
    examples = _examples(_help())
    assert len(examples) >= 15
    for example in examples:
        if example in UNSUPPORTED:
            try:
                parse(example, categories=CATEGORIES)
            except SearchError as error:
                assert "not supported" in str(error)
            else:
                raise AssertionError(f"{example} should be refused")
            continue
        assert parse(example, categories=CATEGORIES) != HistoryFilter()


def test_it_states_the_parsers_limits_and_that_dates_include_the_day():
    page = _help()
    assert f"At most {MAX_TERMS} terms and {MAX_LENGTH} characters" in page
    assert "On or after 1 Jan 2026" in page and "On or before 31 Mar 2026" in page
    found = parse("after:2026-01-01 before:2026-03-31")
    assert (found.date_from, found.date_to) == (datetime.date(2026, 1, 1), datetime.date(2026, 3, 31))
