"""Where each key of a loaded config came from, and config errors as lines that say so.

Every config error reads ``<file or variable>: <key.path>: <message>``;
``config show`` marks every value with the same origin.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from infra.config.errors import Problem
from infra.config.model import ENV_DELIMITER, ENV_PREFIX, PATTERN_HELP


def _path(path: tuple[str | int, ...]) -> str:
    return ".".join(str(p) for p in path) if path else "(top level)"


class Origins:
    """Answers which file (or variable) a key path was set in.

    ``layers`` are (label, data) of each file, the most specific (env) first;
    ``overrides`` the ``APP_CONFIG__`` variables that were read.
    """

    def __init__(self, layers: list[tuple[str, Any]], overrides: Mapping[str, str]) -> None:
        self._layers = layers
        self._overrides = overrides

    def line(self, problem: Problem) -> str:
        """``<file>: <key.path>: <message>``, the form of every config error."""
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
            if shared and not any(_has(data, shared) for _, data in self._layers):
                return f"environment variable {key}"
        return None

    def label(self, path: tuple[str | int, ...]) -> str:
        """The file(s) or variable to blame for ``path``, for an error line."""
        variable = self._variable(path)
        if variable is not None:
            return variable
        # The deepest prefix of the path that a file sets names that file;
        # where several files set it, the most specific (env) file wins.
        for depth in range(len(path), -1, -1):
            found = [label for label, data in self._layers if _has(data, path[:depth])]
            if found:
                return found[0] if depth == len(path) else " + ".join(reversed(found))
        return self._layers[-1][0]

    def source(self, path: tuple[str | int, ...]) -> str:
        """Where the value at exactly ``path`` came from: a variable, the most
        specific file that sets it (or a mapping or list around it), or ``default``."""
        variable = self._variable(path)
        if variable is not None:
            return variable
        for depth in range(len(path), 0, -1):
            for label, data in self._layers:
                # A file that sets a whole list or scalar owns everything in it.
                if _has(data, path[:depth]) and (
                    depth == len(path) or not isinstance(_get(data, path[:depth]), dict)
                ):
                    return label
        return "default"


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
        message = "unknown key (check the spelling; see the config reference in README.md)"
    elif kind == "missing":
        message = "required key is missing"
    elif kind == "value_error":
        message = message.removeprefix("Value error, ")
    elif kind == "string_pattern_mismatch":
        what = PATTERN_HELP.get(
            error["ctx"]["pattern"], f"does not match {error['ctx']['pattern']}"
        )
        message = f"{error['input']!r} {what}"
    else:
        message = f"{error['input']!r}: {message}" if _is_scalar(error.get("input")) else message
    return origins.line(Problem(path, message))


def _is_scalar(value: object) -> bool:
    return isinstance(value, str | int | float | bool) or value is None
