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
from importlib.metadata import version
from pathlib import Path

from infra.config import ENV_PREFIX, AppConfig
from infra.ops import synth
from infra.ops.diff import Diff, compare
from infra.ops.render import progress
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


def stateful_stacks(config: AppConfig) -> frozenset[str]:
    """The stacks of stateful services: a new task or service there restarts them empty."""
    return frozenset(
        config.stack_name(name) for name, svc in config.services.items() if svc.stateful
    )


def preview(config: AppConfig, against: str = "HEAD", use_cache: bool = True) -> Diff:
    """Templates of ``config.env`` from the working tree compared with those at ``against``."""
    top = Path(git("rev-parse", "--show-toplevel"))
    try:
        commit = git("rev-parse", "--verify", "--quiet", f"{against}^{{commit}}")
    except PreviewError:
        raise PreviewError(f"{against!r} is not a commit of {top}") from None
    stateful = stateful_stacks(config)
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


__all__ = ["PreviewError", "preview", "stateful_stacks"]
