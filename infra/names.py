"""Construct IDs derived from the names users write in config."""

from __future__ import annotations


def pascal(name: str) -> str:
    """my-cache -> MyCache: construct IDs are PascalCase; config names are DNS labels."""
    return "".join(part.capitalize() for part in name.split("-"))
