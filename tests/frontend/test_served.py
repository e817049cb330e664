"""The app as its container serves it, under clients and a backend that misbehave.

gunicorn runs with frontend/gunicorn.conf.py (the container's settings) against
a real redis-server; every request is real HTTP. One Redis and one gunicorn
serve the whole module, since each start costs about a second; a test that
stops or pauses Redis brings it back before it returns.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest

from tests.support.servers import (
    Gunicorn,
    RedisServer,
    SlowClients,
    timed_get,
    wait_until,
)


@dataclass
class Served:
    """The module's Redis and gunicorn."""

    redis: RedisServer
    server: Gunicorn

    @property
    def port(self) -> int:
        return self.server.port


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    with RedisServer() as redis_server:
        env = {"BACKEND_HOST": "127.0.0.1", "BACKEND_PORT": str(redis_server.port)}
        with Gunicorn(env=env) as server:
            yield Served(redis_server, server)


def test_200_slow_clients_do_not_hold_up_a_normal_request(served: Served) -> None:
    with SlowClients(served.port, 100), SlowClients(served.port, 100, trickle=False):
        time.sleep(0.2)  # the trickling ones are mid-header now
        for path in ("/", "/healthz"):
            status, elapsed = timed_get(served.port, path, timeout=3)
            assert status == 200 and elapsed < 1.0, (path, status, elapsed)


def test_hung_backend_gives_503_fast_and_liveness_does_not_wait(served: Served) -> None:
    assert timed_get(served.port, "/")[0] == 200  # pooled connections exist, as in production
    served.redis.pause()
    try:
        with ThreadPoolExecutor(17) as pool:
            pages = [pool.submit(timed_get, served.port, "/", 5) for _ in range(16)]
            time.sleep(0.1)  # liveness is asked while those wait on Redis
            liveness = timed_get(served.port, "/healthz", 5)
            results = [page.result() for page in pages]
    finally:
        served.redis.resume()
    assert {status for status, _ in results} == {503}
    assert max(elapsed for _, elapsed in results) < 1.5, results
    assert liveness[0] == 200 and liveness[1] < 0.5, liveness
    wait_until(lambda: timed_get(served.port, "/", 2)[0] == 200, 5, "recovery after SIGCONT")
