"""Rate limits on sensitive POSTs, counted in the cache (Redis in production), answered with a 429 page.

    @rate_limit("login_ip", key=by_ip)
    @rate_limit("password_change", key=by_user)

A scope's limit is `settings.RATE_LIMITS[scope] = (requests, seconds)` (each overridable from the
environment, see settings.py), read on every request so that a test or an operator can change it. The
counter is a sliding window: in any `seconds` long stretch at most `requests` are let through, wherever
the stretch starts (a fixed window let twice the limit through across its boundary). In Redis it is a
sorted set of the allowed requests' times per scope and client, trimmed and checked by one Lua script
(one round trip: portal/redis_cache.py `window_hit`), so concurrent requests on several gunicorn workers or
machines never lose a count. The retry time is exact: when the oldest counted request leaves the window.
Refused requests are not recorded, so hammering does not push the retry time back. On any other cache
(local memory on embedded defaults, one process) the same window is kept in this process's memory.

transfer_confirm is counted by the view itself (transactions/views.py), after it has recognised a replay
of a transfer already made (which moves nothing and is not counted), with `hit`.

Over the limit, the view is not called: the answer is templates/429.html with `Retry-After`, for HTMX the
page's content only, retargeted to <main> (static/js/portal.js lets htmx swap a 429).

If the cache cannot be reached, what happens is the scope's (`settings.RATE_LIMIT_FAIL_CLOSED`):

- A scope that guards a secret (sign-in, codes, the current password) or sends email fails **closed**: the
  view is not called and the answer is templates/503.html with `Retry-After` ("Signing in is unavailable
  for a moment"), logged as an error. Letting these through would give an attacker with many addresses
  unlimited guesses, and (the sessions living in the same Redis) a right password would end in a 500 and
  a wrong one in a 200: a password oracle.
- Any other scope (transfer_confirm) fails **open**: the request is let through with a warning in the log,
  so that a limiter that only paces a signed-in customer's own clicks does not stop payments of its own.

On the embedded defaults (local memory) the cache is always reachable.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from portal.client_address import client_key
from portal.local_time import time_of_day_from

logger = logging.getLogger(__name__)

KeyFunction = Callable[[HttpRequest], str | None]


# --- Who is counted ---------------------------------------------------------------------------------------


def by_ip(request: HttpRequest) -> str | None:
    """The client's address (portal/client_address.py); every request without one (a unix socket) shares
    one "unknown" bucket, never unlimited."""
    return client_key(request)


def by_user(request: HttpRequest) -> str | None:
    """The signed-in user's id; None (not counted) for anonymous requests: put `login_required` first."""
    user = getattr(request, "user", None)
    return str(user.pk) if user is not None and user.is_authenticated else None


def by_field(name: str) -> KeyFunction:
    """A POSTed field, trimmed and lower-cased (an email): `key=by_field("username")`."""

    def key(request: HttpRequest) -> str | None:
        return request.POST.get(name, "").strip().lower() or None

    return key


# --- Counting ---------------------------------------------------------------------------------------------


class LimiterUnavailable(Exception):
    """The cache behind a limiter that fails closed cannot be reached: answer with `unavailable()`."""


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # seconds until one more request fits in the window


