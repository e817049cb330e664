"""The timestamp web app: every visit to ``/`` is recorded in Redis and shown.

Serve it with gunicorn (``gunicorn -c gunicorn.conf.py 'app:create_app()'``);
Flask's development server is for nothing but a quick look.
"""

from __future__ import annotations

import logging
import sys

import redis
from flask import Flask, Response, jsonify, render_template

from settings import Settings
from store import VisitStore, connect, now

log = logging.getLogger(__name__)

WORKER_BOOT_ERROR = 3

# Everything the page needs comes from this origin; nothing may frame it.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def create_app(settings: Settings | None = None) -> Flask:
    """Build the WSGI app; settings come from the environment unless given."""
    if settings is None:
        try:
            settings = Settings.from_env()
        except ValueError as error:
            # A bad variable in the task definition: one clear line, no
            # traceback, and exit code 3, which gunicorn takes as "failed to
            # boot" and stops instead of restarting workers in a loop.
            print(f"frontend: bad setting: {error}", file=sys.stderr)
            raise SystemExit(WORKER_BOOT_ERROR) from None
    app = Flask(__name__)
    store = VisitStore(connect(settings), settings.history_size)

    @app.get("/")
    def index() -> tuple[str, int]:
        visits = store.record(now())
        return render_template("index.html", visits=visits), 200

    @app.get("/api/visits")
    def api_visits() -> Response:
        visits = store.read()
        return jsonify(count=visits.count, recent=visits.recent)

    @app.get("/healthz")
    def healthz() -> Response:
        # Liveness only: a Redis outage must not make ECS kill healthy web tasks.
        return jsonify(status="ok")

    @app.get("/readyz")
    def readyz() -> tuple[Response, int]:
        if store.ping():
            return jsonify(status="ready"), 200
        return jsonify(status="backend unavailable"), 503

    @app.errorhandler(redis.RedisError)
    def backend_unavailable(error: redis.RedisError) -> tuple[str, int, dict[str, str]]:
        # One log line, not a traceback per request during an outage.
        log.warning("backend unavailable: %s: %s", type(error).__name__, error)
        return render_template("unavailable.html"), 503, {"Retry-After": "5"}

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers.update(SECURITY_HEADERS)
        if response.mimetype == "text/html":
            response.headers["Cache-Control"] = "no-store"
        return response

    return app
