"""Lockout after repeated failed sign-ins: the glue between django-axes and the portal.

Axes (settings: AXES_*) counts failures per attempted email and per client address in its AccessAttempt
table and refuses to authenticate either once it reaches AXES_FAILURE_LIMIT within AXES_COOLOFF_TIME.
It knows nothing of whether the email has an account, so a locked unknown email looks exactly like a
locked customer. This module tells axes which email was tried and tells the customer when to come back.
"""

from __future__ import annotations

from datetime import datetime

from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone


def attempted_email(request: HttpRequest, credentials: dict | None = None) -> str | None:
    """AXES_USERNAME_CALLABLE: the email as the login form cleans it (trimmed, lower-cased), so that
    "Alice@Example.com" and "alice@example.com " count against one lock."""
    # `authenticate(username=...)` from the login form; axes' own look-ups of a user may say `email`.
    if credentials:
        value = credentials.get("username") or credentials.get("email")
    else:
        value = request.POST.get("username")
    return str(value).strip().lower() if value else None


def _unlock_time(attempts: list[tuple[datetime, int]], limit: int) -> datetime | None:
    """When the failures of one email (or one address) drop below the limit. Axes keeps one row per
    (email, address, user agent), with its failure count and the time of its latest failure, and forgets a
    row whole COOLOFF after that time: rows expire oldest first until fewer than `limit` failures remain."""
    remaining = sum(failures for _time, failures in attempts)
    if remaining < limit:
        return None
    for attempt_time, failures in sorted(attempts):
        remaining -= failures
        if remaining < limit:
            return attempt_time + settings.AXES_COOLOFF_TIME
    return None  # not reached: remaining ends at 0


def lockout_ends_at(*, email: str | None, ip_address: str | None) -> datetime | None:
    """The time the lock on this email or this address (whichever ends later) is lifted, or None if
    neither is locked. One query over axes' rows of the cool-off window."""
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    match = Q(pk__in=[])
    if email:
        match |= Q(username=email)
    if ip_address:
        match |= Q(ip_address=ip_address)
    rows = AccessAttempt.objects.filter(match, attempt_time__gte=since).values_list(
        "username", "ip_address", "attempt_time", "failures_since_start"
    )
    by_email, by_address = [], []
    for username, address, attempt_time, failures in rows:
        if email and username == email:
            by_email.append((attempt_time, failures))
        if ip_address and address == ip_address:
            by_address.append((attempt_time, failures))
    limit = settings.AXES_FAILURE_LIMIT
    ends = [t for t in (_unlock_time(by_email, limit), _unlock_time(by_address, limit)) if t]
    return max(ends) if ends else None
