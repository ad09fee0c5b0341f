"""The statements' forms: asking for a statement (an account of the customer's and a period), and verifying a
file or a checksum.

The request's account field offers the customer's own accounts only: another customer's account id is not a
choice ("Choose one of your accounts."), whether it exists or not. The period is a kind (a month, a quarter,
a financial year or custom dates) and the value of that kind's field; the other kinds' fields are ignored,
so a customer who switches kind does not trip over a value they left behind. Every rule of periods.checked
(not in the future, start before end, at most five years) is said beside the field it is about."""

import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Account
from portal.local_time import day
from transactions.history.forms import day_field
from transactions.statements import labels, periods

KIND_LABELS = (
    (periods.MONTH, _("A month")),
    (periods.QUARTER, _("A quarter")),
    (periods.FINANCIAL_YEAR, _("A financial year (April to March)")),
    (periods.CUSTOM, _("Custom dates (up to five years)")),
)
# Which field a period's error is shown beside, by kind and PeriodError code.
_ERROR_FIELD = {periods.MONTH: "month", periods.QUARTER: "quarter", periods.FINANCIAL_YEAR: "year"}
_CUSTOM_ERROR_FIELD = {"period_future": "date_from", "period_order": "date_to", "period_too_long": "date_to"}
_EARLIEST = datetime.date(1900, 1, 1)


def _choice(label: str, words: str) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label, required=False, error_messages={"invalid_choice": words, "required": words}
    )


class _ErrorsDescribed(forms.Form):
    """Each error sits under its field's label (templates/_field.html): the field names it, and its hint,
    for screen readers too."""

    def full_clean(self) -> None:
        super().full_clean()
        if not self.is_bound:
            return
        for name in self.errors:
            if name in self.fields:
                field = self.fields[name]
                described = f"id_{name}_error" + (f" id_{name}_helptext" if field.help_text else "")
                field.widget.attrs["aria-describedby"] = described
                field.widget.attrs["aria-invalid"] = "true"


