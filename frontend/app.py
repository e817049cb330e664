"""The timestamp web app: every page view of ``/`` is recorded in Redis and shown.

Serve it with gunicorn (``gunicorn -c gunicorn.conf.py 'app:create_app()'``);
Flask's development server is for nothing but a quick look.
"""

from __future__ import annotations

import logging
import sys

import redis
from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import BadRequest, HTTPException

import logs
from hosts import host_allowed
from settings import Settings
from store import VisitStore, connect, now

WORKER_BOOT_ERROR = 3
RETRY_AFTER = {"Retry-After": "5"}

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
        settings = _settings_from_env()
    log = logs.configure(settings.log_repeat_interval)
    app = Flask(__name__)
    store = VisitStore(connect(settings), settings.history_size)

    @app.before_request
    def known_host() -> None:
        if not host_allowed(request.environ, settings.allowed_hosts):
            host = request.environ.get("HTTP_HOST", "")[:100]
            log.warning("refused Host %r: not in ALLOWED_HOSTS", host)
            raise BadRequest("Unknown host.")

    @app.get("/")
    def index() -> tuple[str, int]:
        # Flask answers HEAD with this view too; only a GET, a page someone
        # sees, is a visit (monitors and link checkers send HEAD).
        visits = store.record(now()) if request.method == "GET" else store.read()
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
    def backend_unavailable(error: redis.RedisError) -> tuple[str | Response, int, dict[str, str]]:
        log_backend_error(log, settings, error)
        if _is_api():
            return jsonify(error="backend unavailable"), 503, RETRY_AFTER
        return render_template("unavailable.html"), 503, RETRY_AFTER

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> HTTPException | tuple[Response, int]:
        # API clients parse JSON, also when the answer is an error.
        if not _is_api() or error.code is None:
            return error
        return jsonify(error=error.name), error.code

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers.update(SECURITY_HEADERS)
        # Counts and readiness are live values: no cache (nor the browser's
        # back button) may serve an old one. Static files may be cached.
        if request.endpoint != "static":
            response.headers["Cache-Control"] = "no-store"
        return response

    return app


def _settings_from_env() -> Settings:
    try:
        return Settings.from_env()
    except ValueError as error:
        # A bad variable in the task definition: one clear line, no
        # traceback, and exit code 3, which gunicorn takes as "failed to
        # boot" and stops instead of restarting workers in a loop.
        print(f"frontend: bad setting: {error}", file=sys.stderr)
        raise SystemExit(WORKER_BOOT_ERROR) from None


def _is_api() -> bool:
    return request.path.startswith("/api/")


def log_backend_error(log: logging.Logger, settings: Settings, error: redis.RedisError) -> None:
    """One line (rate-limited by the log's filter) naming what to fix, never a secret."""
    where = f"{settings.backend_host}:{settings.backend_port}"
    if isinstance(error, redis.AuthenticationError):
        state = "not set" if settings.backend_password is None else "not the one it expects"
        log.error("backend %s refused authentication: BACKEND_PASSWORD is %s", where, state)
    else:
        log.warning("backend %s unavailable: %s: %s", where, type(error).__name__, error)
