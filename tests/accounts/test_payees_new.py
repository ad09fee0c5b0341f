"""Adding a payee (/payees/new/ → /payees/new/review/ → step-up "payee.add" → the payee's page): nothing is
added without a fresh proof bound to exactly these details."""

import pytest
from django.urls import reverse

from accounts.models import Payee
from accounts.stepup import step_up_binding
from portal.models import AuditEvent
from tests.factories import PASSWORD
from tests.twofactor import code_now, enrol

NEW = reverse("payee_new")
REVIEW = reverse("payee_review")
STEP_UP = reverse("step_up")

DETAILS = {
    "name": "Ravi Kumar",
    "account_number": "5010 0012 3456 78",
    "account_number_again": "50100012345678",
    "ifsc": "hdfc0001234",
}
CLEAN = {
    "name": "Ravi Kumar",
    "account_number": "50100012345678",
    "account_number_again": "50100012345678",
    "ifsc": "HDFC0001234",
}


@pytest.fixture
def signed_in(client, alice):
    client.force_login(alice)
    return client


def _step_up(client, response) -> None:
    """Follow the review's redirect to the step-up page and give the password there."""
    assert response.status_code == 302 and response["Location"].startswith(STEP_UP), response
    assert client.post(response["Location"], {"password": PASSWORD})["Location"] == REVIEW


def test_it_shows_the_form(signed_in):
    response = signed_in.get(NEW)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Add a payee" in body and "Account number again" in body


def test_anonymous_visitors_are_sent_to_sign_in(client, db):
    for url in (NEW, REVIEW, reverse("payee_list")):
        assert client.get(url)["Location"].startswith(reverse("login"))
    assert client.post(REVIEW, CLEAN)["Location"].startswith(reverse("login"))
    assert not Payee.objects.exists()


def test_a_bad_form_is_shown_again_with_its_errors_and_nothing_kept(signed_in):
    response = signed_in.post(NEW, {**DETAILS, "account_number_again": "50100012345670"})
    assert response.status_code == 200
    assert "The two account numbers do not match" in response.content.decode()
    assert "payees.pending" not in signed_in.session
    assert signed_in.get(REVIEW)["Location"] == NEW  # nothing to review


def test_it_refuses_at_the_form_what_the_bank_would_refuse(signed_in, alice_savings, bob_savings):
    own = signed_in.post(
        NEW,
        {
            **CLEAN,
            "account_number": alice_savings.number,
            "account_number_again": alice_savings.number,
            "ifsc": "SECB0000001",
        },
    )
    assert "one of your own accounts" in own.context["form"].errors["account_number"][0]
    nobody = signed_in.post(
        NEW,
        {
            **CLEAN,
            "account_number": "999999999999",
            "account_number_again": "999999999999",
            "ifsc": "SECB0000001",
        },
    )
    assert "no SecureBank account with that number" in nobody.context["form"].errors["account_number"][0]
    assert not Payee.objects.exists()


def test_it_adds_the_payee_after_review_and_step_up(signed_in, alice):
    response = signed_in.post(NEW, DETAILS)
    assert (response.status_code, response["Location"]) == (303, REVIEW)

    review = signed_in.get(REVIEW)
    body = review.content.decode()
    assert review.status_code == 200
    assert "50100012345678" in body and "HDFC0001234" in body and "HDFC Bank" in body
    assert "we will ask for your password once more" in body
    assert not Payee.objects.exists(), "the review adds nothing"

    first = signed_in.post(REVIEW, CLEAN)
    assert not Payee.objects.exists(), "no payee without the step-up"
    step_up_page = signed_in.get(first["Location"]).content.decode()
    assert "add a payee" in step_up_page and "50100012345678" in step_up_page  # what is being confirmed
    _step_up(signed_in, first)
    assert "You confirmed it's you" in signed_in.get(REVIEW).content.decode()
    assert not Payee.objects.exists(), "the proof alone adds nothing"

    added = signed_in.post(REVIEW, CLEAN)
    payee = Payee.objects.get()
    assert (added.status_code, added["Location"]) == (303, reverse("payee_detail", args=[payee.pk]))
    assert (payee.owner, payee.name, payee.account_number, payee.ifsc) == (
        alice,
        "Ravi Kumar",
        "50100012345678",
        "HDFC0001234",
    )
    assert AuditEvent.objects.filter(action="payee.add", actor=alice).count() == 1
    page = signed_in.get(added["Location"]).content.decode()
    assert "Ravi Kumar was added. Can receive money from" in page
    assert "payees.pending" not in signed_in.session

    # A second submit (a double click, Back and Add again) adds nothing: this payee exists now.
    again = signed_in.post(REVIEW, CLEAN)
    assert again.status_code == 200
    assert "You already have this payee, as Ravi Kumar." in again.content.decode()
    assert Payee.objects.count() == 1
    # Nor does the proof add another payee: it was used once.
    other = {**CLEAN, "account_number": "50100012345679", "account_number_again": "50100012345679"}
    assert signed_in.post(REVIEW, other)["Location"].startswith(STEP_UP)


