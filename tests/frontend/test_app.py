"""The app through Flask's test client against a real redis-server."""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import redis
from flask import Flask

from tests.frontend.conftest import settings_for
from tests.support.servers import RedisServer

from app import create_app
from settings import Settings
from store import RECENT_KEY

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$")


def recent_items(html: str) -> list[str]:
    return re.findall(r'<time datetime="([^"]+)">', html)


def test_each_visit_is_counted_and_shown(app: Flask) -> None:
    client = app.test_client()
    for expected in (1, 2, 3):
        page = client.get("/")
        assert page.status_code == 200
        assert f'<strong id="count">{expected}</strong>' in page.text
    stamps = recent_items(page.text)
    assert len(stamps) == 3
    assert all(ISO_UTC.match(s) for s in stamps), stamps
    assert stamps == sorted(stamps, reverse=True), "newest first"
    newest = datetime.fromisoformat(stamps[0])
    assert newest.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - newest) < timedelta(seconds=30)


def test_history_is_bounded_to_history_size(fresh_redis: RedisServer) -> None:
    client = create_app(settings_for(fresh_redis, history_size=5)).test_client()
    for _ in range(12):
        page = client.get("/")
    assert len(recent_items(page.text)) == 5
    assert '<strong id="count">12</strong>' in page.text
    assert redis.Redis(port=fresh_redis.port).llen(RECENT_KEY) == 5


def test_page_size_stays_flat(app: Flask) -> None:
    client = app.test_client()
    for _ in range(100):
        client.get("/")
    size_at_100 = len(client.get("/").data)
    for _ in range(900):
        client.get("/")
    size_at_1001 = len(client.get("/").data)
    # One more digit in the counter is all that may grow (100 -> 1001 visits,
    # where an unbounded history would have grown by 900 entries).
    assert size_at_1001 - size_at_100 <= 1


def test_default_history_size_is_20() -> None:
    assert Settings.from_env({}).history_size == 20
    assert Settings.from_env({}).backend_host == "backend"
    assert Settings.from_env({}).backend_port == 6379


def test_bad_environment_fails_fast() -> None:
    with pytest.raises(ValueError, match="BACKEND_PORT='x' is not a whole number"):
        Settings.from_env({"BACKEND_PORT": "x"})
    with pytest.raises(ValueError, match="HISTORY_SIZE=0 is outside"):
        Settings.from_env({"HISTORY_SIZE": "0"})


def test_api_returns_json_without_recording(app: Flask) -> None:
    client = app.test_client()
    client.get("/")
    client.get("/")
    first = client.get("/api/visits")
    second = client.get("/api/visits")
    assert first.status_code == 200
    assert first.mimetype == "application/json"
    data, again = first.get_json(), second.get_json()
    assert set(data) == {"count", "recent"}
    assert data["count"] == 2 == again["count"]
    assert len(data["recent"]) == 2
    assert all(ISO_UTC.match(s) for s in data["recent"])


def test_api_on_empty_store(app: Flask) -> None:
    assert app.test_client().get("/api/visits").json == {"count": 0, "recent": []}


def test_security_headers_on_every_response(app: Flask) -> None:
    client = app.test_client()
    for path in ("/", "/api/visits", "/healthz", "/readyz", "/static/style.css"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp, path
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "no-referrer"


def test_page_is_self_contained(app: Flask) -> None:
    page = app.test_client().get("/").text
    # No absolute or protocol-relative URL: nothing is fetched from another host.
    assert "http://" not in page and "https://" not in page
    assert '="//' not in page
    assert "<script" not in page


def test_rendered_values_are_escaped(app: Flask, fresh_redis: RedisServer) -> None:
    redis.Redis(port=fresh_redis.port).lpush(RECENT_KEY, '<script>alert("x")</script>')
    page = app.test_client().get("/").text
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page


def test_concurrent_visits_count_exactly(app: Flask) -> None:
    def visit_50(_: int) -> None:
        client = app.test_client()
        for _ in range(50):
            assert client.get("/").status_code == 200

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(visit_50, range(16)))
    assert app.test_client().get("/api/visits").get_json()["count"] == 16 * 50


def test_health_and_readiness(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200


def test_outage_gives_fast_503_and_heals(own_redis: RedisServer) -> None:
    app = create_app(settings_for(own_redis))
    client = app.test_client()
    assert client.get("/").status_code == 200

    own_redis.stop()
    started = time.monotonic()
    page = client.get("/")
    elapsed = time.monotonic() - started
    assert page.status_code == 503
    assert "Temporarily unavailable" in page.text
    assert "Traceback" not in page.text
    assert elapsed < 1.5
    assert client.get("/api/visits").status_code == 503
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 503

    own_redis.start()  # same port, empty data: a replaced task
    assert client.get("/readyz").status_code == 200
    page = client.get("/")
    assert page.status_code == 200
    assert '<strong id="count">1</strong>' in page.text


def test_unresolvable_host_gives_503() -> None:
    # Cloud Map names can be missing for a moment after a deploy.
    app = create_app(Settings(backend_host="backend.does-not-exist.invalid"))
    client = app.test_client()
    started = time.monotonic()
    assert client.get("/").status_code == 503
    assert time.monotonic() - started < 1.5
    assert client.get("/healthz").status_code == 200


def test_auth_with_password_works_and_without_fails_cleanly(app_log: list[str]) -> None:
    with RedisServer(password="s3cret-pw") as server:
        good = create_app(settings_for(server, backend_password="s3cret-pw")).test_client()
        assert good.get("/").status_code == 200
        assert good.get("/readyz").status_code == 200

        for password, state in ((None, "not set"), ("wrong", "not the one it expects")):
            bad = create_app(settings_for(server, backend_password=password)).test_client()
            app_log.clear()
            page = bad.get("/")
            assert page.status_code == 503
            assert "Temporarily unavailable" in page.text
            assert bad.get("/readyz").status_code == 503
            assert bad.get("/healthz").status_code == 200
            # What to fix and where, never the value.
            assert app_log == [
                f"ERROR backend 127.0.0.1:{server.port} refused authentication: "
                f"BACKEND_PASSWORD is {state}"
            ]
