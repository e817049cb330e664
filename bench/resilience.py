"""Frontend latency under slow clients and with a hung Redis, each with a same-run baseline.

Cases, all on gunicorn with the shipped frontend/gunicorn.conf.py:

- GET / with no other client (the baseline), with 200 clients trickling their
  headers, and with 200 idle connections;
- GET / and GET /healthz while 16 connections keep requesting GET /, first with
  Redis answering (the baseline), then with Redis hung (SIGSTOP: connections
  are accepted, nothing ever answers).

    .venv/bin/python bench/resilience.py [--frontend DIR]

``--frontend`` serves another checkout's frontend/ (e.g. the previous commit's,
from ``git archive HEAD~1 frontend | tar -x -C /tmp/old``) for before/after figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.servers import (  # noqa: E402
    FRONTEND,
    Gunicorn,
    RedisServer,
    SlowClients,
    timed_get,
)

TIMEOUT = 10.0
LOADERS = 16


def summary(samples: list[tuple[int, float]]) -> str:
    """p50 and max in milliseconds, and how many requests got no answer in TIMEOUT."""
    if not samples:
        return "no request finished"
    times = [t for _, t in samples]
    lost = sum(status == 0 for status, _ in samples)
    statuses = sorted({status for status, _ in samples if status})
    text = f"p50 {statistics.median(times) * 1000:7.0f} ms  max {max(times) * 1000:7.0f} ms"
    text += f"  n={len(samples)} status {statuses}"
    return text + (f"  {lost} timed out (> {TIMEOUT:.0f} s)" if lost else "")


def sequential(port: int, path: str, count: int) -> list[tuple[int, float]]:
    return [timed_get(port, path, timeout=TIMEOUT) for _ in range(count)]


def rss_mib(pid: int) -> float:
    """Resident memory of a process and its children (gunicorn's master and workers)."""
    pids = [pid, *map(int, Path(f"/proc/{pid}/task/{pid}/children").read_text().split())]
    pages = sum(int(Path(f"/proc/{p}/statm").read_text().split()[1]) for p in pids)
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def slow_client_cases(server: Gunicorn) -> None:
    port = server.port
    assert server.process is not None
    print(f"  GET /, no other client:        {summary(sequential(port, '/', 10))}", flush=True)
    print(f"  memory, master + workers:      {rss_mib(server.process.pid):.0f} MiB")
    for trickle, label in ((True, "200 trickling clients"), (False, "200 idle connections")):
        with SlowClients(port, 200, trickle=trickle):
            time.sleep(1)  # let them occupy whatever they will occupy
            print(f"  GET /, {label}: {summary(sequential(port, '/', 5))}", flush=True)
            print(f"  memory, master + workers:      {rss_mib(server.process.pid):.0f} MiB")


def under_load(
    port: int, seconds: float
) -> tuple[list[tuple[int, float]], list[tuple[int, float]]]:
    """Latencies of GET / from LOADERS busy connections and of a /healthz probe, for ``seconds``."""
    pages: list[tuple[int, float]] = []
    probes: list[tuple[int, float]] = []
    deadline = time.monotonic() + seconds

    def load() -> None:
        while time.monotonic() < deadline:
            pages.append(timed_get(port, "/", timeout=TIMEOUT))

    def probe() -> None:
        while time.monotonic() < deadline:
            probes.append(timed_get(port, "/healthz", timeout=TIMEOUT))
            time.sleep(0.2)

    threads = [threading.Thread(target=load) for _ in range(LOADERS)]
    threads.append(threading.Thread(target=probe))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return pages, probes


def hung_backend_cases(port: int, redis_server: RedisServer) -> None:
    pages, probes = under_load(port, 4)
    print(f"  Redis answering, GET /:        {summary(pages)}")
    print(f"  Redis answering, GET /healthz: {summary(probes)}", flush=True)
    redis_server.pause()
    try:
        pages, probes = under_load(port, 6)
    finally:
        redis_server.resume()
    print(f"  Redis hung, GET /:             {summary(pages)}")
    print(f"  Redis hung, GET /healthz:      {summary(probes)}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frontend", type=Path, default=FRONTEND)
    args = parser.parse_args()
    print(f"frontend: {args.frontend}; gunicorn with its gunicorn.conf.py defaults")
    with RedisServer() as redis_server:
        env = {"BACKEND_HOST": "127.0.0.1", "BACKEND_PORT": str(redis_server.port)}
        with Gunicorn(env=env, frontend=args.frontend.resolve()) as server:
            slow_client_cases(server)
        with Gunicorn(env=env, frontend=args.frontend.resolve()) as server:
            hung_backend_cases(server.port, redis_server)


if __name__ == "__main__":
    main()
