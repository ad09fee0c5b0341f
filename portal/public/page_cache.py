"""Whole-page cache of the public pages (rate sheet, FAQ), answered from the top of the middleware stack.

A public page's body depends on nothing but the URL, the day (IST) and what staff published: never on who
asks. So a rendered page is kept whole, under a key made of its namespace's *version*, and handed to every
visitor without running a view, a template, a session or a query.

Where a copy lives:
- in Redis, under `public:page:<namespace>:<version>:<key>` (a day's expiry, only to collect garbage: a
  copy is never stale, because an edit changes the version and so the key);
- in each worker's memory, for the pages it served lately (an LRU of PUBLIC_PAGE_MEMORY_ENTRIES).
Both are also keyed by the release (`release()`): a copy names the hashed static files of the release that
drew it, which the next release may not have, so a deploy draws the pages again even with no edit.

The versions live in PostgreSQL (`public.ContentVersion`, one row per namespace): a staff edit bumps its
namespace's version in the edit's own transaction (portal/public/signals.py), so no edit can commit
without moving the version, whatever Redis does. After the commit the namespace is PUBLISHed on a Redis
channel. Each worker holds a subscription to that channel and reads it, without blocking (a poll of a
socket that is already open, no round trip), before it answers from memory: Redis writes the message to
the subscribers' sockets as it answers the PUBLISH, before the saving request's response can have reached
the browser, so the next request sees the change. In case a
message is lost (a dropped connection, Redis restarted), a worker also re-reads the versions (one query)
at least every PUBLIC_PAGE_RECHECK_SECONDS, and while it holds no working subscription it reads them on
every request. If Redis cannot be reached at all, pages are rendered on every request (correct, slower).

Each copy carries a strong ETag (a digest of the body) and Last-Modified (the time its namespace last
changed); a request whose If-None-Match or If-Modified-Since matches gets 304 with no body
(django.utils.cache.get_conditional_response, the rules of RFC 9110). The headers stored with a copy are
those the whole stack gave it the first time (CSP, HSTS, nosniff, X-Frame-Options, Vary: HX-Request), less
the request's own (its id, cookies).

Only GET and HEAD, over HTTPS where HTTPS is required (otherwise SecurityMiddleware below redirects), with
an allowed Host, and a query the page declares cacheable (portal/public/pages.py) are served from a copy;
anything else goes down the stack as usual.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import gzip
import hashlib
import logging
import math
import os
import pickle
import select
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import brotli
import redis
import redis.client
from django.conf import settings
from django.db import DatabaseError, connections, transaction
from django.db.models import F
from django.db.models.functions import Now
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseNotModified
from django.http.response import ResponseHeaders
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.utils.http import http_date

from portal.metrics import PUBLIC_PAGE_HITS
from portal.middleware import valid_request_id
from portal.public.pages import PUBLIC_PAGES

logger = logging.getLogger(__name__)

# Headers that belong to one request and response, never to the copy.
_NOT_STORED = frozenset({"x-request-id", "set-cookie", "content-length", "date"})


@dataclass(frozen=True)
class CachedPage:
    body: bytes
    headers: tuple[tuple[str, str], ...]
    etag: str
    last_modified: float  # seconds since the epoch

    @cached_property
    def _representations(self) -> dict[str, _Representation]:
        """The page as sent: plain, and compressed once per copy for the browsers that accept it (every
        browser sends Accept-Encoding: a fifth of the bytes to encrypt and write, and no compression per
        request). Each has its own strong ETag (RFC 9110 8.8.3: validators are per representation)."""
        plain = [(name, value) for name, value in self.headers if name.lower() not in ("etag", "vary")]
        vary = next((value for name, value in self.headers if name.lower() == "vary"), "")
        vary = ", ".join(part for part in (vary, "Accept-Encoding") if part)
        bodies = {
            "identity": self.body,
            "br": brotli.compress(self.body, quality=11),
            "gzip": gzip.compress(self.body, compresslevel=9, mtime=0),
        }
        made = {}
        for coding, body in bodies.items():
            etag = self.etag if coding == "identity" else f'{self.etag[:-1]}-{coding}"'
            headers = ResponseHeaders([*plain, ("ETag", etag), ("Vary", vary)])
            if coding != "identity":
                headers["Content-Encoding"] = coding
            headers["Content-Length"] = str(len(body))
            made[coding] = _Representation(body, etag, headers._store)
        return made

    def response(self, request: HttpRequest) -> HttpResponseBase:
        meta = request.META
        chosen = self._representations[_coding(meta.get("HTTP_ACCEPT_ENCODING", ""))]
        if (
            meta.get("HTTP_IF_NONE_MATCH") == chosen.etag
            and "HTTP_IF_MATCH" not in meta
            and "HTTP_IF_UNMODIFIED_SINCE" not in meta
        ):
            # What a browser sends back: this copy's own ETag, alone. A 304 at once, built from parts made
            # once per copy; any other set of validators goes through get_conditional_response below.
            not_modified = HttpResponseNotModified()
            not_modified.headers._store = chosen.not_modified_store.copy()
            return not_modified
        response = HttpResponse(chosen.body if request.method != "HEAD" else b"")
        response.headers._store = chosen.header_store.copy()
        if "HTTP_IF_NONE_MATCH" not in meta and "HTTP_IF_MODIFIED_SINCE" not in meta:
            return response  # nothing to compare (nor If-Match or If-Unmodified-Since: they only refuse)
        return get_conditional_response(
            request, etag=chosen.etag, last_modified=int(self.last_modified), response=response
        )


@dataclass(frozen=True)
class _Representation:
    body: bytes
    etag: str
    header_store: dict[str, tuple[str, str]]  # as Django's ResponseHeaders keeps them, checked once

    @cached_property
    def not_modified_store(self) -> dict[str, tuple[str, str]]:
        """The headers a 304 keeps (RFC 9110 15.4.5; Django's own list in django.utils.cache)."""
        kept = {"cache-control", "content-location", "date", "etag", "expires", "last-modified", "vary"}
        return {name: pair for name, pair in self.header_store.items() if name in kept}


@functools.lru_cache(maxsize=256)
def _coding(accept_encoding: str) -> str:
    """The content coding to send for an Accept-Encoding header: br, else gzip, else none. A coding with
    q=0 is refused; anything unreadable counts as not offered."""
    offered = {}
    for part in accept_encoding.lower().split(","):
        name, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        offered[name.strip()] = quality
    for coding in ("br", "gzip"):
        if offered.get(coding, offered.get("*", 0.0)) > 0:
            return coding
    return "identity"


def _etag(body: bytes) -> str:
    return f'"{hashlib.blake2b(body, digest_size=12).hexdigest()}"'


def _readable(sock: Any) -> bool:
    poller = select.poll()
    poller.register(sock, select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))


