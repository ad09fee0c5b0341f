"""filter_from_query: the history page's GET parameters read into a HistoryFilter (shared by the page and
its export), with a message for each parameter that cannot be read."""

import datetime

import pytest
from django.http import QueryDict

from transactions.history.filters import HistoryFilter
from transactions.history.params import filter_from_query


def read(query: str) -> tuple[HistoryFilter, dict[str, str]]:
    return filter_from_query(QueryDict(query))


def test_it_reads_nothing_as_the_empty_filter():
    assert read("") == (HistoryFilter(), {})
    assert read("date_from=&amount_min=&direction=&category=&text=&q=") == (HistoryFilter(), {})


def test_it_ignores_parameters_that_are_not_filters():
    assert read("cursor=abc&size=50&page=2") == (HistoryFilter(), {})


def test_it_reads_every_field():
    found, errors = read(
        "date_from=2026-01-01&date_to=2026-03-31&amount_min=100&amount_max=1,500.50&direction=debit"
        "&category=groceries&category=dining&text=Big+Bazaar"
    )
    assert errors == {}
    assert found == HistoryFilter(
        date_from=datetime.date(2026, 1, 1),
        date_to=datetime.date(2026, 3, 31),
        amount_min=100_00,
        amount_max=1_500_50,
        direction="debit",
        categories=("groceries", "dining"),
        words=("Big", "Bazaar"),
    )


def test_it_merges_the_search_with_the_form():
    found, errors = read("direction=credit&text=salary&q=acme")
    assert errors == {}
    assert found == HistoryFilter(direction="credit", words=("salary", "acme"))


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("date_from=2026-02-30", "date_from", "Enter a real date like 2026-03-31."),
        ("date_to=31/03/2026", "date_to", "Enter a real date like 2026-03-31."),
        ("date_from=20260101", "date_from", "Enter a real date like 2026-03-31."),
        ("date_from=2026-04-01&date_to=2026-03-01", "date_to", "This date is before the start date."),
        ("amount_min=abc", "amount_min", "Enter an amount in rupees, like 1500 or 1,500.50."),
        ("amount_max=-5", "amount_max", "Enter an amount greater than zero."),
        (
            "amount_min=1.234",
            "amount_min",
            "Enter an amount with at most two digits after the decimal point.",
        ),
        ("amount_min=500&amount_max=100", "amount_max", "This amount is below the smallest amount."),
        ("direction=sideways", "direction", "Choose money in or money out."),
        ("category=bribes", "category", "There is no category “bribes”."),
        ("text=" + "x" * 201, "text", "Keep the text under 200 characters."),
        ("q=" + "x" * 201, "q", "Keep the search under 200 characters."),
        ("date_from=2026-01-01&date_from=2026-02-01", "date_from", "Give this only once."),
    ],
)
def test_it_names_each_parameter_it_cannot_read(query, field, message):
    _, errors = read(query)
    assert errors == {field: message}


def test_it_keeps_the_fields_it_could_read_beside_the_errors():
    found, errors = read("date_from=2026-01-01&amount_min=abc&direction=credit")
    assert set(errors) == {"amount_min"}
    assert found == HistoryFilter(date_from=datetime.date(2026, 1, 1), direction="credit")
