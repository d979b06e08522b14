"""Django's Redis cache, with one client object per connection pool instead of one per
call.

Django's RedisCacheClient.get_client() builds a new redis.Redis around the shared pool
for every cache operation, and redis-py's constructor fills a table of some 170 response
callbacks each time: about 0.2 ms of CPU per operation here, and a staff page does three
or more (session, account, unread count, filter choices). A redis.Redis is safe to share
between threads (each command takes a connection from the pool), so one per pool is
kept (issue 8)."""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class _SharedClients(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        # Both are RedisCacheClient's own (private) members, which the stubs leave out.
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(  # type: ignore[attr-defined]
                connection_pool=pool
            )
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _SharedClients
