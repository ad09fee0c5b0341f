"""Slowing down password guessing without letting a stranger lock a customer out.

Three brakes, none of which a stranger can turn into a lockout of the owner:

1. **The (email, address) pair** (django-axes, AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]):
   AXES_FAILURE_LIMIT failures for one email from one client address lock that pair for AXES_COOLOFF_TIME.
   Only that pair: the same email from elsewhere, and other emails from that address (customers behind the
   same carrier-grade NAT), are not refused.
2. **The email, from anywhere** (here, in the cache): after LOGIN_SLOWDOWN_AFTER failures for one email in
   AXES_COOLOFF_TIME, from however many addresses, each attempt for that email must wait a growing delay
   after the previous one (2, 4, 8, ... seconds, at most LOGIN_SLOWDOWN_MAX_SECONDS). An attempt that comes
   too soon is refused before the password is checked, is not counted, and is told how many seconds to
   wait. A slowdown, not a lock: whoever waits gets their attempt.
3. **The address** (portal/ratelimit.py, `login_ip`): sign-in POSTs per address per minute, a sliding window.
   It refuses nobody with the right password until a whole NAT exceeds it.

If the cache cannot be reached, 2 and 3 fail closed: the sign-in answers 503 before the password is checked
(portal/ratelimit.py). 1 lives in PostgreSQL.

**A request without a client address** (a unix socket without a proxy setting, portal/client_address.py) is
exempt from 1 (AXES_WHITELIST_CALLABLE): one (email, unknown) lock would refuse the email to every such
client. 2 and 3 still brake it (3 in one "unknown" bucket shared by all of them).

**A device the owner signed in on before** (its signed device cookie, accounts/devices.py, matches a sign-in
of this email in the session registry) is exempt from 1 and 2 (AXES_WHITELIST_CALLABLE) and counted in
rate-limit buckets of its own: while strangers hammer the email, the owner's own phone still signs in. It
is not exempt from the rate limits, so a stolen device cookie buys no more than 10 guesses a minute.

Everything is keyed by the email as typed (trimmed, lower-cased), whether or not it has an account, so the
answers never tell which emails are customers; it is matched to a customer's saved email without regard to
case (the device exemption, the warning email), as the sign-in itself does.
"""

from __future__ import annotations

import hashlib
import logging
import math
from datetime import datetime

from axes.models import AccessAttempt
from django.conf import settings
from django.core.cache import caches
from django.db.models.functions import Lower
from django.db.models.lookups import Exact
from django.http import HttpRequest
from django.utils import timezone

from accounts import devices
from accounts.models import User, UserSession
from accounts.notifications import notify
from portal import ratelimit
from portal.audit import audit_record
from portal.client_address import client_ip, client_key

logger = logging.getLogger(__name__)


def attempted_email(request: HttpRequest, credentials: dict | None = None) -> str | None:
    """AXES_USERNAME_CALLABLE: the email as the login form cleans it (trimmed, lower-cased), so that
    "Alice@Example.com" and "alice@example.com " count against one lock."""
    # `authenticate(username=...)` from the login form; axes' own look-ups of a user may say `email`.
    if credentials:
        value = credentials.get("username") or credentials.get("email")
    else:
        value = request.POST.get("username")
    return str(value).strip().lower() if value else None


def _email_is(field: str, email: str) -> Exact:
    """`field` is `email` whatever the case either is saved or typed in (an admin may have saved "Alice@..."):
    LOWER(email), which the users' unique index (user_email_ci_unique) covers."""
    return Exact(Lower(field), email.strip().lower())


# --- The owner's own devices --------------------------------------------------------------------------------


def known_device(request: HttpRequest, email: str | None) -> str | None:
    """The hash of this browser's device cookie if it signed in to `email`'s account before, else None.
    One indexed query, only on a sign-in POST that carries a device cookie; remembered on the request."""
    if not email:
        return None
    cache_attr = "_known_device_" + email
    if hasattr(request, cache_attr):
        return getattr(request, cache_attr)
    device = devices.device_id(request)
    known = None
    if device:
        device_hash = devices.device_hash(device)
        sessions = UserSession.objects.filter(_email_is("user__email", email), device_hash=device_hash)
        if sessions.exists():
            known = device_hash
    setattr(request, cache_attr, known)
    return known


def pair_lock_exempt(request: HttpRequest, credentials: dict | None = None) -> bool:
    """AXES_WHITELIST_CALLABLE: axes neither refuses nor counts an attempt from the owner's own device, nor
    one without a client address: the pair (email, unknown) would be the email for every client without an
    address (all of them, over a unix socket without a proxy setting), a lock of the owner by anyone. Those
    are braked by the email's slowdown and the rate limits."""
    if client_ip(request) is None:
        return True
    return known_device(request, attempted_email(request, credentials)) is not None


def login_ip_key(request: HttpRequest) -> str:
    """The `login_ip` rate-limit bucket: the client's address, or the owner's device on its own."""
    ip = client_key(request)
    device = known_device(request, attempted_email(request))
    return f"{ip}:{device}" if device else ip


