"""``preview``: what deploying the working tree would change, against a git ref, offline.

Synthesizes the environment twice with this interpreter: from the working
tree, and from ``REF`` checked out in a temporary ``git worktree``; both run
at once. Then compares the templates (:mod:`infra.ops.diff`).

A commit's templates never change for the same env, variables and library
versions, so the ref's are cached in ``.cache/preview/``: previewing edit
after edit against the same ref costs one synth.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import tempfile
from dataclasses import asdict
from importlib.metadata import version
from pathlib import Path
from typing import Any

from infra.config import ENV_PREFIX, AppConfig
from infra.ops import synth
from infra.ops.diff import MISSING, STATEFUL_SERVICE_TYPES, Diff, ResourceChange, compare
from infra.ops.render import progress, say
from infra.paths import ROOT


class PreviewError(Exception):
    """The ref or the repository cannot be used."""


def git(*args: str, cwd: Path = ROOT) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise PreviewError(f"git {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout.strip()


CACHE = ROOT / ".cache" / "preview"


def cache_key(commit: str, env: str) -> str:
    """What a ref's templates depend on besides its files: the env, the config
    variables, and the interpreter and CDK libraries doing the synth."""
    overrides = sorted((k, v) for k, v in os.environ.items() if k.upper().startswith(ENV_PREFIX))
    inputs = {
        "commit": commit, "env": env, "overrides": overrides,
        "python": platform.python_version(),
        "libraries": [version(p) for p in ("aws-cdk-lib", "constructs", "cdk-nag")],
    }  # fmt: skip
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:24]


def preview(config: AppConfig, against: str = "HEAD", use_cache: bool = True) -> Diff:
    """Templates of ``config.env`` from the working tree compared with those at ``against``."""
    top = Path(git("rev-parse", "--show-toplevel"))
    try:
        commit = git("rev-parse", "--verify", "--quiet", f"{against}^{{commit}}")
    except PreviewError:
        raise PreviewError(f"{against!r} is not a commit of {top}") from None
    stateful = frozenset(
        config.stack_name(name) for name, svc in config.services.items() if svc.stateful
    )
    cached = CACHE / f"{cache_key(commit, config.env)}.json"
    ref = f"{against} ({commit[:8]})"
    with tempfile.TemporaryDirectory(prefix="preview-") as tmp:
        if use_cache and cached.is_file():
            with progress(f"synthesizing {config.env}: working tree ({ref} cached)"):
                before = json.loads(cached.read_text())
                after = synth.start(ROOT, config.env, Path(tmp) / "new.out").templates()
            return compare(before, after, stateful)
        checkout = Path(tmp) / "ref"
        git("worktree", "add", "--detach", "--quiet", str(checkout), commit, cwd=top)
        try:
            with progress(f"synthesizing {config.env}: working tree and {ref}"):
                old = synth.start(checkout / ROOT.relative_to(top), config.env, Path(tmp) / "old")
                new = synth.start(ROOT, config.env, Path(tmp) / "new.out")
                before, after = old.templates(), new.templates()
        finally:
            git("worktree", "remove", "--force", str(checkout), cwd=top)
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps(before))
    return compare(before, after, stateful)


def _short(stack: str, config: AppConfig) -> str:
    return stack.removeprefix(f"{config.app}-{config.env}-")


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
    # Properties with changes not listed above, by their top-level name.
    others = sorted(
        {str(c.path[0]) for c in change.changes} - {str(c.path[0]) for c in scalars[:4]}
    )
    if others:
        shown.append("changed: " + ", ".join(others))
    if len(scalars) > 4:
        shown.append(f"and {len(scalars) - 4} more")
    return "; ".join(shown)


def print_human(diff: Diff, config: AppConfig, against: str) -> None:
    """A short summary: warnings first, then each changed stack."""
    say(f"preview {config.env}: working tree against {against}", style="bold")
    for warning in diff.warnings:
        what = "REMOVED" if warning.action == "remove" else f"REPLACED ({warning.reason})"
        loss = (
            "the stateful service restarts empty"
            if warning.type in STATEFUL_SERVICE_TYPES
            else "its data or dependents go with it"
        )
        say(f"WARNING {_short(warning.stack, config)}: {warning.name} ({warning.type}) is "
            f"{what}: {loss}", style="bold red")  # fmt: skip
    for stack in diff.stacks_added:
        say(f"+ new stack {stack}", style="green")
    for stack in diff.stacks_removed:
        say(f"- stack {stack} removed", style="red")
    marks = {"add": "+", "remove": "-", "modify": "~", "rename": "~"}
    current = None
    for change in diff.resources:
        if change.stack != current:
            current = change.stack
            say(_short(current, config), style="bold")
        label = f"  {marks[change.action]} {change.name} ({change.type.split('::', 1)[-1]})"
        if change.replacement:
            label += f" REPLACE ({change.reason})"
        detail = _describe(change)
        style = "red" if change.replacement or change.action == "remove" else None
        say(label + (f": {detail}" if detail else ""), style=style)
    if diff.stacks_unchanged:
        say("unchanged: " + ", ".join(_short(s, config) for s in diff.stacks_unchanged))
    if not diff.changed:
        say("no changes")


def as_json(diff: Diff, config: AppConfig, against: str) -> str:
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
            "exit_code": diff.exit_code(),
            "warnings": [f"{w.stack}/{w.name}" for w in diff.warnings],
            "stacks_added": diff.stacks_added,
            "stacks_removed": diff.stacks_removed,
            "stacks_unchanged": diff.stacks_unchanged,
            "resources": resources,
        },
        indent=2,
    )


__all__ = ["PreviewError", "as_json", "preview", "print_human"]
