"""What a broken config raises, and how every entry point shows it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One rule broken at one key path (``("services", "frontend", "memory")``)."""

    path: tuple[str | int, ...]
    message: str


class ConfigError(Exception):
    """A config that cannot be deployed; ``problems`` holds one line per issue,
    each naming the file and line (or the variable) and the key."""

    def __init__(self, problems: list[str], note: str | None = None) -> None:
        super().__init__("\n".join([*problems, *([note] if note else [])]))
        self.problems = problems
        self.note = note

    def render(self) -> str:
        """The text every entry point prints (to stderr) before exiting with 2."""
        count = len(self.problems)
        header = f"{count} problem{'s' if count != 1 else ''} in the config:"
        lines = [header, *(f"  {p}" for p in self.problems)]
        return "\n".join([*lines, *([self.note] if self.note else [])])