class _LocalWindows:
    """The sliding window in this process's memory, for caches that are not our Redis backend."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._times: dict[str, deque[int]] = {}

    def hit(self, key: str, *, now_ms: int, window_ms: int, limit: int) -> int:
        with self._lock:
            if len(self._times) > 10_000:  # forget clients whose window has passed
                for stale in [k for k, t in self._times.items() if not t or t[-1] <= now_ms - window_ms]:
                    del self._times[stale]
            times = self._times.setdefault(key, deque())
            while times and times[0] <= now_ms - window_ms:
                times.popleft()
            if len(times) < limit:
                times.append(now_ms)
                return 0
            return max(1, times[0] + window_ms - now_ms)

    def count(self, key: str, *, now_ms: int, window_ms: int, add: bool) -> int:
        with self._lock:
            times = self._times.setdefault(key, deque())
            while times and times[0] <= now_ms - window_ms:
                times.popleft()
            if add:
                times.append(now_ms)
            return len(times)

    def clear(self) -> None:
        with self._lock:
            self._times.clear()


local_windows = _LocalWindows()


def window_take(key: str, *, window_seconds: int, limit: int) -> int:
    """Take one of `limit` places in a sliding window of `window_seconds` under `key`: 0 if taken, else the
    milliseconds until one frees up (nothing is recorded then). Raises if the cache cannot be reached."""
    cache = caches[settings.RATE_LIMIT_CACHE]
    take = getattr(cache, "window_hit", None) or local_windows.hit
    return take(key, now_ms=int(time.time() * 1000), window_ms=window_seconds * 1000, limit=limit)


def window_count(key: str, *, window_seconds: int, add: bool = False, fail_closed: bool = False) -> int:
    """How many times were recorded under `key` in the last `window_seconds` (after recording now, if `add`).
    A failure of the cache raises LimiterUnavailable if `fail_closed`, else counts as none (logged)."""
    cache = caches[settings.RATE_LIMIT_CACHE]
    count = getattr(cache, "window_count", None) or local_windows.count
    try:
        return count(key, now_ms=int(time.time() * 1000), window_ms=window_seconds * 1000, add=add)
    except Exception as error:
        if fail_closed:
            logger.error("Window %s not counted: the cache is unavailable", key.split(":")[0], exc_info=True)
            raise LimiterUnavailable(key.split(":")[0]) from error
        logger.warning("Window %s not counted: the cache is unavailable", key.split(":")[0], exc_info=True)
        return 0


def hit(scope: str, ident: str) -> Verdict:
    """Count one request of `ident` in `scope` if it is within the limit of the sliding window. If the cache
    cannot be reached: LimiterUnavailable for a scope in settings.RATE_LIMIT_FAIL_CLOSED, else allowed."""
    limit, seconds = settings.RATE_LIMITS[scope]
    digest = hashlib.sha256(ident.encode()).hexdigest()[:32]  # no emails or addresses in Redis keys
    try:
        wait_ms = window_take(f"ratelimit:{scope}:{digest}", window_seconds=seconds, limit=limit)
    except Exception as error:  # any failure of the cache (see the module's docstring)
        if scope in settings.RATE_LIMIT_FAIL_CLOSED:
            logger.error("Rate limit %s not checked: the cache is unavailable; refused", scope, exc_info=True)
            raise LimiterUnavailable(scope) from error
        logger.warning("Rate limit %s not checked: the cache is unavailable", scope, exc_info=True)
        return Verdict(allowed=True)
    return Verdict(allowed=wait_ms == 0, retry_after=math.ceil(wait_ms / 1000))


def too_many_requests(
    request: HttpRequest, retry_after: int, message: str = "", back: tuple[str, str] | None = None
) -> HttpResponse:
    """The 429 page: when to try again (a wait in seconds under a minute, a time of day after); or the
    view's own `message` saying what did not happen and when to try again (a transfer: the money did not
    move). `back` is (url, words) of a link back to the form refused (else to the accounts or sign-in)."""
    context = {
        "message": message,
        "back": back,
        "retry_after": retry_after,
        # The site's time format with IST, to the minute rounded up: "from 10:02 AM IST".
        "retry_at": time_of_day_from(datetime.fromtimestamp(time.time() + retry_after, tz=UTC)),
    }
    htmx = getattr(request, "htmx", False)
    template = "429.html#too-many" if htmx else "429.html"
    response = render(request, template, context, status=429)
    response["Retry-After"] = str(retry_after)
    if htmx:
        response["HX-Retarget"] = "#main"
        response["HX-Reswap"] = "innerHTML"
    return response


UNAVAILABLE_RETRY_AFTER = 120  # seconds: "try again in a few minutes"


def unavailable(request: HttpRequest) -> HttpResponse:
    """The 503 page of a limiter that fails closed: nothing was checked, the account is safe, come back."""
    htmx = getattr(request, "htmx", False)
    template = "503.html#unavailable" if htmx else "503.html"
    response = render(request, template, status=503)
    response["Retry-After"] = str(UNAVAILABLE_RETRY_AFTER)
    if htmx:
        response["HX-Retarget"] = "#main"
        response["HX-Reswap"] = "innerHTML"
    return response


def limit_hit(
    request: HttpRequest, scope: str, ident: str | None, back: tuple[str, str] | None = None
) -> HttpResponse | None:
    """Count one request of `ident` in `scope` (nothing if `ident` is None), for a view that counts only
    some of its requests (those that reach what the limit guards): None if it may go on, else the answer
    to give (the 429 page, or the 503 page of a scope that fails closed when the cache is down)."""
    if ident is None:
        return None
    try:
        verdict = hit(scope, ident)
    except LimiterUnavailable:
        return unavailable(request)
    if verdict.allowed:
        return None
    logger.warning("Rate limit %s exceeded; retry in %d s", scope, verdict.retry_after)
    return too_many_requests(request, verdict.retry_after, back=back)


def rate_limit(
    scope: str, *, key: KeyFunction, methods: tuple[str, ...] = ("POST",)
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Limit a view's `methods` requests per `key(request)` to `settings.RATE_LIMITS[scope]`. A request
    whose key is None (no address, no user, an empty field) is not counted by this scope. If the cache
    cannot be reached, a scope in `settings.RATE_LIMIT_FAIL_CLOSED` answers the 503 page, any other lets
    the request through."""
    if scope not in settings.RATE_LIMITS:
        raise KeyError(f"settings.RATE_LIMITS has no scope {scope!r}")

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method in methods and (refused := limit_hit(request, scope, key(request))):
                return refused
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
