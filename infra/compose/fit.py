"""Compose values in this config's terms: names, durations, task sizes, known images."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from infra.config.model import DNS_LABEL, FARGATE_SIZES, RESERVED_NAMES

MIB = 1024 * 1024


def config_name(name: str) -> str:
    """A compose name (service or volume) as a DNS label: lowercase, ``_`` and ``.``
    as ``-``. The caller checks the result against :data:`DNS_LABEL`."""
    return re.sub(r"[_.]+", "-", name.lower()).strip("-")


def name_problem(
    name: str, *, fix: str = "rename it in the compose file", stack_part: bool = True
) -> str | None:
    """Why ``name`` (already converted) cannot be a service or volume name (or, without
    ``stack_part``, the app's), followed by ``fix``; None when it can."""
    if stack_part and name in RESERVED_NAMES:
        return f"{name!r} names one of each env's stacks; {fix}"
    if not re.match(DNS_LABEL, name):
        return (
            f"{name!r} is not a DNS label of at most 24 characters (lowercase letters, digits, "
            f"hyphens, starting with a letter); {fix}"
        )
    return None


# Go's time.Duration text, as Compose writes durations: 1m30s, 500ms, 1h.
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}


def seconds(text: str) -> int | None:
    """Whole seconds (rounded up) of a compose duration, or None if it is not one."""
    text = str(text).strip()
    if not text or _DURATION.sub("", text):
        return None
    total = sum(float(n) * _UNIT_SECONDS[u] for n, u in _DURATION.findall(text))
    return math.ceil(total)


@dataclass(frozen=True)
class Size:
    cpu: int
    memory: int


def fargate_size(cpus: float | None, memory_bytes: int | None) -> Size | None:
    """The smallest Fargate task (cpu first, then memory) with at least ``cpus`` vCPUs
    and ``memory_bytes``; None when none is that large."""
    want_cpu = 0 if cpus is None else math.ceil(cpus * 1024)
    want_mib = 0 if memory_bytes is None else math.ceil(memory_bytes / MIB)
    for cpu, memories in FARGATE_SIZES.items():
        if cpu < want_cpu:
            continue
        for memory in memories:
            if memory >= want_mib:
                return Size(cpu, memory)
    return None


@dataclass(frozen=True)
class KnownImage:
    """A database or cache image: its port, and the uid:gid it writes its data as."""

    kind: str
    port: int
    owner: str
    alpine_owner: str | None = None

    def owner_for(self, image: str) -> str:
        return self.alpine_owner if self.alpine_owner and "alpine" in image else self.owner


# The official images' defaults (their Dockerfiles' users and EXPOSE).
KNOWN_IMAGES = {
    "postgres": KnownImage("database", 5432, "999:999", alpine_owner="70:70"),
    "postgis": KnownImage("database", 5432, "999:999"),
    "mysql": KnownImage("database", 3306, "999:999"),
    "mariadb": KnownImage("database", 3306, "999:999"),
    "mongo": KnownImage("database", 27017, "999:999"),
    "redis": KnownImage("cache", 6379, "999:999", alpine_owner="999:1000"),
    "valkey": KnownImage("cache", 6379, "999:999", alpine_owner="999:1000"),
    "memcached": KnownImage("cache", 11211, "11211:11211"),
    "rabbitmq": KnownImage("message broker", 5672, "999:999"),
}
# Application images that start as root and write their data as another user.
APP_IMAGE_OWNERS = {
    "wordpress": "33:33",
    "nextcloud": "33:33",
    "drupal": "33:33",
    "joomla": "33:33",
    "gitea": "1000:1000",
    "ghost": "1000:1000",
}
DATASTORE_PORTS = frozenset({5432, 3306, 27017, 6379, 11211, 5672})


def _repository(image: str) -> str:
    return image.split("@")[0].rsplit("/", 1)[-1].split(":")[0]


def image_owner(image: str | None) -> str | None:
    """The uid:gid ``image`` writes its data as, when it is a well-known one."""
    if not image:
        return None
    known = known_image(image)
    return known.owner_for(image) if known else APP_IMAGE_OWNERS.get(_repository(image))


def engine_repository(image: str | None) -> str | None:
    """The engine a known database or cache ``image`` runs, by the name of its official
    repository (``bitnami/postgresql:16`` -> ``postgres``); None for other images."""
    if not known_image(image):
        return None
    assert image is not None
    repository = _repository(image)
    return _ALIASES.get(repository, repository)


def known_image(image: str | None) -> KnownImage | None:
    """The database or cache ``image`` is (``bitnami/postgresql:16``, ``redis:7-alpine``
    ...), by its repository's last path part."""
    if not image:
        return None
    repository = _repository(image)
    return KNOWN_IMAGES.get(_ALIASES.get(repository, repository))


# Other repositories of the same engines (bitnami's, the vendors' own); UIs such as
# mongo-express or redisinsight are not among them.
_ALIASES = {
    "postgresql": "postgres",
    "mysql-server": "mysql",
    "mongodb": "mongo",
    "mongodb-community-server": "mongo",
    "redis-stack-server": "redis",
}
