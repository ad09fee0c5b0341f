"""The insights page's GET parameters: which period (a preset, or custom dates) and which account (one of
the customer's, or all of them). What does not read is said beside its field, and the page then shows no
figures rather than a guess at what was meant.

The account field's choices are the customer's own accounts: another customer's account id is simply not a
choice ("Choose one of your accounts"), so no figure of theirs is ever computed, and the message is the same
whether that id exists or not.
"""

import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Account
from transactions.history.forms import day_field
from transactions.insights import periods

ALL = "all"
_NOT_A_DATE = _("Enter a real date, like 2026-01-31.")
_EARLIEST = datetime.date(1900, 1, 1)


class InsightsForm(forms.Form):
    period = forms.ChoiceField(
        label=_("Period"),
        required=False,
        choices=periods.CHOICES,
        error_messages={"invalid_choice": _("Choose one of the periods in the list.")},
    )
    date_from = day_field(_("From"))
    date_to = day_field(_("To"))
    account = forms.ChoiceField(
        label=_("Account"),
        required=False,
        error_messages={"invalid_choice": _("Choose one of your accounts.")},
    )

    def __init__(self, *args, accounts: list[Account], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.accounts = {str(a.pk): a for a in accounts}
        self.fields["account"].choices = [
            (ALL, _("All accounts")),
            *((pk, f"{a.name} (…{a.number[-4:]})") for pk, a in self.accounts.items()),
        ]
        today = periods.today()
        for name in ("date_from", "date_to"):
            self.fields[name].widget.attrs["max"] = today.isoformat()
        for name in self.fields:  # each error sits under its label: say so to screen readers too
            if self.is_bound and self.has_error(name):
                self.fields[name].widget.attrs["aria-describedby"] = f"id_{name}_error"
                self.fields[name].widget.attrs["aria-invalid"] = "true"

    def clean_period(self) -> str:
        return self.cleaned_data.get("period") or ""

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        key = data.get("period", "")
        if not key:  # dates alone (a bookmarked link, a form without the select) mean custom dates
            key = periods.CUSTOM if (start or end) else periods.THIS_MONTH
            data["period"] = key
        if key != periods.CUSTOM or self.has_error("date_from") or self.has_error("date_to"):
            return data
        today = periods.today()
        if start is None:
            self.add_error("date_from", _("Enter the first day of the period."))
        elif start < _EARLIEST:
            self.add_error("date_from", _NOT_A_DATE)
        elif start > today:
            self.add_error("date_from", _("This is in the future: choose today or an earlier day."))
        if end is None:
            self.add_error("date_to", _("Enter the last day of the period."))
        elif end > today:
            self.add_error("date_to", _("This is in the future: choose today or an earlier day."))
        if start and end and not self.errors:
            if end < start:
                self.add_error("date_to", _("The end date is before the start date."))
            elif (end - start).days + 1 > periods.MAX_DAYS:
                self.add_error(
                    "date_to",
                    _("Choose at most %(days)s days (about five years).") % {"days": f"{periods.MAX_DAYS:,}"},
                )
        return data

    def chosen_period(self) -> periods.Period:
        """The period asked for (call after is_valid())."""
        key = self.cleaned_data["period"]
        if key == periods.CUSTOM:
            return periods.custom(self.cleaned_data["date_from"], self.cleaned_data["date_to"])
        return periods.preset(key)

    def chosen_accounts(self) -> list[Account]:
        """The accounts asked for, all of them by default (call after is_valid())."""
        picked = self.cleaned_data.get("account") or ALL
        return list(self.accounts.values()) if picked == ALL else [self.accounts[picked]]
