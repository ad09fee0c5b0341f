"""The public pages' whole-page cache (portal/public/page_cache.py) against the real Redis and PostgreSQL."""

import datetime
import gzip
import select
from email.utils import formatdate, parsedate_to_datetime

import brotli
import pytest
import time_machine
from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.db import transaction
from django.test import RequestFactory

from portal.public import page_cache
from portal.public.models import ContentVersion, FaqCategory, FaqEntry
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PAGES = ["/rates/", "/faq/"]


@pytest.fixture(autouse=True)
def _no_recheck(settings) -> None:
    """Versions are re-read only when a change is announced (the periodic re-read is tested on its own)."""
    settings.PUBLIC_PAGE_RECHECK_SECONDS = 3600


def _publish_entry(question: str) -> FaqEntry:
    category, _ = FaqCategory.objects.get_or_create(name="Accounts", slug="accounts")
    return FaqEntry.objects.create(
        category=category,
        question=question,
        slug="q-" + question.lower().replace(" ", "-")[:60],
        answer="An answer.",
        published=True,
    )


@pytest.mark.parametrize("path", PAGES)
def test_it_serves_a_warm_page_without_a_query(client, django_assert_num_queries, path):
    first = client.get(path)
    assert first.status_code == 200

    with django_assert_num_queries(0):
        second = client.get(path)

    assert second.status_code == 200
    assert second.content == first.content
    assert second["ETag"] == first["ETag"]
    assert second["Last-Modified"] == first["Last-Modified"]
    assert second["Cache-Control"] == "public, no-cache"
    assert "HX-Request" in second["Vary"]
    # The headers the whole stack gave the first answer come with the copy.
    for header in ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy"):
        assert second[header] == first[header]
    # ...but the request id is each request's own.
    assert second["X-Request-ID"] != first["X-Request-ID"]


@pytest.mark.parametrize("path", PAGES)
def test_it_answers_a_matching_etag_with_304(client, path):
    page = client.get(path)
    etag = page["ETag"]

    not_modified = client.get(path, HTTP_IF_NONE_MATCH=etag)
    weak = client.get(path, HTTP_IF_NONE_MATCH=f"W/{etag}")
    listed = client.get(path, HTTP_IF_NONE_MATCH=f'"other", {etag}')
    other = client.get(path, HTTP_IF_NONE_MATCH='"not-this-page"')

    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified["ETag"] == etag
    for header in ("Last-Modified", "Cache-Control", "Vary"):
        assert not_modified[header] == page[header]
    assert weak.status_code == listed.status_code == 304
    # If-Match on a GET comes first (RFC 9110 13.2.2): one that fails is a 412, whatever If-None-Match says.
    assert client.get(path, HTTP_IF_NONE_MATCH=etag, HTTP_IF_MATCH='"other"').status_code == 412
    assert other.status_code == 200
    assert other.content


def test_it_answers_if_modified_since_by_the_last_change(client):
    last_modified = client.get("/rates/")["Last-Modified"]
    earlier = formatdate(parsedate_to_datetime(last_modified).timestamp() - 1, usegmt=True)

    assert client.get("/rates/", HTTP_IF_MODIFIED_SINCE=last_modified).status_code == 304
    assert client.get("/rates/", HTTP_IF_MODIFIED_SINCE=earlier).status_code == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2).
    assert (
        client.get("/rates/", HTTP_IF_MODIFIED_SINCE=last_modified, HTTP_IF_NONE_MATCH='"x"').status_code
        == 200
    )


