"""Two-factor auth on django-otp: an authenticator app (TOTPDevice) and ten backup codes (StaticDevice).

This module reads and checks; the writes (enrol, confirm, disable, new backup codes) are in
`accounts/services.py`. A code is checked with `django_otp.verify_token`, which locks the device row
(SELECT ... FOR UPDATE) for the check, so two requests racing with one code cannot both pass:
- an app code (6 digits) is accepted once: django-otp keeps `last_t`, the time step of the last code
  accepted, and refuses any code of that step or an earlier one;
- a backup code is deleted when it is used (`_backup_code_use`: the device row locked, the stored hashes
  compared in constant time, the matched row deleted only if it still exists);
- each device throttles itself (django-otp's ThrottlingMixin: after n wrong codes in a row, no code is
  accepted for 2^(n-1) seconds), which holds across sessions, unlike a per-session counter.

A session is "verified" (it signed in or stepped up with a code) when it holds the device's id under
`django_otp.DEVICE_ID_SESSION_KEY`, as `django_otp.login` writes it, and the id of the user who proved
it under VERIFIED_USER_SESSION_KEY: a session that changes hands (another sign-in in the same browser) is
not verified for the new user. We do not install django-otp's OTPMiddleware, which would load the device on
every request: only the admin asks (`session_verified`).

Secrets at rest: the seed is encrypted and backup codes are stored as keyed hashes, both bound to their user
(accounts/otp_secrets.py); authenticator apps are always used through `accounts.models.AuthenticatorApp`,
which opens the seed.
"""

from __future__ import annotations

import hmac
import logging
import math
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

import segno
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import ngettext
from django_otp import DEVICE_ID_SESSION_KEY, verify_token
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

from accounts import otp_secrets
from accounts.models import AuthenticatorApp, User

logger = logging.getLogger(__name__)

VERIFIED_USER_SESSION_KEY = "otp.verified_user"

BACKUP_CODE_COUNT = 10
# Backup codes: 10 characters without look-alikes (0/o, 1/l/i), shown as two groups of five.
_BACKUP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_BACKUP_LENGTH = 10
_APP_CODE = re.compile(r"\d{6}")
_SEPARATORS = re.compile(r"[\s-]+")


def backup_code_new() -> str:
    return "".join(secrets.choice(_BACKUP_ALPHABET) for _ in range(_BACKUP_LENGTH))


def backup_code_display(code: str) -> str:
    return f"{code[:5]}-{code[5:]}"


def normalize_code(raw: str) -> str:
    """What the person typed, without spaces or dashes, in lower case: "123 456" and "ABCDE-FGHIJ" work."""
    return _SEPARATORS.sub("", raw or "").lower()


def totp_device(user: User, *, confirmed: bool | None = True) -> AuthenticatorApp | None:
    """The person's authenticator app device (`confirmed=False`: one being enrolled)."""
    devices = AuthenticatorApp.objects.filter(user=user)
    if confirmed is not None:
        devices = devices.filter(confirmed=confirmed)
    return devices.order_by("id").first()


def _seed_error_log(user_id: int | None) -> None:
    """Called from an `except SeedError` block: the operator is told, with the traceback."""
    logger.error(
        "Authenticator seed of user %s cannot be opened (wrong key, or the row was changed)",
        user_id,
        exc_info=True,
    )


def seed_opens(device: AuthenticatorApp) -> bool:
    """Whether the device's seed opens for its user; if not (a wrong key, a row changed, moved or copied in
    the database), an error is logged, as when a code is checked."""
    try:
        device.bin_key  # noqa: B018 (opening it is the check)
    except otp_secrets.SeedError:
        _seed_error_log(device.user_id)
        return False
    return True


def has_two_factor(user: User) -> bool:
    """Two-factor auth is on when the person has a confirmed authenticator app."""
    return AuthenticatorApp.objects.filter(user=user, confirmed=True).exists()


def backup_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


