"""How ``preview`` shows a diff and its findings: for people, and as JSON."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from infra.config import AppConfig, advisories
from infra.ops.checks import REVISION_TYPES, Finding
from infra.ops.cost import Prices, estimate, total
from infra.ops.diff import MISSING, Diff, ResourceChange
from infra.ops.render import say


@dataclass(frozen=True)
class CostChange:
    """The always-on monthly cost (``infra.ops.cost``) of the ref's templates and of the
    working tree's, in USD."""

    before: float
    after: float
    prices: Prices

    @classmethod
    def of(
        cls,
        before: Mapping[str, Mapping[str, Any]],
        after: Mapping[str, Mapping[str, Any]],
        prices: Prices,
    ) -> CostChange:
        """Both sides' templates (stack name -> template) priced; a ref without the
        env's stacks costs 0."""
        return cls(total(estimate(before, prices)), total(estimate(after, prices)), prices)

    @property
    def line(self) -> str:
        """``cost: $51.20 -> $64.44 /month``: the human output's last line but one."""
        return f"cost: ${self.before:,.2f} -> ${self.after:,.2f} /month"

    def as_json(self) -> dict[str, Any]:
        """Both totals (USD, two decimals) and which prices made them."""
        return {"before": round(self.before, 2), "after": round(self.after, 2), "currency": "USD",
                "prices_taken": self.prices.taken, "region": self.prices.region}  # fmt: skip


def exit_code(diff: Diff, findings: list[Finding]) -> int:
    """0 nothing changes, 1 changes, 3 a check found something to look at first."""
    return 3 if findings else 1 if diff.changed else 0


def summary(diff: Diff, findings: list[Finding]) -> str:
    """The last line of the output: the exit code in plain words."""
    code = exit_code(diff, findings)
    if code == 0:
        return "exit 0: no changes"
    if code == 1:
        return "exit 1: changes, no warnings"
    one = len(findings) == 1
    return (
        f"exit 3: {len(findings)} warning{'' if one else 's'} above: "
        f"review {'it' if one else 'them'} before deploying"
    )


def _value(value: Any) -> str:
    if value is MISSING:
        return "(none)"
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def _describe(change: ResourceChange) -> str:
    scalars = [c for c in change.changes if not isinstance(c.old, dict | list)
               and not isinstance(c.new, dict | list)]  # fmt: skip
    shown = [f"{c.name} {_value(c.old)} -> {_value(c.new)}" for c in scalars[:4]]
    # Mappings and lists, by their full name and what happened to them: a block
    # removed beside a scalar changed in the same property must not go unseen.
    nested: dict[str, list[str]] = {}
    for c in change.changes:
        if c not in scalars:
            what = "added" if c.old is MISSING else "removed" if c.new is MISSING else "changed"
            nested.setdefault(what, []).append(c.name)
    for what in ("added", "removed", "changed"):
        if what in nested:
            shown.append(f"{what}: " + ", ".join(sorted(set(nested[what]))))
    if len(scalars) > 4:
        shown.append(f"and {len(scalars) - 4} more")
    return "; ".join(shown)


def print_human(
    diff: Diff, findings: list[Finding], config: AppConfig, against: str, cost: CostChange
) -> None:
    """A short summary: notes on the config, findings, each changed stack, then the
    monthly cost before and after, and last the exit code in words."""
    say(f"preview {config.env}: working tree against {against}", style="bold")
    # An edit of a key the template ignores changes nothing below: say why first.
    for note in advisories(config):
        say(f"note: {note}", style="yellow")
    for finding in findings:
        change = finding.change
        say(f"WARNING {config.part_of(change.stack)}: {change.name} ({change.type}) "
            f"{finding.message}", style="bold red")  # fmt: skip
    for stack in diff.stacks_added:
        say(f"+ new stack {stack}", style="green")
    for stack in diff.stacks_removed:
        say(f"- stack {stack} removed", style="red")
    marks = {"add": "+", "remove": "-", "modify": "~", "rename": "~"}
    current = None
    for change in diff.resources:
        if change.stack != current:
            current = change.stack
            say(config.part_of(current), style="bold")
        say(*_resource_line(change, marks[change.action]))
    if diff.stacks_unchanged:
        say("unchanged: " + ", ".join(config.part_of(s) for s in diff.stacks_unchanged))
    say(cost.line)
    say(summary(diff, findings), style="bold")


def _resource_line(change: ResourceChange, mark: str) -> tuple[str, str | None]:
    """``  ~ Name (Type) [REPLACE (why)]: details`` and its style (red: something goes)."""
    label = f"  {mark} {change.name} ({change.type.split('::', 1)[-1]})"
    revision = change.type in REVISION_TYPES
    if change.replacement:
        what = "new revision, the service deploys it" if revision else "REPLACE"
        label += f" {what} ({change.reason})"
    # Red: a removal, a replacement, or a new revision that restarts a stateful service.
    gone = change.action == "remove" or (change.replacement and (change.stateful or not revision))
    detail = _describe(change)
    return label + (f": {detail}" if detail else ""), "red" if gone else None


def as_json(
    diff: Diff, findings: list[Finding], config: AppConfig, against: str, cost: CostChange
) -> str:
    """The whole diff; ``warnings`` lists each finding's resource as ``<stack>/<name>``,
    ``notes`` the config's advisories (keys set to no effect), ``cost`` the monthly
    cost before and after."""

    def plain(value: Any) -> Any:
        return None if value is MISSING else value

    resources = []
    for change in diff.resources:
        entry = asdict(change)
        entry["changes"] = [
            {"property": c.name, "old": plain(c.old), "new": plain(c.new),
             "create_only": c.create_only}
            for c in change.changes
        ]  # fmt: skip
        resources.append(entry)
    return json.dumps(
        {
            "env": config.env,
            "against": against,
            "exit_code": exit_code(diff, findings),
            "summary": summary(diff, findings),
            "cost": cost.as_json(),
            "warnings": [f"{f.change.stack}/{f.change.name}" for f in findings],
            "notes": advisories(config),
            "stacks_added": diff.stacks_added,
            "stacks_removed": diff.stacks_removed,
            "stacks_unchanged": diff.stacks_unchanged,
            "resources": resources,
        },
        indent=2,
    )


__all__ = ["CostChange", "as_json", "exit_code", "print_human", "summary"]
