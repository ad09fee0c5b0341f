"""Writes for the accounts app."""

import re
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice

from accounts import devices, otp, sessions
from accounts.ifsc import bank_for_ifsc, ifsc_valid
from accounts.models import Account, AuthenticatorApp, Payee, User, UserSession
from accounts.notifications import notify
from portal.audit import audit_record
from portal.client_address import client_ip
from portal.models import AuditEvent
from transactions.scheduled.services import scheduled_transfers_cancel_for_payee


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


def _two_factor_changed(
    *, user: User, request: HttpRequest | None, change: str, keep_current: bool = True
) -> None:
    """Every 2FA change is a privilege change: every other session ends (the view keeps this one with
    `sessions.keep_signed_in` after the commit; without a request, e.g. from the shell, every session
    ends), and the customer is told by email."""
    sessions.sessions_revoke(user=user, request=request, keep_current=keep_current and request is not None)
    where: dict = {}
    if request is not None:
        where = {
            "ip": client_ip(request),
            "device": devices.describe_user_agent(request.META.get("HTTP_USER_AGENT", "")),
        }
    notify(user, "two_factor_changed", change=change, at=timezone.now(), **where)


def _refuse_staff(user: User) -> None:
    """Staff get their second factor out of band (`manage.py enrol_totp`, or another verified member of
    staff with the permission: `two_factor_provision_staff`), never from a password-only session."""
    if user.is_staff:
        raise TwoFactorError(
            "Staff two-factor authentication is set up by an administrator, not on this page.", code="staff"
        )


def two_factor_enrolment_device(*, user: User) -> AuthenticatorApp:
    """The authenticator app being enrolled: the same unconfirmed device (and so the same QR code) until the
    customer confirms it with a first code. One whose seed does not open for this customer (moved from
    another user's row in the database, or under a lost key) is replaced, not drawn."""
    _refuse_staff(user)
    device = otp.totp_device(user, confirmed=False)
    if device is not None and not otp.seed_opens(device):
        AuthenticatorApp.objects.filter(pk=device.pk, confirmed=False).delete()
        device = None
    if device is None:
        device = AuthenticatorApp.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


def _backup_codes_replace(*, user: User) -> list[str]:
    """Ten new backup codes in a new static device; the old codes stop working. Returns the codes (shown
    once: only the device keeps them)."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Backup codes", confirmed=True)
    codes = [otp.backup_code_new() for _ in range(otp.BACKUP_CODE_COUNT)]
    otp.backup_codes_store(device, codes)  # hashes only
    return codes


def two_factor_confirm(
    *, user: User, code: str, request: HttpRequest | None = None
) -> tuple[AuthenticatorApp, list[str]]:
    """Turn two-factor auth on once the customer proves the app shows the right codes; returns the device
    and the ten backup codes. Raises TwoFactorError for a wrong code or when it is already on."""
    _refuse_staff(user)
    with transaction.atomic():
        unconfirmed = AuthenticatorApp.objects.select_for_update().filter(user=user, confirmed=False)
        device = unconfirmed.order_by("id").first()
        if device is None or otp.has_two_factor(user):
            raise TwoFactorError(
                "Two-factor authentication is already on, or the set-up expired. Start again.", code="state"
            )
        allowed, throttle = device.verify_is_allowed()
        if not allowed:  # django-otp's back-off after a wrong code: even the right one waits (as at sign-in)
            raise TwoFactorError(otp.lock_of(throttle).wait_message(), code="throttled")
        verified = device.verify_token(otp.normalize_code(code))
        if verified:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            AuthenticatorApp.objects.filter(user=user).exclude(pk=device.pk).delete()
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
    _refuse_staff(user)
    with transaction.atomic():
        left = otp.backup_codes_left(user)
        removed, _ = AuthenticatorApp.objects.filter(user=user).delete()
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
    _refuse_staff(user)
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


def _staff_device_replace(*, user: User) -> tuple[AuthenticatorApp, list[str], bool]:
    """A new confirmed authenticator app and ten backup codes, replacing any the person had (and whether
    they had one)."""
    replaced = AuthenticatorApp.objects.filter(user=user).delete()[0] > 0
    device = AuthenticatorApp.objects.create(user=user, name="Authenticator app", confirmed=True)
    return device, _backup_codes_replace(user=user), replaced


def two_factor_enrol_by_operator(*, user: User) -> tuple[AuthenticatorApp, list[str]]:
    """Two-factor auth turned on from the shell (`manage.py enrol_totp`): a new confirmed authenticator app,
    replacing any other, and ten backup codes. For staff who cannot reach the admin without it. Like every
    2FA change it ends the person's sessions and tells them by email."""
    with transaction.atomic():
        device, codes, replaced = _staff_device_replace(user=user)
        audit_record(
            action="2fa.enable",
            actor=None,
            obj=user,
            after={
                "app": device.name,
                "backup_code_count": len(codes),
                "by": "manage.py enrol_totp",
                "replaced": replaced,
            },
        )
        change = "an authenticator app was set up by an operator" + (
            ", replacing the old one" if replaced else ""
        )
        _two_factor_changed(user=user, request=None, change=change)
    return device, codes