@dataclass(frozen=True)
class CodeCheck:
    """The outcome of checking a code: the device that accepted it, or why none did."""

    device: Device | None = None
    locked_until: datetime | None = None  # the device refuses every code until then (after wrong ones)
    failures: int = 0  # wrong codes in a row that locked it

    @property
    def ok(self) -> bool:
        return self.device is not None

    def wait_seconds(self) -> int:
        """The real wait, rounded up to whole seconds (at least 1 while locked)."""
        if self.locked_until is None:
            return 0
        return max(1, math.ceil((self.locked_until - timezone.now()).total_seconds()))

    def wait_message(self) -> str:
        """What a locked device tells the customer. django-otp waits 1, 2, 4 … seconds after 1, 2, 3 …
        wrong codes in a row (throttle factor 1), so one mistake is a wait of a second, not "too many"."""
        seconds = self.wait_seconds()
        if self.failures <= 1:
            return ngettext(
                "Wait %(seconds)d second after a wrong code, then type the code again.",
                "Wait %(seconds)d seconds after a wrong code, then type the code again.",
                seconds,
            ) % {"seconds": seconds}
        return ngettext(
            "%(failures)d wrong codes in a row: wait %(seconds)d second, then type the code again.",
            "%(failures)d wrong codes in a row: wait %(seconds)d seconds, then type the code again.",
            seconds,
        ) % {"failures": self.failures, "seconds": seconds}


def lock_of(details: dict | None) -> CodeCheck:
    """The refusal of a device that django-otp's `verify_is_allowed` says is locked (its `details`)."""
    details = details or {}
    return CodeCheck(locked_until=details.get("locked_until"), failures=details.get("failure_count", 0))


def code_check(user: User, raw_code: str) -> CodeCheck:
    """Check a code from the person's app (six digits) or one of their backup codes (anything else).

    Only the device the code's shape points to is tried, so a typo in an app code does not count as a
    wrong backup code too."""
    code = normalize_code(raw_code)
    if not code:
        return CodeCheck()
    model = AuthenticatorApp if _APP_CODE.fullmatch(code) else StaticDevice
    device = model.objects.filter(user=user, confirmed=True).order_by("id").first()
    if device is None:
        return CodeCheck()
    allowed, details = device.verify_is_allowed()
    if not allowed:
        return lock_of(details)
    if model is StaticDevice:
        return CodeCheck(device=_backup_code_use(user, device.pk, code))
    try:
        verified = verify_token(user, device.persistent_id, code)
    except otp_secrets.SeedError:
        # A wrong OTP_ENCRYPTION_KEY, or a row changed, moved or copied in the database (which may be an
        # attack: see otp_secrets): the code does not work, the operator is told.
        _seed_error_log(user.pk)
        return CodeCheck()
    return CodeCheck(device=verified)


def _backup_code_use(user: User, device_pk: int, code: str) -> StaticDevice | None:
    """Use up a backup code: django-otp's StaticDevice.verify_token, for codes stored as hashes. The device
    row is locked (two requests with one code take turns), every stored hash is compared in constant time,
    and the match counts only if this request deleted its row. A wrong code counts towards the throttle."""
    with transaction.atomic():
        device = (
            StaticDevice.objects.select_for_update().filter(pk=device_pk, user=user, confirmed=True).first()
        )
        if device is None or not device.verify_is_allowed()[0]:
            return None
        candidates = otp_secrets.backup_code_digests(code, user_id=user.pk)
        match = None
        for token in device.token_set.all():
            for candidate in candidates:
                if hmac.compare_digest(token.token, candidate):
                    match = token
        if match is not None and StaticToken.objects.filter(pk=match.pk).delete()[0] == 1:
            device.throttle_reset(commit=False)
            device.set_last_used_timestamp(commit=False)
            device.save(
                update_fields=["throttling_failure_timestamp", "throttling_failure_count", "last_used_at"]
            )
            return device
        device.throttle_increment()
    return None


def backup_codes_store(device: StaticDevice, codes: list[str]) -> None:
    """Keep new backup codes for `device`, as hashes only, bound to the device's user."""
    tokens = [
        StaticToken(device=device, token=otp_secrets.backup_code_digest(code, user_id=device.user_id))
        for code in codes
    ]
    StaticToken.objects.bulk_create(tokens)


