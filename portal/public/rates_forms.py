"""The rate sheet's "Rates as of" form: a GET form of one date, so that every sheet is a link."""

import datetime
import re

from django import forms

from portal.local_time import day as day_words
from transactions.scheduled.forms import DATE_FORMATS, DateInput

# What an <input type="date"> accepts as its value (also for a day it then marks as out of range).
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


class RatesAsOfForm(forms.Form):
    as_of = forms.DateField(
        label="Rates as of",
        required=False,
        widget=DateInput(),
        input_formats=DATE_FORMATS,
        error_messages={"invalid": "Enter a date, like 31/03/2026."},
    )

    def __init__(self, *args: object, today: datetime.date, first: datetime.date | None, **kwargs: object):
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.today = today
        self.first = first
        widget = self.fields["as_of"].widget
        widget.attrs["max"] = today.isoformat()
        if first is not None and first <= today:
            widget.attrs["min"] = first.isoformat()
            self.fields["as_of"].help_text = f"A day from {day_words(first)} to today, {day_words(today)}."
        else:
            self.fields["as_of"].help_text = f"A day up to today, {day_words(today)}."

    def clean_as_of(self) -> datetime.date | None:
        as_of = self.cleaned_data["as_of"]
        if as_of is None:
            return None
        if as_of > self.today:
            raise forms.ValidationError(
                f"Choose today ({day_words(self.today)}) or an earlier day: rates for later days are not "
                "published yet. Here are today's rates."
            )
        if self.first is not None and as_of < self.first:
            raise forms.ValidationError(
                f"Our rate history starts on {day_words(self.first)}: choose that day or a later one. Here "
                "are today's rates."
            )
        return as_of

    def input_value(self) -> str:
        """The field's text: today when nothing was asked; a day that was read, as the date input wants it
        (ISO); a real day that was refused (later than today, before the history), as typed; else nothing.
        A date input cannot show other text, and Chromium logs a console warning for each such value."""
        if not self.is_bound:
            return self.today.isoformat()
        if self.is_valid() and self.cleaned_data["as_of"] is not None:
            return self.cleaned_data["as_of"].isoformat()
        typed = str(self.data.get("as_of", ""))
        if not ISO_DAY.fullmatch(typed):
            return ""
        try:
            datetime.date.fromisoformat(typed)
        except ValueError:  # 2026-02-30
            return ""
        return typed
