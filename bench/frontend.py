"""Frontend throughput and latency, every case measured in the same run.

Cases: the app with an empty history; the app after 100,000 recorded visits;
the app under Flask's development server; and a floor, a bare WSGI callable
doing the same single Redis round trip under the same gunicorn settings.
Load comes from wrk when installed, else from a Python load generator.

    .venv/bin/python bench/frontend.py [--seconds 10] [--connections 16]
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.servers import (  # noqa: E402
    FRONTEND,
    Gunicorn,
    RedisServer,
    free_port,
    wait_until,
)

sys.path.insert(0, str(FRONTEND))
from store import COUNT_KEY, RECENT_KEY  # noqa: E402

WORKERS, THREADS = 2, 4


@dataclass
class Result:
    """One case: throughput and latency percentiles in milliseconds."""

    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def seed_visits(port: int, visits: int) -> None:
    """Leave Redis as ``visits`` real visits would: the count and a trimmed history."""
    client = redis.Redis(port=port)
    time.sleep(1)  # requests wrk left in flight finish before the slate is wiped
    client.flushall()
    start = datetime.now(UTC) - timedelta(seconds=visits)
    pipe = client.pipeline(transaction=False)
    for i in range(visits):
        pipe.incr(COUNT_KEY)
        pipe.lpush(RECENT_KEY, (start + timedelta(seconds=i)).isoformat(timespec="milliseconds"))
        pipe.ltrim(RECENT_KEY, 0, 19)
        if i % 5000 == 4999:
            pipe.execute()
    pipe.execute()
    count = int(client.get(COUNT_KEY) or 0)
    assert count == visits, f"seeded {count} visits, wanted {visits}"


def load_wrk(url: str, seconds: int, connections: int) -> tuple[float, float, float, int]:
    out = subprocess.run(
        ["wrk", "--latency", "-t2", f"-c{connections}", f"-d{seconds}s", url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip

    def ms(label: str) -> float:
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        assert match, out
        value, unit = float(match[1]), match[2]
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])  # type: ignore[index]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = int(non2xx[1]) if non2xx else 0
    return rps, ms("50"), ms("99"), errors


def load_python(url: str, seconds: int, connections: int) -> tuple[float, float, float, int]:
    host_port = url.split("//")[1].split("/")[0]
    host, port = host_port.split(":")
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker() -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        mine: list[float] = []
        while time.monotonic() < deadline:
            started = time.perf_counter()
            conn.request("GET", "/")
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            if response.status != 200:
                errors[0] += 1
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    pct = statistics.quantiles(latencies, n=100)
    return len(latencies) / seconds, pct[49] * 1000, pct[98] * 1000, errors[0]


@contextmanager
def flask_dev_server(env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    code = (
        "from app import create_app; "
        f"create_app().run(host='127.0.0.1', port={port}, threaded=True)"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code], cwd=FRONTEND, env={**os.environ, **env},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip

    def up() -> bool:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/healthz")
            return conn.getresponse().status == 200
        except OSError:
            return False

    try:
        wait_until(up, 20, "flask dev server")
        yield f"http://127.0.0.1:{port}/"
    finally:
        process.terminate()
        process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--visits", type=int, default=100_000)
    args = parser.parse_args()
    load = load_wrk if shutil.which("wrk") else load_python
    tool = "wrk" if load is load_wrk else "python threads"
    print(f"load: {tool}, {args.connections} connections, {args.seconds} s per case; "
          f"gunicorn {WORKERS} workers x {THREADS} threads")  # fmt: skip

    results: list[Result] = []
    with RedisServer() as server:
        env = {"BACKEND_HOST": "127.0.0.1", "BACKEND_PORT": str(server.port)}

        def run(name: str, url: str, seed: int = 0) -> None:
            seed_visits(server.port, seed)
            rps, p50, p99, errors = load(url, args.seconds, args.connections)
            results.append(Result(name, rps, p50, p99, errors))
            print(f"  measured {name}", flush=True)

        with Gunicorn(env=env, workers=WORKERS, threads=THREADS) as app:
            run("app, empty history", app.url + "/")
            run(f"app, after {args.visits:,} visits", app.url + "/", seed=args.visits)
        with flask_dev_server(env) as url:
            run("app, Flask dev server", url)
        floor = Gunicorn(app="floor_wsgi:application", env=env, workers=WORKERS, threads=THREADS,
                         extra_args=("--pythonpath", str(ROOT / "bench")))  # fmt: skip
        with floor:
            run("floor: bare WSGI + same Redis trip", floor.url + "/")

    print(f"\n{'case':40} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for r in results:
        print(f"{r.name:40} {r.rps:9.0f} {r.p50_ms:8.2f} {r.p99_ms:8.2f} {r.errors:7d}")
    empty, full, _, floor_result = results
    print(f"\nafter {args.visits:,} visits / empty: {full.rps / empty.rps:.2f} (target >= 0.90)")
    print(f"app / floor: {empty.rps / floor_result.rps:.2f} (target >= 0.50)")


if __name__ == "__main__":
    main()
