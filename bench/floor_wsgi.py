"""The throughput floor: a bare WSGI callable doing the app's one Redis round trip.

It calls the app's own VisitStore.record (the same MULTI/EXEC and the same
client settings), then returns a fixed small body: no framework, no template,
served by the same gunicorn settings. Run from frontend/ so `store` imports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from settings import Settings
from store import VisitStore, connect, now

_settings = Settings.from_env()
_store = VisitStore(connect(_settings), _settings.history_size)
BODY = b"ok\n"


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    _store.record(now())
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(BODY)))])
    return [BODY]