def two_factor_provision_staff(
    *, user: User, by: User, request: HttpRequest
) -> tuple[AuthenticatorApp, list[str]]:
    """Another member of staff, holding `accounts.provision_staff_device` (and, as the admin requires, a
    verified session), gives `user` (staff) a new authenticator app and backup codes, to hand over once.
    Every session of `user` ends; they are told by email. Nobody provisions their own device."""
    if not by.is_active or not by.is_staff or not by.has_perm("accounts.provision_staff_device"):
        raise TwoFactorError("You may not set up authenticator apps for staff.", code="permission")
    if not user.is_staff or not user.is_active:
        raise TwoFactorError("Only active staff get an authenticator app here.", code="not_staff")
    if user.pk == by.pk:
        raise TwoFactorError("Another member of staff must set up your authenticator app.", code="self")
    with transaction.atomic():
        device, codes, replaced = _staff_device_replace(user=user)
        audit_record(
            action="2fa.enable",
            actor=by,
            obj=user,
            after={
                "app": device.name,
                "backup_code_count": len(codes),
                "by": "admin provisioning",
                "replaced": replaced,
            },
            request=request,
        )
        _two_factor_changed(
            user=user,
            request=request,
            change=f"an authenticator app was set up by {by.email}",
            keep_current=False,
        )
    return device, codes


def two_factor_remove_on_promotion(*, user: User, request: HttpRequest | None = None) -> bool:
    """Someone just made staff keeps no second factor they set up themselves as a customer: their
    authenticator app and backup codes are deleted, and until a colleague provisions them
    (`two_factor_provision_staff`) or an operator runs `manage.py enrol_totp`, they cannot enter the admin.
    Every session of theirs ends (one verified with the old app would otherwise open the admin) and they
    are told by email. Call it in the transaction that sets `is_staff` (`staff_grant` does).
    Returns whether there was anything to remove."""
    if not user.is_staff:
        raise TwoFactorError("Only staff lose their own second factor this way.", code="not_staff")
    with transaction.atomic():
        left = otp.backup_codes_left(user)
        had_app = AuthenticatorApp.objects.filter(user=user).delete()[0] > 0
        had_codes = StaticDevice.objects.filter(user=user).delete()[0] > 0
        if not (had_app or had_codes):
            return False
        audit_record(
            action="2fa.disable",
            obj=user,
            before={"app": had_app, "backup_code_count": left},
            after={"app": False, "backup_code_count": 0, "reason": "promoted to staff"},
            request=request,
        )
        _two_factor_changed(
            user=user,
            request=request,
            change="your authenticator app and backup codes were removed, as you are now staff: an "
            "administrator sets up your second factor",
            keep_current=False,
        )
    return True


# --- Staff access (only the database owner may turn the flags on: accounts/migrations/0006) ----------------

STAFF_GRANT_BY = "manage.py staff_grant"