def test_a_proof_for_other_details_does_not_add_these(signed_in):
    signed_in.post(NEW, DETAILS)
    _step_up(signed_in, signed_in.post(REVIEW, CLEAN))  # a proof for Ravi's 50100012345678
    for changed in (
        {"name": "Someone else"},
        {"account_number": "50100012345679", "account_number_again": "50100012345679"},
        {"ifsc": "ICIC0001234"},
    ):
        response = signed_in.post(REVIEW, {**CLEAN, **changed})
        assert response["Location"].startswith(STEP_UP), changed
        assert not Payee.objects.exists()
    # The tampered tries also used up the proof for the real details (a wrong binding drops the grant).
    assert signed_in.post(REVIEW, CLEAN)["Location"].startswith(STEP_UP)
    assert not Payee.objects.exists()


def test_a_proof_for_another_action_does_not_add_a_payee(signed_in):
    signed_in.post(f"{STEP_UP}?action=2fa.enable&next=/", {"password": PASSWORD})
    assert signed_in.post(REVIEW, CLEAN)["Location"].startswith(STEP_UP)
    assert not Payee.objects.exists()


def test_an_unbound_payee_add_grant_does_not_add_a_payee(signed_in):
    """The step-up page opened directly grants payee.add bound to nothing: not these details."""
    signed_in.post(f"{STEP_UP}?action=payee.add&next=/", {"password": PASSWORD})
    assert signed_in.post(REVIEW, CLEAN)["Location"].startswith(STEP_UP)
    assert not Payee.objects.exists()


def test_with_two_factor_on_it_asks_for_a_code(signed_in, alice):
    device = enrol(alice)
    signed_in.post(NEW, DETAILS)
    assert "the code your authenticator app shows" in signed_in.get(REVIEW).content.decode()
    first = signed_in.post(REVIEW, CLEAN)
    assert signed_in.post(first["Location"], {"code": code_now(device)})["Location"] == REVIEW
    assert signed_in.post(REVIEW, CLEAN).status_code == 303
    assert Payee.objects.filter(owner=alice).count() == 1


def test_tampered_hidden_fields_are_checked_like_the_form(signed_in):
    response = signed_in.post(REVIEW, {**CLEAN, "ifsc": "ZZZZ0001234"})
    assert response.status_code == 200
    assert "We don&#x27;t recognise the bank" in response.content.decode()
    response = signed_in.post(REVIEW, {**CLEAN, "account_number_again": "1"})
    assert response.status_code == 200 and "do not match" in response.content.decode()
    assert not Payee.objects.exists()


def test_change_details_refills_the_form(signed_in):
    signed_in.post(NEW, DETAILS)
    form = signed_in.get(NEW, {"change": "1"}).context["form"]
    assert form["name"].value() == "Ravi Kumar" and form["ifsc"].value() == "HDFC0001234"
    assert signed_in.get(NEW).context["form"]["name"].value() is None  # a fresh start is empty


def test_a_payee_added_meanwhile_is_refused_at_the_review(signed_in, alice):
    signed_in.post(NEW, DETAILS)
    _step_up(signed_in, signed_in.post(REVIEW, CLEAN))
    Payee.objects.create(
        owner=alice, name="Ravi", account_number="50100012345678", ifsc="HDFC0001234", bank_name="HDFC Bank"
    )
    response = signed_in.post(REVIEW, CLEAN)
    assert response.status_code == 200
    assert "You already have this payee, as Ravi." in response.content.decode()
    assert Payee.objects.count() == 1


