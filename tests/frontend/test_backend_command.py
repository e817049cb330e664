"""The backend's command and health check from config/base.yaml, run for real.

ECS runs them inside the Redis image with the task's variables, among them
``PORT`` (the service's own port) and ``BACKEND_PASSWORD``. Here they run
through the same ``/bin/sh`` against the machine's redis-server with those
variables set, and two local substitutions: the data dir (the task's /data
volume) becomes a tmp dir, and ``--bind 127.0.0.1`` keeps the test's Redis
off the machine's other interfaces.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
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


@dataclass
class Backend:
    """The configured Redis, running: its config entry, its port and its process."""

    config: dict[str, object]
    port: int
    process: subprocess.Popen[bytes]

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, password=PASSWORD)


def task_env(port: int, password: str = PASSWORD) -> dict[str, str]:
    """The variables the task gives the container that the command and check read."""
    return {"PATH": os.environ["PATH"], "PORT": str(port), "BACKEND_PASSWORD": password}


@pytest.fixture(scope="module")
def redis_from_config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    config = backend()
    command = list(config["command"])  # type: ignore[call-overload]
    assert command[:2] == ["sh", "-c"] and "/data" in command[2]
    data = tmp_path_factory.mktemp("data")
    script = command[2].replace("/data", str(data)) + " --bind 127.0.0.1"
    port = free_port()
    process = subprocess.Popen(
        ["sh", "-c", script], env=task_env(port), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    running = Backend(config, port, process)

    def up() -> bool:
        try:
            return bool(running.client().ping())
        except redis.RedisError:
            return False

    try:
        wait_until(up, 10, "redis-server from the configured command on $PORT")
        yield running
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)


def test_redis_listens_on_the_port_the_task_gives_it(redis_from_config: Backend) -> None:
    # The fixture found it on $PORT; nothing else here started a Redis there.
    assert redis_from_config.client().config_get("port") == {"port": str(redis_from_config.port)}


def test_no_snapshots_or_aof_on_scratch_storage(redis_from_config: Backend) -> None:
    settings = redis_from_config.client().config_get("save", "appendonly")
    # Redis's own default is "3600 1 300 100 60 10000": snapshots that fail
    # on a full scratch volume stop all writes.
    assert settings == {"save": "", "appendonly": "no"}


def test_redis_requires_the_password_from_the_secret(redis_from_config: Backend) -> None:
    port = redis_from_config.port
    # No retries: redis-py retries a refused AUTH with backoff by default (seconds).
    once = {"host": "127.0.0.1", "port": port, "socket_timeout": 1, "retry": Retry(NoBackoff(), 0)}
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(**once).ping()  # type: ignore[arg-type]
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(password="wrong", **once).ping()  # type: ignore[arg-type]
    assert redis_from_config.client().ping()


def test_exec_makes_redis_the_process_that_gets_sigterm(redis_from_config: Backend) -> None:
    pid = redis_from_config.process.pid
    comm = Path(f"/proc/{pid}/comm").read_text().strip()
    assert comm == "redis-server"  # not sh: ECS's SIGTERM reaches Redis itself
    # The password is not left readable in the process title.
    assert PASSWORD.encode() not in Path(f"/proc/{pid}/cmdline").read_bytes()


def health(config: dict[str, object], port: int, password: str = PASSWORD) -> int:
    """The configured health check's exit code, run with the task's PORT and password."""
    check = config["health_check"]["command"]  # type: ignore[index]
    assert isinstance(check, str)
    return subprocess.run(["sh", "-c", check], env=task_env(port, password), timeout=10).returncode


def test_health_check_passes_only_for_redis_on_port_with_the_password(
    redis_from_config: Backend,
) -> None:
    config, port = redis_from_config.config, redis_from_config.port
    assert health(config, port) == 0
    assert health(config, port, "wrong") != 0
    # Redis is not on $PORT (a port change it did not follow): the check must fail.
    assert health(config, free_port()) != 0
