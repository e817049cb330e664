"""The app as its container serves it, also to clients and with a backend that misbehave.

gunicorn runs with frontend/gunicorn.conf.py (the container's settings) against
a real redis-server; every request is real HTTP. One Redis and one gunicorn
serve the whole module, since each start costs about a second; a test that
stops or pauses Redis brings it back before it returns.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from tests.support.servers import (
    FRONTEND,
    Gunicorn,
    RedisServer,
    SlowClients,
    free_port,
    timed_get,
    wait_until,
)

ALLOWED = "app.example.com"
REPEAT = 0.2  # LOG_REPEAT_INTERVAL: short, so a summary line comes soon
# "[2026-11-26 23:45:24 +0000] [12883] [WARNING] frontend: ..."
LOG_LINE = re.compile(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}\] \[\d+\] \[(\w+)\] frontend: ")


@dataclass
class Served:
    """The module's Redis and gunicorn, gunicorn's log file, and a second listener."""

    redis: RedisServer
    server: Gunicorn
    log: Path
    # The same app on 127.0.0.2: an address of the server's own that is not
    # a loopback name, as a task's IP is to the load balancer's health check.
    other_port: int

    @property
    def port(self) -> int:
        return self.server.port

    def log_from(self, offset: int) -> list[str]:
        """The app's log lines written after ``offset`` bytes."""
        with self.log.open("rb") as file:
            file.seek(offset)
            lines = file.read().decode().splitlines()
        return [line for line in lines if "frontend: " in line]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    log = tmp_path_factory.mktemp("served") / "gunicorn.log"
    other_port = free_port()
    with RedisServer() as redis_server:
        env = {
            "BACKEND_HOST": "127.0.0.1",
            "BACKEND_PORT": str(redis_server.port),
            "ALLOWED_HOSTS": ALLOWED,
            "LOG_REPEAT_INTERVAL": str(REPEAT),
        }
        extra = ("--bind", f"127.0.0.2:{other_port}")
        with Gunicorn(env=env, log=log, extra_args=extra) as server:
            yield Served(redis_server, server, log, other_port)


