"""Fixtures for the frontend: a real redis-server and the app wired to it."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator

import pytest
import redis

from tests.support.servers import FRONTEND, RedisServer

# The frontend is a flat set of modules served with ``--chdir frontend``;
# import them the same way.
sys.path.insert(0, str(FRONTEND))

from flask import Flask

from app import create_app
from settings import Settings


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """One redis-server for the session; tests flush it before use."""
    with RedisServer() as server:
        yield server


@pytest.fixture
def fresh_redis(redis_server: RedisServer) -> RedisServer:
    """The session's Redis, emptied."""
    redis.Redis(port=redis_server.port).flushall()
    return redis_server


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A Redis of this test's own, free to be killed and restarted."""
    with RedisServer() as server:
        yield server


def settings_for(server: RedisServer, **overrides: object) -> Settings:
    values: dict[str, object] = {"backend_host": "127.0.0.1", "backend_port": server.port}
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def app(fresh_redis: RedisServer) -> Flask:
    return create_app(settings_for(fresh_redis))


class _Lines(logging.Handler):
    def __init__(self, lines: list[str]) -> None:
        super().__init__()
        self.lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname} {record.getMessage()}")


@pytest.fixture
def app_log() -> Iterator[list[str]]:
    """The app's log lines ("LEVEL message") written while the test runs."""
    lines: list[str] = []
    handler = _Lines(lines)
    logger = logging.getLogger("frontend")
    logger.addHandler(handler)
    yield lines
    logger.removeHandler(handler)