class _Subscription(redis.client.PubSub):
    """redis-py reconnects a dropped subscription by itself and subscribes again, silently: whatever was
    published in between is lost. A reconnection marks it unconfirmed until Redis confirms the new
    subscription; until then (and once more after) the versions are read on every request."""

    confirmed = False

    def on_connect(self, connection: Any) -> None:
        self.confirmed = False
        super().on_connect(connection)


class PageStore:
    """One per process (see `store()`): the memory copies, the known versions and the subscription."""

    def __init__(self, url: str, prefix: str) -> None:
        self.pid = os.getpid()
        self.prefix = prefix
        self.release = release()
        self.channel = f"{prefix}:public:invalidate"
        self.redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._lock = threading.Lock()
        self._memory: OrderedDict[tuple, CachedPage] = OrderedDict()
        self._versions: dict[str, tuple[int, float]] = {}  # namespace -> (version, changed at)
        self._checked = -math.inf  # monotonic time the versions were last read
        self._pubsub: Any = None

    def _page_key(self, namespace: str, version: int, key: str) -> str:
        return f"{self.prefix}:public:page:v1:{self.release}:{namespace}:{version}:{key}"

    # Versions -------------------------------------------------------------------------------------------
    def _subscribe(self) -> None:
        """Open the subscription, and wait for Redis to confirm it, before the versions are read: a change
        committed after that read is then certain to be announced on this socket."""
        pubsub = _Subscription(self.redis.connection_pool)
        pubsub.subscribe(self.channel)
        message = pubsub.get_message(timeout=2)
        if not message or message.get("type") != "subscribe":
            pubsub.close()
            raise redis.ConnectionError("no confirmation of the subscription")
        pubsub.confirmed = True
        self._pubsub = pubsub

    def _drain(self) -> bool:
        """Read what was published since the last look, without waiting. True: something changed (or the
        subscription broke, and nothing can be trusted until the versions are read again)."""
        if self._pubsub is None:
            return True
        # Nothing to read unless the socket is readable (redis-py's own check costs ten times this poll):
        # every look reads until redis-py's buffer is empty, so data can only be waiting on the socket.
        sock = getattr(self._pubsub.connection, "_sock", None)
        if sock is not None and self._pubsub.confirmed and not _readable(sock):
            return False
        changed = False
        try:
            while (message := self._pubsub.get_message(timeout=0.0)) is not None:
                if message.get("type") == "subscribe":  # subscribed again after a reconnection
                    self._pubsub.confirmed = True
                changed = True
        except (redis.RedisError, OSError, ValueError):
            logger.warning("public page cache: the invalidation subscription broke", exc_info=True)
            self._close_pubsub()
            return True
        return changed or not self._pubsub.confirmed

    def _close_pubsub(self) -> None:
        if self._pubsub is not None:
            with contextlib.suppress(redis.RedisError, OSError):
                self._pubsub.close()
            self._pubsub = None

    def _read_versions(self) -> None:
        for namespace, (version, changed) in content_versions().items():
            known = self._versions.get(namespace)
            if known is not None and known[0] != version:
                self._forget(namespace)
            self._versions[namespace] = (version, changed)
        self._checked = time.monotonic()

    def _forget(self, namespace: str) -> None:
        for cached_key in [k for k in self._memory if k[0] == namespace]:
            del self._memory[cached_key]

    def _current(self, namespace: str) -> tuple[int, float]:
        """The namespace's version, read again from the database when a change was announced, when the
        subscription is not working, or when the last read is older than PUBLIC_PAGE_RECHECK_SECONDS."""
        stale = time.monotonic() - self._checked > settings.PUBLIC_PAGE_RECHECK_SECONDS
        if self._pubsub is None and stale:
            try:
                self._subscribe()
            except (redis.RedisError, OSError):
                logger.warning("public page cache: cannot subscribe to invalidations", exc_info=True)
        if self._drain() or stale or namespace not in self._versions:
            self._read_versions()
        return self._versions[namespace]

    # Pages ----------------------------------------------------------------------------------------------
    def get(self, namespace: str, key: str) -> tuple[int, float, CachedPage | None]:
        with self._lock:
            version, changed = self._current(namespace)
            memory_key = (namespace, version, key)
            page = self._memory.get(memory_key)
            if page is not None:
                self._memory.move_to_end(memory_key)
                return version, changed, page
        raw = self.redis.get(self._page_key(namespace, version, key))
        if raw is None:
            return version, changed, None
        try:
            body, headers, etag, last_modified = pickle.loads(raw)  # noqa: S301 - put() below wrote it
        except (pickle.UnpicklingError, ValueError, TypeError, EOFError):
            logger.warning("public page cache: an unreadable copy in Redis, rendering again", exc_info=True)
            return version, changed, None
        page = CachedPage(body, headers, etag, last_modified)
        self._remember((namespace, version, key), page)
        return version, changed, page

    def put(self, namespace: str, version: int, key: str, page: CachedPage) -> None:
        self.redis.set(
            self._page_key(namespace, version, key),
            # Plain values, not the class: a copy written by an older release still reads.
            pickle.dumps((page.body, page.headers, page.etag, page.last_modified), protocol=4),
            ex=settings.PUBLIC_PAGE_REDIS_SECONDS,
        )
        self._remember((namespace, version, key), page)

    def _remember(self, memory_key: tuple, page: CachedPage) -> None:
        with self._lock:
            if self._versions.get(memory_key[0], (None,))[0] != memory_key[1]:
                return  # changed meanwhile: the copy is already out of date
            self._memory[memory_key] = page
            self._memory.move_to_end(memory_key)
            while len(self._memory) > settings.PUBLIC_PAGE_MEMORY_ENTRIES:
                self._memory.popitem(last=False)

    def announce(self, namespace: str) -> None:
        """After the commit that moved the namespace's version: tell every worker (this one at once)."""
        with self._lock:
            self._forget(namespace)
            self._checked = -math.inf
        self.redis.publish(self.channel, namespace)

    def reset(self) -> None:
        """Forget every memory copy and known version (tests; a worker after fork)."""
        with self._lock:
            self._memory.clear()
            self._versions.clear()
            self._checked = -math.inf


