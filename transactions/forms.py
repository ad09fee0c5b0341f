import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Account, User
from accounts.selectors import account_choices
from portal.money import AmountError, format_paise, parse_rupees


class AccountChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Account) -> str:
        return f"{obj.name} · {obj.masked_number} · {format_paise(obj.balance)}"


class TransferForm(forms.Form):
    """A transfer between two of the customer's own accounts. Cleans input; the ledger service decides."""

    source = AccountChoiceField(
        label=_("From"),
        queryset=Account.objects.none(),
        empty_label=_("Choose an account"),
        error_messages={
            "invalid_choice": _("Choose one of your active accounts."),
            "required": _("Choose the account to move money from."),
        },
    )
    destination = AccountChoiceField(
        label=_("To"),
        queryset=Account.objects.none(),
        empty_label=_("Choose an account"),
        error_messages={
            "invalid_choice": _("Choose one of your accounts."),
            "required": _("Choose the account to move money to."),
        },
    )
    amount = forms.CharField(
        label=_("Amount (₹)"),
        max_length=24,
        help_text=_("In rupees, up to two decimals, e.g. 2,500.50"),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    description = forms.CharField(
        label=_("Note (optional)"),
        max_length=140,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=100)

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = account_choices(user=user, for_debit=True)
        self.fields["destination"].queryset = account_choices(user=user, for_debit=False)

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
