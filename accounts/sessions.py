"""Sessions that end: idle timeout, absolute lifetime, the registry of sign-ins, and sign out everywhere.

The session itself carries three values, written at sign-in:
    sb.sid      the id of this sign-in's UserSession row (the registry behind the security page)
    sb.started  sign-in time, epoch seconds: the absolute lifetime counts from it
    sb.seen     last activity, epoch seconds: the idle timeout counts from it

Every signed-in request is checked by `session_check` (accounts.middleware). It is cheap on purpose: the
session is already loaded for the user, and `sb.seen` is rewritten (one cache write for the session, one
UPDATE of the registry row) only when it is older than SESSION_ACTIVITY_RESOLUTION (60 s). So most
requests write nothing, and a session ends between 14 and 15 minutes after its last request.

Ending sessions elsewhere: every session's auth hash includes the user's `session_generation`
(accounts.models.User), so bumping it makes Django drop every other session at its next request, whatever
the session store (db or cache) and even for a session the registry missed. The registry rows are marked
ended for display. The current session, when kept, gets the new hash (and a new key).
"""

import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import SESSION_KEY, update_session_auth_hash
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from accounts import devices
from accounts.models import User, UserSession
from accounts.notifications import notify
from portal.audit import audit_record
from portal.client_address import client_ip

SESSION_ID = "sb.sid"
STARTED = "sb.started"
SEEN = "sb.seen"

IDLE = UserSession.EndReason.IDLE
ABSOLUTE = UserSession.EndReason.ABSOLUTE


@dataclass(frozen=True)
class SessionClock:
    """Seconds left before the session ends for want of activity, and before its absolute end."""

    idle_remaining: int
    absolute_remaining: int
    warning: int  # how long before the end the page warns (portal.js)

    @property
    def remaining(self) -> int:
        return min(self.idle_remaining, self.absolute_remaining)

    @property
    def ends_by_lifetime(self) -> bool:
        """The 12-hour limit comes first: no activity will keep the session (the warning says so)."""
        return self.absolute_remaining <= self.idle_remaining


def session_start(*, request: HttpRequest, user: User) -> UserSession:
    """Register a sign-in (from the user_logged_in signal, after Django cycled the session key) and notify
    the customer when it comes from a browser that has not signed in to this account before."""
    now = timezone.now()
    device = devices.device_id(request) or devices.new_device_id()
    # (Re)set on the response by the middleware, so that a browser in use keeps its cookie past 400 days.
    request._device_cookie = device  # type: ignore[attr-defined]
    device_hash = devices.device_hash(device)
    user_agent = str(request.META.get("HTTP_USER_AGENT", ""))[:300]
    # The first sign-in ever is not news; a sign-in from a browser never seen on this account is.
    earlier = UserSession.objects.filter(user=user)
    is_new_device = earlier.exists() and not earlier.filter(device_hash=device_hash).exists()
    record = UserSession.objects.create(
        user=user,
        created_at=now,
        last_seen_at=now,
        ip=client_ip(request),
        user_agent=user_agent,
        device=devices.describe_user_agent(user_agent),
        device_hash=device_hash,
    )
    epoch = int(time.time())
    request.session[SESSION_ID] = record.pk
    request.session[STARTED] = epoch
    request.session[SEEN] = epoch
    if is_new_device:
        notify(user, "new_device_login", at=now, device=record.device, ip=record.ip or "unknown")
    return record


def session_check(request: HttpRequest) -> str | None:
    """For a signed-in request: the reason its session has ended ("idle" or "absolute"), or None after
    noting the activity (throttled) and leaving the time left on `request.session_clock`."""
    session = request.session
    now = int(time.time())
    started = session.get(STARTED)
    seen = session.get(SEEN)
    if not isinstance(started, int) or not isinstance(seen, int):
        # Signed in before these timeouts existed: the clocks start now.
        started = session[STARTED] = session.get(STARTED) or now
        seen = session[SEEN] = now
    if now - started > settings.SESSION_ABSOLUTE_TIMEOUT:
        return ABSOLUTE
    if now - seen > settings.SESSION_IDLE_TIMEOUT:
        return IDLE
    if now - seen >= settings.SESSION_ACTIVITY_RESOLUTION:
        seen = session_touch(request, now=now)
    request.session_clock = SessionClock(  # type: ignore[attr-defined]
        idle_remaining=seen + settings.SESSION_IDLE_TIMEOUT - now,
        absolute_remaining=started + settings.SESSION_ABSOLUTE_TIMEOUT - now,
        warning=settings.SESSION_IDLE_WARNING,
    )
    return None


