"""compose.yaml and `make local` stay the local twins of config/base.yaml."""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

import redis
import yaml

from tests.support.servers import ROOT, RedisServer, free_port, wait_until


def load(path: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / path).read_text())
    return data


def test_compose_matches_base_config() -> None:
    compose_file = load("compose.yaml")
    compose = compose_file["services"]
    base = load("config/base.yaml")["services"]
    assert set(compose) == set(base)
    for name, service in base.items():
        if "image" in service:
            assert compose[name]["image"] == service["image"], name
        else:
            assert compose[name]["build"].strip("./") == service["build"], name
        env = compose[name].get("environment", {})
        # Hardened the same way: non-root, read-only, writable scratch dirs only.
        assert compose[name]["user"] == service["user"], name
        assert compose[name]["read_only"] is True, name
        assert compose[name].get("tmpfs", []) == service.get("scratch", []), name
        # Durable volumes (EFS on ECS) are compose's named volumes: declared at
        # the top level, not a host path, and not tmpfs either.
        volumes = service.get("volumes", {})
        mounts = [f"{volume}:{path}" for volume, path in volumes.items()]
        assert compose[name].get("volumes", []) == mounts, name
        for volume in volumes:
            assert volume in compose_file.get("volumes", {}), (name, volume)
            assert not (compose_file["volumes"][volume] or {}).get("driver_opts"), (name, volume)
        if "command" in service:  # compose escapes $ as $$
            assert [c.replace("$$", "$") for c in compose[name]["command"]] == service["command"]
        if service.get("auth"):
            assert "BACKEND_PASSWORD" in env, name
        if "public" in service:
            assert compose[name]["ports"] == [f"{service['port']}:{service['port']}"]
            assert env["PORT"] == str(service["port"])
        for peer in service.get("connects_to", []):
            assert peer in compose[name]["depends_on"], (name, peer)
            assert env[f"{peer.upper()}_HOST"] == peer
            assert env[f"{peer.upper()}_PORT"] == str(base[peer]["port"])
            if base[peer].get("auth"):
                assert f"{peer.upper()}_PASSWORD" in env, (name, peer)


def redis_options(command: str) -> dict[str, list[str]]:
    """The ``--option value...`` pairs of the redis-server call in a shell ``command``."""
    words = shlex.split(command)
    start = words.index("redis-server") + 1
    options: dict[str, list[str]] = {}
    for word in words[start:]:
        if word == "&":
            break
        if word.startswith("--"):
            options[word] = []
        else:
            options[list(options)[-1]].append(word)
    return options


def test_make_local_runs_redis_with_the_configured_persistence() -> None:
    configured = redis_options(load("config/base.yaml")["services"]["backend"]["command"][2])
    lines = (ROOT / "bin" / "local").read_text().replace("\\\n", " ").splitlines()
    local = redis_options(next(line for line in lines if line.startswith("redis-server ")))
    # Where it listens, its dir and password differ by design; nothing else may.
    for own in ("--port", "--dir", "--requirepass"):
        assert own in configured and own in local, own
    mine = {"--port", "--dir", "--requirepass", "--bind", "--loglevel"}
    assert {k: v for k, v in local.items() if k not in mine} == {
        k: v for k, v in configured.items() if k not in mine
    }


def alive(group: int) -> bool:
    """Whether any process of the session ``group`` (bin/local's children) still runs."""
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def test_make_local_serves_the_app_without_docker(tmp_path: Path) -> None:
    port = free_port()
    # No REDIS_PORT: bin/local picks a free one itself.
    env = {k: v for k, v in os.environ.items() if k != "REDIS_PORT"}
    process = subprocess.Popen(
        [str(ROOT / "bin" / "local")], env={**env, "PORT": str(port), "TMPDIR": str(tmp_path)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip

    def get(path: str, timeout: float = 2) -> bytes:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as response:
            return bytes(response.read())

    def ready() -> bool:  # readiness, not a visit: a timed-out poll must not count one
        try:
            return b"ready" in get("/readyz", timeout=1)
        except OSError:
            return False

    try:
        wait_until(ready, 20, "make local")
        assert b'id="count">1<' in get("/")
        assert b'"count":1,' in get("/api/visits").replace(b" ", b"")
        # Its Redis keeps an append-only file, as configured, in a temp dir of its own.
        (data,) = tmp_path.glob("timestamper-local.*")
        assert (data / "appendonlydir").is_dir()
        # A TERM to the script alone (as `kill <pid of make>` passes on) stops it all.
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) != 0, "gunicorn outlived bin/local"
        wait_until(lambda: not alive(process.pid), 5, "redis and gunicorn to stop")
        assert not data.exists(), "bin/local left its Redis dir behind"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)


def test_make_local_stops_when_its_redis_port_is_taken() -> None:
    with RedisServer() as foreign:
        before = redis.Redis(port=foreign.port)
        before.set("someone-elses", "data")
        port = free_port()
        result = subprocess.run(
            [str(ROOT / "bin" / "local")],
            env={**os.environ, "PORT": str(port), "REDIS_PORT": str(foreign.port)},
            capture_output=True, text=True, timeout=20,
        )  # fmt: skip
        assert result.returncode != 0
        assert f"could not listen on 127.0.0.1:{foreign.port}" in result.stderr
        assert "REDIS_PORT" in result.stderr
        # The Redis that was there is untouched: no visits written, nothing gone.
        assert before.keys() == [b"someone-elses"]
    with socket.socket() as sock:  # and the frontend never started
        assert sock.connect_ex(("127.0.0.1", port)) != 0
