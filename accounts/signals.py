"""Wiring: sign-ins, failed sign-ins, lockouts and sign-outs go to the audit trail (portal/audit.py), and
sign-ins and sign-outs to the session registry (accounts/sessions.py).

Connected in `AccountsConfig.ready`. A receiver only records; nothing here decides anything.
"""

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.http import HttpRequest

from accounts import lockout, sessions
from accounts.models import User
from portal.audit import audit_record
from portal.metrics import lockout_counted


def _login_succeeded(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    audit_record(action="login.success", actor=user, obj=user, request=request)


def _login_failed(sender: Any, credentials: dict, request: HttpRequest | None = None, **kwargs: Any) -> None:
    # The attempted email only: Django has already masked the password in `credentials`, and we keep none
    # of it. No lookup of the user: the event must cost the same whether the email exists or not.
    email = str(credentials.get("username") or credentials.get("email") or "")[:254]
    audit_record(action="login.failure", after={"email": email}, request=request)


def _locked_out(
    sender: Any, request: HttpRequest | None, username: str | None, ip_address: str | None, **kwargs: Any
) -> None:
    # Axes sends this when a failure reaches the limit (it has just counted the failures:
    # `axes_failures_since_start` is set) and again for every attempt refused while locked (not counted,
    # left None). Only the first is a new lockout.
    if request is None or getattr(request, "axes_failures_since_start", None) is None:
        return
    audit_record(action="login.lockout", after={"email": username or "", "ip": ip_address}, request=request)
    lockout_counted()
    # The owner of the email, if there is one, hears of it (after the response: a Celery task), once per
    # cool-off however many addresses are locked. The lookup costs one indexed query, nothing next to the
    # password hash that every attempt pays either way.
    if username:
        lockout.warn_owner(username, ip=ip_address)


def _logged_out(sender: Any, request: HttpRequest | None, user: User | None, **kwargs: Any) -> None:
    if user is not None and user.is_authenticated:
        audit_record(action="logout", actor=user, obj=user, request=request)


def _session_started(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        sessions.session_start(request=request, user=user)


def _session_ended(sender: Any, request: HttpRequest | None, user: User | None, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        sessions.session_end(request)


def connect() -> None:
    user_logged_in.connect(_login_succeeded, dispatch_uid="accounts.audit.login_succeeded")
    user_login_failed.connect(_login_failed, dispatch_uid="accounts.audit.login_failed")
    user_locked_out.connect(_locked_out, dispatch_uid="accounts.audit.locked_out")
    user_logged_out.connect(_logged_out, dispatch_uid="accounts.audit.logged_out")
    user_logged_in.connect(_session_started, dispatch_uid="accounts.sessions.started")
    user_logged_out.connect(_session_ended, dispatch_uid="accounts.sessions.ended")
