"""Django's Redis cache backend, keeping one redis client per connection pool, and clearing only its own keys.

Django's RedisCacheClient builds a new `redis.Redis` for every cache call. With redis-py 8 that costs
about 0.2 ms of Python (the client rebuilds its response-callback table each time), paid by every
signed-in request at least once (the session). A `redis.Redis` is safe to share over its pool, so one per
pool is enough.

Django's `clear()` is FLUSHDB: it would end every session and drop the Celery broker's queues if they share
the Redis database, and wipe a concurrent test run's keys. Here it deletes only the keys under this cache's
KEY_PREFIX (SCAN and UNLINK in batches).
"""

import secrets
from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class _ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: str | None = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


_GLOB_SPECIAL = str.maketrans({c: f"\\{c}" for c in "*?[]\\"})


class RedisCache(DjangoRedisCache):
    def __init__(self, server: str, params: dict) -> None:
        super().__init__(server, params)
        self._class = _ReusingRedisCacheClient
        self._window_script: dict[int, Any] = {}

    def clear(self) -> bool:
        """Delete every key of this cache (any version) and nothing else. Keys are `prefix:version:key`
        (Django's default KEY_FUNCTION)."""
        pattern = f"{self.key_prefix.translate(_GLOB_SPECIAL)}:*"
        client = self._cache.get_client(None, write=True)  # the primary, as Django's FLUSHDB; replicas follow
        deleted, batch = 0, []
        for key in client.scan_iter(match=pattern, count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                deleted += client.unlink(*batch)
                batch = []
        if batch:
            deleted += client.unlink(*batch)
        return bool(deleted)

    def window_hit(self, key: str, *, now_ms: int, window_ms: int, limit: int) -> int:
        """A sliding-window log for the rate limiter (portal/ratelimit.py), in one round trip (a Lua script,
        EVALSHA): forget the times older than the window, and if fewer than `limit` remain, record this
        one. Returns 0 when allowed, else the milliseconds until the oldest recorded time leaves the window.
        The key is a sorted set of at most `limit` times. Which times count is decided by `now_ms` alone;
        Redis' own expiry (the window plus KEY_GRACE_MS after the newest) only collects the garbage, so a
        clock that differs from Redis' (a host's drift, a test's frozen time) never ends a window early."""
        key = self.make_and_validate_key(key)
        client = self._cache.get_client(key, write=True)
        script = self._window_script.get(id(client))
        if script is None:
            script = self._window_script[id(client)] = client.register_script(_WINDOW_LUA)
        member = f"{now_ms}:{secrets.token_hex(4)}"  # unique, even for two requests in one millisecond
        return int(script(keys=[key], args=[now_ms, window_ms, limit, member, window_ms + KEY_GRACE_MS]))

    def window_count(self, key: str, *, now_ms: int, window_ms: int, add: bool) -> int:
        """The times recorded in the last `window_ms` of a window log (after recording `now_ms` if `add`):
        one round trip, a pipeline."""
        key = self.make_and_validate_key(key)
        pipe = self._cache.get_client(key, write=True).pipeline(transaction=True)
        pipe.zremrangebyscore(key, "-inf", now_ms - window_ms)
        if add:
            pipe.zadd(key, {f"{now_ms}:{secrets.token_hex(4)}": now_ms})
            pipe.pexpire(key, window_ms + KEY_GRACE_MS)
        pipe.zcard(key)
        return int(pipe.execute()[-1])


# How long past its window a window log stays in Redis before Redis drops it (see window_hit).
KEY_GRACE_MS = 60_000

_WINDOW_LUA = """
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[5]))
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now)
"""
