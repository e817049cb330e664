"""The backend's command and health check from config/base.yaml, run for real.

ECS runs them inside the Redis image with the task's variables, among them
``PORT`` (the service's own port) and ``BACKEND_PASSWORD``. Here they run
through the same ``/bin/sh`` against the machine's redis-server with those
variables set, and two local substitutions: the data dir (the task's durable
/data volume) becomes a tmp dir, and ``--bind 127.0.0.1`` keeps the test's
Redis off the machine's other interfaces.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
import yaml
from redis.backoff import NoBackoff
from redis.retry import Retry

from tests.support.servers import ROOT, free_port, wait_until

from settings import Settings
from store import VisitStore, connect, now

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


@contextlib.contextmanager
def configured_redis(config: dict[str, object], data: Path, port: int) -> Iterator[Backend]:
    """The configured command running on ``port`` with ``data`` as its /data.

    Stopped with SIGTERM on the way out unless the test already killed it;
    the whole session goes, so nothing is left behind when a test fails.
    """
    command = list(config["command"])  # type: ignore[call-overload]
    assert command[:2] == ["sh", "-c"] and "/data" in command[2]
    script = command[2].replace("/data", str(data)) + " --bind 127.0.0.1"
    process = subprocess.Popen(
        ["sh", "-c", script], env=task_env(port), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    running = Backend(config, port, process)

    def up() -> bool:
        if process.poll() is not None:
            raise RuntimeError(
                f"redis-server from the configured command exited ({process.returncode})"
            )
        try:
            return bool(running.client().ping())
        except redis.RedisError:
            return False

    try:
        wait_until(up, 10, "redis-server from the configured command on $PORT")
        yield running
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def redis_from_config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    with configured_redis(backend(), tmp_path_factory.mktemp("data"), free_port()) as running:
        yield running


def test_redis_listens_on_the_port_the_task_gives_it(redis_from_config: Backend) -> None:
    # The fixture found it on $PORT; nothing else here started a Redis there.
    assert redis_from_config.client().config_get("port") == {"port": str(redis_from_config.port)}


def test_visits_are_kept_in_an_fsynced_append_only_file(redis_from_config: Backend) -> None:
    settings = redis_from_config.client().config_get("appendonly", "appendfsync", "save")
    # The AOF, fsynced once a second, is the durable copy on the /data volume.
    # No RDB snapshots: Redis's default ("3600 1 300 100 60 10000") forks a
    # background save that can double memory on a 512 MiB task.
    assert settings == {"appendonly": "yes", "appendfsync": "everysec", "save": ""}


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


# Each visit is one MULTI/EXEC, one append to the AOF; fewer in all than the
# history, so every visit that is back is in the list too.
VISITS = 50
IN_FLIGHT = 50


def test_visits_survive_sigkill_and_restart_on_the_same_directory(tmp_path: Path) -> None:
    config, port = backend(), free_port()
    settings = Settings(
        backend_host="127.0.0.1", backend_port=port, backend_password=PASSWORD,
        history_size=VISITS + IN_FLIGHT,
    )  # fmt: skip
    written = [f"{now()} #{n}" for n in range(VISITS + IN_FLIGHT)]
    with configured_redis(config, tmp_path, port) as first:
        store = VisitStore(connect(settings), settings.history_size)
        for stamp in written[:VISITS]:
            store.record(stamp)
        # Written to the append-only file within about a second, these must
        # survive. A SIGKILL keeps what the kernel holds unflushed, so this
        # proves the visits are logged and replayed from the directory; that
        # they are fsynced every second (what a lost host needs) is the
        # settings test's to check.
        time.sleep(1.1)
        for stamp in written[VISITS:]:
            store.record(stamp)
        # exec: the process started is redis-server itself, not a shell above it.
        assert Path(f"/proc/{first.process.pid}/comm").read_text().strip() == "redis-server"
        first.process.send_signal(signal.SIGKILL)  # no shutdown, no last write or fsync
        first.process.wait(timeout=10)

    # A new task: the same command on the same volume and port.
    with configured_redis(config, tmp_path, port):
        found = VisitStore(connect(settings), settings.history_size).read()
    assert found.count >= VISITS, f"{found.count} of the {VISITS} visits a second old came back"
    # The last ones, acknowledged just before the kill, may or may not be
    # back; what is back is whole visits in the order written: the count and
    # the list agree, newest first, no transaction torn in two.
    assert found.count <= VISITS + IN_FLIGHT
    assert found.recent == written[: found.count][::-1]
