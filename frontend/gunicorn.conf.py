"""gunicorn settings for the frontend container, tuned by environment variables.

PORT, WEB_CONCURRENCY (worker processes) and WORKER_CONNECTIONS (open
connections per worker) come from the task definition; the defaults suit a
0.25 vCPU, 512 MiB task.
"""

import os
import sys

bind = f"0.0.0.0:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# gevent: each connection is a greenlet (a few KiB), not one of a few threads.
# With threads, a handful of clients that send their headers slowly, or
# connect and send nothing, held every thread and stopped the app; greenlets
# wait on them for nothing. A request mostly waits on one Redis round trip,
# which gevent's monkey-patching (done by the worker before it imports the
# app) makes cooperative for redis-py too.
worker_class = "gevent"
# Per worker; even the slow ones cost little memory, so 512 MiB holds them.
worker_connections = int(os.environ.get("WORKER_CONNECTIONS", "1000"))
# ECS sends SIGTERM and waits stopTimeout (30 s by default) before SIGKILL;
# finish in-flight requests well inside that window.
graceful_timeout = 20
timeout = 30
# The load balancer keeps connections open for 60 s; outlive its idle timeout
# to avoid 502s from races on a closing connection.
keepalive = 75
accesslog = "-"
errorlog = "-"
# The root filesystem is read-only on ECS; heartbeat files go to the /tmp volume.
worker_tmp_dir = "/tmp"
# gunicorn 27's control socket lives under $HOME, which the image's user does
# not have (and could not write); nothing in a task uses it.
control_socket_disable = True


def on_starting(server: object) -> None:
    """Check the settings once, in the master, before any worker is forked.

    A bad variable then stops gunicorn with one clear line; failing in each
    worker instead trips a gunicorn race that prints tracebacks on the way out.
    """
    from settings import Settings

    try:
        Settings.from_env()
    except ValueError as error:
        print(f"frontend: bad setting: {error}", file=sys.stderr)
        raise SystemExit(3) from None
