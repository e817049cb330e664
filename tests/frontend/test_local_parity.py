"""compose.yaml and `make local` stay the local twins of config/base.yaml."""

from __future__ import annotations

import os
import signal
import subprocess
import urllib.request
from typing import Any

import yaml

from tests.support.servers import ROOT, free_port, wait_until


def load(path: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / path).read_text())
    return data


def test_compose_matches_base_config() -> None:
    compose = load("compose.yaml")["services"]
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
        assert compose[name]["tmpfs"] == service["scratch"], name
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


def test_make_local_serves_the_app_without_docker() -> None:
    port, redis_port = free_port(), free_port()
    process = subprocess.Popen(
        [str(ROOT / "bin" / "local")],
        env={**os.environ, "PORT": str(port), "REDIS_PORT": str(redis_port)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip

    def visit() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    try:
        wait_until(visit, 20, "make local")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/visits", timeout=2) as response:
            assert b'"count":1,' in response.read().replace(b" ", b"")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
