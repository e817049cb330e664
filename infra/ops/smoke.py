"""``python -m infra smoke``: after a deploy, does the public URL serve?

For each public service: GET its health path and its page ``/``, and read the
visit count (``/api/visits``) before and after the page, which records a
visit: a count that rises proves the page reached Redis and wrote. One request
per check with a short timeout, no retries: a smoke test reports, it does not
wait for a deploy to settle. The URL's host is used as is: the frontend
refuses Host names not in its ``ALLOWED_HOSTS``.
"""

from __future__ import annotations

import fnmatch
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass

from infra.config import AppConfig
from infra.ops.aws import Aws
from infra.ops.render import say

TIMEOUT_SECONDS = 5.0
VISITS = "/api/visits"


@dataclass(frozen=True)
class Check:
    service: str
    what: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'}  {self.service}  {self.what}: {self.detail}"


@dataclass(frozen=True)
class Reply:
    """An HTTP answer: status 0 when there was none (refused, timed out ...)."""

    status: int
    body: bytes
    error: str
    seconds: float

    def summary(self) -> str:
        took = f"{self.seconds * 1000:.0f} ms"
        return f"{self.status} ({took})" if self.status else f"no answer: {self.error} ({took})"


def get(url: str, timeout: float = TIMEOUT_SECONDS) -> Reply:
    """One GET, never raising for HTTP or network errors."""
    started = time.monotonic()
    request = urllib.request.Request(url, headers={"User-Agent": "infra-smoke"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Reply(response.status, response.read(), "", time.monotonic() - started)
    except urllib.error.HTTPError as error:
        return Reply(error.code, error.read(), "", time.monotonic() - started)
    except (OSError, ValueError) as error:  # URLError, timeouts, resets, a bad URL
        reason = getattr(error, "reason", error)
        return Reply(0, b"", str(reason), time.monotonic() - started)


def visit_count(reply: Reply) -> int | None:
    """The ``count`` of a ``/api/visits`` answer, None when it is not one."""
    if reply.status != 200:
        return None
    try:
        count = json.loads(reply.body)["count"]
    except (ValueError, KeyError, TypeError):
        return None
    return count if isinstance(count, int) else None


def run(aws: Aws, config: AppConfig) -> int:
    """Check every public service of ``config``'s env, printing each check; 0 or 1."""
    checks: list[Check] = []
    for name, service in config.services.items():
        if service.public is None:
            continue
        stack = aws.stack(config.stack_name(name))
        url = stack.outputs.get("Url") if stack is not None else None
        if url is None:
            why = (
                f"stack {config.stack_name(name)} is not deployed in {aws.region}"
                if stack is None
                else f"stack {stack.name} ({stack.status}) has no Url output"
            )
            found = [Check(name, "Url", False, why)]
        else:
            public = service.public
            found = check_service(name, url, public.health_check_path, public.path)
        for check in found:
            say(check.line(), style=None if check.ok else "red")
        checks += found
    code, last = verdict(checks)
    say(last, style="bold red" if code else "green")
    return code


def check_service(
    service: str, url: str, health_path: str, path_pattern: str | None = None
) -> list[Check]:
    """The checks of one public service at ``url`` (its stack's ``Url`` output, which
    ends in the service's path on a shared load balancer, e.g. ``/admin/``, when it has
    a ``path_pattern``)."""
    base = url.rstrip("/")
    # The health path is the service's own, from the root as the load balancer asks it.
    parts = urllib.parse.urlsplit(url)
    if path_pattern is None or fnmatch.fnmatchcase(health_path, path_pattern):
        checks = [_status(service, f"{parts.scheme}://{parts.netloc}{health_path}")]
    else:
        checks = [Check(service, f"GET {health_path}", True, f"skipped: outside its path "
                        f"{path_pattern}, the shared load balancer does not send it there "
                        "(its target group checks the tasks directly)")]  # fmt: skip
    before = get(f"{base}{VISITS}")
    checks.append(_status(service, f"{base}/"))
    if before.status == 404:
        checks.append(Check(service, "visit count", True, f"skipped: {VISITS} is 404, "
                            "not the visit-counting frontend"))  # fmt: skip
        return checks
    after = get(f"{base}{VISITS}")
    checks.append(rose(service, before, after))
    return checks


def rose(service: str, before: Reply, after: Reply) -> Check:
    """Did the count rise between two ``/api/visits`` answers?"""
    old, new = visit_count(before), visit_count(after)
    if old is None or new is None:
        bad = before if old is None else after
        which = "before" if old is None else "after"
        return Check(service, "visit count", False,
                     f"GET {VISITS} {which} the page: {bad.summary()}, not a count")  # fmt: skip
    missed = "" if new > old else ": the page did not record a visit"
    return Check(service, "visit count", new > old, f"{old} -> {new}{missed}")


def _status(service: str, url: str) -> Check:
    reply = get(url)
    return Check(service, f"GET {url}", reply.status == 200, reply.summary())


def verdict(checks: Sequence[Check]) -> tuple[int, str]:
    """The exit code and the last line."""
    failed = [c for c in checks if not c.ok]
    if not checks:
        return 0, "smoke: no public service to check"
    if not failed:
        return 0, f"smoke: all {len(checks)} checks passed"
    names = "; ".join(f"{c.service} {c.what}: {c.detail}" for c in failed)
    return 1, f"smoke: {len(failed)} of {len(checks)} checks failed: {names}"
