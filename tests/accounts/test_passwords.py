"""Password rules (12 characters, Django's validators, the shipped list of common and leaked passwords) and
the customer's password change at /security/password/."""

import gzip

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from accounts.models import User, UserSession
from accounts.passwords import COMMON_PASSWORDS, BreachedPasswordValidator
from portal.models import AuditEvent
from tests.factories import PASSWORD

URL = reverse("password_change")
NEW = "Tamarind-Harbour-Lantern-19"


def _refusals(password: str, user: User | None = None) -> list[str]:
    try:
        validate_password(password, user)
    except ValidationError as error:
        return list(error.messages)
    return []


def test_it_refuses_a_leaked_password_of_twelve_characters_or_more_with_a_clear_message():
    # On zxcvbn's list of leaked passwords, not on Django's own: the shipped list is the merged one.
    assert _refusals("1qaz2wsx3edc4rfv") == [
        "This password is on a list of common or leaked passwords that attackers try first. "
        "Choose one that is not."
    ]
    assert _refusals("123456789ABC")  # compared without case


def test_it_ships_the_merged_list_in_the_repository():
    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as f:
        words = [line.strip() for line in f]
    assert len(words) > 40_000
    assert words == sorted(set(words)) and all(w == w.lower() for w in words)
    assert {"password", "qwerty", "iloveyou"} <= BreachedPasswordValidator().passwords


def test_it_needs_twelve_characters():
    assert _refusals("Kx9#mPq2!vL") == ["This password is too short. It must contain at least 12 characters."]
    assert _refusals("Kx9#mPq2!vLw") == []


def test_it_refuses_a_password_like_the_customers_email_or_name(db):
    user = User(email="priya.raman@example.com", full_name="Priya Raman")
    assert _refusals("priya.raman@example", user)
    assert _refusals("PriyaRaman1984", user)


def test_it_refuses_an_all_numeric_password():
    assert "This password is entirely numeric." in _refusals("948372615049")


# --- The password change page -------------------------------------------------------------------------------


def _change(client, old=PASSWORD, new=NEW, again=None):
    return client.post(URL, {"old_password": old, "new_password1": new, "new_password2": again or new})


def test_it_sends_anonymous_visitors_to_sign_in(client, db):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_shows_the_form(client, alice):
    client.force_login(alice)
    response = client.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1>Change your password</h1>" in page
    assert 'autocomplete="current-password"' in page and 'autocomplete="new-password"' in page
    assert "at least 12 characters" in page


def test_it_changes_the_password_keeps_this_device_signed_in_with_a_new_session_key(client, alice):
    client.force_login(alice)
    key_before = client.session.session_key
    response = _change(client)
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")
    assert client.session.session_key != key_before
    dashboard = client.get(reverse("dashboard"))
    assert dashboard.status_code == 200
    assert "Password changed." in dashboard.content.decode()
    alice.refresh_from_db()
    assert alice.check_password(NEW) and not alice.check_password(PASSWORD)


def test_it_signs_out_every_other_session(client, alice):
    laptop, phone = client, Client()
    laptop.force_login(alice)
    phone.post(reverse("login"), {"username": alice.email, "password": PASSWORD})  # a registered sign-in
    assert phone.get(reverse("dashboard")).status_code == 200
    _change(laptop)
    assert phone.get(reverse("dashboard")).status_code == 302
    assert laptop.get(reverse("dashboard")).status_code == 200
    # The security page lists only this device as open: the phone's sign-in is ended.
    assert UserSession.objects.filter(user=alice).count() == 2
    assert UserSession.objects.filter(user=alice, ended_at__isnull=True).count() == 1


def test_it_records_the_change_without_any_secret(client, alice):
    client.force_login(alice)
    _change(client)
    event = AuditEvent.objects.get(action="password.change")
    assert event.actor == alice
    assert (event.object_type, event.object_id) == ("accounts.user", str(alice.pk))
    assert PASSWORD not in str(event.after) + str(event.before)
    assert NEW not in str(event.after) + str(event.before)


def test_the_old_password_no_longer_signs_in(client, alice):
    client.force_login(alice)
    _change(client)
    client.logout()
    old = client.post(reverse("login"), {"username": "alice@example.com", "password": PASSWORD})
    assert old.status_code == 200
    assert "do not match an account" in old.content.decode()
    new = client.post(reverse("login"), {"username": "alice@example.com", "password": NEW})
    assert new.status_code == 302


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"old": "not-my-password"}, "old_password", "Your current password was entered incorrectly"),
        ({"new": "1qaz2wsx3edc4rfv"}, "new_password1", "list of common or leaked passwords"),
        ({"new": "Short-1"}, "new_password1", "at least 12 characters"),
        ({"again": "Something-Else-Entirely-7"}, "new_password2", "The two passwords do not match"),
    ],
    ids=["wrong current password", "leaked", "too short", "mismatch"],
)
def test_it_shows_what_is_wrong_and_changes_nothing(client, alice, data, field, message):
    client.force_login(alice)
    response = _change(client, **data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert message in " ".join(errors[field])
    # Each message on the field it is about: a rule on the new password, a mismatch on its repetition.
    assert [name for name in ("new_password1", "new_password2") if name in errors] in ([], [field])
    page = response.content.decode()
    assert 'role="alert"' in page and message in page.replace("&#x27;", "'").replace("’", "'")
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)
    assert not AuditEvent.objects.filter(action="password.change").exists()


def test_it_writes_one_style_of_apostrophe_in_the_password_pages(client, alice):
    """The portal writes "can't"; Django's validators write "can’t": none of theirs reaches the page."""
    client.force_login(alice)
    body = client.get(reverse("password_change")).content.decode()
    assert "’" not in body
    assert "can&#x27;t" in body or "can't" in body
