"""The frontend against a real redis-server as a managed Valkey is: TLS only, cluster mode."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import redis

from tests.frontend.test_gunicorn import env_for, get
from tests.support.servers import Certificate, Gunicorn, RedisServer

PASSWORD = "pw-tls-123"


def test_visits_go_over_tls_to_a_cluster_and_the_certificate_is_checked(tmp_path: Path) -> None:
    """ElastiCache Serverless takes TLS only and runs in cluster mode, where one
    MULTI/EXEC may touch keys of one hash slot only; the frontend's keys share one."""
    certificate = Certificate.make(tmp_path)
    with RedisServer(password=PASSWORD, tls=certificate, cluster=tmp_path) as server:
        env = {**env_for(server), "BACKEND_PASSWORD": PASSWORD, "BACKEND_TLS": "true"}
        # The server's CA trusted as the system's own (ElastiCache's CAs are public).
        with Gunicorn(env={**env, "SSL_CERT_FILE": str(certificate.ca)}, workers=1) as web:
            for _ in range(2):
                assert get(web, "/")[0] == 200
            status, _, body = get(web, "/api/visits")
            assert status == 200 and json.loads(body)["count"] == 2
        client = redis.Redis(port=server.port, password=PASSWORD, ssl=True,
                             ssl_ca_certs=str(certificate.ca))  # fmt: skip
        # Two keys of different slots in one transaction (the old names) are refused.
        pipe = client.pipeline(transaction=True)
        pipe.incr("visits:count")
        pipe.lpush("visits:recent", "x")
        with pytest.raises(redis.ResponseError, match="hash to the same slot"):
            pipe.execute()
        # A certificate nobody vouches for is refused: 503, nothing recorded.
        log = tmp_path / "gunicorn.log"
        with Gunicorn(env=env, workers=1, log=log) as web:
            status, _, body = get(web, "/")
            assert status == 503 and b"Traceback" not in body
        assert "certificate verify failed" in log.read_text()


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
