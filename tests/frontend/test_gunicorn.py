"""gunicorn with the shipped config: starting without Redis, stopping, settings and secrets.

The app as served (requests, outages, misbehaving clients) is in test_served.py.
"""

from __future__ import annotations

import http.client
from pathlib import Path

from tests.support.servers import Gunicorn, RedisServer


def get(server: Gunicorn, path: str) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def env_for(redis_server: RedisServer) -> dict[str, str]:
    return {"BACKEND_HOST": "127.0.0.1", "BACKEND_PORT": str(redis_server.port)}


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
