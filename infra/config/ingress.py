"""The env's shared load balancer: which services are behind it, and each one's rule priority.

A service with ``public.host`` or ``public.path`` is reached through one
listener rule of the env's shared application load balancer. The rule's
priority is derived from that service's own host and path only, so adding or
removing another service never renumbers a rule that is deployed (two rules
swapping numbers in one update can fail with PriorityInUse).
"""

from __future__ import annotations

import re
import zlib

from infra.config.model import PublicConfig

# ALB rule priorities run from 1 to 50000; lower numbers are tried first.
# Bands: host and path, host alone, path alone; in a band a longer literal
# path prefix first; a hash of host and path spreads rules within a step.
BAND = 16000
STEP = 125
LONGEST = 127


def literal_prefix(path: str | None) -> str:
    """The part of a path pattern before its first wildcard (``/api/`` of ``/api/*``)."""
    return re.split(r"[*?]", path)[0] if path else ""


def rule_priority(public: PublicConfig) -> int:
    """The listener rule priority of a service behind the shared load balancer:
    ``public.priority`` when set, else derived so that more specific rules
    (a host and a path, then a host, then a longer path) are tried first."""
    if public.priority is not None:
        return public.priority
    spread = zlib.crc32(f"{public.host or ''}|{public.path or ''}".encode())
    if public.path is None:  # a host alone: no path to order by, the whole band to spread in
        return BAND + spread % BAND + 1
    band = 0 if public.host else 2
    literal = min(len(literal_prefix(public.path)), LONGEST)
    return band * BAND + (LONGEST - literal) * STEP + spread % STEP + 1


def rule_text(public: PublicConfig) -> str:
    """``host www.example.com, path /api/*``: what a rule matches, for messages."""
    host = f"host {public.host}" if public.host else ""
    path = f"path {public.path}" if public.path else ""
    return ", ".join(p for p in (host, path) if p)
