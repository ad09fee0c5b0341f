"""The form that sets up a scheduled transfer. It cleans input; the service (services.py) decides."""

import datetime
import uuid

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import Account, Payee, User
from accounts.selectors import account_list
from accounts.stepup import step_up_binding
from portal.local_time import date_and_time_from, day
from portal.money import AmountError, format_paise, parse_rupees
from transactions import limits
from transactions.forms import (
    amount_field,
    destination_field,
    destination_value,
    frozen_source_hint,
    note_field,
    payee_label,
    source_field,
)
from transactions.models import ScheduledTransfer
from transactions.scheduled.selectors import payee_choices

MAX_COUNT = 120  # ten years of monthly payments


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


# What a date picker sends, and Indian day-first dates typed where there is none (never a US month-first).
DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y"]


def schedule_words(
    *, frequency: str, first: datetime.date, end: datetime.date | None, count: int | None
) -> str:
    """When a schedule pays, in a line: "Once, on 7 Dec 2026", "Every week, 4 times, from 7 Dec 2026",
    "Every month, from 7 Dec 2026 to 31 Mar 2027 at the latest", "Every week, from 7 Dec 2026, until you
    cancel"."""
    if frequency == ScheduledTransfer.Frequency.ONCE:
        return _("Once, on %(day)s") % {"day": day(first)}
    how = ScheduledTransfer.Frequency(frequency).label
    if count:
        times = ngettext("%(n)d time", "%(n)d times", count) % {"n": count}
        return _("%(how)s, %(times)s, from %(day)s") % {"how": how, "times": times, "day": day(first)}
    if end:
        return _("%(how)s, from %(day)s to %(end)s at the latest") % {
            "how": how,
            "day": day(first),
            "end": day(end),
        }
    return _("%(how)s, from %(day)s, until you cancel") % {"how": how, "day": day(first)}