def test_the_binding_covers_name_number_and_ifsc():
    base = step_up_binding("payee.add", "Ravi", "50100012345678", "HDFC0001234")
    assert base != step_up_binding("payee.add", "Ravi ", "50100012345678", "HDFC0001234")
    assert base != step_up_binding("payee.add", "Ravi", "50100012345679", "HDFC0001234")
    assert base != step_up_binding("payee.add", "Ravi", "50100012345678", "HDFC0001235")


def test_it_limits_how_many_payee_forms_a_customer_checks(signed_in, alice, bob, settings):
    """Each check may say whether a SecureBank account number exists: a customer cannot probe the bank's
    accounts by posting the form over and over (20 an hour by default)."""
    from tests.factories import AccountFactory

    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "payee_check": (3, 3600)}
    bobs = AccountFactory(owner=bob)
    probe = {
        **CLEAN,
        "ifsc": "SECB0000001",
        "account_number": bobs.number,
        "account_number_again": bobs.number,
    }
    for _ in range(3):
        assert signed_in.post(NEW, probe).status_code == 303
    refused = signed_in.post(NEW, probe)
    assert refused.status_code == 429
    assert bobs.number not in refused.content.decode()
    assert not Payee.objects.exists()


def test_it_limits_how_many_account_numbers_the_review_checks_too(signed_in, alice, bob, settings):
    """The review's POST runs the same lookup as the form: posting it straight, with other numbers each
    time, counts in the same payee_check scope. Adding a payee the ordinary way (the form, then its review
    and the step-up) is counted once."""
    from tests.factories import AccountFactory

    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "payee_check": (3, 3600)}
    assert signed_in.post(NEW, CLEAN).status_code == 303  # one
    _step_up(signed_in, signed_in.post(REVIEW, CLEAN))
    assert signed_in.post(REVIEW, CLEAN).status_code == 303  # added, not counted again
    assert Payee.objects.filter(owner=alice).count() == 1

    bobs = [AccountFactory(owner=bob) for _ in range(3)]
    probes = [
        {**CLEAN, "ifsc": "SECB0000001", "account_number": a.number, "account_number_again": a.number}
        for a in bobs
    ]
    for probe in probes[:2]:  # two and three
        assert signed_in.post(REVIEW, probe).status_code == 302  # found: on to the step-up
    refused = signed_in.post(REVIEW, probes[2])
    assert refused.status_code == 429
    assert bobs[2].number not in refused.content.decode()
    assert Payee.objects.filter(owner=alice).count() == 1


def test_a_form_with_a_typo_is_not_counted(signed_in, settings):
    """Only a form that passes validation reaches the account lookup, and only that is counted."""
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "payee_check": (2, 3600)}
    typo = {**CLEAN, "account_number_again": "50100012345679"}
    for _ in range(5):
        assert signed_in.post(NEW, typo).status_code == 200
    assert signed_in.post(NEW, CLEAN).status_code == 303
    assert signed_in.post(NEW, CLEAN).status_code == 303
    assert signed_in.post(NEW, CLEAN).status_code == 429


def test_the_429_page_says_a_time_of_day_and_leads_back_to_the_form(signed_in, alice, settings):
    import datetime
    import zoneinfo

    import time_machine

    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "payee_check": (1, 3600)}
    start = datetime.datetime(2026, 12, 7, 6, 0, 20, tzinfo=zoneinfo.ZoneInfo("Asia/Kolkata"))
    with time_machine.travel(start, tick=False):
        signed_in.force_login(alice)  # a session of that day
        assert signed_in.post(NEW, CLEAN).status_code == 303
    with time_machine.travel(start + datetime.timedelta(minutes=2), tick=False):
        refused = signed_in.post(NEW, CLEAN)
    page = refused.content.decode()
    assert refused.status_code == 429 and refused["Retry-After"] == "3480"
    assert "Please try again from 7:01 AM IST." in page
    assert "second" not in page
    assert f'<a class="button" href="{NEW}">Back to the form</a>' in page
    with time_machine.travel(start + datetime.timedelta(minutes=59, seconds=30), tick=False):
        signed_in.force_login(alice)
        page = signed_in.post(NEW, CLEAN).content.decode()
    assert "Please wait 30 seconds and try again." in page
