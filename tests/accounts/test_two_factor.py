"""Turning two-factor auth on (QR code, secret, first code, backup codes), new codes, turning it off."""

import datetime
import re

import pytest
import time_machine
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

from accounts import otp, otp_secrets
from accounts.models import AuthenticatorApp
from portal.models import AuditEvent
from tests.twofactor import code_now, enrol, step_up_with_password

TWO_FACTOR = reverse("two_factor")
CODES = reverse("two_factor_backup_codes")


def _wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def _step_up(client, device, action: str) -> None:
    """Answer the step-up page for `action` with the app's current code."""
    response = client.post(reverse("step_up") + f"?action={action}&next=/", {"code": code_now(device)})
    assert response.status_code == 302


@pytest.fixture
def signed_in(client, alice):
    client.force_login(alice)
    step_up_with_password(client)  # turning 2FA on asks for the password first
    return client


def test_it_asks_for_the_password_before_turning_two_factor_on(client, alice):
    client.force_login(alice)
    response = client.get(TWO_FACTOR)
    assert response["Location"].startswith(reverse("step_up") + "?action=2fa.enable")
    assert not AuthenticatorApp.objects.filter(user=alice).exists()
    step_up_with_password(client)
    assert client.get(TWO_FACTOR).status_code == 200


def test_it_shows_a_qr_code_and_the_secret_for_a_new_app(signed_in, alice):
    page = signed_in.get(TWO_FACTOR)
    assert page.status_code == 200
    html = page.content.decode()
    device = AuthenticatorApp.objects.get(user=alice)
    assert not device.confirmed
    assert '<svg viewBox="0 0' in html and 'class="qr-code"' in html
    assert "style=" not in html  # the CSP allows no inline styles
    assert otp.secret_display(device) in html
    assert re.fullmatch(r"([A-Z2-7]{4} )*[A-Z2-7]{1,4}", otp.secret_display(device))
    # a reload shows the same secret (the app may already hold it)
    assert otp.secret_display(device) in signed_in.get(TWO_FACTOR).content.decode()
    assert AuthenticatorApp.objects.filter(user=alice).count() == 1


def test_it_encodes_the_otpauth_address_with_the_issuer(alice):
    device = AuthenticatorApp.objects.create(user=alice, confirmed=False)
    assert device.config_url.startswith("otpauth://totp/SecureBank%3Aalice%40example.com?secret=")
    assert "issuer=SecureBank" in device.config_url


def test_it_turns_two_factor_on_with_the_first_code_and_shows_backup_codes_once(signed_in, alice):
    signed_in.get(TWO_FACTOR)
    device = AuthenticatorApp.objects.get(user=alice)
    before = signed_in.session.session_key

    response = signed_in.post(TWO_FACTOR, {"code": code_now(device)})

    assert response["Location"] == CODES
    device.refresh_from_db()
    assert device.confirmed
    assert otp.has_two_factor(alice)
    assert signed_in.session.session_key != before  # a privilege change: a new key
    assert signed_in.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    page = signed_in.get(CODES).content.decode()
    shown = re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>", page)
    assert len(shown) == 10
    stored = set(StaticToken.objects.filter(device__user=alice).values_list("token", flat=True))
    assert {
        otp_secrets.backup_code_digest(code.replace("-", ""), user_id=alice.pk) for code in shown
    } == stored
    assert "shown only once" in page or "show them only once" in page
    assert signed_in.get(CODES)["Location"] == TWO_FACTOR  # gone after one showing

    event = AuditEvent.objects.get(action="2fa.enable")
    assert (event.actor, event.after) == (alice, {"app": "Authenticator app", "backup_code_count": 10})
    assert not any(code.replace("-", "") in str(event.after) for code in shown)


def test_it_keeps_the_device_unconfirmed_after_a_wrong_code(signed_in, alice):
    signed_in.get(TWO_FACTOR)
    device = AuthenticatorApp.objects.get(user=alice)
    response = signed_in.post(TWO_FACTOR, {"code": _wrong(code_now(device))})
    assert response.status_code == 200
    assert "That code did not match" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert not StaticDevice.objects.filter(user=alice).exists()
    assert not AuditEvent.objects.filter(action="2fa.enable").exists()


