import re

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm, SetPasswordForm
from django.contrib.auth.password_validation import password_validators_help_texts
from django.utils.translation import gettext_lazy as _

from accounts.ifsc import bank_for_ifsc, ifsc_normalize, ifsc_valid


class LoginForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("Email"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "username"}),
        error_messages={
            "required": _("Enter your email address."),
            "invalid": _("Enter an email address like name@example.com."),
            "max_length": _("An email address can be at most 254 characters."),
        },
    )
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("That email and password do not match an account. Check them and try again."),
    }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["password"].error_messages["required"] = _("Enter your password.")

    def clean_username(self) -> str:
        return self.cleaned_data["username"].strip().lower()


def password_rules() -> str:
    """The password rules as one sentence, with our apostrophe: Django's validators write "can’t", the
    portal writes "can't" everywhere (one style of apostrophe on a page)."""
    return " ".join(password_validators_help_texts()).replace("\u2019", "'")


_PASSWORD_MISMATCH = _("The two passwords do not match. Type the same new password twice.")


class RulesOnNewPasswordMixin:
    """Django's SetPasswordForm (and PasswordChangeForm, its subclass) checks the password rules on the
    confirmation field: "too short" appeared under "New password again". The rules are about the password
    the customer chose, so they go on the first field; "the two do not match" stays on the second."""

    def own_wording(self) -> None:
        """Our words for an empty field (Django says "This field is required.")."""
        fields = self.fields  # type: ignore[attr-defined]
        required = {
            "old_password": _("Type your current password."),
            "new_password1": _("Type a new password."),
            "new_password2": _("Type the new password again."),
        }
        for name, message in required.items():
            if name in fields:
                fields[name].error_messages["required"] = message

    def validate_password_for_user(self, user, password_field_name: str = "") -> None:
        super().validate_password_for_user(user, "new_password1")  # type: ignore[misc]


class CustomerPasswordChangeForm(RulesOnNewPasswordMixin, PasswordChangeForm):
    """Django's form (old password checked, new one typed twice and validated), with the rules as one
    plain sentence: Django's help text is an HTML list, which our field template puts inside a <p>."""

    error_messages = {
        **PasswordChangeForm.error_messages,
        "password_mismatch": _PASSWORD_MISMATCH,
        "password_incorrect": _("Your current password was entered incorrectly. Please enter it again."),
    }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["old_password"].label = _("Current password")
        self.fields["new_password1"].help_text = password_rules()
        self.fields["new_password2"].label = _("New password again")
        self.own_wording()


class OTPCodeForm(forms.Form):
    """A code from the authenticator app, or a backup code (checked by accounts/otp.py)."""

    code = forms.CharField(
        label=_("Code"),
        max_length=20,
        help_text=_("The 6-digit code your authenticator app shows now, or one of your backup codes."),
        widget=forms.TextInput(
            # autofocus: each page that asks for it (sign-in code, step-up, reset) asks for nothing else
            attrs={
                "autocomplete": "one-time-code",
                "autocapitalize": "off",
                "spellcheck": "false",
                "autofocus": True,
            }
        ),
        error_messages={
            "required": _("Type the code from your app, or a backup code."),
            "max_length": _(
                "That is longer than a code: type the code your app shows now, or a backup code."
            ),
        },
    )


class TOTPConfirmForm(forms.Form):
    """The first code from a newly added authenticator app."""

    code = forms.CharField(
        label=_("Code from the app"),
        max_length=10,
        help_text=_("Type the 6 digits the app shows for SecureBank."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        error_messages={
            "required": _("Type the 6-digit code the app shows."),
            "max_length": _("That is longer than a code: type the 6 digits the app shows."),
        },
    )


class PasswordConfirmForm(forms.Form):
    """The step-up for a customer without two-factor auth: their password again."""

    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
        error_messages={"required": _("Type your password.")},
    )


