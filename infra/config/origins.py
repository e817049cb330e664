"""Where each key of a loaded config came from, and config errors as lines that say so.

Every config error reads ``<file>:<line>: <key.path>: <message>`` (or names the
``APP_CONFIG__`` variable, which has no line); ``config show`` marks every value
with the same origin.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from infra.config.errors import Problem
from infra.config.files import Document
from infra.config.model import ENV_DELIMITER, ENV_PREFIX, PATTERN_HELP, SHORT_FORMS, keys_at


def _path(path: tuple[str | int, ...]) -> str:
    return ".".join(str(p) for p in path) if path else "(top level)"


class Origins:
    """Answers which file and line (or variable) a key path was set in.

    ``layers`` are the files as read, the most specific (env) first;
    ``overrides`` the ``APP_CONFIG__`` variables that were read.
    """

    def __init__(self, layers: list[Document], overrides: Mapping[str, str]) -> None:
        self._layers = layers
        self._overrides = overrides

    def line(self, problem: Problem) -> str:
        """``<file>:<line>: <key.path>: <message>``, the form of every config error."""
        return f"{self.label(problem.path)}: {_path(problem.path)}: {problem.message}"

    def _variable(self, path: tuple[str | int, ...]) -> str | None:
        """The APP_CONFIG__ variable that sets ``path`` or a key around it, or that
        made up the mapping ``path`` is in (a misspelt service name in a variable
        creates a service that no file has, whose required keys are then missing)."""
        lowered = tuple(str(p).lower() for p in path)
        found = {key: tuple(key[len(ENV_PREFIX) :].lower().split(ENV_DELIMITER))
                 for key in self._overrides}  # fmt: skip
        for key, parts in found.items():
            if parts == lowered[: len(parts)]:
                return f"environment variable {key}"
        for key, parts in found.items():
            shared = path[: _shared_length(parts, lowered)]
            if shared and not any(_has(layer.data, shared) for layer in self._layers):
                return f"environment variable {key}"
        return None

    def label(self, path: tuple[str | int, ...]) -> str:
        """The file(s) and line or the variable to blame for ``path``, for an error line."""
        variable = self._variable(path)
        if variable is not None:
            return variable
        # The deepest prefix of the path that a file sets names that file and the
        # prefix's line (for a missing key, the mapping it is missing from); where
        # several files set the path itself, the most specific (env) file wins.
        for depth in range(len(path), -1, -1):
            at = path[:depth]
            found = [layer for layer in self._layers if _has(layer.data, at)]
            if found:
                if depth == len(path):
                    return found[0].at(at)
                return " + ".join(layer.at(at) for layer in reversed(found))
        return self._layers[-1].label

    def source(self, path: tuple[str | int, ...]) -> str:
        """Where the value at exactly ``path`` came from: a variable, the most
        specific file that sets it (or a mapping or list around it), or ``default``."""
        variable = self._variable(path)
        if variable is not None:
            return variable
        for depth in range(len(path), 0, -1):
            for layer in self._layers:
                # A file that sets a whole list or scalar owns everything in it,
                # except a short form, which sets only the key it stands for.
                if _has(layer.data, path[:depth]) and (
                    depth == len(path) or _owns(path, depth, _get(layer.data, path[:depth]))
                ):
                    return layer.label
        return "default"


def _owns(path: tuple[str | int, ...], depth: int, value: Any) -> bool:
    """Whether ``value``, set at ``path[:depth]``, sets the key at ``path`` below it."""
    if isinstance(value, dict):
        return False
    short = SHORT_FORMS.get(str(path[depth - 1]))
    if short is not None and isinstance(value, str):
        return path[depth:] == (short,)
    return True


def _shared_length(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    """How many leading parts two key paths have in common."""
    length = 0
    while length < min(len(a), len(b)) and a[length] == b[length]:
        length += 1
    return length


def _get(data: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


def _has(data: Any, path: tuple[str | int, ...]) -> bool:
    for part in path:
        if isinstance(data, list) and isinstance(part, int):
            found = part < len(data)
        else:
            found = isinstance(data, dict) and part in data
        if not found:
            return False
        data = data[part]
    return True


def error_path(error: Any) -> tuple[str | int, ...]:
    # pydantic marks a bad mapping key with a trailing "[key]"; the path already ends in it.
    return tuple(p for p in error["loc"] if p != "[key]")


def pydantic_line(error: Any, origins: Origins) -> str:
    """One pydantic validation error as a config error line, in plain words."""
    path = error_path(error)
    kind, message = error["type"], error["msg"]
    if kind == "extra_forbidden":
        message = _unknown_key(path)
    elif kind == "missing":
        message = "required key is missing"
        if path and path[-1] == "user":
            message += (": the numeric uid or uid:gid the container runs as, quoted "
                        "(e.g. '10001'), or image for the image's own user")  # fmt: skip
    elif (
        kind == "string_type"
        and path
        and path[-1] in ("user", "owner")
        and isinstance(error.get("input"), int)
    ):
        # YAML reads an unquoted 10001 as a number, and 1000:50 as 60050 (base 60).
        message = (
            f"{error['input']}: write the uid or uid:gid in quotes, such as '10001' or '1000:50'"
        )
    elif kind == "value_error":
        message = message.removeprefix("Value error, ")
    elif kind in ("model_type", "dict_type") and _is_secret(path) and error.get("input"):
        given = error["input"]
        if isinstance(given, str) and ":secretsmanager:" in given:
            message = f"{given!r}: say where it is kept: {{secrets_manager: {given}}}"
        else:
            message = (
                f"{given!r}: say where it is kept: {{ssm: {given}}} for an SSM parameter, "
                "or {secrets_manager: <the secret's complete ARN>}"
            )
    elif kind in ("model_type", "dict_type") and _is_scalar(error.get("input")):
        message = _not_a_mapping(error["input"])
    elif kind in ("dict_type", "model_type") and isinstance(error.get("input"), list) and path:
        message = _a_list_for_a_mapping(str(path[-1]))
    elif kind == "string_pattern_mismatch":
        what = PATTERN_HELP.get(
            error["ctx"]["pattern"], f"does not match {error['ctx']['pattern']}"
        )
        message = f"{error['input']!r} {what}"
    else:
        message = f"{error['input']!r}: {message}" if _is_scalar(error.get("input")) else message
    return origins.line(Problem(path, message))


def _unknown_key(path: tuple[str | int, ...]) -> str:
    """``unknown key``, with the nearest key allowed in its place when one is near."""
    # `env` is the file's own name (from --context), never a key to write.
    allowed = [key for key in keys_at(path[:-1]) if key != "env"]
    near = difflib.get_close_matches(str(path[-1]), allowed, n=1) if path else []
    if near:
        return f"unknown key; did you mean {near[0]}?"
    return "unknown key (check the spelling; see the config reference in README.md)"


def _not_a_mapping(value: object) -> str:
    """Where YAML gave one value and keys were expected, the likely slip."""
    if value is None:
        return "is empty: its keys go on the lines below it, indented further right"
    if isinstance(value, str) and ":" in value:
        return f"{value!r} is one text, not a key: put a space after the ':'"
    return f"{value!r}: expected keys under it (a mapping), indented further right"


# Compose writes these as lists; here each is a mapping, as the config reference shows.
_MAPPING_EXAMPLES = {
    "volumes": "a mapping of volume name to path, e.g. redis-data: /data "
    "(compose's '- redis-data:/data')",
    "environment": "a mapping of NAME: value (compose's '- NAME=value')",
    "secrets": "a mapping of NAME: {ssm: /param/name} or NAME: {secrets_manager: <ARN>}",
    "build": "a directory (build: frontend) or a mapping (context, dockerfile, target, args)",
}


def _a_list_for_a_mapping(key: str) -> str:
    """A list where a mapping belongs: how to write it, for the keys compose writes as lists."""
    example = _MAPPING_EXAMPLES.get(key, "a mapping of keys to values")
    return f"is a list; write {example}"


def _is_secret(path: tuple[str | int, ...]) -> bool:
    """``services.<name>.secrets.<NAME>``."""
    return len(path) == 4 and path[0] == "services" and path[2] == "secrets"


def _is_scalar(value: object) -> bool:
    return isinstance(value, str | int | float | bool) or value is None
