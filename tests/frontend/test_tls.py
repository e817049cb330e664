"""The frontend against a real redis-server that speaks TLS only, as a managed Valkey does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import redis

from tests.frontend.test_gunicorn import env_for, get
from tests.support.servers import Certificate, Gunicorn, RedisServer

PASSWORD = "pw-tls-123"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return Certificate.make(tmp_path_factory.mktemp("tls"))


def test_visits_go_over_tls_and_the_certificate_is_checked(
    certificate: Certificate, tmp_path: Path
) -> None:
    with RedisServer(password=PASSWORD, tls=certificate) as server:
        env = {**env_for(server), "BACKEND_PASSWORD": PASSWORD, "BACKEND_TLS": "true"}
        # The server's CA trusted as the system's own (ElastiCache's CAs are public).
        with Gunicorn(env={**env, "SSL_CERT_FILE": str(certificate.ca)}, workers=1) as web:
            for _ in range(2):
                assert get(web, "/")[0] == 200
            status, _, body = get(web, "/api/visits")
            assert status == 200 and json.loads(body)["count"] == 2
        # What the app wrote is in this Redis, read over TLS.
        client = redis.Redis(port=server.port, password=PASSWORD, ssl=True,
                             ssl_ca_certs=str(certificate.ca))  # fmt: skip
        assert client.ping()
        # A certificate nobody vouches for is refused: 503, nothing recorded.
        log = tmp_path / "gunicorn.log"
        with Gunicorn(env=env, workers=1, log=log) as web:
            status, _, body = get(web, "/")
            assert status == 503 and b"Traceback" not in body
        assert "certificate verify failed" in log.read_text()
        # Without TLS the app cannot talk to it at all.
        plain = {**env, "BACKEND_TLS": "false"}
        with Gunicorn(env=plain, workers=1) as web:
            assert get(web, "/")[0] == 503


def test_a_certificate_for_another_host_is_refused(tmp_path: Path) -> None:
    """The host name is checked too: a valid certificate of another name is no good."""
    elsewhere = Certificate.make(tmp_path, names="DNS:elsewhere.example")
    log = tmp_path / "gunicorn.log"
    with RedisServer(password=PASSWORD, tls=elsewhere) as server:
        env = {**env_for(server), "BACKEND_PASSWORD": PASSWORD, "BACKEND_TLS": "true",
               "SSL_CERT_FILE": str(elsewhere.ca)}  # fmt: skip
        with Gunicorn(env=env, workers=1, log=log) as web:
            assert get(web, "/")[0] == 503
    assert "IP address mismatch" in log.read_text()


def test_backend_tls_takes_true_or_false_only() -> None:
    import settings

    assert settings.Settings.from_env({"BACKEND_TLS": "TRUE"}).backend_tls is True
    assert settings.Settings.from_env({}).backend_tls is False
    with pytest.raises(ValueError, match="BACKEND_TLS: 'yes' is not true or false"):
        settings.Settings.from_env({"BACKEND_TLS": "yes"})


def test_visits_work_on_a_redis_in_cluster_mode(tmp_path: Path) -> None:
    """ElastiCache Serverless runs in cluster mode: one MULTI/EXEC may touch keys of one
    slot only (CROSSSLOT otherwise). The frontend's keys share one."""
    with RedisServer(password=PASSWORD, cluster=tmp_path) as server:
        env = {**env_for(server), "BACKEND_PASSWORD": PASSWORD}
        with Gunicorn(env=env, workers=1) as web:
            for _ in range(3):
                assert get(web, "/")[0] == 200
            status, _, body = get(web, "/api/visits")
            assert status == 200 and json.loads(body)["count"] == 3
        client = redis.Redis(port=server.port, password=PASSWORD)
        # Two keys of different slots in one transaction: what the old names did.
        pipe = client.pipeline(transaction=True)
        pipe.incr("visits:count")
        pipe.lpush("visits:recent", "x")
        with pytest.raises(redis.ResponseError, match="hash to the same slot"):
            pipe.execute()