def _staff_flags_set(*, user: User, action: str, **flags: bool) -> dict[str, bool]:
    """Set `is_staff`/`is_superuser` as given, in one transaction with the user's row locked, and audit
    it; returns the flags that changed (nothing is written or audited when none did). A customer who
    becomes staff loses the second factor they enrolled themselves."""
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        before = {"is_staff": locked.is_staff, "is_superuser": locked.is_superuser}
        changed = {name: value for name, value in flags.items() if before[name] != value}
        if not changed:
            return {}
        for name, value in changed.items():
            setattr(locked, name, value)
            setattr(user, name, value)
        locked.save(update_fields=list(changed))
        audit_record(
            action=action,
            actor=None,
            obj=locked,
            before=before,
            after={"is_staff": locked.is_staff, "is_superuser": locked.is_superuser, "by": STAFF_GRANT_BY},
        )
        if changed.get("is_staff"):
            two_factor_remove_on_promotion(user=locked)
    return changed


def staff_grant(*, user: User, superuser: bool = False) -> dict[str, bool]:
    """Make `user` staff (and a superuser with `superuser`), from the shell (`manage.py staff_grant`, as
    the database owner). They enter the admin once given a second factor out of band (`manage.py
    enrol_totp` or a colleague's provisioning page). Returns the flags that changed."""
    flags = {"is_staff": True, "is_superuser": True} if superuser else {"is_staff": True}
    return _staff_flags_set(user=user, action="staff.grant", **flags)


def staff_revoke(*, user: User, superuser_only: bool = False) -> dict[str, bool]:
    """Take staff access away (both flags), or only superuser status with `superuser_only`. Returns the
    flags that changed. (The runtime role may turn the flags off too; only this path audits it as such.)"""
    flags = {"is_superuser": False} if superuser_only else {"is_staff": False, "is_superuser": False}
    return _staff_flags_set(user=user, action="staff.revoke", **flags)


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


# --- Payees -------------------------------------------------------------------------------------------


class PayeeError(Exception):
    """A payee that cannot be added, renamed or removed. The message is fit to show the customer; `code`
    says which rule refused it (a view puts the message by the field it is about)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


PAYEE_ACCOUNT_NUMBER = re.compile(r"^[0-9]{9,18}$")  # the Payee table's CHECK says the same


@dataclass(frozen=True)
class PayeeTarget:
    """Where a payee's money would go: the bank by its IFSC, and our own account when the bank is us."""

    account_number: str
    ifsc: str
    bank_name: str
    account: Account | None


def payee_target(*, owner: User, account_number: str, ifsc: str) -> PayeeTarget:
    """Check that a payee with this account number and IFSC can be added by `owner`, and say where it
    would be paid; raises PayeeError. The form's review step asks it (a readable refusal before the
    step-up), and `payee_add` asks again in its transaction. Rules: a known bank (accounts/ifsc.py); at
    SecureBank (`settings.BANK_IFSC`), an open customer account that is not the owner's own; no active
    payee of the owner's with the same number and IFSC."""
    if not PAYEE_ACCOUNT_NUMBER.match(account_number):
        raise PayeeError("An account number is 9 to 18 digits.", code="account_number_invalid")
    if not ifsc_valid(ifsc):
        raise PayeeError(
            "An IFSC is 11 characters: 4 letters, a zero, then 6 letters or digits, e.g. HDFC0001234.",
            code="ifsc_invalid",
        )
    bank_name = bank_for_ifsc(ifsc)
    if bank_name is None:
        raise PayeeError(
            f"We don't recognise the bank of IFSC {ifsc}. Check the code with your payee.",
            code="unknown_bank",
        )
    account = None
    if ifsc[:4] == settings.BANK_IFSC[:4]:
        if ifsc != settings.BANK_IFSC:
            raise PayeeError(
                f"SecureBank has one IFSC for every account: {settings.BANK_IFSC}.", code="bank_ifsc"
            )
        # A frozen account still receives money (only money out is stopped): open means not closed.
        account = (
            Account.objects.filter(number=account_number)
            .exclude(kind=Account.Kind.INTERNAL)
            .exclude(status=Account.Status.CLOSED)
            .first()
        )
        if account is None:
            raise PayeeError(
                "There is no SecureBank account with that number. Check the number with your payee.",
                code="no_such_account",
            )
        if account.owner_id == owner.pk:
            raise PayeeError(
                "That is one of your own accounts: move money to it with Move money, no payee needed.",
                code="own_account",
            )
    same = Payee.objects.filter(
        owner=owner, account_number=account_number, ifsc=ifsc, removed_at__isnull=True
    ).first()
    if same is not None:
        raise PayeeError(f"You already have this payee, as {same.name}.", code="duplicate")
    return PayeeTarget(account_number=account_number, ifsc=ifsc, bank_name=bank_name, account=account)


