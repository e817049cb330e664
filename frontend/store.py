"""Visit storage in Redis: a counter and a bounded list of recent timestamps."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from datetime import UTC, datetime

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from settings import Settings

# One hash tag ({visits}) puts both keys in one cluster slot: a managed Valkey
# (ElastiCache Serverless) runs in cluster mode, where one MULTI/EXEC may only
# touch keys of one slot (CROSSSLOT otherwise).
COUNT_KEY = "{visits}:count"
RECENT_KEY = "{visits}:recent"


@dataclass(frozen=True)
class Visits:
    """What a page shows: the total and the most recent timestamps, newest first."""

    count: int
    recent: list[str]


def connect(settings: Settings) -> redis.Redis:
    """A client that fails fast and reconnects by itself.

    redis-py retries ten times with backoff by default, which turns an outage
    into multi-second hangs. One immediate retry is enough to replace a pooled
    connection that died when Redis restarted; after that the caller gets the
    error and answers 503. A timeout is not retried: Redis is hung or
    overloaded, a second wait only doubles the time to the 503, and the
    MULTI/EXEC that timed out may have run, so running it again could count
    a visit twice. Creating the client does not connect, so the app starts
    even when Redis (or its DNS name) is not there yet. With ``backend_tls``
    it speaks TLS only, as a managed Valkey requires.
    """
    return redis.Redis(
        host=settings.backend_host,
        port=settings.backend_port,
        password=settings.backend_password,
        socket_connect_timeout=settings.backend_timeout,
        socket_timeout=settings.backend_timeout,
        retry=Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)),
        decode_responses=True,
        # Certificate and host name checked against the system's CAs (redis-py's
        # defaults once ssl is on); ElastiCache's are publicly trusted.
        ssl=settings.backend_tls,
        ssl_min_version=ssl.TLSVersion.TLSv1_2 if settings.backend_tls else None,
    )


def now() -> str:
    """The current time in UTC, ISO 8601 with an explicit offset."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class VisitStore:
    """Records and reads visits, each operation in a single round trip."""

    def __init__(self, client: redis.Redis, history_size: int) -> None:
        self._client = client
        self._history_size = history_size

    def record(self, timestamp: str) -> Visits:
        """Count a visit, keep the newest ``history_size`` timestamps, return both.

        MULTI/EXEC makes the four commands one round trip and one atomic step,
        so concurrent visits never lose a count and the list never outgrows
        its bound.
        """
        pipe = self._client.pipeline(transaction=True)
        pipe.incr(COUNT_KEY)
        pipe.lpush(RECENT_KEY, timestamp)
        pipe.ltrim(RECENT_KEY, 0, self._history_size - 1)
        pipe.lrange(RECENT_KEY, 0, self._history_size - 1)
        count, _, _, recent = pipe.execute()
        return Visits(count=int(count), recent=list(recent))

    def read(self) -> Visits:
        """The current visits, without recording one."""
        pipe = self._client.pipeline(transaction=True)
        pipe.get(COUNT_KEY)
        pipe.lrange(RECENT_KEY, 0, self._history_size - 1)
        count, recent = pipe.execute()
        return Visits(count=int(count or 0), recent=list(recent))

    def ping(self) -> bool:
        """True when Redis answers; never raises."""
        try:
            return bool(self._client.ping())
        except redis.RedisError:
            return False
