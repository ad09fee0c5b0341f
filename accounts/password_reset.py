"""Forgotten password: the emailed link, its token, and the steps between opening it and the new password.

Asking (`password_reset_request`): the answer, the status and the work done in the request are the same
whether or not the email belongs to an account. The request looks the email up once (for the audit event
`password.reset_requested`, which records for staff whether it was known), writes that event, and after the
commit queues one Celery task, `accounts.tasks.password_reset_email_task`, with the email as typed. The
worker looks the customer up again, makes the link and sends it through the notification task's renderer
(templates/emails/password_reset.txt); for an unknown email, an inactive customer or one without a usable
password it sends nothing. So the token never travels through the broker, and an email's existence shows
neither in the page nor in the time it takes.

The link (`link_path`): /password-reset/<uidb64>/<token>/ with Django's PasswordResetTokenGenerator, after
settings.SITE_URL if set, else the scheme and host of the request that asked (within ALLOWED_HOSTS). The
token is an HMAC (SECRET_KEY) of the user's id, password hash, last sign-in, email and the time it was made:
it stops working after settings.PASSWORD_RESET_TIMEOUT (30 minutes), once the password changes (so it is
single-use by construction), and once the customer signs in (last_login changes).

Opening it (`link_open`): as Django's PasswordResetConfirmView does, the token moves from the URL into the
session and the browser is redirected to a URL without it, so that it cannot leak through the Referer
header, the history or a screenshot of the address bar. Every later step checks the token again (it may
have expired, or been used in another tab).

Then, when two-factor auth is on, a code from the app or a backup code (accounts.otp.code_check; the view
is rate-limited with the other code entries, django-otp's per-device back-off holds across sessions, and
after LINK_CODE_MAX_FAILURES wrong codes the link must be opened again), and the new password with the
project's validators (`password_reset_complete`). Completing it reuses accounts.services.
user_password_change: every session of the customer ends (session generation and registry), the audit event
is `password.reset`, and the customer is emailed that the password changed. Nobody is signed in by it.

Lockouts (django-axes) are left alone: a reset proves control of the mailbox, not of the account, and an
attacker who has the mailbox must not also get a way around the brute-force lock. A customer locked out
signs in with the new password once the lock ends (the login page says when).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator, default_token_generator
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from accounts import otp, services
from accounts.models import User
from portal.audit import audit_record
from portal.celery import app as celery_app

EMAIL_TASK = "accounts.tasks.password_reset_email_task"

tokens: PasswordResetTokenGenerator = default_token_generator

LINK_CODE_MAX_FAILURES = 5
_SESSION = "pwreset.link"  # {"uid": uidb64, "token": token, "code_ok": bool, "failures": int}


def _eligible(email: str) -> User | None:
    """The active customer with this email who can sign in with a password (as Django's PasswordResetForm
    chooses them), or None."""
    email = (email or "").strip()
    if not email:
        return None
    user = User.objects.filter(email__iexact=email, is_active=True).first()
    if user is None or not user.has_usable_password():
        return None
    return user


# --- Asking for a link ------------------------------------------------------------------------------------


def password_reset_request(*, email: str, request: HttpRequest) -> None:
    """Someone typed `email` on the forgotten-password form. The same work whether or not it has an account:
    one lookup, one audit event, one task queued after the commit (see the module's docstring)."""
    email = email.strip().lower()
    user = _eligible(email)
    site = settings.SITE_URL or f"{request.scheme}://{request.get_host()}"  # get_host(): ALLOWED_HOSTS only
    with transaction.atomic():
        audit_record(
            action="password.reset_requested",
            actor=None,
            object_type="accounts.user",
            object_id=str(user.pk) if user is not None else "",
            after={"email_known": user is not None},
            request=request,
        )
        transaction.on_commit(partial(_queue_email, email, site))


def _queue_email(email: str, site: str) -> None:
    # By name (accounts.tasks imports this module); a signature still honours task_always_eager.
    celery_app.signature(EMAIL_TASK, args=(email, site)).delay()


def email_context(*, email: str, site: str) -> tuple[User, dict] | None:
    """For the worker: the customer to email and the context of templates/emails/password_reset.txt (the
    link, its lifetime), or None when there is nobody to email."""
    user = _eligible(email)
    if user is None:
        return None
    return user, {
        "reset_url": site.rstrip("/") + link_path(user),
        "minutes": settings.PASSWORD_RESET_TIMEOUT // 60,
    }


def link_path(user: User) -> str:
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    return reverse("password_reset_link", kwargs={"uidb64": uidb64, "token": tokens.make_token(user)})


# --- Using it ---------------------------------------------------------------------------------------------


def _user_for(uidb64: str, token: str) -> User | None:
    try:
        pk = int(urlsafe_base64_decode(uidb64).decode())
    except (TypeError, ValueError, OverflowError, UnicodeDecodeError):
        return None
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None or not tokens.check_token(user, token):
        return None
    return user


def link_open(request: HttpRequest, *, uidb64: str, token: str) -> bool:
    """Keep a link's token in the session (the caller redirects to a URL without it). False if the link
    does not work (made up, expired, used): nothing is kept then, and any earlier link is dropped."""
    request.session.pop(_SESSION, None)
    if _user_for(uidb64, token) is None:
        return False
    request.session[_SESSION] = {"uid": uidb64, "token": token, "code_ok": False, "failures": 0}
    return True


@dataclass(frozen=True)
class Link:
    """The reset this browser is in the middle of: whose, and whether the code step is still due."""

    user: User
    token: str
    needs_code: bool


def link_current(request: HttpRequest) -> Link | None:
    """The reset this session opened, if its link still works (checked again at every step)."""
    data = request.session.get(_SESSION)
    if not isinstance(data, dict):
        return None
    user = _user_for(str(data.get("uid", "")), str(data.get("token", "")))
    if user is None:
        link_drop(request)
        return None
    needs_code = otp.has_two_factor(user) and not data.get("code_ok")
    return Link(user=user, token=str(data["token"]), needs_code=needs_code)


def link_drop(request: HttpRequest) -> None:
    request.session.pop(_SESSION, None)


def link_key(request: HttpRequest) -> str | None:
    """Whose reset a code typed on the reset's code page is for (a rate-limit key, shared with the other
    code entries' scope): the user id from the link, else None."""
    data = request.session.get(_SESSION)
    if not isinstance(data, dict):
        return None
    try:
        return str(int(urlsafe_base64_decode(str(data.get("uid", ""))).decode()))
    except (TypeError, ValueError, OverflowError, UnicodeDecodeError):
        return None


def link_code_check(request: HttpRequest, *, link: Link, code: str) -> tuple[otp.CodeCheck, bool]:
    """Check the second factor for this reset; a right code is remembered for the rest of it (and used up:
    an app code's time step, or the backup code). A wrong one is audited and counted. Returns the check and
    whether the link is given up: after LINK_CODE_MAX_FAILURES wrong codes the session forgets it."""
    check = otp.code_check(link.user, code)
    data = request.session[_SESSION]
    if check.ok:
        data["code_ok"] = True
    else:
        data["failures"] = data.get("failures", 0) + 1
        audit_record(
            action="password.reset_otp_failure",
            actor=None,
            obj=link.user,
            after={"failures": data["failures"], "device_locked": check.locked_until is not None},
            request=request,
        )
    request.session[_SESSION] = data
    if data["failures"] >= LINK_CODE_MAX_FAILURES:
        link_drop(request)
        return check, True
    return check, False


def password_reset_complete(request: HttpRequest, *, link: Link, new_password: str) -> bool:
    """Set the (validated) new password through the password change service, which ends every session of
    the customer and records `password.reset`; the link is spent (its token no longer matches). The
    customer's row is locked and the token checked again under the lock, so two tabs posting the same link
    at once set one password, not two. Returns False when the link was spent meanwhile."""
    if link.needs_code:
        raise ValueError("The second factor was not proved for this reset.")
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=link.user.pk, is_active=True).first()
        usable = user is not None and tokens.check_token(user, link.token)
        if usable:
            services.user_password_change(user=user, new_password=new_password, request=request, reset=True)
    link_drop(request)
    return usable
