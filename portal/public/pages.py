"""Which URLs are public pages served whole from the cache (portal/public/page_cache.py), and how a request
names its copy. A key is None when the request is not one of the page's cacheable forms (a search, an
unknown or malformed parameter): the view then answers it itself, every time.

The middleware adds the day (IST) to every key: the rate sheet changes at midnight when a line's effective
day comes, with no edit to announce it, so a copy never outlives its day.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest


@dataclass(frozen=True)
class PublicPage:
    """A page served from the cache: its namespace, and how a request names its copy (None: not cacheable,
    e.g. an unknown parameter, which the view answers itself)."""

    namespace: str
    key: Callable[[HttpRequest], str | None]


def wants_partial(request: HttpRequest) -> bool:
    """An HTMX request for the page's swappable part (not a history restore, which wants the page)."""
    meta = request.META
    return meta.get("HTTP_HX_REQUEST") == "true" and meta.get("HTTP_HX_HISTORY_RESTORE_REQUEST") != "true"


def _variant(request: HttpRequest) -> str:
    return "part" if wants_partial(request) else "page"


def _as_of(value: str) -> bool:
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


def rates_key(request: HttpRequest) -> str | None:
    if not request.META.get("QUERY_STRING"):
        return _variant(request)
    query = request.GET
    if list(query) == ["as_of"] and len(query.getlist("as_of")) == 1 and _as_of(query["as_of"]):
        return f"{_variant(request)}|as_of={query['as_of']}"
    return None


def faq_key(request: HttpRequest) -> str | None:
    return _variant(request) if not request.META.get("QUERY_STRING") else None


RATES_PATH = "/rates/"
FAQ_PATH = "/faq/"
PUBLIC_PAGES = {
    RATES_PATH: PublicPage("rates", rates_key),
    FAQ_PATH: PublicPage("faq", faq_key),
}
