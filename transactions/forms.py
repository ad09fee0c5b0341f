import re
import uuid
from collections.abc import Callable

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import Account, Payee, User
from accounts.selectors import account_list
from portal.local_time import date_and_time_from
from portal.money import AmountError, format_paise, parse_rupees
from transactions import limits, selectors

PAYEE_PREFIX = "payee-"  # a payee's value in To: "payee-<id>" (an own account's is its primary key)
# The idempotency key the transfer form draws (uuid4 hex). Only such a key is accepted back: another shape
# may be one the bank's own postings use ("scheduled:<id>:<date>"), which a customer must not pre-spend.
FORM_KEY = re.compile(r"[0-9a-f]{32}")
KEY_EXPIRED = "key_expired"


NOTE_MAX = 140  # characters of a transfer's note (the ledger's description field)


def too_long(what: str, limit: int) -> str:
    """The max_length message in our words: "A note can be at most 140 characters; this one has 200."."""
    return str(_("%(what)s can be at most %(limit)d characters; this one has %%(show_value)d.")) % {
        "what": what,
        "limit": limit,
    }


AMOUNT_MESSAGES = {  # an amount field's own messages beyond "required" (what parse_rupees says of it)
    "max_length": _("Enter an amount in rupees, like 1500 or 1,500.50."),
}


