"""Two-factor helpers for tests: a confirmed authenticator app, its current code, a verified session."""

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice

from accounts import otp
from accounts.models import AuthenticatorApp, User

BACKUP_CODES = [f"backup{n:04d}" for n in range(10)]


def enrol(user: User) -> AuthenticatorApp:
    """A confirmed authenticator app and ten known backup codes for `user` (as enrolment leaves them)."""
    device = AuthenticatorApp.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = AuthenticatorApp.objects.create(user=user, name="Authenticator app", confirmed=True)
        static = StaticDevice.objects.create(user=user, name="Backup codes", confirmed=True)
        otp.backup_codes_store(static, BACKUP_CODES)
    return device


def code_now(device: AuthenticatorApp) -> str:
    """The code the customer's app shows at this moment (RFC 6238, as django-otp computes it)."""
    device.refresh_from_db()
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift)
    return f"{value:0{device.digits}d}"


def force_login_verified(client: Client, user: User) -> AuthenticatorApp:
    """Sign `user` in with a session that proved a confirmed device, the way django_otp.login records it:
    what the admin needs from staff."""
    device = enrol(user)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session[otp.VERIFIED_USER_SESSION_KEY] = user.pk
    session.save()
    return device


def step_up_with_password(client: Client, action: str = "2fa.enable") -> None:
    """Prove it is the customer on the step-up page with their password (as one without 2FA does): the grant
    that turning 2FA on needs first."""
    from django.urls import reverse

    from tests.factories import PASSWORD

    response = client.post(f"{reverse('step_up')}?action={action}&next=/", {"password": PASSWORD})
    assert response.status_code == 302, response.content
