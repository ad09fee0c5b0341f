"""The portal's request middleware (every middleware is paid on every request, so they are few: this one,
accounts' session timeouts below the session layers, and above it the public pages' cache,
portal/public/page_cache.py, which answers a cached rate sheet or FAQ without the layers below and gives
that answer a request id and a hit count of its own).

It gives each request an id, keeps signed-in pages out of every cache, and times the request for the
Prometheus metrics (`portal.metrics.observe_request`: one histogram observation):
- `request.request_id` comes from a well-formed `X-Request-ID` header (a proxy's or load balancer's id, so
  that one id follows the request through every tier) or is a new uuid4; it is echoed in the response's
  `X-Request-ID` and stamped on every log line (`portal.logging`) until the response is closed, so that
  streamed bodies and Django's own "Not Found"/"Internal Server Error" lines carry it too.
- A response to a signed-in customer gets `Cache-Control: no-store, private` and `Vary: Cookie`: balances
  and receipts must never be kept by a browser's back-forward cache, a shared proxy or a CDN. No exception:
  the transfer review is a GET page reached by redirect (POST/redirect/GET), so Back fetches it again.

The other security headers come from Django's SecurityMiddleware (HSTS, nosniff, Referrer-Policy,
Cross-Origin-Opener-Policy), XFrameOptionsMiddleware and django-csp's CSPMiddleware.
"""

import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import patch_cache_control, patch_vary_headers

from portal.logging import bind_request
from portal.metrics import observe_request

# An id from outside is trusted only when it cannot forge or break a log line.
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def valid_request_id(value: str) -> bool:
    return _VALID_REQUEST_ID.fullmatch(value) is not None


class RequestMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        started = time.perf_counter()
        request_id = request.META.get("HTTP_X_REQUEST_ID", "")
        if not valid_request_id(request_id):
            request_id = uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        bind_request(request_id, request.META)

        response = self.get_response(request)

        response["X-Request-ID"] = request_id
        # `user` is missing when a middleware above AuthenticationMiddleware answered (a static file, the
        # HTTPS redirect). Every page renders the user in its header, so this loads nothing new.
        # A public page (portal/public) is the same for everyone and is kept by caches on purpose: its
        # rendering (a cache miss, a search) passes here; its cached copies never reach this layer.
        user = getattr(request, "user", None)
        if user is not None and not hasattr(request, "public_page") and user.is_authenticated:
            patch_cache_control(response, no_store=True, private=True)
            patch_vary_headers(response, ("Cookie",))
        observe_request(request, response, started)
        return response


def _unbind_request(**kwargs: Any) -> None:
    bind_request(None, None)


request_finished.connect(_unbind_request, dispatch_uid="portal.middleware.unbind_request")