class ScheduledTransferForm(forms.Form):
    source = source_field(_("Choose the account to pay from."))
    destination = destination_field(_("Choose the account or payee to pay."))
    amount = amount_field(_("Enter the amount to pay each time."))
    description = note_field()
    first_date = forms.DateField(
        label=_("First payment on"),
        help_text=_(
            "Today or later, e.g. 31/12/2026. On a Sunday or a bank holiday it is paid the next working day."
        ),
        widget=DateInput(),
        input_formats=DATE_FORMATS,
        error_messages={
            "required": _("Choose the date of the first payment."),
            "invalid": _("Enter a date, like 31/12/2026."),
        },
    )
    frequency = forms.ChoiceField(
        label=_("How often"),
        choices=ScheduledTransfer.Frequency.choices,
        initial=ScheduledTransfer.Frequency.ONCE,
        error_messages={
            "required": _("Choose how often to pay."),
            "invalid_choice": _("Choose how often to pay."),
        },
    )
    end_date = forms.DateField(
        label=_("Last payment on or before (optional)"),
        required=False,
        help_text=_(
            "For a repeating transfer, e.g. 31/12/2026. Leave empty, and the number of times too, to repeat "
            "until you cancel."
        ),
        widget=DateInput(),
        input_formats=DATE_FORMATS,
        error_messages={"invalid": _("Enter a date, like 31/12/2026.")},
    )
    count = forms.IntegerField(
        label=_("Number of times (optional)"),
        required=False,
        min_value=1,
        max_value=MAX_COUNT,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "invalid": _("Enter the number of times as a whole number, like 12."),
            "min_value": _("Enter how many times: 1 or more."),
            "max_value": _("At most %(limit_value)s times: enter fewer, or leave it empty."),
        },
    )
    # Checked in clean(): a hidden field's own error would point at nothing the customer can see.
    idempotency_key = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        accounts = account_list(user=user)
        self.fields["source"].set_accounts([a for a in accounts if a.status == Account.Status.ACTIVE])
        if frozen := [a.name for a in accounts if a.status == Account.Status.FROZEN]:
            self.fields["source"].help_text = frozen_source_hint(frozen)
        destination = self.fields["destination"]
        destination.set_destinations(accounts, lambda: payee_choices(user=user), offer_cooling=True)

    @staticmethod
    def new_key() -> str:
        return uuid.uuid4().hex

    def clean_amount(self) -> int:
        try:
            amount = parse_rupees(self.cleaned_data["amount"])
        except AmountError as error:
            raise forms.ValidationError(str(error), code="amount_invalid") from error
        if amount > settings.TRANSFER_MAX_PAISE:
            raise forms.ValidationError(
                _("That amount is above the limit for one transfer."), code="amount_over"
            )
        return amount

    def clean_first_date(self):
        first = self.cleaned_data["first_date"]
        if first < timezone.localdate():
            raise forms.ValidationError(_("Choose today or a later date."), code="date_past")
        return first

    def clean(self) -> dict:
        cleaned = super().clean()
        if not 0 < len(cleaned.get("idempotency_key") or "") <= 100:
            cleaned.pop("idempotency_key", None)
            self.add_error(
                None, forms.ValidationError(_("This form has expired. Please start again."), "key")
            )
        source, destination = cleaned.get("source"), cleaned.get("destination")
        if isinstance(destination, Account) and source and source.pk == destination.pk:
            self.add_error("destination", _("Choose an account other than the one you are paying from."))
        if isinstance(destination, Payee) and source and destination.account_id == source.pk:
            self.add_error("destination", _("Choose a payee other than the account you are paying from."))
        first, end = cleaned.get("first_date"), cleaned.get("end_date")
        if isinstance(destination, Payee) and first:
            self._check_cooling_off(destination, first)
        repeats = cleaned.get("frequency") != ScheduledTransfer.Frequency.ONCE
        if repeats and first and end and end < first:
            self.add_error("end_date", _("Choose a date on or after the first payment."))
        if repeats and end and cleaned.get("count"):
            self.add_error("count", _("Give an end date or a number of times, not both."))
        if not repeats:
            cleaned["end_date"] = cleaned["count"] = None
        return cleaned

    def _check_cooling_off(self, payee: Payee, first: datetime.date) -> None:
        """A payee still cooling off is paid no earlier than the day its cooling-off ends."""
        receives_from = limits.cooling_off_until(payee)
        if first < timezone.localtime(receives_from).date():
            self.add_error(
                "first_date",
                _("%(name)s can receive money from %(when)s: choose that day or later.")
                % {"name": payee.name, "when": date_and_time_from(receives_from)},
            )

    # --- step-up -----------------------------------------------------------------------------------------

    def needs_step_up(self) -> bool:
        """A schedule runs later without the customer: one to a payee or above the step-up threshold is
        authorised now, with a fresh proof bound to its details."""
        data = self.cleaned_data
        return isinstance(data["destination"], Payee) or data["amount"] > settings.TRANSFER_STEP_UP_PAISE

    def binding(self) -> str:
        data = self.cleaned_data
        target = data["destination"]
        return step_up_binding(
            data["source"].pk,
            destination_value(target),
            data["amount"],
            data["first_date"],
            data["frequency"],
            data["end_date"],
            data["count"],
            data["description"],
            data["idempotency_key"],
        )

    def summary(self) -> list[tuple[str, str]]:
        """What the step-up page repeats of what is being authorised."""
        data = self.cleaned_data
        target = data["destination"]
        to = payee_label(target) if isinstance(target, Payee) else f"{target.name} · {target.masked_number}"
        when = schedule_words(
            frequency=data["frequency"], first=data["first_date"], end=data["end_date"], count=data["count"]
        )
        return [
            (str(_("Amount")), format_paise(data["amount"])),
            (str(_("From")), f"{data['source'].name} · {data['source'].masked_number}"),
            (str(_("To")), to),
            (str(_("When")), when),
        ]
