"""Prometheus metrics: what the portal counts, and the `/metrics` page that serves them.

prometheus_client directly rather than django-prometheus: that library adds two middlewares that update
about a dozen metrics on every request, and every middleware is paid on every request (DESIGN.md). Here
the portal's one middleware observes one histogram per request (count and latency by view, method and
status); views and signal receivers count the rest.

Several gunicorn workers: each process has its own counters. Set PROMETHEUS_MULTIPROC_DIR to an empty
folder (cleared before each start) and run gunicorn with `-c python:portal.gunicorn_conf`: the client then
keeps values in files there, `/metrics` adds up every worker's, and a dead worker's gauges are dropped.
"""

import os
import time
from typing import Any

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

from portal.client_address import from_this_host

REQUESTS = Histogram(
    "portal_request_duration_seconds",
    "Time to answer a request, by view (URL name), method and status.",
    ["view", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
TRANSFERS = Counter(
    "portal_transfers_total",
    "Transfer confirmations by outcome: posted, replayed (a resubmit returning the first), replaced (a "
    'review replaced by "Change details", refused), invalid (form '
    "errors), or the ledger's refusal code.",
    ["outcome"],
)
LOGINS = Counter("portal_logins_total", "Sign-in attempts by outcome.", ["outcome"])
PUBLIC_PAGE_HITS = Counter(
    "portal_public_page_hits_total",
    "Public pages answered from a cached copy (portal/public/page_cache.py), by page.",
    ["page"],
)
LOCKOUTS = Counter("portal_lockouts_total", "Accounts or addresses locked out after repeated failures.")


# Django passes any method a client sends; only these are labelled by name.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def observe_request(request: HttpRequest, response: HttpResponseBase, started: float) -> None:
    """Called by the middleware. The view is its URL name and an unknown method is "other", so a client
    sending random paths or methods adds no series."""
    match = getattr(request, "resolver_match", None)
    view = (match.view_name if match is not None else "") or "unmatched"
    method = request.method if request.method in _METHODS else "other"
    REQUESTS.labels(view, method, str(response.status_code)).observe(time.perf_counter() - started)


def transfer_counted(outcome: str) -> None:
    TRANSFERS.labels(outcome).inc()


def lockout_counted() -> None:
    """Count one lockout (call it where a lockout is decided)."""
    LOCKOUTS.inc()


def _login_succeeded(**kwargs: Any) -> None:
    LOGINS.labels("success").inc()


def _login_failed(**kwargs: Any) -> None:
    LOGINS.labels("failure").inc()


def connect() -> None:
    user_logged_in.connect(_login_succeeded, dispatch_uid="portal.metrics.login_succeeded")
    user_login_failed.connect(_login_failed, dispatch_uid="portal.metrics.login_failed")


def _registry() -> CollectorRegistry:
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


def _verified_staff(request: HttpRequest) -> bool:
    from accounts.otp import session_verified  # accounts imports this module (its signals count here)

    user = getattr(request, "user", None)
    return user is not None and user.is_active and user.is_staff and session_verified(request)


def metrics_view(request: HttpRequest) -> HttpResponse:
    """The metrics in Prometheus' text format, for a scraper on this machine (by the client address of
    portal/client_address.py, not relayed by a proxy in any header) or for staff whose session proved
    their second factor; anyone else gets the same 404 as for a page that does not exist."""
    if not (from_this_host(request) or _verified_staff(request)):
        raise Http404
    response = HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response
