"""The mapping report: each compose key mapped, dropped (with why), or refused."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Verdict(StrEnum):
    MAPPED = "mapped"  # written to the config, perhaps reshaped
    DROPPED = "dropped"  # has no equivalent on ECS, or none is needed; why is said
    NOTE = "note"  # mapped or decided, and worth a look before deploying
    REFUSED = "refused"  # cannot be carried over safely: nothing is written


@dataclass(frozen=True)
class Entry:
    """One line of the report, about ``key`` of ``service`` (None: the whole file)."""

    verdict: Verdict
    service: str | None
    key: str
    text: str
    where: str  # file:line


@dataclass
class Report:
    """What the import did with every key, in the order it looked at them."""

    entries: list[Entry] = field(default_factory=list)

    def add(self, verdict: Verdict, where: str, service: str | None, key: str, text: str) -> None:
        self.entries.append(Entry(verdict, service, key, text, where))

    @property
    def refusals(self) -> list[Entry]:
        return [e for e in self.entries if e.verdict is Verdict.REFUSED]

    def refusal_lines(self) -> list[str]:
        """``file:line: key: reason``, one per refusal."""
        return [f"{e.where}: {_key(e)}: {e.text}" for e in self.refusals]

    def lines(self) -> list[str]:
        """The report grouped by service, each entry ``verdict  key: text``."""
        groups: dict[str | None, list[Entry]] = {}
        for entry in self.entries:
            groups.setdefault(entry.service, []).append(entry)
        out: list[str] = []
        for service, entries in groups.items():
            out.append(service if service is not None else "(the whole file)")
            out += [f"  {e.verdict.value:<8} {e.key}: {e.text}" for e in entries]
        return out


def _key(entry: Entry) -> str:
    return entry.key if entry.service is None else f"services.{entry.service}.{entry.key}"