def _payee_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise PayeeError("Enter a name for the payee.", code="name_required")
    if len(name) > Payee._meta.get_field("name").max_length:
        raise PayeeError("A payee's name is at most 100 characters.", code="name_too_long")
    return name


def _payee_audit(payee: Payee) -> dict:
    """What the audit trail keeps of a payee: never the whole account number."""
    return {
        "name": payee.name,
        "account": payee.masked_account_number,
        "ifsc": payee.ifsc,
        "bank": payee.bank_name,
    }


def payee_add(
    *, owner: User, name: str, account_number: str, ifsc: str, request: HttpRequest | None = None
) -> Payee:
    """Add a payee (the caller has had the customer prove it is them: step-up "payee.add", bound to these
    details). Audited as `payee.add` in the same transaction; the customer is emailed after the commit,
    with the account number masked. Raises PayeeError."""
    name = _payee_name(name)
    with transaction.atomic():
        target = payee_target(owner=owner, account_number=account_number, ifsc=ifsc)
        try:
            with transaction.atomic():  # a savepoint: the same payee added at this moment by another request
                payee = Payee.objects.create(
                    owner=owner,
                    name=name,
                    account_number=target.account_number,
                    ifsc=target.ifsc,
                    bank_name=target.bank_name,
                    account=target.account,
                )
        except IntegrityError as error:
            raise PayeeError("You already have this payee.", code="duplicate") from error
        audit_record(action="payee.add", actor=owner, obj=payee, after=_payee_audit(payee), request=request)
        where = {"ip": client_ip(request)} if request is not None else {}
        notify(
            owner,
            "payee_added",
            payee_name=payee.name,
            payee_account={"masked_number": payee.masked_account_number, "last4": payee.account_number[-4:]},
            at=payee.created_at,
            **where,
        )
    return payee


def _payee_locked(*, owner: User, payee_id: int) -> Payee:
    payee = (
        Payee.objects.select_for_update().filter(pk=payee_id, owner=owner, removed_at__isnull=True).first()
    )
    if payee is None:
        raise PayeeError("That payee is not one of yours.", code="not_found")
    return payee


def payee_rename(*, owner: User, payee_id: int, name: str, request: HttpRequest | None = None) -> Payee:
    """Give one of the owner's payees another name (what the customer calls them; nothing about where the
    money goes changes, so no step-up). Audited as `payee.rename`. Raises PayeeError."""
    name = _payee_name(name)
    with transaction.atomic():
        payee = _payee_locked(owner=owner, payee_id=payee_id)
        if payee.name == name:
            return payee
        before = payee.name
        payee.name = name
        payee.save(update_fields=["name"])
        audit_record(
            action="payee.rename",
            actor=owner,
            obj=payee,
            before={"name": before},
            after={"name": name},
            request=request,
        )
    return payee


def payee_remove(*, owner: User, payee_id: int, request: HttpRequest | None = None) -> Payee:
    """Remove one of the owner's payees: it is kept (transfers made to it still name it) with `removed_at`
    set, and drops out of every list and form. Its running scheduled transfers are cancelled in the same
    transaction ("The payee was removed.", each audited `transfer.schedule.cancel`). The same account may
    be added again later, as a new payee with its own cooling-off. Audited as `payee.remove`. Raises
    PayeeError."""
    with transaction.atomic():
        payee = _payee_locked(owner=owner, payee_id=payee_id)
        payee.removed_at = timezone.now()
        payee.save(update_fields=["removed_at"])
        audit_record(
            action="payee.remove", actor=owner, obj=payee, before=_payee_audit(payee), request=request
        )
        scheduled_transfers_cancel_for_payee(user=owner, payee=payee)
    return payee
