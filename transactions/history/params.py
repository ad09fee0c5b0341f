"""The history's GET parameters read into a `HistoryFilter`: the one reading that the history page and its
export share, so that an export holds exactly the rows the page showed.

The filter form's fields: `date_from`, `date_to` (YYYY-MM-DD, days in India), `amount_min`, `amount_max`
(rupees, as `portal.money.parse_rupees` reads them), `direction` (debit or credit), `category` (a slug;
may repeat), `text` (words, each in the description or the counterparty); and `q`, the operator search
(`search.py`), merged with them. Other parameters (a cursor, a page size) are not this module's.
"""

import datetime
import re

from django.http import QueryDict

from portal.money import AmountError, parse_rupees
from transactions.categories import CATEGORIES
from transactions.history import search
from transactions.history.filters import CREDIT, DEBIT, HistoryFilter

TEXT_MAX_LENGTH = 200
_SINGLE = ("date_from", "date_to", "amount_min", "amount_max", "direction", "text", "q")


def filter_from_query(params: QueryDict) -> tuple[HistoryFilter, dict[str, str]]:
    """The filter the parameters ask for, and a message for each parameter that could not be read (by its
    name). The filter holds only what was read: with any error it is not what was asked for, and a caller
    that must be exact (the export) refuses; the page shows the messages beside the fields."""
    errors: dict[str, str] = {}
    for name in _SINGLE:
        if len(params.getlist(name)) > 1:
            errors[name] = "Give this only once."

    def one(name: str) -> str:
        return "" if name in errors else params.get(name, "").strip()

    found: dict[str, object] = {}
    for name in ("date_from", "date_to"):
        if text := one(name):
            if (day := _date(text)) is None:
                errors[name] = "Enter a real date like 2026-03-31."
            else:
                found[name] = day
    if "date_from" in found and "date_to" in found and found["date_from"] > found["date_to"]:
        errors["date_to"] = "This date is before the start date."
        del found["date_to"]
    for name in ("amount_min", "amount_max"):
        if text := one(name):
            try:
                found[name] = parse_rupees(text)
            except AmountError as error:
                errors[name] = str(error)
    if "amount_min" in found and "amount_max" in found and found["amount_min"] > found["amount_max"]:
        errors["amount_max"] = "This amount is below the smallest amount."
        del found["amount_max"]
    if direction := one("direction"):
        if direction in (DEBIT, CREDIT):
            found["direction"] = direction
        else:
            errors["direction"] = "Choose money in or money out."
    categories = tuple(dict.fromkeys(slug for slug in params.getlist("category") if slug))
    if unknown := [slug for slug in categories if slug not in CATEGORIES]:
        errors["category"] = f"There is no category “{unknown[0][:30]}”."
    elif categories:
        found["categories"] = categories
    if text := one("text"):
        if len(text) > TEXT_MAX_LENGTH:
            errors["text"] = f"Keep the text under {TEXT_MAX_LENGTH} characters."
        else:
            found["words"] = tuple(dict.fromkeys(text.split()))
    result = HistoryFilter(**found)  # type: ignore[arg-type]
    if q := one("q"):
        try:
            result = result.merged(search.parse(q))
        except search.SearchError as error:
            errors["q"] = str(error)
    return result, errors


def _date(text: str) -> datetime.date | None:
    """A day written YYYY-MM-DD (what a date input sends), or None: not a date, or no such day."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text, re.ASCII):
        return None
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        return None
