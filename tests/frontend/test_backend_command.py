"""The backend's command and health check from config/base.yaml, run for real.

ECS runs them inside the Redis image; here they run through the same
``/bin/sh`` against the machine's redis-server, with two local substitutions:
the data dir (the task's /data volume) becomes a tmp dir, and the port is
passed explicitly so the test does not need 6379.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest
import redis
import yaml
from redis.backoff import NoBackoff
from redis.retry import Retry

from tests.support.servers import ROOT, free_port, wait_until

PASSWORD = "generated-like-secrets-manager-0123456789"


def backend() -> dict[str, object]:
    services = yaml.safe_load((ROOT / "config" / "base.yaml").read_text())["services"]
    return dict(services["backend"])


@pytest.fixture
def redis_from_config(tmp_path: Path):  # type: ignore[no-untyped-def]
    config = backend()
    command = list(config["command"])  # type: ignore[call-overload]
    assert command[:2] == ["sh", "-c"] and "/data" in command[2]
    port = free_port()
    script = command[2].replace("/data", str(tmp_path)) + f" --port {port} --bind 127.0.0.1"
    env = {"PATH": os.environ["PATH"], "BACKEND_PASSWORD": PASSWORD}
    process = subprocess.Popen(
        ["sh", "-c", script], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    client = redis.Redis(host="127.0.0.1", port=port, password=PASSWORD, socket_timeout=1)

    def up() -> bool:
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False

    try:
        wait_until(up, 10, "redis-server from the configured command")
        yield config, port, process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)


def test_redis_requires_the_password_from_the_secret(redis_from_config) -> None:  # type: ignore[no-untyped-def]
    _, port, _ = redis_from_config
    # No retries: redis-py retries a refused AUTH with backoff by default (seconds).
    once = {"host": "127.0.0.1", "port": port, "socket_timeout": 1, "retry": Retry(NoBackoff(), 0)}
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(**once).ping()
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(password="wrong", **once).ping()
    assert redis.Redis(host="127.0.0.1", port=port, password=PASSWORD).ping()


def test_exec_makes_redis_the_process_that_gets_sigterm(redis_from_config) -> None:  # type: ignore[no-untyped-def]
    _, _, process = redis_from_config
    comm = Path(f"/proc/{process.pid}/comm").read_text().strip()
    assert comm == "redis-server"  # not sh: ECS's SIGTERM reaches Redis itself
    # The password is not left readable in the process title.
    cmdline = Path(f"/proc/{process.pid}/cmdline").read_bytes()
    assert PASSWORD.encode() not in cmdline


def health(check: str, port: int, password: str) -> int:
    script = check.replace("redis-cli", f"redis-cli -p {port}")
    env = {"PATH": os.environ["PATH"], "BACKEND_PASSWORD": password}
    return subprocess.run(["sh", "-c", script], env=env, timeout=10).returncode


def test_health_check_passes_with_the_password_only(redis_from_config) -> None:  # type: ignore[no-untyped-def]
    config, port, _ = redis_from_config
    check = config["health_check"]["command"]
    assert isinstance(check, str)
    assert health(check, port, PASSWORD) == 0
    assert health(check, port, "wrong") != 0
    assert health(check, free_port(), PASSWORD) != 0  # nothing listening
