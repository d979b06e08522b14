"""The Redis cache backend production runs (minyi.core.redis_cache): one client per
connection pool, doing everything the cache is asked for by sessions, rate limits and
the kept values. Against the real Redis on 127.0.0.1:6379 (database 9); without one the
tests skip, except on CI, where a missing Redis is a failure."""

from __future__ import annotations

import os
import socket
import threading

import pytest

from minyi.core.redis_cache import RedisCache

URL = "redis://127.0.0.1:6379/9"
# clear() empties database 9 for every process: parallel test workers (pytest-xdist,
# `--dist loadgroup`) run this file's tests one after another in one worker.
pytestmark = pytest.mark.xdist_group("redis-db-9")


def _redis_answers() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.fixture
def redis_cache():
    if not _redis_answers():
        if os.environ.get("CI"):
            pytest.fail("CI 上 Redis（127.0.0.1:6379）必须可用")
        pytest.skip("本机没有 Redis（127.0.0.1:6379）")
    backend = RedisCache(URL, {"KEY_PREFIX": f"test-{os.getpid()}"})
    yield backend
    backend.clear()


def test_one_client_serves_every_call(redis_cache) -> None:
    inner = redis_cache._cache
    assert inner.get_client() is inner.get_client(write=True) is inner.get_client("k")


def test_it_does_what_the_cache_is_asked(redis_cache) -> None:
    redis_cache.set("a", {"value": "社情民意"}, 30)
    assert redis_cache.get("a") == {"value": "社情民意"}
    assert redis_cache.add("b", 1, None) and not redis_cache.add("b", 2, None)
    assert redis_cache.incr("b") == 2
    assert redis_cache.get_many(["a", "b", "c"]) == {"a": {"value": "社情民意"}, "b": 2}
    redis_cache.delete_many(["a", "b"])
    assert redis_cache.get_many(["a", "b"]) == {}


def test_threads_share_the_client_safely(redis_cache) -> None:
    redis_cache.set("n", 0, None)
    errors: list[BaseException] = []

    def bump() -> None:
        try:
            for _ in range(50):
                redis_cache.incr("n")
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=bump) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and redis_cache.get("n") == 400