def release_digest(*, paths: list[Path]) -> str:
    """A digest of the static files' manifest (their hashed names) and of the files that draw the pages."""
    from django.contrib.staticfiles.storage import staticfiles_storage

    digest = hashlib.blake2b(digest_size=8)
    digest.update(str(getattr(staticfiles_storage, "manifest_hash", "") or "").encode())
    for path in paths:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def release() -> str:
    """What a copy was drawn by: PUBLIC_PAGE_RELEASE if the deploy names it (e.g. the commit), else a digest
    of the static manifest, the templates and this package's code, the same on every node of a release."""
    if settings.PUBLIC_PAGE_RELEASE:
        return settings.PUBLIC_PAGE_RELEASE
    templates = Path(settings.BASE_DIR, "templates")
    paths = [templates / "base.html", *sorted((templates / "public").glob("*.html"))]
    paths += sorted(Path(__file__).parent.glob("*.py"))
    return release_digest(paths=[path for path in paths if path.is_file()])


NAMESPACES = ("rates", "faq")
_store: PageStore | None = None
_store_lock = threading.Lock()


def store() -> PageStore | None:
    """This process's store, made on first use after a fork; None without Redis (the embedded defaults:
    one process, nothing to share, pages are rendered each time)."""
    global _store
    if not settings.REDIS_URL:
        return None
    current = _store
    if current is not None and current.pid == os.getpid():
        return current
    with _store_lock:
        if _store is None or _store.pid != os.getpid():
            prefix = settings.CACHES["default"].get("KEY_PREFIX", "")
            _store = PageStore(settings.REDIS_URL, prefix)
        return _store


