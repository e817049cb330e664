"""Reading one config file: its data, the line of every key, and what is wrong with it.

Built on PyYAML's composer: the node tree carries the line each key starts on,
which :class:`~infra.config.origins.Origins` then puts in front of every error.
The same walk refuses duplicate keys, which ``yaml.safe_load`` would silently
resolve to the last one.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import yaml

from infra.config.errors import ConfigError

Key = Hashable
KeyPath = tuple[Key, ...]

# `<<: *defaults` merges another mapping in; its keys may be overridden next to it.
MERGE_TAG = "tag:yaml.org,2002:merge"

INDENTATION = (
    "check the indentation: the keys of one mapping start in the same column, "
    "a nested key further right than its parent"
)
# PyYAML's own words for a problem -> what usually causes it.
HINTS = (
    ("expected <block end>", INDENTATION),
    ("did not find expected key", INDENTATION),
    ("did not find expected '-' indicator", INDENTATION),
    ("could not find expected ':'", f"a key needs ': ' after it; or {INDENTATION}"),
    (
        "mapping values are not allowed here",
        f"{INDENTATION}; quote a value that holds ': '; a key needs ':' on the line above",
    ),
    ("'\\t'", "indent with spaces: YAML does not allow tabs"),
)


@dataclass(frozen=True)
class Document:
    """One file as read: the label errors show it by, its data, and the line (from 1)
    each key path starts on."""

    label: str
    data: dict[str, Any]
    lines: dict[KeyPath, int] = field(default_factory=dict)

    def at(self, path: KeyPath) -> str:
        """``<file>:<line>`` of ``path``; the file alone for a path with no line of its
        own (the top level, or a key merged in with ``<<``)."""
        line = self.lines.get(path)
        return self.label if line is None else f"{self.label}:{line}"


@dataclass(frozen=True)
class _Duplicate:
    path: KeyPath
    line: int
    first: int


def read(text: str | bytes, label: str) -> Document:
    """The mapping in ``text`` (a file shown as ``label``), or a ConfigError naming the line.

    Bytes are decoded as YAML says (UTF-8 or UTF-16), so bad bytes are a YAML error too.
    """
    try:
        data, lines, first_line = _load(text, label)
    except yaml.YAMLError as error:
        raise ConfigError([_syntax_line(label, text, error)]) from None
    if not isinstance(data, dict):
        raise ConfigError(
            [
                f"{label}:{first_line}: the top level must be a mapping of keys, "
                f"not a {type(data).__name__}"
            ]
        )
    document = Document(label, data, lines)
    # YAML reads `0:`, `yes:` or `null:` as a number, boolean or null key.
    odd = [key for key in data if not isinstance(key, str)]
    if odd:
        raise ConfigError(
            [f"{document.at((k,))}: {k!r}: a top-level key must be text; quote it" for k in odd]
        )
    return document


def _load(text: str | bytes, label: str) -> tuple[Any, dict[KeyPath, int], int]:
    """The data (``{}`` for an empty file), each key path's line, and the first line
    of the data; duplicate keys raise a ConfigError."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        # An empty file, or one that says `~` or `---` alone: nothing differs from base.
        if node is None or node.tag == "tag:yaml.org,2002:null":
            return {}, {}, 1
        lines: dict[KeyPath, int] = {}
        duplicates: list[_Duplicate] = []
        _walk(loader, node, (), lines, duplicates, set())
        if duplicates:
            raise ConfigError([_duplicate_line(label, d) for d in duplicates])
        return loader.construct_document(node), lines, node.start_mark.line + 1
    finally:
        loader.dispose()


def _walk(
    loader: yaml.SafeLoader,
    node: yaml.Node,
    at: KeyPath,
    lines: dict[KeyPath, int],
    duplicates: list[_Duplicate],
    seen: set[int],
) -> None:
    """Record the line of every key and item under ``node``, and every key set twice."""
    # An alias repeats a node met before: its keys were checked there, and walking it
    # again could go on forever (`&a [*a]`) or blow up (aliases of aliases).
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        first: dict[Key, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                continue
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, Hashable):
                continue  # constructing the document reports it
            path, line = (*at, key), key_node.start_mark.line + 1
            if key in first:
                duplicates.append(_Duplicate(path, line, first[key]))
            else:
                first[key] = lines[path] = line
            _walk(loader, value_node, path, lines, duplicates, seen)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*at, index)] = item.start_mark.line + 1
            _walk(loader, item, (*at, index), lines, duplicates, seen)


def _duplicate_line(label: str, duplicate: _Duplicate) -> str:
    path = ".".join(str(p) for p in duplicate.path)
    return (
        f"{label}:{duplicate.line}: {path}: set twice (first on line {duplicate.first}); "
        "YAML would keep only the last: remove one"
    )


def _syntax_line(label: str, text: str | bytes, error: yaml.YAMLError) -> str:
    """``<file>:<line>: not valid YAML: <reason> (<hint>)``, on one line."""
    line = _error_line(text, error)
    where = label if line is None else f"{label}:{line}"
    problem = getattr(error, "problem", None)
    context = getattr(error, "context", None)
    if problem is None:
        reason = str(error).splitlines()[0]
    elif problem.startswith("but ") and context:  # one sentence PyYAML splits in two
        reason = f"{context} {problem}"
    else:
        reason = problem
    hint = next((h for words, h in HINTS if words in reason), None)
    return f"{where}: not valid YAML: {reason}" + (f" ({hint})" if hint else "")


def _error_line(text: str | bytes, error: yaml.YAMLError) -> int | None:
    mark = getattr(error, "problem_mark", None)
    if mark is not None:
        return int(mark.line) + 1
    # A bad byte or character is found by the reader, which knows only its position.
    if not isinstance(error, yaml.reader.ReaderError):
        return None
    before = text[: error.position]
    return (before.count(b"\n") if isinstance(before, bytes) else before.count("\n")) + 1
