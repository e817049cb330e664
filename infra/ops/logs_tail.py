"""``python -m infra logs``: a service's CloudWatch Logs, interleaved by time.

Every stream of the service's log group (one per task, plus the Service
Connect proxy's) in one time order, each line with its time (UTC) and stream.
With ``follow`` it polls until Ctrl-C.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from infra.ops.aws import Client

SINCE = re.compile(r"^(\d+)([smhd])$")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
# Between two polls of ``follow``; read at each poll, so a test can shorten it.
POLL_SECONDS = 2.0
# CloudWatch makes an event searchable a few seconds after it is written, and
# one task's event can arrive after a later one of another task: each poll
# looks back this far and leaves out what it already printed.
LOOKBACK_MS = 10_000


def parse_since(text: str) -> timedelta:
    """``30s``, ``10m``, ``2h``, ``1d`` as a duration; ValueError otherwise."""
    match = SINCE.match(text.strip())
    if match is None or int(match[1]) == 0:
        raise ValueError(f"{text!r} is not a duration such as 30s, 10m, 2h or 1d")
    return timedelta(**{UNITS[match[2]]: int(match[1])})


@dataclass(frozen=True)
class Event:
    """One log event: milliseconds since the epoch, its stream, its text."""

    timestamp: int
    stream: str
    message: str
    id: str


def line(event: Event) -> str:
    """``2026-11-27T04:44:40.123Z frontend/frontend/0a1b... message``."""
    when = datetime.fromtimestamp(event.timestamp / 1000, UTC)
    stamp = when.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return f"{stamp} {event.stream} {event.message.rstrip()}"


def interleaved(events: Iterable[Event]) -> list[Event]:
    """In time order across streams (pages of FilterLogEvents need not be)."""
    return sorted(events, key=lambda e: (e.timestamp, e.stream, e.id))


def fetch(logs: Client, group: str, start_ms: int) -> list[Event]:
    """Every event of ``group`` from ``start_ms`` on, all pages, in time order."""
    pages = logs.get_paginator("filter_log_events").paginate(logGroupName=group, startTime=start_ms)
    return interleaved(
        Event(int(e["timestamp"]), str(e["logStreamName"]), str(e["message"]), str(e["eventId"]))
        for page in pages
        for e in page.get("events", [])
    )


def tail(
    logs: Client,
    group: str,
    since: timedelta,
    follow: bool,
    *,
    now: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Print ``group``'s events of the last ``since``; then, with ``follow``, new
    ones as they come, until Ctrl-C (which ends it quietly)."""
    start = int((now() - since.total_seconds()) * 1000)
    events = fetch(logs, group, start)
    for event in events:
        print(line(event))
    if not events:
        print(f"no log events in {group} in the last {_short(since)}", file=sys.stderr)
    if not follow:
        return
    sys.stdout.flush()
    seen = {e.id: e.timestamp for e in events}
    newest = max(seen.values(), default=start)
    try:
        while True:
            sleep(POLL_SECONDS)
            window = max(start, newest - LOOKBACK_MS)
            fresh = [e for e in fetch(logs, group, window) if e.id not in seen]
            for event in fresh:
                print(line(event), flush=True)
                seen[event.id] = event.timestamp
                newest = max(newest, event.timestamp)
            seen = {i: t for i, t in seen.items() if t >= newest - LOOKBACK_MS}
    except KeyboardInterrupt:
        return


def _short(since: timedelta) -> str:
    seconds = int(since.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