def login_email_key(request: HttpRequest) -> str | None:
    """The `login_email` rate-limit bucket: the email, or (email, the owner's device) on its own."""
    email = attempted_email(request)
    device = known_device(request, email)
    return f"{email}:{device}" if device and email else email


# --- The email's slowdown ----------------------------------------------------------------------------------


def _digest(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()[:32]  # no emails in cache keys


def slowdown_delay(failures: int) -> int:
    """Seconds between attempts for an email with `failures` recent failures: 0 below the threshold, then
    2, 4, 8, ... up to LOGIN_SLOWDOWN_MAX_SECONDS."""
    over = failures - settings.LOGIN_SLOWDOWN_AFTER
    if over < 0:
        return 0
    return min(2 ** min(over + 1, 30), settings.LOGIN_SLOWDOWN_MAX_SECONDS)


def email_failures(email: str, *, add: bool = False, fail_closed: bool = False) -> int:
    """The failures of `email` in the last AXES_COOLOFF_TIME (recording one more first if `add`). If the
    cache cannot be reached: LimiterUnavailable if `fail_closed`, else none (logged)."""
    window = int(settings.AXES_COOLOFF_TIME.total_seconds())
    key = f"login-failures:{_digest(email)}"
    return ratelimit.window_count(key, window_seconds=window, add=add, fail_closed=fail_closed)


def email_wait(email: str) -> int:
    """0 if an attempt for `email` may go ahead now (and then it takes the email's turn), else the seconds
    to wait. One cache round trip while the email is not under attack, two while it is. Fails closed: if
    the cache cannot be reached, raises ratelimit.LimiterUnavailable (the view answers 503 before any
    password is checked)."""
    delay = slowdown_delay(email_failures(email, fail_closed=True))
    if not delay:
        return 0
    try:
        wait_ms = ratelimit.window_take(f"login-turn:{_digest(email)}", window_seconds=delay, limit=1)
    except Exception as error:
        logger.error("Sign-in slowdown not checked: the cache is unavailable; refused", exc_info=True)
        raise ratelimit.LimiterUnavailable("login-turn") from error
    return math.ceil(wait_ms / 1000)


def login_failed(request: HttpRequest, email: str) -> None:
    """A wrong password for `email` (from the login view): counted for the email's slowdown. The failure
    that starts a slowdown is an audit event (`login.slowdown`) and, once per cool-off, an email to the
    owner of the address if there is one."""
    failures = email_failures(email, add=True)
    if failures != settings.LOGIN_SLOWDOWN_AFTER:
        return
    audit_record(action="login.slowdown", after={"email": email, "failures": failures}, request=request)
    warn_owner(email, ip=client_ip(request), slowdown=True)


def warn_owner(email: str, *, ip: str | None, slowdown: bool = False) -> None:
    """Email the owner of `email` (if it is a customer's) that someone is guessing their password: at most
    once per AXES_COOLOFF_TIME, however many addresses reach a lock. One indexed query."""
    owner = User.objects.filter(_email_is("email", email)).first()
    if owner is not None and first_warning(email):
        minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
        notify(owner, "lockout", minutes=minutes, ip=ip, at=timezone.now(), slowdown=slowdown)


def first_warning(email: str) -> bool:
    """Whether the owner of `email` should be told of an attack now: once per AXES_COOLOFF_TIME, however
    many addresses reach a lock or however long the slowdown lasts."""
    timeout = int(settings.AXES_COOLOFF_TIME.total_seconds())
    try:
        return bool(caches[settings.RATE_LIMIT_CACHE].add(f"login-warned:{_digest(email)}", 1, timeout))
    except Exception:  # the cache is down: better a second email than none
        return True


# --- The pair's lock ---------------------------------------------------------------------------------------


def _unlock_time(attempts: list[tuple[datetime, int]], limit: int) -> datetime | None:
    """When the failures of one pair drop below the limit. Axes keeps one row per (email, address, user
    agent), with its failure count and the time of its latest failure, and forgets a row whole COOLOFF after
    that time: rows expire oldest first until fewer than `limit` failures remain."""
    remaining = sum(failures for _time, failures in attempts)
    if remaining < limit:
        return None
    for attempt_time, failures in sorted(attempts):
        remaining -= failures
        if remaining < limit:
            return attempt_time + settings.AXES_COOLOFF_TIME
    return None  # not reached: remaining ends at 0


def lockout_ends_at(*, email: str | None, ip_address: str | None) -> datetime | None:
    """The time the lock on this (email, address) pair is lifted, or None if it is not locked. One query
    over axes' rows of the cool-off window."""
    if not email:
        return None
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    rows = AccessAttempt.objects.filter(username=email, ip_address=ip_address, attempt_time__gte=since)
    attempts = list(rows.values_list("attempt_time", "failures_since_start"))
    return _unlock_time(attempts, settings.AXES_FAILURE_LIMIT)
