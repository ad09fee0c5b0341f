"""accounts.forms.PayeeForm: what a customer types for a new payee, cleaned; our own words for every
refusal (none of Django's "This field is required.")."""

import pytest

from accounts.forms import PayeeForm, PayeeRenameForm

GOOD = {
    "name": "Ravi Kumar",
    "account_number": "50100012345678",
    "account_number_again": "50100012345678",
    "ifsc": "HDFC0001234",
}


def _errors(**changes) -> dict:
    form = PayeeForm({**GOOD, **changes})
    form.is_valid()
    return form.errors


def test_it_cleans_a_good_payee():
    form = PayeeForm(
        {**GOOD, "name": "  रवि कुमार  ", "account_number": "5010 0012 3456 78", "ifsc": " hdfc0001234 "}
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["name"] == "रवि कुमार"
    assert form.cleaned_data["account_number"] == "50100012345678"
    assert form.cleaned_data["ifsc"] == "HDFC0001234"


def test_it_says_what_each_empty_field_needs():
    form = PayeeForm({})
    assert not form.is_valid()
    assert form.errors == {
        "name": ["Enter a name for the payee."],
        "account_number": ["Enter the payee's account number."],
        "account_number_again": ["Type the account number again."],
        "ifsc": ["Enter the IFSC of the payee's branch."],
    }
    assert "This field is required." not in str(form.errors)
    assert not PayeeRenameForm({"name": "   "}).is_valid()
    assert PayeeRenameForm({"name": "   "}).errors == {"name": ["Enter a name for the payee."]}


def test_it_takes_a_name_of_100_characters_in_any_script_and_no_more():
    tamil = ("வாடகைமற்றும்மின்சாரக்கட்டணம்" * 5)[:100]
    assert PayeeForm({**GOOD, "name": tamil}).is_valid()
    assert _errors(name="x" * 101) == {"name": ["A payee's name is at most 100 characters."]}


@pytest.mark.parametrize(
    "number",
    [
        "50100O12345678",
        "5010-0012-3456",
        "+501000123456",
        "१२३४५६७८९०",
    ],  # a letter O, signs, Devanagari digits
)
def test_it_refuses_an_account_number_that_is_not_digits(number):
    errors = _errors(account_number=number, account_number_again=number)
    assert errors == {"account_number": ["Use digits only: an account number has no letters or signs."]}


@pytest.mark.parametrize(
    ("number", "valid"), [("1" * 8, False), ("1" * 9, True), ("1" * 18, True), ("1" * 19, False)]
)
def test_it_takes_9_to_18_digits(number, valid):
    errors = _errors(account_number=number, account_number_again=number)
    if valid:
        assert errors == {}
    else:
        assert errors == {"account_number": ["An account number is 9 to 18 digits, e.g. 50100012345678."]}


def test_it_puts_a_mismatch_on_the_second_number():
    errors = _errors(account_number_again="50100012345679")
    assert errors == {
        "account_number_again": ["The two account numbers do not match. Type the same number in both boxes."]
    }
    assert _errors(account_number_again="5010 0012 3456 78") == {}  # spaces do not count


def test_a_bad_first_number_is_not_also_called_a_mismatch():
    assert list(_errors(account_number="123", account_number_again="50100012345678")) == ["account_number"]


@pytest.mark.parametrize("ifsc", ["HDFC1001234", "HDFC000123", "HDFC00012345", "1234HDFC000", "HDFC0001-34"])
def test_it_names_the_ifsc_format(ifsc):
    assert _errors(ifsc=ifsc) == {
        "ifsc": ["An IFSC is 11 characters: 4 letters, a zero, then 6 letters or digits, e.g. HDFC0001234."]
    }


def test_it_refuses_an_ifsc_of_a_bank_it_does_not_know():
    assert _errors(ifsc="zzzz0001234") == {
        "ifsc": ["We don't recognise the bank of IFSC ZZZZ0001234. Check the code with your payee."]
    }


def test_it_accepts_an_ifsc_in_lower_case():
    form = PayeeForm({**GOOD, "ifsc": "sbin0000691"})
    assert form.is_valid()
    assert form.cleaned_data["ifsc"] == "SBIN0000691"