def call(
    port: int,
    path: str,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    address: str = "127.0.0.1",
) -> tuple[int, http.client.HTTPMessage, bytes]:
    conn = http.client.HTTPConnection(address, port, timeout=5)
    try:
        conn.request(method, path, headers=dict(headers or {}))
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def raw_status(port: int, request: bytes) -> int:
    """The status of a hand-written request (http.client always adds a Host)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)
        return int(sock.recv(4096).split(b" ", 2)[1])


def visits(port: int) -> int:
    status, _, body = call(port, "/api/visits")
    assert status == 200, body
    return int(json.loads(body)["count"])


def test_head_is_not_a_visit(served: Served) -> None:
    redis.Redis(port=served.redis.port).flushall()
    for _ in range(2):
        status, _, body = call(served.port, "/", method="HEAD")
        assert status == 200 and body == b""
    assert visits(served.port) == 0
    assert call(served.port, "/")[0] == 200
    assert visits(served.port) == 1


def test_api_errors_are_json_and_live_values_are_not_cached(served: Served) -> None:
    for path in ("/api/visits", "/readyz", "/"):
        status, headers, _ = call(served.port, path)
        assert status == 200 and headers["Cache-Control"] == "no-store", path
    status, headers, body = call(served.port, "/api/nothing-here")
    assert (status, headers["Content-Type"]) == (404, "application/json")
    assert json.loads(body) == {"error": "Not Found"}


def test_an_outage_gives_quick_503s_json_for_the_api_and_heals(served: Served) -> None:
    assert call(served.port, "/")[0] == 200
    served.redis.stop()
    try:
        started = time.monotonic()
        status, _, body = call(served.port, "/")
        assert status == 503 and time.monotonic() - started < 1.5
        assert b"Temporarily unavailable" in body and b"Traceback" not in body
        status, headers, body = call(served.port, "/api/visits")
        assert (status, headers["Content-Type"]) == (503, "application/json")
        assert json.loads(body) == {"error": "backend unavailable"}
        assert headers["Retry-After"] == "5" and headers["Cache-Control"] == "no-store"
        assert call(served.port, "/healthz")[0] == 200
        assert call(served.port, "/readyz")[0] == 503
    finally:
        served.redis.start()  # same port, empty data: a replaced task
    assert call(served.port, "/readyz")[0] == 200
    assert call(served.port, "/")[0] == 200


def test_only_the_deployments_hosts_are_answered(served: Served) -> None:
    # Before: "Location: http://evil.example/static/x", a forged Host echoed.
    status, headers, _ = call(served.port, "/static//x", headers={"Host": "evil.example"})
    assert status == 400 and "Location" not in headers
    status, headers, body = call(served.port, "/api/visits", headers={"Host": "evil.example"})
    assert status == 400 and headers["Content-Type"] == "application/json", body

    status, headers, _ = call(served.port, "/static//x", headers={"Host": "App.Example.com"})
    assert status == 308 and headers["Location"] == "http://app.example.com/static/x"
    for host in ("localhost", f"127.0.0.1:{served.port}", f"[::1]:{served.port}"):
        assert call(served.port, "/healthz", headers={"Host": host})[0] == 200, host

    # A load balancer's target health check names the task's own address.
    own = f"127.0.0.2:{served.other_port}"
    assert call(served.other_port, "/healthz", headers={"Host": own}, address="127.0.0.2")[0] == 200
    assert call(served.port, "/healthz", headers={"Host": own})[0] == 400

    assert raw_status(served.port, b"GET /healthz HTTP/1.1\r\n\r\n") == 400
    assert raw_status(served.port, b"GET /healthz HTTP/1.0\r\n\r\n") == 200
    assert any("refused Host 'evil.example'" in line for line in served.log_from(0))


def test_200_slow_clients_do_not_hold_up_a_normal_request(served: Served) -> None:
    with SlowClients(served.port, 100), SlowClients(served.port, 100, trickle=False):
        time.sleep(0.2)  # the trickling ones are mid-header now
        for path in ("/", "/healthz"):
            status, elapsed = timed_get(served.port, path, timeout=3)
            assert status == 200 and elapsed < 1.0, (path, status, elapsed)


def test_hung_backend_gives_503_fast_and_liveness_does_not_wait(served: Served) -> None:
    assert call(served.port, "/")[0] == 200  # pooled connections exist, as in production
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


def test_a_repeating_failure_is_logged_once_per_interval(served: Served) -> None:
    time.sleep(REPEAT)  # failures of the tests before are out of the interval
    offset = served.log.stat().st_size
    served.redis.stop()
    try:
        # One connection, so one worker answers them all.
        conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=5)
        started = time.monotonic()
        for _ in range(30):
            conn.request("GET", "/")
            conn.getresponse().read()
        elapsed = time.monotonic() - started
        time.sleep(REPEAT)
        conn.request("GET", "/")
        conn.getresponse().read()
        conn.close()
    finally:
        served.redis.start()
    lines = [line for line in served.log_from(offset) if "unavailable" in line]
    assert all(LOG_LINE.match(line)[1] == "WARNING" for line in lines), lines  # type: ignore[index]
    assert f"backend 127.0.0.1:{served.redis.port} unavailable" in lines[0]
    # Before: 31 lines, with neither time nor level.
    assert 2 <= len(lines) <= elapsed / REPEAT + 2, lines
    assert re.search(r"\((\d+) more like this in the last [\d.]+ s\)$", lines[-1]), lines


def test_concurrent_visits_over_http_count_exactly(served: Served) -> None:
    redis.Redis(port=served.redis.port).flushall()

    def visit_50(_: int) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
        ok = 0
        for _ in range(50):
            conn.request("GET", "/")
            response = conn.getresponse()
            response.read()
            ok += response.status == 200
        conn.close()
        return ok

    with ThreadPoolExecutor(16) as pool:
        assert sum(pool.map(visit_50, range(16))) == 800
    status, headers, body = call(served.port, "/api/visits")
    assert status == 200 and headers["Content-Type"] == "application/json"
    data = json.loads(body)
    assert data["count"] == 800
    assert len(data["recent"]) == 20


def test_page_headers_and_size_over_http(served: Served) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)

    def page() -> tuple[int, http.client.HTTPMessage, bytes]:
        conn.request("GET", "/")
        response = conn.getresponse()
        return response.status, response.headers, response.read()

    for _ in range(100):
        page()
    status, headers, small = page()
    for _ in range(900):  # 1000 more visits: one more digit at most, no more history
        page()
    _, _, large = page()
    conn.close()
    assert status == 200
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert len(large) - len(small) <= 1


def test_container_health_check_script(served: Served) -> None:
    def run(port: int) -> int:
        return subprocess.run(
            [sys.executable, "healthcheck.py"], cwd=FRONTEND, env={"PORT": str(port)},
            capture_output=True,
        ).returncode  # fmt: skip

    assert run(served.port) == 0
    assert run(free_port()) == 1