class StatementRequestForm(_ErrorsDescribed):
    account = forms.TypedChoiceField(
        label=_("Account"),
        coerce=int,
        error_messages={
            "invalid_choice": _("Choose one of your accounts."),
            "required": _("Choose one of your accounts."),
        },
    )
    kind = forms.ChoiceField(
        label=_("Period"),
        choices=KIND_LABELS,
        widget=forms.RadioSelect,
        initial=periods.MONTH,
        error_messages={
            "invalid_choice": _("Choose a kind of period."),
            "required": _("Choose a kind of period."),
        },
    )
    month = _choice(_("Month"), _("Choose one of the months in the list."))
    quarter = _choice(_("Quarter"), _("Choose one of the quarters in the list."))
    year = _choice(_("Financial year"), _("Choose one of the financial years in the list."))
    date_from = day_field(_("From"))
    date_to = day_field(_("To"))

    def __init__(self, *args, accounts: list[Account], latest: datetime.date, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.latest = latest
        self.fields["account"].choices = [
            ("", _("Choose an account")),
            *((a.pk, f"{a.name} ({a.masked_number})") for a in accounts),
        ]
        if len(accounts) == 1:
            self.fields["account"].initial = accounts[0].pk
        for name, choices in (
            ("month", labels.month_choices(latest)),
            ("quarter", labels.quarter_choices(latest)),
            ("year", labels.year_choices(latest)),
        ):
            self.fields[name].choices = choices
            self.fields[name].initial = labels.first_whole(choices)
        for name in ("date_from", "date_to"):
            self.fields[name].widget.attrs["max"] = latest.isoformat()
        self.period: periods.Period | None = None

    def clean(self) -> dict:
        data = super().clean()
        kind = data.get("kind")
        if kind is None:
            return data
        if kind == periods.CUSTOM:
            return self._clean_custom(data)
        field = _ERROR_FIELD[kind]
        value = data.get(field)
        if not value:
            if not self.has_error(field):
                self.add_error(field, self.fields[field].error_messages["required"])
            return data
        if kind == periods.MONTH:
            period = periods.month(datetime.date.fromisoformat(f"{value}-01"))
        elif kind == periods.QUARTER:
            period = periods.quarter(datetime.date.fromisoformat(value))
        else:
            period = periods.financial_year(datetime.date(int(value), 4, 1))
        self._check(period, field)
        return data

    def _clean_custom(self, data: dict) -> dict:
        start, end = data.get("date_from"), data.get("date_to")
        if not self.has_error("date_from"):
            if start is None:
                self.add_error("date_from", _("Enter the first day of the period."))
            elif start < _EARLIEST:
                self.add_error("date_from", _("Enter a real date, like 2026-01-31."))
        if not self.has_error("date_to"):
            if end is None:
                self.add_error("date_to", _("Enter the last day of the period."))
            elif end > self.latest:
                self.add_error(
                    "date_to",
                    _("A statement covers days that have ended: choose yesterday (%(day)s) or earlier.")
                    % {"day": day(self.latest)},
                )
        if start and end and not self.has_error("date_from") and not self.has_error("date_to"):
            self._check(periods.Period(start, end), None)
        return data

    def _check(self, period: periods.Period, field: str | None) -> None:
        try:
            self.period = periods.checked(period)
        except periods.PeriodError as error:
            self.add_error(field or _CUSTOM_ERROR_FIELD.get(error.code, "date_to"), error.message)


CHECKSUM_HEX = frozenset("0123456789abcdef")


def read_checksum(text: str) -> str | None:
    """A pasted SHA-256 as 64 lower-case hex digits, whatever the spaces, line breaks or case it was copied
    with (a PDF's footer may wrap it); None if it is not one."""
    digits = "".join(text.split()).lower()
    if len(digits) == 64 and set(digits) <= CHECKSUM_HEX:
        return digits
    return None


class VerifyForm(_ErrorsDescribed):
    """A file (hashed as it arrives, never kept: verification.HashingUploadHandler puts a HashedUpload in
    FILES) or a checksum, not both."""

    file = forms.FileField(
        label=_("Statement file (PDF or CSV)"),
        required=False,
        help_text=_("The file exactly as SecureBank gave it, up to 50 MB. It is not kept."),
        error_messages={
            "empty": _("This file is empty. Upload the statement's PDF or CSV file itself."),
            "invalid": _("That file could not be read. Please upload it again."),
            "missing": _("That file could not be read. Please upload it again."),
        },
    )
    checksum = forms.CharField(
        label=_("Or its checksum (SHA-256)"),
        required=False,
        max_length=200,
        help_text=_("64 letters and digits, printed at the foot of each page of the PDF."),
        error_messages={"max_length": _("A checksum is 64 letters (a to f) and digits.")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "off"}),
    )

    def __init__(self, *args, max_bytes: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.max_bytes = max_bytes
        self.sha256 = ""

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if upload is None:
            return None
        if getattr(upload, "sha256", None) is None:  # not hashed by our handler: never trust it
            raise forms.ValidationError(_("That file could not be read. Please upload it again."))
        if upload.too_large:
            raise forms.ValidationError(
                _(
                    "This file is larger than %(mb)s MB: a SecureBank statement is smaller. Paste its "
                    "checksum instead."
                )
                % {"mb": self.max_bytes // (1024 * 1024)}
            )
        if upload.kind is None:
            raise forms.ValidationError(
                _(
                    "This is not a PDF or CSV file. Upload the statement exactly as you downloaded it from "
                    "SecureBank: a photo or a scan cannot be verified."
                )
            )
        return upload

    def clean_checksum(self) -> str:
        text = self.cleaned_data.get("checksum", "")
        if not text.strip():
            return ""
        checksum = read_checksum(text)
        if checksum is None:
            raise forms.ValidationError(
                _("A checksum is 64 letters (a to f) and digits. Copy it whole from the statement's footer.")
            )
        return checksum

    def clean(self) -> dict:
        data = super().clean()
        upload, checksum = data.get("file"), data.get("checksum")
        if self.errors:
            return data
        if upload and checksum:
            raise forms.ValidationError(_("Upload a file or paste a checksum, not both."))
        if not upload and not checksum:
            raise forms.ValidationError(_("Upload the statement's file, or paste its checksum."))
        self.sha256 = upload.sha256 if upload else checksum
        return data
