"""The app served by a real gunicorn process, over real HTTP."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.support.servers import Gunicorn, RedisServer


def get(
    server: Gunicorn, path: str, conn: http.client.HTTPConnection | None = None
) -> tuple[int, dict[str, str], bytes]:
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        if own:
            conn.close()


def env_for(redis_server: RedisServer) -> dict[str, str]:
    return {"BACKEND_HOST": "127.0.0.1", "BACKEND_PORT": str(redis_server.port)}


@pytest.fixture(scope="module")
def served(redis_server: RedisServer) -> Iterator[Gunicorn]:
    """One gunicorn for the module's tests on the session's Redis (a start costs a second)."""
    with Gunicorn(env=env_for(redis_server)) as server:
        yield server


def test_concurrent_visits_over_http_count_exactly(
    served: Gunicorn, fresh_redis: RedisServer
) -> None:
    def visit_50(_: int) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
        ok = sum(get(served, "/", conn)[0] == 200 for _ in range(50))
        conn.close()
        return ok

    with ThreadPoolExecutor(16) as pool:
        assert sum(pool.map(visit_50, range(16))) == 800
    status, headers, body = get(served, "/api/visits")
    assert status == 200 and headers["Content-Type"] == "application/json"
    data = json.loads(body)
    assert data["count"] == 800
    assert len(data["recent"]) == 20


def test_page_headers_and_size_over_http(served: Gunicorn) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
    for _ in range(100):
        get(served, "/", conn)
    status, headers, small = get(served, "/", conn)
    for _ in range(900):  # 101 -> 1002 visits: one more digit, no more history
        get(served, "/", conn)
    _, _, large = get(served, "/", conn)
    conn.close()
    assert status == 200
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert len(large) - len(small) <= 1


def test_password_protected_redis_over_http(tmp_path: Path) -> None:
    log = tmp_path / "gunicorn.log"
    with RedisServer(password="pw-123") as redis_server:
        env = env_for(redis_server)
        with Gunicorn(env={**env, "BACKEND_PASSWORD": "pw-123"}, workers=1) as server:
            assert get(server, "/")[0] == 200
        with Gunicorn(env=env, workers=1, log=log) as server:
            status, _, body = get(server, "/")
            assert status == 503 and b"Traceback" not in body
    # The log says what to fix, where, and when; never a password.
    line = next(line for line in log.read_text().splitlines() if "frontend:" in line)
    assert "[ERROR] frontend: backend 127.0.0.1:" in line
    assert f":{redis_server.port} refused authentication: BACKEND_PASSWORD is not set" in line


def test_starts_without_redis_and_stops_gracefully_on_sigterm() -> None:
    with RedisServer() as redis_server:
        port = redis_server.port
    # Nothing listens on that port now: the app must still start.
    server = Gunicorn(env={"BACKEND_HOST": "127.0.0.1", "BACKEND_PORT": str(port)}).start()
    assert get(server, "/healthz")[0] == 200
    assert get(server, "/")[0] == 503
    assert server.stop() == 0


def test_container_health_check_script(served: Gunicorn) -> None:
    import subprocess
    import sys

    from tests.support.servers import FRONTEND, free_port

    def run(port: int) -> int:
        return subprocess.run(
            [sys.executable, "healthcheck.py"],
            cwd=FRONTEND,
            env={"PORT": str(port)},
            capture_output=True,
        ).returncode

    assert run(served.port) == 0
    assert run(free_port()) == 1


def test_bad_setting_stops_gunicorn_with_one_clear_line() -> None:
    import subprocess
    import sys

    from tests.support.servers import FRONTEND, free_port

    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py",
         "--bind", f"127.0.0.1:{free_port()}", "app:create_app()"],
        cwd=FRONTEND, env={"HISTORY_SIZE": "0", "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert result.returncode != 0
    assert "frontend: bad setting: HISTORY_SIZE=0 is outside 1..1000" in result.stderr
    assert "Traceback" not in result.stderr
