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
from django.db.models import Q, QuerySet

from transactions.models import Entry

DEBIT, CREDIT = "debit", "credit"


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
    categories: tuple[str, ...] = ()  # any of these (category slugs)
    exclude_categories: tuple[str, ...] = ()  # none of these; an uncategorised entry is not excluded
    words: tuple[str, ...] = ()  # each in the description or the counterparty
    counterparties: tuple[str, ...] = ()  # each in the counterparty (the search's `to:`)

    @property
    def is_empty(self) -> bool:
        return self == HistoryFilter()

    def merged(self, other: "HistoryFilter") -> "HistoryFilter":
        """Both filters at once: the narrower bound of each range, the direction if they agree (two that
        disagree match nothing: `impossible`), the union of the lists."""
        changes: dict[str, object] = {}
        for name in ("date_from", "amount_min"):
            mine, theirs = getattr(self, name), getattr(other, name)
            both = [v for v in (mine, theirs) if v is not None]
            changes[name] = max(both) if both else None
        for name in ("date_to", "amount_max"):
            mine, theirs = getattr(self, name), getattr(other, name)
            both = [v for v in (mine, theirs) if v is not None]
            changes[name] = min(both) if both else None
        changes["direction"] = self.direction or other.direction
        for name in ("categories", "exclude_categories", "words", "counterparties"):
            changes[name] = tuple(dict.fromkeys(getattr(self, name) + getattr(other, name)))
        result = replace(self, **changes)
        if self.direction and other.direction and self.direction != other.direction:
            return replace(result, direction=None, amount_min=1, amount_max=0)  # nothing is both
        return result

    def apply(self, entries: QuerySet[Entry]) -> QuerySet[Entry]:
        """`entries` narrowed to what this filter lets through (no ordering, no join of its own beyond the
        transaction, which every history read joins anyway)."""
        q = Q()
        if self.date_from is not None:
            q &= Q(created__gte=day_start(self.date_from))
        if self.date_to is not None:
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
        if self.categories:
            q &= Q(transaction__category_id__in=self.categories)
        if self.exclude_categories:
            q &= Q(transaction__category_id__isnull=True) | ~Q(
                transaction__category_id__in=self.exclude_categories
            )
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