def note_field() -> forms.CharField:
    """A transfer's optional note, at most NOTE_MAX characters (the browser stops typing there: the help
    text says so; a longer one posted anyway is refused in our words)."""
    return forms.CharField(
        label=_("Note (optional)"),
        max_length=NOTE_MAX,
        required=False,
        help_text=_("Up to %(limit)d characters") % {"limit": NOTE_MAX},
        error_messages={"max_length": too_long(_("A note"), NOTE_MAX)},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


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


def payee_label(payee: Payee) -> str:
    """A payee as To names it: who, at which bank, which account (masked)."""
    return f"{payee.name} · {payee.bank_name} {payee.masked_account_number}"


def cooling_off_lines(payees: list[Payee]) -> list[str]:
    """Why a payee added recently is not offered in To yet, and from when it will be: a line each."""
    return [
        str(_("%(name)s can receive money from %(when)s."))
        % {"name": p.name, "when": date_and_time_from(limits.cooling_off_until(p))}
        for p in payees
    ]


class DestinationChoiceField(AccountChoiceField):
    """To: one of the customer's accounts (value: its primary key) or one of their payees past cooling-off
    (value "payee-<id>", in an optgroup "Payees"). Cleans to the Account or the Payee. The payees are read
    (one query) only when the field is drawn or a payee is chosen: a transfer between own accounts, the
    hot path, does not pay for them.

    With `offer_cooling` (a scheduled transfer, paid later), payees still cooling off are offered and
    chosen too; the form checks its date against the end of their cooling-off."""

    def set_destinations(
        self, accounts: list[Account], payees: Callable[[], list[Payee]], *, offer_cooling: bool = False
    ) -> None:
        self.accounts = {str(a.pk): a for a in accounts}
        self._load_payees = payees
        self._payees: list[Payee] | None = None
        self.offer_cooling = offer_cooling
        self.choices = self._options  # a callable: evaluated when the select is drawn

    def payees(self) -> list[Payee]:
        """The customer's active payees (cooling off or not), read once."""
        if self._payees is None:
            self._payees = self._load_payees()
        return self._payees

    def cooling(self) -> list[Payee]:
        now = timezone.now()
        return [p for p in self.payees() if now < limits.cooling_off_until(p)]

    def _options(self) -> list:
        options: list = [("", _("Choose an account or payee"))]
        options += [(str(a.pk), f"{a.name} · {a.masked_number}") for a in self.accounts.values()]
        now = timezone.now()
        offered = [p for p in self.payees() if self.offer_cooling or now >= limits.cooling_off_until(p)]
        if offered:
            options.append((_("Payees"), [(destination_value(p), payee_label(p)) for p in offered]))
        return options

    def valid_value(self, value: object) -> bool:
        return self._find(str(value)) is not None

    def _find(self, value: str) -> Account | Payee | None:
        if value.startswith(PAYEE_PREFIX):
            wanted = value.removeprefix(PAYEE_PREFIX)
            return next((p for p in self.payees() if str(p.pk) == wanted), None)
        return self.accounts.get(value)

    def clean(self, value: object) -> Account | Payee:  # type: ignore[override]
        forms.ChoiceField.clean(self, value)
        found = self._find(str(value))
        assert found is not None  # noqa: S101 - valid_value said so
        cooling = isinstance(found, Payee) and timezone.now() < limits.cooling_off_until(found)
        if cooling and not self.offer_cooling:
            raise forms.ValidationError(
                _("%(name)s was added recently: you can send money to them from %(when)s.")
                % {"name": found.name, "when": date_and_time_from(limits.cooling_off_until(found))},
                code="payee_cooling_off",
            )
        return found


def destination_value(target: Account | Payee) -> str:
    """How To names an account or a payee: the account's primary key, "payee-<id>" for a payee."""
    return f"{PAYEE_PREFIX}{target.pk}" if isinstance(target, Payee) else str(target.pk)


# --- the fields the transfer form and the scheduled-transfer form share ----------------------------------


def source_field(required: str) -> AccountChoiceField:
    return AccountChoiceField(
        label=_("From"),
        error_messages={"invalid_choice": _("Choose one of your active accounts."), "required": required},
    )


def destination_field(required: str) -> DestinationChoiceField:
    return DestinationChoiceField(
        label=_("To"),
        error_messages={"invalid_choice": _("Choose one of your accounts or payees."), "required": required},
    )


def amount_field(required: str) -> forms.CharField:
    return forms.CharField(
        label=_("Amount (₹)"),
        max_length=24,
        help_text=_("In rupees, up to two decimals, e.g. 2,500.50"),
        error_messages={"required": required, **AMOUNT_MESSAGES},
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )


class TransferForm(forms.Form):
    """A transfer from one of the customer's accounts to another of theirs or to one of their payees.
    Cleans input; the ledger service decides."""

    source = source_field(_("Choose the account to move money from."))
    destination = destination_field(_("Choose the account to move money to."))
    amount = amount_field(_("Enter the amount to move."))
    description = note_field()
    # Checked in clean(): a hidden field's own error would point at nothing the customer can see.
    idempotency_key = forms.CharField(widget=forms.HiddenInput, required=False)
    # The review whose "Change details" drew this form (transactions/reviews.py): the new review replaces it.
    replaces = forms.CharField(
        widget=forms.HiddenInput,
        max_length=100,
        required=False,
        error_messages={"max_length": _("This form has expired. Please start again.")},
    )

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        if str(self.data.get("destination", "")).startswith(PAYEE_PREFIX):
            # A payee was chosen: its list is needed, read with the accounts in one round trip.
            accounts, payees = selectors.transfer_choices(user=user)
            load_payees: Callable[[], list[Payee]] = lambda: payees  # noqa: E731
        else:
            accounts = list(account_list(user=user))
            load_payees = lambda: selectors.transfer_payee_list(user=user)  # noqa: E731
        self.accounts = accounts  # the template lists them with their balances
        self.fields["source"].set_accounts([a for a in accounts if a.status == Account.Status.ACTIVE])
        if frozen := [a.name for a in accounts if a.status == Account.Status.FROZEN]:
            self.fields["source"].help_text = frozen_source_hint(frozen)
        destination = self.fields["destination"]
        destination.set_destinations(accounts, load_payees)

    def hint_cooling_off(self) -> None:
        """Before drawing the form: the hint under To names the payees still cooling off (not offered)."""
        destination = self.fields["destination"]
        if cooling := destination.cooling():
            # drawn as a short list, a payee a line (templates/_field.html); the text for screen readers
            destination.help_lines = cooling_off_lines(cooling)
            destination.help_text = " ".join(destination.help_lines)

    @property
    def payees(self) -> list[Payee]:
        return self.fields["destination"].payees()

    @staticmethod
    def new_key() -> str:
        return uuid.uuid4().hex

    @staticmethod
    def key_valid(key: str) -> bool:
        """Whether `key` has the shape of the keys `new_key` makes (no other is accepted from a customer)."""
        return FORM_KEY.fullmatch(key) is not None

    def renew_key(self) -> None:
        """A fresh key in the form's data (to draw it again after its key was refused or spent)."""
        self.data = self.data.copy()
        self.data["idempotency_key"] = self.new_key()

    def clean_amount(self) -> int:
        try:
            return parse_rupees(self.cleaned_data["amount"])
        except AmountError as error:
            raise forms.ValidationError(str(error), code="amount_invalid") from error

    def clean(self) -> dict:
        cleaned = super().clean()
        if not self.key_valid(cleaned.get("idempotency_key") or ""):
            cleaned.pop("idempotency_key", None)
            self.add_error(
                None, forms.ValidationError(_("This form has expired. Please start again."), KEY_EXPIRED)
            )
        source, destination = cleaned.get("source"), cleaned.get("destination")
        if isinstance(destination, Payee):
            if source and destination.account_id == source.pk:
                self.add_error("destination", _("Choose a payee other than the account you are paying from."))
        elif source and destination and source.pk == destination.pk:
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

    @property
    def to_payee(self) -> Payee | None:
        destination = self.cleaned_data.get("destination")
        return destination if isinstance(destination, Payee) else None

    def check_limits(self) -> bool:
        """For a payee, before review and before a step-up: cooling-off, the new-payee cap and the daily
        limit as they stand now (read without the lock; the service checks again under it)."""
        payee = self.to_payee
        if payee is None:
            return True
        try:
            limits.precheck(user=self.user, payee=payee, amount_paise=self.cleaned_data["amount"])
        except limits.LimitError as error:
            self.add_error("amount", error.message)
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
        error_messages=AMOUNT_MESSAGES,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    per_transfer = forms.CharField(
        label=_("Per-transfer limit (₹)"),
        max_length=24,
        required=False,
        error_messages=AMOUNT_MESSAGES,
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