def content_versions() -> dict[str, tuple[int, float]]:
    """Every namespace's version and the time it last changed (epoch seconds), in one query."""
    from portal.public.models import ContentVersion

    rows = ContentVersion.objects.values_list("namespace", "version", "changed_at")
    versions = {namespace: (version, changed.timestamp()) for namespace, version, changed in rows}
    if missing := set(NAMESPACES) - set(versions):  # a flushed table (`manage.py flush`, tests)
        _create_versions(missing)
        return content_versions()
    return versions


def _create_versions(namespaces: set[str]) -> None:
    """Rows for namespaces that have none. A new row's version is the time in nanoseconds, so that it never
    comes back to a number under which a worker may still hold a copy."""
    from portal.public.models import ContentVersion

    for namespace in namespaces:
        ContentVersion.objects.get_or_create(
            namespace=namespace, defaults={"version": time.time_ns(), "changed_at": timezone.now()}
        )


def bump(namespace: str, using: str = "default") -> None:
    """Move the namespace's version, in the caller's transaction; announce it once that commits. On
    PostgreSQL the writing statement's own trigger has moved it already (public/0003): only the
    announcement is left to do."""
    from portal.public.models import ContentVersion

    if namespace not in NAMESPACES:
        raise ValueError(f"unknown public page namespace {namespace!r}")
    if connections[using].vendor == "postgresql":
        transaction.on_commit(partial(_announce, namespace), using=using, robust=True)
        return
    moved = (
        ContentVersion.objects.using(using)
        .filter(namespace=namespace)
        .update(version=F("version") + 1, changed_at=Now())
    )
    if not moved:
        _create_versions({namespace})
    transaction.on_commit(partial(_announce, namespace), using=using, robust=True)


def _announce(namespace: str) -> None:
    page_store = store()
    if page_store is None:
        return
    try:
        page_store.announce(namespace)
    except (redis.RedisError, OSError):
        # The version moved with the edit; workers see it at their next re-read, within seconds.
        logger.warning(
            "public page cache: could not announce a change of %s; workers see it within %s s",
            namespace,
            settings.PUBLIC_PAGE_RECHECK_SECONDS,
            exc_info=True,
        )