def test_it_answers_the_first_request_with_the_validators_too(client):
    """The request that renders the page (a miss) gets the same ETag as the copies after it."""
    first = client.get("/faq/")

    assert first["ETag"] == client.get("/faq/")["ETag"]
    assert client.get("/faq/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


def test_an_edit_shows_on_the_next_request(client, django_capture_on_commit_callbacks):
    before = client.get("/faq/")
    assert b"Can I open a joint account?" not in before.content

    with django_capture_on_commit_callbacks(execute=True):
        _publish_entry("Can I open a joint account?")
    after = client.get("/faq/")

    assert b"Can I open a joint account?" in after.content
    assert after["ETag"] != before["ETag"]
    assert client.get("/faq/", HTTP_IF_NONE_MATCH=before["ETag"]).status_code == 200


def test_an_edit_moves_only_its_own_pages_version(django_capture_on_commit_callbacks):
    versions = dict(ContentVersion.objects.values_list("namespace", "version"))

    with django_capture_on_commit_callbacks(execute=True):
        _publish_entry("What is IFSC?")

    after = dict(ContentVersion.objects.values_list("namespace", "version"))
    assert after == {"faq": versions["faq"] + 2, "rates": versions["rates"]}  # the category and the entry


def test_an_edit_that_rolls_back_moves_nothing(client, django_assert_num_queries):
    client.get("/faq/")
    versions = dict(ContentVersion.objects.values_list("namespace", "version"))

    with pytest.raises(RuntimeError), transaction.atomic():
        _publish_entry("Rolled back question")
        raise RuntimeError("the edit fails after the save")

    assert dict(ContentVersion.objects.values_list("namespace", "version")) == versions
    with django_assert_num_queries(0):
        assert b"Rolled back question" not in client.get("/faq/").content


@pytest.mark.django_db(transaction=True)
def test_another_worker_drops_its_copy_when_the_change_is_announced(settings):
    """Two stores, as two gunicorn workers: the one that saved announces; the other, whose copy is in its
    memory and whose last read of the versions is recent, drops the copy on its next look."""
    worker = page_cache.PageStore(settings.REDIS_URL, settings.CACHES["default"]["KEY_PREFIX"])
    version, changed, _ = worker.get("faq", "k")
    worker.put("faq", version, "k", page_cache.CachedPage(b"old", (), '"old"', changed))
    assert worker.get("faq", "k")[2].body == b"old"

    _publish_entry("Announced question")  # committed at once (transactional test), then announced
    # The announcement travels over a socket: wait until it is there to read (never a timed sleep), without
    # reading it (that is the worker's job).
    readable, _, _ = select.select([worker._pubsub.connection._sock], [], [], 10)
    assert readable

    new_version, _, copy = worker.get("faq", "k")
    assert copy is None
    assert new_version > version
    worker._close_pubsub()


@pytest.mark.django_db(transaction=True)
def test_a_dropped_subscription_makes_the_worker_read_the_versions_again(settings):
    """redis-py reconnects a subscription by itself; what was announced meanwhile is lost, so the worker
    must not trust its copies until Redis confirms the new subscription."""
    worker = page_cache.PageStore(settings.REDIS_URL, settings.CACHES["default"]["KEY_PREFIX"])
    version, changed, _ = worker.get("faq", "k")
    worker.put("faq", version, "k", page_cache.CachedPage(b"old", (), '"old"', changed))
    worker._pubsub.connection.disconnect()  # the connection drops

    # A change whose announcement this worker cannot hear: the version moves in the database only.
    ContentVersion.objects.filter(namespace="faq").update(version=version + 10)

    new_version, _, copy = worker.get("faq", "k")
    assert (new_version, copy) == (version + 10, None)
    worker._close_pubsub()


def test_it_re_reads_the_versions_after_the_recheck_interval(settings, django_assert_num_queries):
    """Even with no announcement at all (a lost message), a change is seen within the interval."""
    settings.PUBLIC_PAGE_RECHECK_SECONDS = 0
    worker = page_cache.PageStore(settings.REDIS_URL, settings.CACHES["default"]["KEY_PREFIX"])
    version, changed, _ = worker.get("faq", "k")
    worker.put("faq", version, "k", page_cache.CachedPage(b"old", (), '"old"', changed))
    ContentVersion.objects.filter(namespace="faq").update(version=version + 1)

    with django_assert_num_queries(1):
        assert worker.get("faq", "k")[2] is None
    worker._close_pubsub()


def test_it_renders_every_request_when_redis_is_down(client, settings, monkeypatch):
    """Nothing listens on port 1: every Redis call fails at once. The page is still served, fresh."""
    dead = page_cache.PageStore("redis://127.0.0.1:1/0", "dead")
    monkeypatch.setattr(page_cache, "_store", dead)

    first = client.get("/faq/")
    _publish_entry("Asked while Redis was down")  # no announcement can be made; the page is rendered
    second = client.get("/faq/")

    assert first.status_code == second.status_code == 200
    assert b"Asked while Redis was down" in second.content


def test_a_signed_in_customer_gets_the_same_public_copy(client, django_assert_num_queries):
    anonymous = client.get("/rates/")
    client.force_login(UserFactory(email="alice@example.com"))

    with django_assert_num_queries(0):
        signed_in = client.get("/rates/")

    assert signed_in.content == anonymous.content
    assert signed_in["Cache-Control"] == "public, no-cache"
    assert b"Sign out" not in signed_in.content
    assert not signed_in.cookies


def test_a_signed_in_first_visitor_leaves_nothing_of_theirs_in_the_copy(client):
    """The first visitor (whose request renders the copy) is signed in and has a message waiting: neither
    their name nor the message reaches the page everyone else is then given, and the message stays for
    their next page."""
    client.force_login(UserFactory(email="alice@example.com", full_name="Alice Iyer"))
    storage = CookieStorage(RequestFactory().get("/"))
    client.cookies["messages"] = storage._encode([Message(constants.INFO, "Your transfer was sent")])

    page = client.get("/faq/")

    assert page.status_code == 200
    assert b"Your transfer was sent" not in page.content
    assert b"Alice" not in page.content
    assert page["Cache-Control"] == "public, no-cache"
    assert "Cookie" not in page["Vary"]
    assert "messages" not in page.cookies  # not consumed


def test_it_never_serves_a_copy_over_plain_http_when_https_is_required(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    client.get("/rates/", secure=True)

    response = client.get("/rates/")

    assert response.status_code == 301
    assert response["Location"].startswith("https://")


def test_it_refuses_an_unknown_host_even_for_a_copy(client):
    client.get("/rates/")

    assert client.get("/rates/", HTTP_HOST="evil.example").status_code == 400


def test_it_leaves_other_methods_to_the_view(client):
    client.get("/rates/")

    assert client.post("/rates/").status_code == 405


def test_head_gets_the_headers_of_the_copy(client):
    page = client.get("/rates/")

    head = client.head("/rates/")

    assert head.status_code == 200
    assert head["ETag"] == page["ETag"]
    assert head.content == b""


@pytest.mark.parametrize(
    "query", ["?as_of=2026-13-01", "?as_of=1&as_of=2", "?utm_source=x", "?as_of=2026-1-1"], ids=repr
)
def test_it_keeps_no_copy_of_an_unexpected_query(client, query):
    client.get(f"/rates/{query}")

    # Rendered again each time: a copy per arbitrary query would let anyone fill the memory.
    assert page_cache.store()._memory == {}


def test_a_copy_is_of_its_day_only(client):
    """At midnight (IST) a rate line's effective day may come with no edit: yesterday's copy is not used,
    and Last-Modified is no earlier than the day's start."""
    with time_machine.travel(datetime.datetime(2026, 12, 6, 18, 29, tzinfo=datetime.UTC), tick=False):
        client.get("/rates/")
        keys_before = {key for (_ns, _v, key) in page_cache.store()._memory}
    with time_machine.travel(datetime.datetime(2026, 12, 6, 18, 31, tzinfo=datetime.UTC), tick=False):
        # 23:59, then 00:01 on 7 December in India: a new day there.
        response = client.get("/rates/")
        keys_after = {key for (_ns, _v, key) in page_cache.store()._memory}

    assert keys_before and keys_after - keys_before
    assert all(key.startswith("2026-12-07|") for key in keys_after - keys_before)
    midnight_ist = datetime.datetime(2026, 12, 6, 18, 30, tzinfo=datetime.UTC)
    assert parsedate_to_datetime(response["Last-Modified"]) >= midnight_ist


def test_a_copy_served_is_counted_under_its_page_name(client):
    from prometheus_client import REGISTRY

    def served() -> float:
        return REGISTRY.get_sample_value("portal_public_page_hits_total", {"page": "faq"}) or 0.0

    client.get("/faq/")  # rendered by the view: timed by RequestMiddleware, not a hit
    before = served()
    client.get("/faq/")
    client.get("/faq/", HTTP_IF_NONE_MATCH='"x"')

    assert served() == before + 2


def test_a_copy_served_echoes_a_well_formed_request_id(client):
    client.get("/faq/")

    echoed = client.get("/faq/", HTTP_X_REQUEST_ID="lb-7f3a.9_Z")
    forged = client.get("/faq/", HTTP_X_REQUEST_ID="bad id with spaces")

    assert echoed["X-Request-ID"] == "lb-7f3a.9_Z"
    assert forged["X-Request-ID"] != "bad id with spaces"
    assert len(forged["X-Request-ID"]) == 32


@pytest.mark.parametrize("path", PAGES)
def test_htmx_and_full_page_requests_each_get_their_own_copy(client, path, django_assert_num_queries):
    """The same URL answers HTMX with the swappable part and a browser with the page: a copy of one is
    never served for the other, whichever came first; a history restore gets the page."""
    part = client.get(path, HTTP_HX_REQUEST="true")
    page = client.get(path)

    with django_assert_num_queries(0):
        part_again = client.get(path, HTTP_HX_REQUEST="true")
        page_again = client.get(path)
        restore = client.get(path, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")

    assert b"<html" in page.content and b"<html" not in part.content
    assert part_again.content == part.content
    assert page_again.content == restore.content == page.content
    assert part["ETag"] != page["ETag"]
    assert part["Vary"] == page["Vary"] == "HX-Request, Accept-Encoding"


@pytest.mark.parametrize("as_of", ["2099-01-01", "2026-12-07", "2000-01-01", "9999-12-31"])
def test_it_keeps_no_copy_of_a_day_the_sheet_refuses(client, as_of):
    """A well-formed date the sheet refuses (future, before its history) gets a message and today's sheet,
    rendered each time: a copy per such date would let anyone fill Redis (which also holds the sessions)
    with millions of copies a day."""
    from tests.public.rates_data import line

    line(effective=datetime.date(2025, 12, 1))
    with time_machine.travel(datetime.datetime(2026, 12, 6, 6, 0, tzinfo=datetime.UTC), tick=False):
        refused = client.get("/rates/", {"as_of": as_of})
        kept = client.get("/rates/", {"as_of": "2026-01-01"})

    assert refused.status_code == kept.status_code == 200
    assert b'role="alert"' in refused.content and b'role="alert"' not in kept.content
    assert "no-store" in refused["Cache-Control"]
    page_store = page_cache.store()
    assert [key for (_ns, _v, key) in page_store._memory] == ["2026-12-06|page|as_of=2026-01-01"]
    assert page_store.redis.keys(f"{page_store.prefix}:public:page:*{as_of}*") == []


@pytest.mark.parametrize("path", PAGES)
def test_it_never_gives_one_form_of_a_page_for_another(client, path):
    """The HTMX part and the whole page are separate copies; a history restore (HX-Request too) is given the
    whole page, and a browser's ETag of one form never gets a 304 for the other."""
    htmx = {"HTTP_HX_REQUEST": "true"}
    restore = {**htmx, "HTTP_HX_HISTORY_RESTORE_REQUEST": "true"}
    part = client.get(path, **htmx)
    page = client.get(path)

    assert b"<html" not in part.content and b"<html" in page.content
    assert client.get(path, **htmx).content == part.content
    assert client.get(path, **restore).content == page.content
    assert client.get(path).content == page.content
    assert client.get(path, HTTP_IF_NONE_MATCH=part["ETag"]).status_code == 200
    assert client.get(path, HTTP_IF_NONE_MATCH=page["ETag"], **htmx).status_code == 200


def test_a_copy_made_by_another_release_is_not_served(settings):
    """A copy holds the names of the static files of the release that drew it (hashed: the next release may
    not have them) and its templates: a new release draws its pages again, even with no edit."""
    settings.PUBLIC_PAGE_RELEASE = "release-1"
    old = page_cache.PageStore(settings.REDIS_URL, settings.CACHES["default"]["KEY_PREFIX"])
    version, changed, _ = old.get("faq", "k")
    old.put("faq", version, "k", page_cache.CachedPage(b"old release", (), '"old"', changed))

    settings.PUBLIC_PAGE_RELEASE = "release-2"
    new = page_cache.PageStore(settings.REDIS_URL, settings.CACHES["default"]["KEY_PREFIX"])

    assert new.get("faq", "k") == (version, changed, None)
    assert old.get("faq", "k")[2].body == b"old release"
    old._close_pubsub()
    new._close_pubsub()


def test_the_release_changes_with_the_files_that_draw_the_pages(settings, tmp_path):
    settings.PUBLIC_PAGE_RELEASE = ""
    template = tmp_path / "page.html"
    template.write_text("<p>{{ rate }}</p>")
    first = page_cache.release_digest(paths=[template])

    template.write_text("<p>{{ rate }} p.a.</p>")

    assert page_cache.release_digest(paths=[template]) != first
    assert len(page_cache.release()) == 16  # this checkout's own
    settings.PUBLIC_PAGE_RELEASE = "abc123"
    assert page_cache.release() == "abc123"


@pytest.mark.parametrize(
    ("accept", "coding"),
    [
        ("gzip, deflate, br, zstd", "br"),  # what Chromium sends
        ("gzip, deflate", "gzip"),
        ("br;q=0, gzip", "gzip"),
        ("*", "br"),
        ("br;q=0, gzip;q=0", None),
        ("", None),
        ("identity", None),
        ("br;q=nonsense, gzip", "gzip"),
    ],
)
def test_it_sends_the_copy_compressed_as_the_browser_accepts(client, accept, coding):
    plain = client.get("/faq/")
    assert plain.get("Content-Encoding") is None

    response = client.get("/faq/", HTTP_ACCEPT_ENCODING=accept)

    assert response.get("Content-Encoding") == coding
    assert int(response["Content-Length"]) == len(response.content)
    body = {"br": brotli.decompress, "gzip": gzip.decompress, None: bytes}[coding](response.content)
    assert body == plain.content
    assert "Accept-Encoding" in response["Vary"]
    # A strong ETag is of one representation: each coding has its own, and its own 304.
    assert (response["ETag"] == plain["ETag"]) is (coding is None)
    revalidated = client.get("/faq/", HTTP_ACCEPT_ENCODING=accept, HTTP_IF_NONE_MATCH=response["ETag"])
    assert revalidated.status_code == 304
    assert revalidated["ETag"] == response["ETag"]


def test_the_first_visitor_gets_the_same_compressed_answer_as_the_next(client):
    first = client.get("/rates/", HTTP_ACCEPT_ENCODING="gzip, br")
    second = client.get("/rates/", HTTP_ACCEPT_ENCODING="gzip, br")

    assert first["Content-Encoding"] == second["Content-Encoding"] == "br"
    assert first["ETag"] == second["ETag"]
    assert first.content == second.content


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "write",
    [
        lambda: FaqEntry.objects.update(question="Rewritten by a bulk update"),
        lambda: FaqEntry.objects.bulk_create(
            [
                FaqEntry(
                    category=FaqCategory.objects.get(),
                    question="Made in bulk",
                    slug="bulk",
                    answer="A.",
                    published=True,
                )
            ]
        ),
        lambda: FaqEntry.objects.filter(question="Before").delete(),
    ],
    ids=["update", "bulk_create", "queryset delete"],
)
def test_a_write_that_sends_no_signal_still_moves_the_version(client, settings, write):
    """PostgreSQL's statement trigger (public/0003) moves the version for any write; the workers see it at
    their next re-read of the versions (here at once: no interval)."""
    settings.PUBLIC_PAGE_RECHECK_SECONDS = 0
    _publish_entry("Before")
    first = client.get("/faq/")
    version = ContentVersion.objects.get(namespace="faq").version

    write()

    assert ContentVersion.objects.get(namespace="faq").version > version
    assert client.get("/faq/").content != first.content


@pytest.mark.django_db(transaction=True)
def test_a_write_that_rolls_back_leaves_the_version(settings):
    page_cache.content_versions()  # the rows, if an earlier transactional test's flush took them
    version = ContentVersion.objects.get(namespace="faq").version

    with pytest.raises(RuntimeError), transaction.atomic():
        FaqCategory.objects.create(name="Loans", slug="loans")
        raise RuntimeError("the edit fails after the write")

    assert ContentVersion.objects.get(namespace="faq").version == version
