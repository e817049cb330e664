"""The throughput floor: a bare WSGI callable doing the app's one Redis round trip.

Same transaction as a visit (INCR, LPUSH, LTRIM, LRANGE), a fixed small body,
no framework and no template, served by the same gunicorn settings.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import redis

_client = redis.Redis(
    host=os.environ.get("BACKEND_HOST", "127.0.0.1"),
    port=int(os.environ.get("BACKEND_PORT", "6379")),
    decode_responses=True,
)


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    pipe = _client.pipeline(transaction=True)
    pipe.incr("visits:count")
    pipe.lpush("visits:recent", datetime.now(UTC).isoformat(timespec="milliseconds"))
    pipe.ltrim("visits:recent", 0, 19)
    pipe.lrange("visits:recent", 0, 19)
    pipe.execute()
    body = b"ok\n"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
