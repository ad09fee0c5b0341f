"""Sessions end on the server: 15 minutes idle, 12 hours after sign-in (accounts/sessions.py).

A second middleware beside portal.middleware.RequestMiddleware because it must run below the session,
authentication and messages layers. What it costs a signed-in request: nothing that the request did not
already pay (the session is read once, here or by the user lookup), plus, at most once a minute per
session, a session write and one UPDATE of the registry row. It does not load the user except to audit an
expiry, and an anonymous request without a session cookie touches no store at all.
"""

from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import redirect, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import ngettext
from django_htmx.http import HttpResponseClientRedirect

from accounts import devices
from accounts.sessions import ABSOLUTE, SessionClock, session_check, session_expire

IDLE_HEADER = "X-Session-Idle-Remaining"
LIFETIME_HEADER = "X-Session-Ends-By-Lifetime"


def _signed_out_message(reason: str) -> str:
    """Why the session ended, in words that agree with the number ("after 1 minute", not "1 minutes")."""
    if reason == ABSOLUTE:
        hours = settings.SESSION_ABSOLUTE_TIMEOUT // 3600
        return ngettext(
            "For your security you were signed out: a session lasts at most %(count)d hour. Please sign in "
            "again.",
            "For your security you were signed out: a session lasts at most %(count)d hours. Please sign in "
            "again.",
            hours,
        ) % {"count": hours}
    minutes = settings.SESSION_IDLE_TIMEOUT // 60
    return ngettext(
        "For your security you were signed out after %(count)d minute without activity. Please sign in "
        "again to carry on where you were.",
        "For your security you were signed out after %(count)d minutes without activity. Please sign in "
        "again to carry on where you were.",
        minutes,
    ) % {"count": minutes}


class SessionTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        # A public page (portal/public) reads nothing of the session: it neither ends nor extends it.
        if not hasattr(request, "public_page") and SESSION_KEY in request.session:
            reason = session_check(request)
            if reason is not None:
                session_expire(request, reason=reason)
                return _to_login(request, reason)
        response = self.get_response(request)
        if "HTTP_HX_REQUEST" in request.META and _is_login_redirect(response):
            # A signed-out page's poll (its session ended in another tab, say): `login_required` redirects,
            # and htmx would follow and swap the login page into the fragment.
            return _htmx_to_login(request)
        device = getattr(request, "_device_cookie", None)  # set at sign-in (accounts.sessions)
        if device is not None:
            devices.set_device_cookie(response, device)
        clock = getattr(request, "session_clock", None)
        if clock is not None and "HTTP_HX_REQUEST" in request.META:
            # An htmx request was activity: the page's warning timer restarts from this (portal.js).
            clock_headers(response, clock)
        return response


def clock_headers(response: HttpResponseBase, clock: SessionClock) -> None:
    """The time left, for portal.js: seconds, and whether the 12-hour limit (not idleness) will end it."""
    response[IDLE_HEADER] = str(clock.remaining)
    response[LIFETIME_HEADER] = "true" if clock.ends_by_lifetime else "false"


def _is_login_redirect(response: HttpResponseBase) -> bool:
    if response.status_code not in (301, 302, 303) or not response.has_header("Location"):
        return False
    return urlsplit(response["Location"]).path == resolve_url(settings.LOGIN_URL)


def _htmx_to_login(request: HttpRequest) -> HttpResponseBase:
    """A redirect would be followed by htmx and the login page swapped into a fragment: send the whole
    window there, returning to the page the customer was on (not the fragment's URL)."""
    current = urlsplit(request.META.get("HTTP_HX_CURRENT_URL", ""))
    page = current.path + (f"?{current.query}" if current.query else "") if current.path else "/"
    return HttpResponseClientRedirect(f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': page})}")


def _to_login(request: HttpRequest, reason: str) -> HttpResponseBase:
    messages.info(
        request,
        _signed_out_message(reason),
    )
    if "HTTP_HX_REQUEST" in request.META:
        return _htmx_to_login(request)
    if request.method in ("GET", "HEAD"):
        return redirect_to_login(request.get_full_path())
    # After sign-in `next` is opened with a GET: for a form that was being posted, return to the page that
    # showed the form (the same-site Referer), else to the dashboard.
    referer = request.META.get("HTTP_REFERER", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        page = urlsplit(referer)
        return redirect_to_login(page.path + (f"?{page.query}" if page.query else ""))
    return redirect(settings.LOGIN_URL)
