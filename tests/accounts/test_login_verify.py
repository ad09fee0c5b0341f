"""Signing in with two-factor auth: password, then a code, and only then signed in."""

import datetime
import re

import pytest
import time_machine
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY

from portal.models import AuditEvent
from tests.factories import PASSWORD
from tests.twofactor import BACKUP_CODES, code_now, enrol

VERIFY = reverse("login_verify")
NOON = datetime.datetime(2026, 3, 2, 12, 0, 5, tzinfo=datetime.UTC)


@pytest.fixture
def device(alice):
    return enrol(alice)


def _password_step(client, next_url: str = ""):
    data = {"username": "alice@example.com", "password": PASSWORD}
    url = reverse("login")
    if next_url:
        data["next"] = next_url
        url += f"?next={next_url}"
    return client.post(url, data)


def test_it_keeps_logging_in_without_a_code_when_two_factor_is_off(client, alice):
    response = _password_step(client)
    assert response["Location"] == reverse("dashboard")
    assert client.session["_auth_user_id"] == str(alice.pk)


def test_it_asks_for_the_code_after_the_password(client, device):
    response = _password_step(client)
    assert response.status_code == 302
    assert response["Location"] == VERIFY
    assert "_auth_user_id" not in client.session
    page = client.get(VERIFY)
    assert page.status_code == 200
    assert "Enter your sign-in code" in page.content.decode()


def test_it_signs_in_with_the_app_code_and_returns_to_the_page_asked_for(client, alice, device):
    _password_step(client, next_url=reverse("transfer_new"))
    response = client.post(VERIFY, {"code": code_now(device)})
    assert response.status_code == 302
    assert response["Location"] == reverse("transfer_new")
    assert client.session["_auth_user_id"] == str(alice.pk)
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert client.get(reverse("dashboard")).status_code == 200


def test_it_gives_the_session_a_new_key_when_the_code_is_right(client, device):
    _password_step(client)
    half_signed_in = client.session.session_key
    client.post(VERIFY, {"code": code_now(device)})
    assert client.session.session_key != half_signed_in
    assert "_auth_user_id" in client.session


def test_it_keeps_a_half_signed_in_customer_out_of_every_page(client, device, alice_savings):
    _password_step(client)
    for url in (reverse("dashboard"), reverse("transfer_new"), reverse("two_factor")):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    assert client.get(reverse("admin:index")).status_code == 302


def test_it_refuses_a_wrong_code_with_a_clear_message_and_records_it(client, alice, device):
    _password_step(client)
    response = client.post(VERIFY, {"code": "000000" if code_now(device) != "000000" else "111111"})
    assert response.status_code == 200
    assert "That code did not work" in response.content.decode()
    assert "_auth_user_id" not in client.session
    event = AuditEvent.objects.get(action="login.otp_failure")
    assert (event.actor, event.after["failures"]) == (alice, 1)
    assert not AuditEvent.objects.filter(action="login.success").exists()


def test_it_records_login_success_only_once_the_code_is_right(client, alice, device):
    _password_step(client)
    assert not AuditEvent.objects.filter(action="login.success").exists()
    client.post(VERIFY, {"code": code_now(device)})
    assert AuditEvent.objects.get(action="login.success").actor == alice


def test_it_refuses_the_same_app_code_twice(client, device):
    with time_machine.travel(NOON, tick=False):
        code = code_now(device)
        _password_step(client)
        assert client.post(VERIFY, {"code": code}).status_code == 302
        client.post(reverse("logout"))

        _password_step(client)
        response = client.post(VERIFY, {"code": code})
        assert response.status_code == 200
        assert "_auth_user_id" not in client.session
    with time_machine.travel(NOON + datetime.timedelta(seconds=30), tick=False):  # the app's next code
        assert client.post(VERIFY, {"code": code_now(device)}).status_code == 302


