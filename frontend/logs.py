"""The app's log: lines with a timestamp and a level, a repeating failure once per interval.

During an outage every request fails the same way; one line per request buries
everything else (thousands a second) and costs CloudWatch ingestion. The
first occurrence is logged at once, repeats are counted, and the next line
after ``interval`` says how many were left out.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable

LOGGER = "frontend"
# The shape of gunicorn's own error log, so one task's lines read alike.
FORMAT = "[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s"
DATE_FORMAT = "%Y-%m-%d %H:%M:%S %z"


class RepeatFilter(logging.Filter):
    """Passes the first record of a kind, then at most one per ``interval`` seconds.

    A kind is the logger, the level and the message template (not the
    arguments): the same failure with a different error text, or an unknown
    Host header that changes with every request, is still one repeating failure.
    """

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        # kind -> (when its last line was let through, repeats left out since)
        self._kinds: dict[tuple[str, int, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        kind = (record.name, record.levelno, str(record.msg))
        now = self._clock()
        with self._lock:
            last = self._kinds.get(kind)
            if last is not None and now - last[0] < self._interval:
                self._kinds[kind] = (last[0], last[1] + 1)
                return False
            self._kinds[kind] = (now, 0)
        if last is not None and last[1]:
            left_out = f"{last[1]} more like this in the last {now - last[0]:.1f} s"
            record.msg = f"{record.getMessage()} ({left_out})"
            record.args = None
        return True


def configure(repeat_interval: float) -> logging.Logger:
    """The app's logger, writing to stderr (the container log) with timestamps and levels."""
    logger = logging.getLogger(LOGGER)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(FORMAT, DATE_FORMAT))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        # Not also through the root logger: no second, unformatted copy.
        logger.propagate = False
    # On the logger, so every handler sees the same lines; a fresh one per
    # app, since its interval comes from that app's settings.
    logger.filters = [RepeatFilter(repeat_interval)]
    return logger
