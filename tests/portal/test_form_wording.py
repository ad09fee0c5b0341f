"""Every form speaks in the portal's words: no Django default message ("This field is required.",
"Ensure this value has at most 140 characters (it has 200).") beside our own, for empty, too long or
malformed input in any field a customer sees."""

import pytest

from accounts.forms import (
    CustomerPasswordChangeForm,
    CustomerSetPasswordForm,
    LoginForm,
    OTPCodeForm,
    PasswordConfirmForm,
    PasswordResetRequestForm,
    TOTPConfirmForm,
)
from transactions.forms import LimitsForm, TransferForm
from transactions.scheduled.forms import ScheduledTransferForm

DJANGO_DEFAULTS = (
    "This field is required.",
    "Ensure this value",
    "Select a valid choice",
    "Enter a valid",
    "Enter a whole number",
)
TOO_LONG = "9" * 300


def _forms(user):
    limits = {"bank_daily": 100_000_00, "bank_per_transfer": 50_000_00, "own": {}}
    return [
        lambda data: LoginForm(None, data),
        lambda data: CustomerPasswordChangeForm(user, data),
        lambda data: CustomerSetPasswordForm(user, data),
        OTPCodeForm,
        TOTPConfirmForm,
        PasswordConfirmForm,
        PasswordResetRequestForm,
        lambda data: TransferForm(data, user=user),
        lambda data: LimitsForm(data, **limits),
        lambda data: ScheduledTransferForm(data, user=user),
    ]


def _messages(form) -> list[str]:
    """Every message the form's page shows: a field's, the form's own, and a hidden field's (drawn at the
    top of the form by _form_errors.html)."""
    form.is_valid()
    return [str(m) for errors in form.errors.values() for m in errors]


@pytest.mark.parametrize("value", ["", TOO_LONG, "x", "0"])
def test_no_form_shows_a_django_default_message(alice, alice_savings, value):
    defaults = []
    for make in _forms(alice):
        fields = make(None).fields
        data = {name: value for name in fields} | {"idempotency_key": "k"}
        form = make(data)
        defaults += [(type(form).__name__, m) for m in _messages(form) if m.startswith(DJANGO_DEFAULTS)]
    assert not defaults, "\n".join(f"{name}: {message}" for name, message in defaults)


def test_a_scheduled_transfer_of_no_times_asks_in_our_words(alice, alice_savings):
    form = ScheduledTransferForm({"frequency": "weekly", "count": "0"}, user=alice)
    form.is_valid()
    assert form.errors["count"] == ["Enter how many times: 1 or more."]
    assert form.non_field_errors() == ["This form has expired. Please start again."]


def test_a_blank_sign_in_asks_for_each_field_in_our_words(alice):
    errors = LoginForm(None, {"username": "", "password": ""}).errors
    assert errors["username"] == ["Enter your email address."]
    assert errors["password"] == ["Enter your password."]


def test_a_note_too_long_says_so_and_the_field_says_how_long_it_may_be(alice, alice_savings):
    for make in (TransferForm, ScheduledTransferForm):
        form = make({"description": "n" * 200}, user=alice)
        form.is_valid()
        assert form.errors["description"] == ["A note can be at most 140 characters; this one has 200."]
        assert form.fields["description"].help_text == "Up to 140 characters"


def test_the_pages_show_our_words(client, alice, alice_savings, alice_current):
    page = client.post("/login/", {"username": "", "password": ""}).content.decode()
    assert "Enter your email address." in page and "Enter your password." in page
    assert "This field is required." not in page
    client.force_login(alice)
    data = {
        "source": alice_savings.pk,
        "destination": alice_current.pk,
        "amount": "10",
        "idempotency_key": "k",
    }
    page = client.post("/transfers/new/", {**data, "description": "n" * 200}).content.decode()
    assert "A note can be at most 140 characters; this one has 200." in page
    assert "Up to 140 characters" in client.get("/transfers/new/").content.decode()
