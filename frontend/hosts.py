"""Which Host headers the app answers.

Werkzeug builds absolute redirect URLs from the Host header, so answering any
Host lets a forged one end up in a ``Location`` (cache poisoning, links to
another site). The app answers only:

- the names in ``ALLOWED_HOSTS`` (the load balancer's DNS name, a custom domain);
- loopback names, for the container health check and local runs;
- the address the connection arrived on: the load balancer's target health
  checks send ``Host: <task IP>:<port>``, an address the task learns only at
  run time. Echoing it back is harmless: it is the server's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


def host_name(header: str) -> str:
    """The name in a Host header, without port or brackets: ``[::1]:5000`` -> ``::1``."""
    value = header.strip().lower()
    if value.startswith("["):
        return value[1:].partition("]")[0]
    name = value.rpartition(":")[0] if ":" in value else value
    return name.rstrip(".")


def local_address(environ: Mapping[str, Any]) -> str | None:
    """The server's address on this request's connection, when the server tells it.

    gunicorn puts the connection's socket in the environ; other servers (and
    Flask's test client) do not, and then only the configured names count.
    """
    getsockname = getattr(environ.get("gunicorn.socket"), "getsockname", None)
    if getsockname is None:
        return None
    try:
        return str(getsockname()[0])
    except OSError:  # the client is already gone
        return None


def host_allowed(environ: Mapping[str, Any], allowed: frozenset[str]) -> bool:
    """True when the request names a host this deployment serves."""
    header = environ.get("HTTP_HOST")
    if header is None:
        # HTTP/1.0 may leave Host out; HTTP/1.1 must send it (RFC 9112, 3.2).
        return environ.get("SERVER_PROTOCOL") != "HTTP/1.1"
    name = host_name(header)
    return name in allowed or name in LOOPBACK or name == local_address(environ)
