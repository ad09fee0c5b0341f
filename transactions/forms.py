import uuid

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import Account, User
from accounts.selectors import account_list
from portal.money import AmountError, format_paise, parse_rupees


def frozen_source_hint(names: list[str]) -> str:
    """Why a frozen account is missing from From: money cannot leave it until the bank lifts the freeze."""
    return ngettext(
        "%(names)s is frozen, so money cannot be moved out of it. Call %(phone)s to lift the freeze.",
        "%(names)s are frozen, so money cannot be moved out of them. Call %(phone)s to lift the freeze.",
        len(names),
    ) % {"names": " and ".join(names), "phone": settings.BANK_PHONE}


class AccountChoiceField(forms.ChoiceField):
    """A choice among accounts the form was given (one query for both fields); cleans to the Account.

    An option names the account without its balance: a select on a phone cuts its text at its width, and a
    balance cut mid-number ("₹6,93,22") reads as a wrong amount. The form's template lists the balances."""

    def set_accounts(self, accounts: list[Account]) -> None:
        self.accounts = {str(a.pk): a for a in accounts}
        self.choices = [("", _("Choose an account"))] + [
            (str(a.pk), f"{a.name} · {a.masked_number}") for a in accounts
        ]

    def clean(self, value: object) -> Account:
        return self.accounts[super().clean(value)]


class TransferForm(forms.Form):
    """A transfer between two of the customer's own accounts. Cleans input; the ledger service decides."""

    source = AccountChoiceField(
        label=_("From"),
        error_messages={
            "invalid_choice": _("Choose one of your active accounts."),
            "required": _("Choose the account to move money from."),
        },
    )
    destination = AccountChoiceField(
        label=_("To"),
        error_messages={
            "invalid_choice": _("Choose one of your accounts."),
            "required": _("Choose the account to move money to."),
        },
    )
    amount = forms.CharField(
        label=_("Amount (₹)"),
        max_length=24,
        help_text=_("In rupees, up to two decimals, e.g. 2,500.50"),
        error_messages={"required": _("Enter the amount to move.")},
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    description = forms.CharField(
        label=_("Note (optional)"),
        max_length=140,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=100)
    # The review whose "Change details" drew this form (transactions/reviews.py): the new review replaces it.
    replaces = forms.CharField(widget=forms.HiddenInput, max_length=100, required=False)

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        accounts = list(account_list(user=user))
        self.accounts = accounts  # the template lists them with their balances
        self.fields["source"].set_accounts([a for a in accounts if a.status == Account.Status.ACTIVE])
        if frozen := [a.name for a in accounts if a.status == Account.Status.FROZEN]:
            self.fields["source"].help_text = frozen_source_hint(frozen)
        self.fields["destination"].set_accounts(accounts)

    @staticmethod
    def new_key() -> str:
        return uuid.uuid4().hex

    def clean_amount(self) -> int:
        try:
            return parse_rupees(self.cleaned_data["amount"])
        except AmountError as error:
            raise forms.ValidationError(str(error), code="amount_invalid") from error

    def clean(self) -> dict:
        cleaned = super().clean()
        source, destination = cleaned.get("source"), cleaned.get("destination")
        if source and destination and source.pk == destination.pk:
            self.add_error("destination", _("Choose an account other than the one you are paying from."))
        return cleaned

    def check_funds(self) -> bool:
        """For the review step: a readable error now rather than at confirmation. The service checks again."""
        source, amount = self.cleaned_data["source"], self.cleaned_data["amount"]
        if amount > source.balance + source.overdraft_limit:
            self.add_error(
                "amount",
                _("That is more than the %(available)s available in %(account)s.")
                % {
                    "available": format_paise(source.balance + source.overdraft_limit),
                    "account": source.name,
                },
            )
            return False
        return True


class LimitsForm(forms.Form):
    """The customer's own lower limits on money sent to others, in rupees; empty for none (the bank's
    applies). Cleans each to paise or None, no higher than the bank's limit for them: the service decides
    what applies when."""

    daily = forms.CharField(
        label=_("Daily limit (₹)"),
        max_length=24,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    per_transfer = forms.CharField(
        label=_("Per-transfer limit (₹)"),
        max_length=24,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )

    def __init__(self, *args, bank_daily: int, bank_per_transfer: int, own: dict[str, int | None], **kwargs):
        super().__init__(*args, **kwargs)
        self.bank = {"daily": bank_daily, "per_transfer": bank_per_transfer}
        self.own = own  # the customer's own limits in force: one kept as it is may exceed a lowered bank's
        for name, words in (("daily", _("daily")), ("per_transfer", _("per-transfer"))):
            self.fields[name].help_text = _(
                "At most the bank's %(which)s limit, %(limit)s. Leave it empty to use the bank's."
            ) % {"which": words, "limit": format_paise(self.bank[name])}

    def _clean_limit(self, name: str, words: str) -> int | None:
        text = (self.cleaned_data.get(name) or "").strip()
        if not text:
            return None
        try:
            paise = parse_rupees(text)
        except AmountError as error:
            raise forms.ValidationError(str(error), code="amount") from error
        if paise > self.bank[name] and paise != self.own.get(name):
            raise forms.ValidationError(
                _("The bank's %(which)s limit for you is %(limit)s: enter that or less, or leave it empty.")
                % {"which": words, "limit": format_paise(self.bank[name])},
                code="above_bank_limit",
            )
        return paise

    def clean_daily(self) -> int | None:
        return self._clean_limit("daily", _("daily"))

    def clean_per_transfer(self) -> int | None:
        return self._clean_limit("per_transfer", _("per-transfer"))