def session_touch(request: HttpRequest, *, now: int | None = None) -> int:
    """Note activity now: the session's last-seen time and its registry row's. Returns the epoch time."""
    now = int(time.time()) if now is None else now
    request.session[SEEN] = now
    session_id = request.session.get(SESSION_ID)
    if session_id is not None:
        UserSession.objects.filter(pk=session_id, ended_at__isnull=True).update(last_seen_at=timezone.now())
    return now


def session_expire(request: HttpRequest, *, reason: str) -> None:
    """End a timed-out session: audit `session.expired`, close its registry row, empty the session.

    Not `logout()`: the customer did not sign out, and its `logout` audit event would say they did."""
    user = request.user
    session = request.session
    with transaction.atomic():
        audit_record(
            action="session.expired",
            actor=user if user.is_authenticated else None,
            object_type="accounts.user",
            object_id=str(session.get(SESSION_KEY, "")),
            after={"reason": str(reason), "started": session.get(STARTED), "last_seen": session.get(SEEN)},
            request=request,
        )
        _end(session.get(SESSION_ID), reason)
    session.flush()
    request.user = AnonymousUser()


def session_end(request: HttpRequest, *, reason: str = UserSession.EndReason.LOGOUT) -> None:
    """Close this session's registry row (at sign-out)."""
    _end(request.session.get(SESSION_ID), reason)


def _end(session_id: int | None, reason: str) -> None:
    if session_id is not None:
        UserSession.objects.filter(pk=session_id, ended_at__isnull=True).update(
            ended_at=timezone.now(), end_reason=reason
        )


def session_registry_prune(*, keep_days: int = 180) -> int:
    """Delete sign-ins older than `keep_days` (beat, daily), so the registry stays small. The audit trail
    keeps every sign-in for good; a browser unseen for that long counts as new again."""
    cutoff = timezone.now() - timedelta(days=keep_days)
    deleted, _ = UserSession.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def sessions_revoke(
    *,
    user: User,
    request: HttpRequest | None,
    keep_current: bool,
    reason: str = UserSession.EndReason.REVOKED,
) -> int:
    """End every session of `user` (but the current one if `keep_current`) by bumping its session
    generation; mark their registry rows ended (no request, e.g. from the shell: every session). Returns how
    many registered sessions were ended. Call it inside the caller's transaction; a kept session needs
    `keep_signed_in` after the commit."""
    User.objects.filter(pk=user.pk).update(session_generation=F("session_generation") + 1)
    user.refresh_from_db(fields=["session_generation"])
    others = UserSession.objects.filter(user=user, ended_at__isnull=True)
    current = request.session.get(SESSION_ID) if request is not None else None
    if keep_current and current is not None:
        others = others.exclude(pk=current)
    return others.update(ended_at=timezone.now(), end_reason=reason)


def keep_signed_in(*, user: User, request: HttpRequest) -> None:
    """After a generation bump: this session gets the new hash, and a new key (a privilege change)."""
    update_session_auth_hash(request, user)


def sessions_revoke_all_others(*, user: User, request: HttpRequest) -> int:
    """Sign out everywhere else: the customer stays signed in here (and may sign out next)."""
    with transaction.atomic():
        ended = sessions_revoke(user=user, request=request, keep_current=True)
        audit_record(
            action="session.revoke_all",
            actor=user,
            obj=user,
            after={"devices_signed_out": ended, "kept_current": True},
            request=request,
        )
    keep_signed_in(user=user, request=request)
    return ended
