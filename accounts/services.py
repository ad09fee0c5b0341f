"""Writes for the accounts app."""

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import devices, otp, sessions
from accounts.models import Account, User, UserSession
from accounts.notifications import notify
from portal.audit import audit_record
from portal.client_address import client_ip
from portal.models import AuditEvent


def user_remember_previous_login(*, user: User) -> None:
    """Keep the time of the login before this one, to show the customer on the dashboard.

    Called just before Django records the new login in `last_login`.
    """
    User.objects.filter(pk=user.pk).update(previous_login=user.last_login)
    user.previous_login = user.last_login


def user_password_change(
    *, user: User, new_password: str, request: HttpRequest | None = None, reset: bool = False
) -> None:
    """Set a new (already validated) password and record it, in one transaction. The audit event says
    that the password changed (`password.change`, or `password.reset` from a forgotten-password link),
    never what to. Every session of the user made before this ends at its next request: Django checks each
    session against a hash of the password, and the session generation is bumped. A change keeps the
    caller's own session (it calls `update_session_auth_hash`); a reset keeps none, as nobody is signed in
    by it. The customer is emailed that the password changed."""
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        if request is not None:  # the other sessions die by the new hash; the registry says so too
            sessions.sessions_revoke(user=user, request=request, keep_current=not reset)
        audit_record(
            action="password.reset" if reset else "password.change", actor=user, obj=user, request=request
        )
        where: dict = {}
        if request is not None:
            where = {
                "ip": client_ip(request),
                "device": devices.describe_user_agent(request.META.get("HTTP_USER_AGENT", "")),
            }
        notify(user, "password_changed", reset=reset, at=timezone.now(), **where)


# --- Two-factor auth (django-otp devices; the checks are in accounts/otp.py) -------------------------------


class TwoFactorError(Exception):
    """A two-factor change that cannot be made. The message is fit to show the customer."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _two_factor_changed(*, user: User, request: HttpRequest | None, change: str) -> None:
    """Every 2FA change is a privilege change: every other session ends (the view keeps this one with
    `sessions.keep_signed_in` after the commit), and the customer is told by email."""
    where: dict = {}
    if request is not None:
        sessions.sessions_revoke(user=user, request=request, keep_current=True)
        where = {
            "ip": client_ip(request),
            "device": devices.describe_user_agent(request.META.get("HTTP_USER_AGENT", "")),
        }
    notify(user, "two_factor_changed", change=change, at=timezone.now(), **where)


def two_factor_enrolment_device(*, user: User) -> TOTPDevice:
    """The authenticator app being enrolled: the same unconfirmed device (and so the same QR code) until the
    customer confirms it with a first code."""
    device = otp.totp_device(user, confirmed=False)
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


def _backup_codes_replace(*, user: User) -> list[str]:
    """Ten new backup codes in a new static device; the old codes stop working. Returns the codes (shown
    once: only the device keeps them)."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Backup codes", confirmed=True)
    codes = [otp.backup_code_new() for _ in range(otp.BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def two_factor_confirm(
    *, user: User, code: str, request: HttpRequest | None = None
) -> tuple[TOTPDevice, list[str]]:
    """Turn two-factor auth on once the customer proves the app shows the right codes; returns the device
    and the ten backup codes. Raises TwoFactorError for a wrong code or when it is already on."""
    with transaction.atomic():
        unconfirmed = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False)
        device = unconfirmed.order_by("id").first()
        if device is None or otp.has_two_factor(user):
            raise TwoFactorError(
                "Two-factor authentication is already on, or the set-up expired. Start again.", code="state"
            )
        verified = device.verify_is_allowed()[0] and device.verify_token(otp.normalize_code(code))
        if verified:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
            codes = _backup_codes_replace(user=user)
            audit_record(
                action="2fa.enable",
                actor=user,
                obj=user,
                after={"app": device.name, "backup_code_count": len(codes)},
                request=request,
            )
            _two_factor_changed(user=user, request=request, change="an authenticator app was added")
    # Outside the block: the wrong code's throttling count (saved by verify_token) must not roll back.
    if not verified:
        raise TwoFactorError(
            "That code did not match. Check the app shows the code for SecureBank, and type the six digits "
            "it shows now.",
            code="wrong_code",
        )
    return device, codes


def two_factor_disable(*, user: User, request: HttpRequest | None = None) -> None:
    """Turn two-factor auth off: the app and every backup code stop working."""
    with transaction.atomic():
        left = otp.backup_codes_left(user)
        removed, _ = TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        if removed:
            audit_record(
                action="2fa.disable",
                actor=user,
                obj=user,
                before={"app": True, "backup_code_count": left},
                after={"app": False, "backup_code_count": 0},
                request=request,
            )
            _two_factor_changed(user=user, request=request, change="two-factor authentication was turned off")


def backup_codes_regenerate(*, user: User, request: HttpRequest | None = None) -> list[str]:
    """Ten new backup codes for a customer with two-factor auth on; the old ones stop working."""
    with transaction.atomic():
        if not otp.has_two_factor(user):
            raise TwoFactorError("Turn on two-factor authentication first.", code="state")
        left = otp.backup_codes_left(user)
        codes = _backup_codes_replace(user=user)
        audit_record(
            action="2fa.backup_codes.regenerate",
            actor=user,
            obj=user,
            before={"backup_code_count": left},
            after={"backup_code_count": len(codes)},
            request=request,
        )
        _two_factor_changed(user=user, request=request, change="new backup codes were made")
    return codes


def two_factor_enrol_by_operator(*, user: User) -> tuple[TOTPDevice, list[str]]:
    """Two-factor auth turned on from the shell (`manage.py enrol_totp`): a new confirmed authenticator app,
    replacing any other, and ten backup codes. For staff who cannot reach the admin without it."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
        codes = _backup_codes_replace(user=user)
        audit_record(
            action="2fa.enable",
            actor=None,
            obj=user,
            after={"app": device.name, "backup_code_count": len(codes), "by": "manage.py enrol_totp"},
        )
    return device, codes


def compromise_report(*, user: User, request: HttpRequest) -> AuditEvent:
    """This wasn't me: freeze outgoing payments on every active account of the customer, end all their
    sessions, and record `security.compromise_reported` for staff to follow up; all in one transaction,
    with the accounts locked (in primary-key order, as the ledger locks them) so that no transfer slips
    between the check and the freeze. The ledger refuses debits from a frozen account
    (transactions.services). The caller signs the current session out after the commit."""
    with transaction.atomic():
        accounts = list(Account.objects.select_for_update().filter(owner=user).order_by("pk"))
        before = {str(a.pk): a.status for a in accounts}
        frozen = [a for a in accounts if a.status == Account.Status.ACTIVE]
        Account.objects.filter(pk__in=[a.pk for a in frozen]).update(status=Account.Status.FROZEN)
        for account in frozen:
            account.status = Account.Status.FROZEN
        ended = sessions.sessions_revoke(
            user=user, request=request, keep_current=False, reason=UserSession.EndReason.COMPROMISE
        )
        event = audit_record(
            action="security.compromise_reported",
            actor=user,
            obj=user,
            before={"accounts": before},
            after={"accounts": {str(a.pk): a.status for a in accounts}, "devices_signed_out": ended},
            request=request,
        )
        reference = compromise_reference(event)
        notify(user, "compromise_reported", accounts=frozen, reference=reference, at=event.created)
    return event


def compromise_reference(event: AuditEvent) -> str:
    """The reference a customer quotes on the phone: the report's audit event, e.g. SR0000012345."""
    return f"SR{event.seq:010d}"
