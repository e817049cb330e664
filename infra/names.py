"""Construct IDs and resource names derived from the names users write in config."""

from __future__ import annotations

import hashlib


def pascal(name: str) -> str:
    """my-cache -> MyCache: construct IDs are PascalCase; config names are DNS labels."""
    return "".join(part.capitalize() for part in name.split("-"))


def physical_name(name: str, limit: int) -> str:
    """``name`` as a resource name of at most ``limit`` characters (ElastiCache's are
    40): whole when it fits, else cut and ended with a hash of the whole, so two
    long names never end up the same."""
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: limit - 9].rstrip('-')}-{digest}"