def _page_from_response(response: HttpResponseBase, modified: float) -> CachedPage | None:
    if response.status_code != 200 or not isinstance(response, HttpResponse):
        return None  # an error, a redirect, a streamed body: answered, never kept
    directives = {part.split("=")[0].strip().lower() for part in response.get("Cache-Control", "").split(",")}
    if directives & {"no-store", "private"}:
        return None  # the view said it is not to be kept (e.g. an answer to a refused "as of" date)
    body = response.content
    etag = _etag(body)
    headers = tuple(
        (name, value) for name, value in response.headers.items() if name.lower() not in _NOT_STORED
    )
    headers += (("ETag", etag), ("Last-Modified", http_date(int(modified))))
    return CachedPage(body=body, headers=headers, etag=etag, last_modified=modified)


_day: tuple[float, float, str] = (0.0, 0.0, "")  # [start, end) in epoch seconds, and the day's ISO date


def today() -> tuple[str, float]:
    """Today's date in the bank's time zone (ISO) and when it began (epoch seconds), worked out once a day."""
    global _day
    now = time.time()
    start, end, day = _day
    if not start <= now < end:
        zone = ZoneInfo(settings.TIME_ZONE)
        local = datetime.datetime.fromtimestamp(now, zone)
        midnight = datetime.datetime.combine(local.date(), datetime.time(), zone)
        tomorrow = local.date() + datetime.timedelta(days=1)
        following = datetime.datetime.combine(tomorrow, datetime.time(), zone)
        _day = start, end, day = midnight.timestamp(), following.timestamp(), local.date().isoformat()
    return day, start


class PublicPageMiddleware:
    """First in MIDDLEWARE. An answer from a copy gets what RequestMiddleware would give it that matters for
    a page with no log lines: a request id (a well-formed incoming one, else a new one) and a count, per
    page (`portal_public_page_hits_total`); RequestMiddleware's structured-log binding and its latency
    histogram are the price of a render, not of a copy (they were a fifth of a copy's cost)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.pages = PUBLIC_PAGES
        self.hits = {
            page.namespace: PUBLIC_PAGE_HITS.labels(page.namespace) for page in PUBLIC_PAGES.values()
        }

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        page = self.pages.get(request.path_info)
        if page is None:
            return self.get_response(request)
        # The layers below (session timeout, no-store for signed-in customers) leave this page alone: it is
        # the same for everyone, and draws nothing of the visitor's.
        request.public_page = page  # type: ignore[attr-defined]
        if request.method not in ("GET", "HEAD") or (
            settings.SECURE_SSL_REDIRECT and not request.is_secure()
        ):
            return self.get_response(request)  # the view says 405; SecurityMiddleware redirects to https
        key = page.key(request)
        page_store = store()
        if key is None or page_store is None:
            return self.get_response(request)
        request.get_host()  # an unknown Host is refused (400), as CommonMiddleware would
        day, day_started = today()
        key = f"{day}|{key}"
        try:
            version, changed, cached = page_store.get(page.namespace, key)
        except (redis.RedisError, OSError, DatabaseError):
            logger.warning("public page cache: unavailable, rendering the page", exc_info=True)
            return self.get_response(request)
        if cached is not None:
            answer = cached.response(request)
            request_id = request.META.get("HTTP_X_REQUEST_ID", "")
            answer["X-Request-ID"] = request_id if valid_request_id(request_id) else uuid.uuid4().hex
            self.hits[page.namespace].inc()
            return answer
        response = self.get_response(request)
        # A copy is of this day: it was last modified by the last edit, or by midnight if that came later.
        cached = _page_from_response(response, max(changed, day_started))
        if cached is None:
            return response
        try:
            page_store.put(page.namespace, version, key, cached)
        except (redis.RedisError, OSError):
            logger.warning("public page cache: could not keep a page", exc_info=True)
        # The first visitor gets what everyone after gets (its encoding and validators), with any cookie
        # the stack below set for it.
        answer = cached.response(request)
        answer.cookies = response.cookies
        if "X-Request-ID" in response:  # given by RequestMiddleware, below
            answer["X-Request-ID"] = response["X-Request-ID"]
        return answer
