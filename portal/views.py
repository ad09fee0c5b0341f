import logging
import uuid
from dataclasses import replace

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import caches
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from accounts.middleware import clock_headers
from accounts.sessions import session_touch
from portal.celery import app as celery_app
from portal.context_processors import shell_urls

logger = logging.getLogger(__name__)


@never_cache
def health(request: HttpRequest) -> HttpResponse:
    """Liveness: the process answers. Touches no database, cache or broker."""
    return HttpResponse("ok", content_type="text/plain")


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_cache() -> None:
    """The cache and, in production, the session store (its own alias, possibly its own Redis)."""
    token = uuid.uuid4().hex
    for alias in settings.CACHES:
        store = caches[alias]
        store.set("portal:ready", token, timeout=30)
        if store.get("portal:ready") != token:
            raise RuntimeError(f"the {alias} cache did not return what was just stored")


def _check_broker() -> None:
    # One attempt with a short timeout: a probe must answer before the load balancer gives up on it.
    options = {"socket_connect_timeout": 2, "socket_timeout": 2}
    with celery_app.connection_for_write(connect_timeout=2, transport_options=options) as broker:
        broker.ensure_connection(max_retries=0)


_READINESS_CHECKS = {"database": _check_database, "cache": _check_cache, "broker": _check_broker}


@require_safe
@never_cache
def ready(request: HttpRequest) -> JsonResponse:
    """Readiness: PostgreSQL, the cache and the Celery broker answer. 503 names what failed; the reason goes
    to the log, not to whoever asks."""
    results = {}
    for name, check in _READINESS_CHECKS.items():
        try:
            check()
        except Exception:  # any failure of a dependency means "not ready", whatever its type
            logger.warning("Readiness check failed: %s", name, exc_info=True)
            results[name] = "error"
        else:
            results[name] = "ok"
    status = 200 if all(result == "ok" for result in results.values()) else 503
    return JsonResponse(results, status=status)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # No request context: the database or cache may be what failed.
    return HttpResponseServerError(loader.render_to_string("500.html", shell_urls(request)))


@login_required
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def session_ping(request: HttpRequest) -> HttpResponse:
    """The cheapest signed-in page: the session and user are loaded, nothing else. The benchmark uses its
    GET as the floor that every signed-in page pays. A POST (with CSRF) is "Stay signed in" from the idle
    warning (static/js/portal.js): it notes activity now, and answers 204 with the seconds left, so that a
    form posted without JavaScript leaves the page where it is."""
    if request.method == "POST":
        session_touch(request)
        response = HttpResponse(status=204)
        clock = getattr(request, "session_clock", None)
        if clock is not None:  # set by the middleware; the idle part starts again now
            clock_headers(response, replace(clock, idle_remaining=settings.SESSION_IDLE_TIMEOUT))
        return response
    return HttpResponse("ok", content_type="text/plain")
