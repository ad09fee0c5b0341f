"""What a customer asked to see of an account's history, and how it narrows the ledger's entries.

`HistoryFilter` is one value for the filter form's fields (GET parameters) and the operator search box
(`search.py`): both parse into it, and `merged` combines them. It narrows a queryset of `Entry` rows of one
account with conditions that keep PostgreSQL on the history index (account, created, id): dates become a
range of `created`, never a function of the column.
"""

import datetime
from dataclasses import dataclass, fields, replace
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Coalesce

from transactions.models import Entry

DEBIT, CREDIT = "debit", "credit"
OTHER = "other"  # the category of an entry that neither its holder nor the bank categorised


def effective_category() -> Coalesce:
    """The category a customer sees on an entry (SQL): their own (`insights.EntryCategory`: chosen by hand or
    by a rule), else the transaction's (the bank's, shared by both parties), else "other". The history
    shows, filters and exports this one; the insights' daily sums add it up (transactions/insights/rollup.py).
    """
    return Coalesce("customer_category__category_id", "transaction__category_id", Value(OTHER))


def day_start(day: datetime.date) -> datetime.datetime:
    """The first moment of `day` in India (the portal's time zone): a customer's dates are India's."""
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))


@dataclass(frozen=True)
class HistoryFilter:
    """Each field narrows the entries; an empty field does not. Amounts are paise and compare the size of an
    entry (a debit of ₹500 and a credit of ₹500 are both 50000), inclusive at both ends; dates are days in
    India, inclusive at both ends. Text matches case-insensitively anywhere in the field."""

    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    amount_min: int | None = None
    amount_max: int | None = None
    direction: str | None = None  # DEBIT or CREDIT
    # Categories are the one the customer sees (`effective_category`): an uncategorised entry is "other".
    categories: tuple[str, ...] = ()  # any of these (category slugs)
    exclude_categories: tuple[str, ...] = ()  # none of these
    words: tuple[str, ...] = ()  # each in the description or the counterparty
    counterparties: tuple[str, ...] = ()  # each in the counterparty (the search's `to:`)

    @property
    def is_empty(self) -> bool:
        return self == HistoryFilter()

    def merged(self, other: "HistoryFilter") -> "HistoryFilter":
        """Both filters at once: the narrower bound of each range, the direction if they agree (two that
        disagree match nothing: an empty amount range, 1 paisa to 0), the union of the lists. The result
        does not depend on the order of merging (but for the order of the lists)."""
        changes: dict[str, object] = {}
        for name, narrower in (
            ("date_from", max),
            ("amount_min", max),
            ("date_to", min),
            ("amount_max", min),
        ):
            both = [v for v in (getattr(self, name), getattr(other, name)) if v is not None]
            changes[name] = narrower(both) if both else None  # (a bound of 0 is a bound, not "none")
        changes["direction"] = self.direction or other.direction
        for name in ("categories", "exclude_categories", "words", "counterparties"):
            changes[name] = tuple(dict.fromkeys(getattr(self, name) + getattr(other, name)))
        result = replace(self, **changes)
        low, high = result.amount_min, result.amount_max
        if self.direction and other.direction and self.direction != other.direction:
            # Nothing is both: an amount range nothing is in, as narrow as any bound already there.
            low, high = max(1, low if low is not None else 1), min(0, high if high is not None else 0)
            result = replace(result, amount_min=low, amount_max=high)
        if low is not None and high is not None and low > high:
            # Nothing matches, whatever the direction: leave it out, so that the order in which filters
            # are merged does not matter (debit, credit, debit is credit, debit, debit).
            result = replace(result, direction=None)
        return result

    def apply(self, entries: QuerySet[Entry]) -> QuerySet[Entry]:
        """`entries` narrowed to what this filter lets through (no ordering; no join of its own beyond the
        transaction, which every history read joins anyway, and the customer's category annotation)."""
        q = Q()
        if self.date_from is not None:
            q &= Q(created__gte=day_start(self.date_from))
        if self.date_to is not None and self.date_to < datetime.date.max:  # (the last day: no end)
            q &= Q(created__lt=day_start(self.date_to + datetime.timedelta(days=1)))
        low, high = self.amount_min, self.amount_max
        if self.direction == DEBIT:
            q &= Q(amount__lt=0)
        elif self.direction == CREDIT:
            q &= Q(amount__gt=0)
        if low is not None or high is not None:
            credit, debit = Q(amount__gt=0), Q(amount__lt=0)
            if low is not None:
                credit &= Q(amount__gte=low)
                debit &= Q(amount__lte=-low)
            if high is not None:
                credit &= Q(amount__lte=high)
                debit &= Q(amount__gte=-high)
            q &= credit | debit
        if self.categories or self.exclude_categories:
            # Two LEFT JOINs by primary key (the customer's annotation, the transaction) on the rows the
            # history index already walks: the page stays on (account, created, id).
            entries = entries.alias(seen_category=effective_category())
        if self.categories:
            q &= Q(seen_category__in=self.categories)
        if self.exclude_categories:
            q &= ~Q(seen_category__in=self.exclude_categories)
        for word in self.words:
            q &= Q(transaction__description__icontains=word) | _counterparty_contains(word)
        for name in self.counterparties:
            q &= _counterparty_contains(name)
        return entries.filter(q) if q else entries

    def as_query(self) -> dict[str, str]:
        """The filter as the form's GET parameters (the export link and the page links carry it)."""
        found: dict[str, str] = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if value is None or value == ():
                continue
            found[field.name] = " ".join(value) if isinstance(value, tuple) else str(value)
        return found


def _counterparty_contains(text: str) -> Q:
    """The entry's counterparty (its own, such as the payer on a payee's credit, else the transaction's)
    contains `text`."""
    return Q(counterparty__icontains=text) | Q(counterparty="", transaction__counterparty__icontains=text)
