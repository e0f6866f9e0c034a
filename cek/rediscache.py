"""Django's Redis cache backend with one redis-py client per connection pool, made once, instead of a new client
on every cache call.

Django's ``RedisCacheClient.get_client`` builds a ``redis.Redis`` for every ``get``, ``get_many`` or ``set``, and a
``redis.Redis`` copies its table of about 160 response callbacks into a case-insensitive dict as it is made: 0.1 ms
of CPU per call, and a logged-in page makes two to four cache calls (its session, its stored figures). The client
holds nothing but that table and the pool it borrows connections from (each command takes one and gives it back),
so one client per pool serves every call; Django keeps one cache object, hence one client, per thread.
"""

from __future__ import annotations

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class ReusedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, tuple[object, object]] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        made = self._clients.get(id(pool))
        if made is None or made[0] is not pool:
            made = self._clients[id(pool)] = (pool, self._client(connection_pool=pool))
        return made[1]


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient
