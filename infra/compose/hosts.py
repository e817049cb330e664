"""Environment values that name another service as a host, and their ECS names.

Compose resolves a service's name (or a link's alias) as a host on the
project's network: ``db``, ``db:5432``, ``redis://cache:6379/0``,
``kafka-1:9092,kafka-2:9092``. On ECS the same service answers as its Cloud Map
name. Each such value is an edge (the consumer ``connects_to`` the service)
and is rewritten to that name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

# A bare name is taken for a host only in a variable named like one: MODE=web
# must not become an edge to a service called web.
_HOST_VARIABLE = re.compile(r"HOST|ADDR|SERVER|URL|URI|DSN|ENDPOINT|BROKER", re.IGNORECASE)
_HOST_PORT = re.compile(r"([A-Za-z0-9._-]+):(\d{1,5})")


@dataclass
class Rewritten:
    """A value with each service host replaced, and the services it named."""

    value: str
    peers: set[str] = field(default_factory=set)


def rewrite(
    variable: str, value: str, hosts: Mapping[str, str], ecs_name: Callable[[str], str]
) -> Rewritten:
    """``value`` of ``variable`` with every host in ``hosts`` (a name or alias, lowercase
    -> the compose service it reaches) replaced by ``ecs_name(service)``."""
    result = Rewritten(value)
    parts = value.split(",")
    for index, part in enumerate(parts):
        stripped = part.strip()
        found = _url(stripped, hosts, ecs_name) or _host_port(stripped, hosts, ecs_name)
        if found is None and _HOST_VARIABLE.search(variable):
            service = hosts.get(stripped.lower())
            found = None if service is None else (ecs_name(service), service)
        if found is not None:
            parts[index] = part.replace(stripped, found[0])
            result.peers.add(found[1])
    result.value = ",".join(parts)
    return result


def _url(
    text: str, hosts: Mapping[str, str], ecs_name: Callable[[str], str]
) -> tuple[str, str] | None:
    if "://" not in text:
        return None
    try:
        parsed = urlsplit(text)
        host = parsed.hostname
    except ValueError:
        return None
    service = hosts.get(host or "")
    if service is None:
        return None
    userinfo, at, hostport = parsed.netloc.rpartition("@")
    _host, colon, port = hostport.partition(":")
    netloc = f"{userinfo}{at}{ecs_name(service)}{colon}{port}"
    return parsed._replace(netloc=netloc).geturl(), service


def _host_port(
    text: str, hosts: Mapping[str, str], ecs_name: Callable[[str], str]
) -> tuple[str, str] | None:
    matched = _HOST_PORT.fullmatch(text)
    if matched is None:
        return None
    service = hosts.get(matched.group(1).lower())
    return None if service is None else (f"{ecs_name(service)}:{matched.group(2)}", service)


# A URL's password: scheme://user:password@host
_URL_PASSWORD = re.compile(r"://[^/:@\s]+:[^/@\s]+@")
_CREDENTIAL = re.compile(r"(^|_)(PASSWORD|PASSWD|SECRET|TOKEN|KEY)$")


def looks_like_credential(variable: str, value: str) -> bool:
    """``*_PASSWORD``, ``*_SECRET``, ``*_TOKEN``, ``*_KEY`` (and a URL with a password)."""
    return bool(_CREDENTIAL.search(variable.upper()) or _URL_PASSWORD.search(value))
