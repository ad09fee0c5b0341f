"""The history page's GET parameters, read into one `HistoryFilter`: the filter form's fields and the search
box (`q`, parsed by `search.parse`). What a customer typed that does not read is said beside its field (or
beside the search box), and the list is then shown unfiltered: never a guess at what they meant.

`read_history_query(params, categories)` is the one reader: the history page uses it, and so can any view
that must show or export exactly what the page shows (it returns the parameters to carry on links)."""

import datetime
from dataclasses import dataclass, field

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.money import AmountError, parse_rupees
from transactions.history import search
from transactions.history.filters import CREDIT, DEBIT, HistoryFilter
from transactions.history.selectors import PAGE_SIZE, PAGE_SIZE_MAX

TEXT_MAX = 100
FILTER_FIELDS = ("date_from", "date_to", "amount_min", "amount_max", "direction", "category", "text")
_DATE_INPUT = {"type": "date"}
_NOT_A_DATE = _("Enter a real date, like 2026-01-31.")
_NOT_AN_AMOUNT = _("Enter an amount in rupees, like 500 or 1,500.50.")
# Dates a person could mean for a bank statement: anything outside is a typing slip, not a filter.
_EARLIEST, _LATEST = datetime.date(1900, 1, 1), datetime.date(9999, 12, 30)


def day_field(label: str) -> forms.DateField:
    """An optional day as a date input reads it (ISO, 2026-01-31), with our message for one that is not
    real. The history's filter and the insights' custom period both ask for days this way."""
    return forms.DateField(
        label=label,
        required=False,
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": _NOT_A_DATE},
        widget=forms.DateInput(attrs=dict(_DATE_INPUT), format="%Y-%m-%d"),
    )


class HistoryFilterForm(forms.Form):
    date_from = day_field(_("From"))
    date_to = day_field(_("To"))
    amount_min = forms.CharField(
        label=_("Amount from (₹)"),
        required=False,
        max_length=30,
        error_messages={"max_length": _NOT_AN_AMOUNT, "null_characters_not_allowed": _NOT_AN_AMOUNT},
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    amount_max = forms.CharField(
        label=_("Amount up to (₹)"),
        required=False,
        max_length=30,
        error_messages={"max_length": _NOT_AN_AMOUNT, "null_characters_not_allowed": _NOT_AN_AMOUNT},
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    direction = forms.ChoiceField(
        label=_("Money"),
        required=False,
        choices=[("", _("In and out")), (DEBIT, _("Out (debits)")), (CREDIT, _("In (credits)"))],
        error_messages={"invalid_choice": _("Choose money in, money out, or both.")},
    )
    category = forms.ChoiceField(
        label=_("Category"),
        required=False,
        error_messages={"invalid_choice": _("Choose one of the categories in the list.")},
    )
    text = forms.CharField(
        label=_("Description or counterparty contains"),
        required=False,
        max_length=TEXT_MAX,
        error_messages={
            "max_length": _("Keep the text under %(limit)d characters.") % {"limit": TEXT_MAX},
            "null_characters_not_allowed": _("Type letters, digits or punctuation only."),
        },
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args, categories: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", _("All categories")), *categories]
        for name in self.fields:  # each error sits under its label: say so to screen readers too
            if self.is_bound and self.has_error(name):
                self.fields[name].widget.attrs["aria-describedby"] = f"id_{name}_error"

    def _clean_date(self, name: str) -> datetime.date | None:
        day = self.cleaned_data.get(name)
        if day is not None and not _EARLIEST <= day <= _LATEST:
            raise forms.ValidationError(_NOT_A_DATE, code="invalid")
        return day

    def clean_date_from(self) -> datetime.date | None:
        return self._clean_date("date_from")

    def clean_date_to(self) -> datetime.date | None:
        return self._clean_date("date_to")

    def _clean_amount(self, name: str) -> int | None:
        text = self.cleaned_data.get(name, "").strip()
        if not text:
            return None
        try:
            return parse_rupees(text)
        except AmountError as error:
            raise forms.ValidationError(str(error), code="invalid") from None

    def clean_amount_min(self) -> int | None:
        return self._clean_amount("amount_min")

    def clean_amount_max(self) -> int | None:
        return self._clean_amount("amount_max")

    def clean_text(self) -> str:
        return " ".join(self.cleaned_data.get("text", "").split())

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date is before the start date."))
        low, high = data.get("amount_min"), data.get("amount_max")
        if low is not None and high is not None and low > high:
            self.add_error("amount_max", _("This is less than the lowest amount."))
        return data

    def to_filter(self) -> HistoryFilter:
        """The cleaned fields as a filter (call after is_valid())."""
        data = self.cleaned_data
        return HistoryFilter(
            date_from=data["date_from"],
            date_to=data["date_to"],
            amount_min=data["amount_min"],
            amount_max=data["amount_max"],
            direction=data["direction"] or None,
            categories=(data["category"],) if data["category"] else (),
            words=(data["text"],) if data["text"] else (),
        )


def page_size(text: str | None) -> int:
    """The `size` parameter: rows a page, at most PAGE_SIZE_MAX; anything else is the default."""
    if text and text.isascii() and text.isdigit() and 1 <= int(text) <= PAGE_SIZE_MAX:
        return int(text)
    return PAGE_SIZE


@dataclass
class HistoryQuery:
    """What the page's parameters ask for, read."""

    form: HistoryFilterForm
    search_text: str
    search_error: str
    filter: HistoryFilter  # what is shown: HistoryFilter() (everything) when anything failed to read
    size: int
    carry: dict[str, str] = field(default_factory=dict)  # the parameters that `filter` came from

    @property
    def invalid(self) -> bool:
        return bool(self.search_error) or not self.form.is_valid()

    @property
    def active(self) -> bool:
        """A filter or a search narrows the list (its totals are then shown)."""
        return not self.filter.is_empty


def read_history_query(params, *, categories: list[tuple[str, str]]) -> HistoryQuery:
    """Read the page's GET parameters (`params`: a QueryDict). `categories`: (slug, name) pairs."""
    form = HistoryFilterForm(params, categories=categories)
    search_text = (params.get("q") or "").strip()
    search_error, searched = "", HistoryFilter()
    if "\x00" in search_text:  # PostgreSQL takes no NUL in text: a typing slip cannot be a search
        search_error = str(_("Type letters, digits or punctuation only."))
    elif search_text:
        try:
            searched = search.parse(search_text, categories=dict(categories))
        except search.SearchError as error:
            search_error = str(error)
    size = page_size(params.get("size"))
    shown, carry = HistoryFilter(), {}
    if form.is_valid() and not search_error:
        shown = form.to_filter().merged(searched)
        carry = {name: params.get(name, "").strip() for name in FILTER_FIELDS if params.get(name, "").strip()}
        if search_text:
            carry["q"] = search_text
    if size != PAGE_SIZE:
        carry["size"] = str(size)
    return HistoryQuery(
        form=form, search_text=search_text, search_error=search_error, filter=shown, size=size, carry=carry
    )
