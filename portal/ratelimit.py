"""Rate limits on sensitive POSTs, counted in the cache (Redis in production), answered with a 429 page.

    @rate_limit("login_ip", key=by_ip)
    @rate_limit("transfer_confirm", key=by_user)

A scope's limit is `settings.RATE_LIMITS[scope] = (requests, seconds)` (each overridable from the
environment, see settings.py), read on every request so that a test or an operator can change it. The
counter is a fixed window: one cache key per scope, client and window (`window index = now // seconds`),
created with `add` and bumped with the cache's atomic `incr`, so concurrent requests on several gunicorn
workers or machines never lose a count. A fixed window lets a client make up to twice the limit across a
window boundary; that is fine for slowing down guessing, and it makes the retry time exact and cheap to
tell ("try again in 23 seconds"), which a sliding window cannot without a sorted set per client.

Over the limit, the view is not called: the answer is templates/429.html with `Retry-After`, for HTMX the
page's content only, retargeted to <main> (static/js/portal.js lets htmx swap a 429). If the cache cannot
be reached the request is let through with a warning in the log: a limiter must never turn an outage of
Redis into a 500 of its own (and the session, in the same Redis, decides what happens next).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from portal.audit import client_ip

logger = logging.getLogger(__name__)

KeyFunction = Callable[[HttpRequest], str | None]


# --- Who is counted ---------------------------------------------------------------------------------------


def by_ip(request: HttpRequest) -> str | None:
    return client_ip(request)


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


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # seconds until the window ends


def hit(scope: str, ident: str) -> Verdict:
    """Count one request of `ident` in `scope`; allowed while the count is within the limit."""
    limit, seconds = settings.RATE_LIMITS[scope]
    now = time.time()
    window = int(now // seconds)
    retry_after = max(1, math.ceil((window + 1) * seconds - now))
    digest = hashlib.sha256(ident.encode()).hexdigest()[:32]  # no emails or addresses in Redis keys
    key = f"ratelimit:{scope}:{window}:{digest}"
    cache = caches[settings.RATE_LIMIT_CACHE]
    try:
        if hasattr(cache, "count"):  # our Redis backend (portal/redis_cache.py): one round trip
            count = cache.count(key, timeout=seconds + 1)
        else:  # any other cache (local memory on embedded defaults)
            cache.add(key, 0, timeout=seconds + 1)
            try:
                count = cache.incr(key)
            except ValueError:  # the key expired between add and incr: this is the window's first request
                cache.add(key, 1, timeout=seconds + 1)
                count = 1
    except Exception:  # any failure of the cache: let the request through (see the module's docstring)
        logger.warning("Rate limit %s not checked: the cache is unavailable", scope, exc_info=True)
        return Verdict(allowed=True)
    return Verdict(allowed=count <= limit, retry_after=retry_after)


def too_many_requests(request: HttpRequest, retry_after: int) -> HttpResponse:
    """The 429 page: when to try again, in seconds and as a time of day."""
    context = {
        "retry_after": retry_after,
        "retry_at": datetime.fromtimestamp(time.time() + retry_after, tz=UTC),
    }
    htmx = getattr(request, "htmx", False)
    template = "429.html#too-many" if htmx else "429.html"
    response = render(request, template, context, status=429)
    response["Retry-After"] = str(retry_after)
    if htmx:
        response["HX-Retarget"] = "#main"
        response["HX-Reswap"] = "innerHTML"
    return response


def rate_limit(
    scope: str, *, key: KeyFunction, methods: tuple[str, ...] = ("POST",)
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Limit a view's `methods` requests per `key(request)` to `settings.RATE_LIMITS[scope]`. A request
    whose key is None (no address, no user, an empty field) is not counted by this scope."""
    if scope not in settings.RATE_LIMITS:
        raise KeyError(f"settings.RATE_LIMITS has no scope {scope!r}")

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method in methods and (ident := key(request)) is not None:
                verdict = hit(scope, ident)
                if not verdict.allowed:
                    logger.warning("Rate limit %s exceeded; retry in %d s", scope, verdict.retry_after)
                    return too_many_requests(request, verdict.retry_after)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