class PasswordResetRequestForm(forms.Form):
    """The email a forgotten-password link goes to (accounts/password_reset.py)."""

    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        help_text=_("The email you sign in with. We'll send a link to choose a new password."),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
        error_messages={
            "required": _("Type the email you sign in with."),
            "invalid": _("Type an email address like name@example.com."),
            "max_length": _("An email address can be at most 254 characters."),
        },
    )


class CustomerSetPasswordForm(RulesOnNewPasswordMixin, SetPasswordForm):
    """A new password from a forgotten-password link: Django's form (typed twice, the project's validators),
    worded as the password change is."""

    error_messages = {**SetPasswordForm.error_messages, "password_mismatch": _PASSWORD_MISMATCH}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].help_text = password_rules()
        self.fields["new_password1"].widget.attrs["autofocus"] = True
        self.fields["new_password2"].label = _("New password again")
        self.own_wording()


# --- Payees ----------------------------------------------------------------------------------------------

_PAYEE_NAME_MAX = 100


def payee_name_field() -> forms.CharField:
    """A payee's name as the customer writes it: any script, trimmed, up to 100 characters."""
    return forms.CharField(
        label=_("Payee's name"),
        max_length=_PAYEE_NAME_MAX,
        help_text=_("What you call them, in any language, e.g. Ravi Kumar or रवि कुमार."),
        error_messages={
            "required": _("Enter a name for the payee."),
            "max_length": _("A payee's name is at most 100 characters."),
        },
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


_ACCOUNT_NUMBER_RULE = _("An account number is 9 to 18 digits, e.g. 50100012345678.")
_IFSC_RULE = _("An IFSC is 11 characters: 4 letters, a zero, then 6 letters or digits, e.g. HDFC0001234.")


class PayeeForm(forms.Form):
    """A new payee: a name, the account number twice (a typo would pay a stranger) and the IFSC. Cleans
    input; whether the payee can be added (its bank, its account at SecureBank, a duplicate) is for
    accounts.services.payee_target to say."""

    name = payee_name_field()
    account_number = forms.CharField(
        label=_("Account number"),
        max_length=40,
        help_text=_("9 to 18 digits, as on the payee's cheque book or passbook."),
        error_messages={"required": _("Enter the payee's account number.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"}),
    )
    account_number_again = forms.CharField(
        label=_("Account number again"),
        max_length=40,
        help_text=_("Type it once more, so that a typing mistake cannot send money to someone else."),
        error_messages={"required": _("Type the account number again.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"}),
    )
    ifsc = forms.CharField(
        label=_("IFSC"),
        max_length=20,
        help_text=_("The branch's 11-character code, e.g. HDFC0001234. SecureBank's is SECB0000001."),
        error_messages={"required": _("Enter the IFSC of the payee's branch.")},
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}
        ),
    )

    @staticmethod
    def _digits(value: str) -> str:
        return "".join(value.split())

    def clean_account_number(self) -> str:
        number = self._digits(self.cleaned_data["account_number"])
        if not re.fullmatch(r"[0-9]+", number):
            raise forms.ValidationError(_("Use digits only: an account number has no letters or signs."))
        if not re.fullmatch(r"[0-9]{9,18}", number):
            raise forms.ValidationError(_ACCOUNT_NUMBER_RULE)
        return number

    def clean_account_number_again(self) -> str:
        return self._digits(self.cleaned_data["account_number_again"])

    def clean_ifsc(self) -> str:
        ifsc = ifsc_normalize(self.cleaned_data["ifsc"])
        if not ifsc_valid(ifsc):
            raise forms.ValidationError(_IFSC_RULE)
        if bank_for_ifsc(ifsc) is None:
            raise forms.ValidationError(
                _("We don't recognise the bank of IFSC %(ifsc)s. Check the code with your payee.")
                % {"ifsc": ifsc}
            )
        return ifsc

    def clean(self) -> dict:
        cleaned = super().clean()
        first, again = cleaned.get("account_number"), cleaned.get("account_number_again")
        if first and again is not None and again != first:
            self.add_error(
                "account_number_again",
                _("The two account numbers do not match. Type the same number in both boxes."),
            )
        return cleaned


class PayeeRenameForm(forms.Form):
    name = payee_name_field()
