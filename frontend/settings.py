"""Runtime settings of the frontend, read once from the environment."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

N = TypeVar("N", int, float)

# A DNS name as a Host header carries it: labels of letters, digits and
# hyphens; no scheme, port, path or wildcard.
HOST_NAME = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$")


@dataclass(frozen=True)
class Settings:
    """Where Redis is and how the page behaves.

    The infrastructure injects ``BACKEND_HOST`` as the full Cloud Map name
    (``backend.service.local``); compose injects the short name ``backend``.
    """

    backend_host: str = "backend"
    backend_port: int = 6379
    backend_password: str | None = None
    # TLS to Redis (a managed Valkey takes nothing else), the server's
    # certificate checked against the system's CAs and its host name.
    backend_tls: bool = False
    # Short timeouts: an unreachable Redis must turn into a 503 within about a
    # second, not hang a worker thread while the load balancer waits.
    backend_timeout: float = 0.5
    history_size: int = 20
    # The names clients may use to reach the app (the load balancer's DNS
    # name, a custom domain). Loopback and the address a request arrived on
    # are always accepted: those are the health checks.
    allowed_hosts: frozenset[str] = frozenset()
    # A failure that repeats is logged once per interval, with a count.
    log_repeat_interval: float = 10.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        """Build settings from environment variables, failing fast on bad values."""
        return cls(
            backend_host=env.get("BACKEND_HOST", cls.backend_host),
            backend_port=_int(env, "BACKEND_PORT", cls.backend_port, 1, 65535),
            backend_password=env.get("BACKEND_PASSWORD") or None,
            backend_tls=_bool(env, "BACKEND_TLS", cls.backend_tls),
            backend_timeout=_float(env, "BACKEND_TIMEOUT", cls.backend_timeout),
            history_size=_int(env, "HISTORY_SIZE", cls.history_size, 1, 1000),
            allowed_hosts=_hosts(env, "ALLOWED_HOSTS"),
            log_repeat_interval=_float(env, "LOG_REPEAT_INTERVAL", cls.log_repeat_interval),
        )


def _hosts(env: Mapping[str, str], key: str) -> frozenset[str]:
    """Comma-separated host names, lower-cased; a typo fails at boot, not as 400s later."""
    names = [name.strip().lower().rstrip(".") for name in env.get(key, "").split(",")]
    for name in names:
        if name and not HOST_NAME.match(name):
            raise ValueError(f"{key}: {name!r} is not a host name (no scheme, port or path)")
    return frozenset(name for name in names if name)


def _bool(env: Mapping[str, str], key: str, default: bool) -> bool:
    """``true`` or ``false`` (any case), or ``default`` when unset or empty."""
    value = env.get(key, "").strip().lower()
    if not value:
        return default
    if value not in ("true", "false"):
        raise ValueError(f"{key}: {env[key]!r} is not true or false")
    return value == "true"


def _int(env: Mapping[str, str], key: str, default: int, low: int, high: int) -> int:
    return _number(env, key, default, int, low, high, "a whole number")


def _float(env: Mapping[str, str], key: str, default: float) -> float:
    return _number(env, key, default, float, 0.001, 30.0, "a number of seconds")


def _number(
    env: Mapping[str, str],
    key: str,
    default: N,
    parse: Callable[[str], N],
    low: N,
    high: N,
    kind: str,
) -> N:
    """``env[key]`` parsed and range-checked, or ``default`` when unset or empty."""
    raw = env.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = parse(raw)
    except ValueError:
        raise ValueError(f"{key}={raw!r} is not {kind}") from None
    if not low <= value <= high:
        raise ValueError(f"{key}={value} is outside {low}..{high}")
    return value