def test_it_accepts_a_backup_code_once(client, device):
    _password_step(client)
    response = client.post(VERIFY, {"code": BACKUP_CODES[0].upper()})
    assert response.status_code == 302
    assert "_auth_user_id" in client.session
    client.post(reverse("logout"))

    _password_step(client)
    response = client.post(VERIFY, {"code": BACKUP_CODES[0]})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_it_drops_the_sign_in_after_five_wrong_codes(client, device):
    _password_step(client)
    moment = NOON
    for _ in range(4):
        moment += datetime.timedelta(minutes=1)  # past the device's own back-off
        with time_machine.travel(moment, tick=False):
            assert client.post(VERIFY, {"code": "wrong-code"}).status_code == 200
    with time_machine.travel(moment + datetime.timedelta(minutes=1), tick=False):
        response = client.post(VERIFY, {"code": "wrong-code"}, follow=True)
        assert response.redirect_chain[-1][0] == reverse("login")
        assert "Too many wrong codes" in response.content.decode()
        # back to the password step: the right code no longer signs in
        assert client.post(VERIFY, {"code": code_now(device)})["Location"] == reverse("login")
    assert AuditEvent.objects.filter(action="login.otp_failure").count() == 5


def _wrong(device) -> str:
    return "999999" if code_now(device) != "999999" else "888888"


def test_it_makes_the_customer_wait_after_wrong_codes_in_a_row(client, device):
    """django-otp's own back-off: after a wrong code even the right one waits a second; it holds for the
    device whatever the session, so starting the sign-in again does not reset it."""
    with time_machine.travel(NOON, tick=False):
        _password_step(client)
        client.post(VERIFY, {"code": _wrong(device)})
    with time_machine.travel(NOON + datetime.timedelta(seconds=0.8), tick=False):
        page = client.post(VERIFY, {"code": code_now(device)}).content.decode()
        # One mistake is not "too many in a row"; the wait is the real one, rounded up.
        assert "Wait 1 second after a wrong code, then type the code again." in page
        assert "in a row" not in page
    with time_machine.travel(NOON + datetime.timedelta(seconds=2), tick=False):
        assert client.post(VERIFY, {"code": code_now(device)}).status_code == 302


def test_it_says_the_real_wait_after_several_wrong_codes(client, device):
    """Delays of 1, 2, 4 … seconds after 1, 2, 3 … wrong codes in a row (OTP_TOTP_THROTTLE_FACTOR 1)."""
    with time_machine.travel(NOON, tick=False):
        _password_step(client)
        client.post(VERIFY, {"code": _wrong(device)})
    with time_machine.travel(NOON + datetime.timedelta(seconds=1.5), tick=False):
        assert "That code did not work" in client.post(VERIFY, {"code": _wrong(device)}).content.decode()
    with time_machine.travel(NOON + datetime.timedelta(seconds=2), tick=False):  # locked until 3.5 s
        page = client.post(VERIFY, {"code": code_now(device)}).content.decode()
        assert "2 wrong codes in a row: wait 2 seconds, then type the code again." in page
    with time_machine.travel(NOON + datetime.timedelta(seconds=3.6), tick=False):
        assert client.post(VERIFY, {"code": code_now(device)}).status_code == 302


def test_one_wrong_code_does_not_stop_the_right_one_two_and_a_half_seconds_later(client, device):
    with time_machine.travel(NOON, tick=False):
        _password_step(client)
        client.post(VERIFY, {"code": _wrong(device)})
    with time_machine.travel(NOON + datetime.timedelta(seconds=2.5), tick=False):
        assert client.post(VERIFY, {"code": code_now(device)})["Location"] == reverse("dashboard")


def test_it_puts_the_cursor_in_the_code_field(client, device):
    _password_step(client)
    field = re.search(r'<input[^>]*name="code"[^>]*>', client.get(VERIFY).content.decode())
    assert field and " autofocus" in field.group(0)


def test_it_forgets_a_sign_in_left_half_done_for_five_minutes(client, device):
    with time_machine.travel(NOON, tick=False):
        _password_step(client)
    with time_machine.travel(NOON + datetime.timedelta(minutes=5, seconds=1), tick=False):
        response = client.post(VERIFY, {"code": code_now(device)})
        assert response["Location"] == reverse("login")
        assert "_auth_user_id" not in client.session


def test_it_sends_a_visitor_without_a_password_step_to_sign_in(client, db):
    assert client.get(VERIFY)["Location"] == reverse("login")
    assert client.post(VERIFY, {"code": "123456"})["Location"] == reverse("login")


def test_it_answers_only_get_and_post(client, device):
    _password_step(client)
    assert client.put(VERIFY).status_code == 405