def session_mark_verified(request: HttpRequest, device: Device) -> None:
    """Record in the session that its user proved the second factor with `device` (what django_otp.login
    does), with a new session key: a privilege change."""
    request.session.cycle_key()
    request.session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    request.session[VERIFIED_USER_SESSION_KEY] = request.user.pk
    request.user.otp_device = device  # type: ignore[union-attr]


def session_verified(request: HttpRequest) -> bool:
    """Whether this session's user proved a confirmed device of theirs (at login or a step-up). One query,
    made only where it matters (the admin)."""
    cached = getattr(request, "_otp_session_verified", None)
    if cached is not None:
        return cached
    user = request.user
    persistent_id = request.session.get(DEVICE_ID_SESSION_KEY)
    verified = False
    if user.is_authenticated and persistent_id and request.session.get(VERIFIED_USER_SESSION_KEY) == user.pk:
        device = Device.from_persistent_id(persistent_id)
        verified = device is not None and device.user_id == user.pk and device.confirmed
    request._otp_session_verified = verified  # type: ignore[attr-defined]
    return verified


def secret_display(device: AuthenticatorApp) -> str:
    """The secret in base32 (what apps accept when typed), in groups of four for reading aloud."""
    from base64 import b32encode

    secret = b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_svg(device: AuthenticatorApp) -> str:
    """The otpauth:// address of the device as an inline SVG QR code: a viewBox, a white quiet zone, no
    style attributes (the CSP allows none), a <title> for screen readers."""
    qr = segno.make(device.config_url, error="m")
    return qr.svg_inline(
        scale=4,
        border=4,
        omitsize=True,
        svgclass="qr-code",
        lineclass=None,
        light="#fff",
        dark="#000",
        title="QR code to scan with your authenticator app",
    )


# --- The sign-in between password and code ----------------------------------------------------------------
# A customer with two-factor auth who gave the right password is NOT signed in (django.contrib.auth's
# login() is not called): the session only remembers who they said they were, for LOGIN_CODE_MAX_AGE
# seconds and LOGIN_CODE_MAX_FAILURES wrong codes. Until the code is right every page treats them as
# anonymous, so no view can forget to check.

LOGIN_CODE_MAX_AGE = 5 * 60
LOGIN_CODE_MAX_FAILURES = 5
_PENDING = "otp.pending_login"


@dataclass
class PendingLogin:
    user: User
    backend: str
    next_url: str
    failures: int


def pending_login_start(request: HttpRequest, *, user: User, next_url: str) -> None:
    request.session[_PENDING] = {
        "user_id": user.pk,
        "backend": getattr(user, "backend", settings.AUTHENTICATION_BACKENDS[-1]),
        "next": next_url,
        "at": timezone.now().timestamp(),
        "failures": 0,
    }


def pending_login(request: HttpRequest) -> PendingLogin | None:
    """The half-finished sign-in of this session, or None if there is none, it expired or the user is no
    longer active."""
    data = request.session.get(_PENDING)
    if not data:
        return None
    if timezone.now().timestamp() - data.get("at", 0) > LOGIN_CODE_MAX_AGE:
        pending_login_drop(request)
        return None
    user = User.objects.filter(pk=data.get("user_id"), is_active=True).first()
    if user is None:
        pending_login_drop(request)
        return None
    return PendingLogin(user=user, backend=data["backend"], next_url=data["next"], failures=data["failures"])


def pending_login_key(request: HttpRequest) -> str | None:
    """Who a code typed at sign-in is for (a rate-limit key): the pending user's id, else None."""
    data = request.session.get(_PENDING)
    return str(data["user_id"]) if data else None


def pending_login_failed(request: HttpRequest) -> int:
    """Count a wrong code; returns how many so far."""
    data = request.session[_PENDING]
    data["failures"] += 1
    request.session[_PENDING] = data
    return data["failures"]


def pending_login_drop(request: HttpRequest) -> None:
    request.session.pop(_PENDING, None)