def test_it_says_to_wait_when_the_right_code_comes_too_soon_after_a_wrong_one(client, alice):
    """django-otp's back-off after a typo: the right code within it is refused as sign-in refuses it, by
    saying how long to wait, not "That code did not match"; after the wait it turns two-factor auth on."""
    noon = datetime.datetime(2026, 3, 2, 12, 0, 5, tzinfo=datetime.UTC)
    with time_machine.travel(noon, tick=False):
        client.force_login(alice)
        step_up_with_password(client)
        client.get(TWO_FACTOR)
        device = AuthenticatorApp.objects.get(user=alice)
        assert (
            "That code did not match"
            in client.post(TWO_FACTOR, {"code": _wrong(code_now(device))}).content.decode()
        )
        response = client.post(TWO_FACTOR, {"code": code_now(device)})
        page = response.content.decode()
        assert response.status_code == 200
        assert "Wait 1 second after a wrong code, then type the code again." in page
        assert "That code did not match" not in page
        device.refresh_from_db()
        assert not device.confirmed
    with time_machine.travel(noon + datetime.timedelta(seconds=2), tick=False):
        assert client.post(TWO_FACTOR, {"code": code_now(device)})["Location"] == CODES
    device.refresh_from_db()
    assert device.confirmed


def test_it_refuses_an_empty_code(signed_in, alice):
    signed_in.get(TWO_FACTOR)
    response = signed_in.post(TWO_FACTOR, {"code": ""})
    assert response.status_code == 200
    assert "Type the 6-digit code" in response.content.decode()


def test_it_shows_the_status_when_two_factor_is_on(signed_in, alice):
    enrol(alice)
    page = signed_in.get(TWO_FACTOR).content.decode()
    assert "Two-factor authentication is on" in page
    assert "10 unused backup codes" in page
    assert 'class="qr"' not in page  # the QR code is drawn only while enrolling


def test_it_sends_visitors_to_sign_in(client, db):
    assert client.get(TWO_FACTOR)["Location"].startswith(reverse("login"))


def test_it_asks_for_a_step_up_before_turning_two_factor_off(signed_in, alice):
    device = enrol(alice)
    url = reverse("two_factor_disable")
    for response in (signed_in.get(url), signed_in.post(url)):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("step_up") + "?action=2fa.disable")
    assert otp.has_two_factor(alice)

    _step_up(signed_in, device, "2fa.disable")
    assert "Turn off two-factor authentication?" in signed_in.get(url).content.decode()
    assert signed_in.post(url)["Location"] == TWO_FACTOR

    assert not otp.has_two_factor(alice)
    assert not StaticDevice.objects.filter(user=alice).exists()
    event = AuditEvent.objects.get(action="2fa.disable")
    assert event.before == {"app": True, "backup_code_count": 10}


def test_it_asks_for_a_step_up_before_new_backup_codes(signed_in, alice):
    device = enrol(alice)
    old = set(StaticToken.objects.filter(device__user=alice).values_list("token", flat=True))
    url = reverse("two_factor_backup_codes_new")
    assert signed_in.post(url)["Location"].startswith(reverse("step_up"))

    _step_up(signed_in, device, "2fa.backup_codes.regenerate")
    assert signed_in.post(url)["Location"] == CODES
    new = set(StaticToken.objects.filter(device__user=alice).values_list("token", flat=True))
    assert len(new) == 10 and not new & old
    assert len(re.findall(r"<code>", signed_in.get(CODES).content.decode())) == 10
    event = AuditEvent.objects.get(action="2fa.backup_codes.regenerate")
    assert (event.before, event.after) == ({"backup_code_count": 10}, {"backup_code_count": 10})

    # the grant was used up: another set needs another step-up
    assert signed_in.post(url)["Location"].startswith(reverse("step_up"))


def test_turning_two_factor_on_signs_out_other_devices_and_emails_the_customer(
    signed_in, alice, django_capture_on_commit_callbacks
):
    from django.test import Client

    elsewhere = Client()
    elsewhere.force_login(alice)
    assert elsewhere.get(reverse("dashboard")).status_code == 200
    signed_in.get(TWO_FACTOR)
    device = AuthenticatorApp.objects.get(user=alice)
    with django_capture_on_commit_callbacks() as callbacks:
        response = signed_in.post(TWO_FACTOR, {"code": code_now(device)})
    assert response["Location"] == CODES
    assert [(c.args[1], c.args[2]["change"]) for c in callbacks] == [
        ("two_factor_changed", "an authenticator app was added")
    ]
    assert signed_in.get(reverse("dashboard")).status_code == 200  # this device stays signed in
    assert elsewhere.get(reverse("dashboard")).status_code == 302  # the other one is signed out
