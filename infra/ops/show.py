"""``config show``: the resolved config as YAML, each value marked with its origin,
and a value set to no effect marked ``(ignored: <cause>)``. Keys nobody set that
hold nothing (``null``, ``[]``, ``{}``) are left out."""

from __future__ import annotations

from typing import Any

import yaml

from infra.config import AppConfig, Origins, ignored_keys
from infra.config.model import MANAGED_SERVICE_KEYS

INDENT = "  "
COMMENT_COLUMN = 48


def annotated_yaml(config: AppConfig, origins: Origins) -> str:
    """YAML of ``config`` with ``# <origin>`` after every value.

    Lists are shown whole, on one line, since a file sets a list as a whole.
    An optional key left unset is not shown when its default is empty (a
    secret's other source, a service's ``public`` or ``autoscaling``), so the
    keys in use stand out; a default that does something (``exec: false``) is.
    A managed service shows only the keys it has (no container). Otherwise the
    text loads back (``yaml.safe_load``) to the config's own dump.
    """
    rows: list[tuple[str, str]] = []
    ignored = {i.path: f"(ignored: {i.cause})" for i in ignored_keys(config)}
    data = config.model_dump(mode="json")
    for name, service in config.services.items():
        if service.managed is not None:  # no container: only what a managed engine has
            body = data["services"][name]
            data["services"][name] = {k: v for k, v in body.items() if k in MANAGED_SERVICE_KEYS}
    _walk(data, (), 0, origins, ignored, rows)
    # Comments line up, except after the odd very long value.
    width = min(max(len(text) for text, origin in rows if origin), COMMENT_COLUMN)
    return "\n".join(
        f"{text.ljust(width)}  # {origin}" if origin else text for text, origin in rows
    )


def _walk(
    value: dict[str, Any],
    at: tuple[str | int, ...],
    depth: int,
    origins: Origins,
    ignored: dict[tuple[str, ...], str],
    rows: list[tuple[str, str]],
) -> None:
    for key, inner in value.items():
        path = (*at, key)
        prefix = f"{INDENT * depth}{_scalar(key)}:"
        if isinstance(inner, dict) and inner:
            rows.append((prefix, ""))
            _walk(inner, path, depth + 1, origins, ignored, rows)
        else:
            origin = "--env" if path == ("env",) else origins.source(path)
            if origin == "default" and inner in (None, [], {}):
                continue
            mark = ignored.get(tuple(map(str, path)))
            rows.append((f"{prefix} {_scalar(inner)}", f"{origin} {mark}" if mark else origin))


def _scalar(value: Any) -> str:
    """One value in YAML flow style, on one line."""
    text = yaml.safe_dump(value, default_flow_style=True, width=10_000, sort_keys=False)
    return text.strip().removesuffix("...").strip()
