"""The cache, the sessions and the Celery broker live in separate key spaces of Redis (settings, CACHES and
SESSION_CACHE_ALIAS; portal/redis_cache.py): clearing the cache, as an operator does after a bad deploy or
the suite does before every test, deletes the cache's keys only. Django's own clear() is FLUSHDB, which
signed every customer out and dropped the queued work."""

import uuid

import redis
from django.conf import settings
from django.core.cache import cache, caches
from django.urls import reverse

from portal.celery import app
from tests.factories import PASSWORD


def test_it_keeps_sessions_and_queued_work_when_the_cache_is_cleared(client, alice):
    signed_in = client.post(reverse("login"), {"username": "alice@example.com", "password": PASSWORD})
    assert signed_in.status_code == 302
    assert client.get(reverse("dashboard")).status_code == 200
    queue_name = f"test-key-spaces-{uuid.uuid4()}"
    with app.connection_for_write() as broker:
        queue = broker.SimpleQueue(queue_name)
        queue.put({"task": "statement_render", "statement_id": 7})
        cache.set("fragment", "cached")

        assert cache.clear()

        assert cache.get("fragment") is None  # the cache itself is empty
        assert client.get(reverse("dashboard")).status_code == 200  # still signed in
        message = queue.get(timeout=5)  # the queued work is still there
        assert message.payload == {"task": "statement_render", "statement_id": 7}
        message.ack()
        queue.queue.delete()
        queue.close()


def test_it_clears_only_keys_under_its_own_prefix(alice):
    """Another run's keys in the same Redis database (another CACHE_KEY_PREFIX), the session store's and
    the broker's survive; every version of this cache's own keys goes."""
    raw = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])
    foreign = [f"other-run:1:{uuid.uuid4()}", f"{settings.CACHES['default']['KEY_PREFIX']}x:1:{uuid.uuid4()}"]
    for key in foreign:
        raw.set(key, "keep", ex=60)
    caches["sessions"].set("s", "keep")
    cache.set("a", 1)
    cache.set("b", 2, version=7)
    try:
        cache.clear()
        assert cache.get("a") is None
        assert cache.get("b", version=7) is None
        assert caches["sessions"].get("s") == "keep"
        assert all(raw.get(key) == b"keep" for key in foreign)
    finally:
        raw.delete(*foreign)
        caches["sessions"].delete("s")


def test_it_is_not_ready_when_the_session_store_is_unreachable(client, settings):
    """With SESSION_REDIS_URL on a server of its own, /ready/ checks that one too: no sign-in could work."""
    assert client.get(reverse("ready")).json()["cache"] == "ok"
    settings.CACHES = {
        **settings.CACHES,
        "sessions": {**settings.CACHES["sessions"], "LOCATION": "redis://127.0.0.1:1/0"},
    }
    response = client.get(reverse("ready"))
    assert response.status_code == 503
    assert response.json()["cache"] == "error"
