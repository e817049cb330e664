"""``preview``: what deploying the working tree would change, against a git ref, offline.

Synthesizes the environment twice with this interpreter: from the working
tree, and from ``REF`` checked out in a temporary ``git worktree``; both run
at once. Then compares the templates (:mod:`infra.ops.diff`), and hands both
sides back with the diff, for the report to price.

A commit's templates never change for the same env, variables and library
versions, so the ref's are cached in ``.cache/preview/``: previewing edit
after edit against the same ref costs one synth. The working tree's are
cached the same way, keyed by the content of every file git would see (so
any edit, staged or not, synthesizes again): previewing again without an
edit, or against another ref, costs no synth for the tree.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import tempfile
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from infra.config import ENV_PREFIX, AppConfig
from infra.ops import synth
from infra.ops.diff import Diff, compare
from infra.ops.render import progress
from infra.paths import CONFIG_DIR, ROOT


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


def tree_state(top: Path, skip: Path | None = None) -> str:
    """A name for the working tree's current content: a hash over every file git
    tracks or would track (untracked but not ignored), path and bytes, less those
    under ``skip`` (the caches: .gitignore leaves them out, but a tree may lack one)."""
    listed = git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=top)
    digest = hashlib.sha256()
    for name in sorted(set(filter(None, listed.split("\0")))):
        if skip is not None and (top / name).is_relative_to(skip):
            continue
        path = top / name
        digest.update(name.encode() + b"\0")
        digest.update(path.read_bytes() if path.is_file() else b"(deleted)")
        digest.update(b"\0")
    return "tree:" + digest.hexdigest()


def _synth_ref(top: Path, commit: str, env: str, tmp: Path, config_dir: Path) -> synth.Templates:
    """``env``'s templates at ``commit``, from a temporary ``git worktree`` of it.

    Without the security checks: the ref is only the baseline of the comparison
    (what is deployed, or a branch), and a ref that fails them (a control added
    since, a waiver removed) must not stop a preview of the tree that fixes it.
    The working tree gets every check, as ``make synth`` and deploys do. A config
    folder the ref does not have yet (one ``import`` just wrote) has no stacks there:
    everything is new.
    """
    checkout = tmp / "ref"
    git("worktree", "add", "--detach", "--quiet", str(checkout), commit, cwd=top)
    try:
        tree = checkout / ROOT.relative_to(top)
        if not (tree / config_dir).is_dir():
            return {}
        return synth.start(tree, env, tmp / "old", checks=False, config_dir=config_dir).templates()
    finally:
        git("worktree", "remove", "--force", str(checkout), cwd=top)


def stateful_stacks(config: AppConfig) -> frozenset[str]:
    """The stacks of stateful services: a new task or service there restarts them empty."""
    return frozenset(
        config.stack_name(name) for name, svc in config.services.items() if svc.stateful
    )


def consumed_stacks(config: AppConfig) -> frozenset[str]:
    """The stacks of services that another service connects to."""
    return frozenset(
        config.stack_name(peer) for svc in config.services.values() for peer in svc.connects_to
    )


@dataclass(frozen=True)
class Preview:
    """What a preview found: the diff, and both sides' templates (to price them)."""

    diff: Diff
    before: synth.Templates  # at the ref; empty if its commit has no such config folder
    after: synth.Templates  # the working tree's


def preview(
    config: AppConfig, against: str = "HEAD", use_cache: bool = True, config_dir: Path = CONFIG_DIR
) -> Preview:
    """Templates of ``config.env`` from the working tree compared with those at ``against``,
    both from ``config_dir`` (a folder of the repository: the ref has its own copy)."""
    top = Path(git("rev-parse", "--show-toplevel"))
    try:
        folder = config_dir.resolve().relative_to(ROOT)
    except ValueError:
        raise PreviewError(
            f"{config_dir} is outside {ROOT}: preview compares git commits of a config "
            "folder in the repository"
        ) from None
    try:
        commit = git("rev-parse", "--verify", "--quiet", f"{against}^{{commit}}")
    except PreviewError:
        raise PreviewError(f"{against!r} is not a commit of {top}") from None
    env = config.env if folder == Path("config") else f"{config.env}@{folder}"
    ref_file = CACHE / f"{cache_key(commit, env)}.json"
    tree_file = CACHE / f"{cache_key(tree_state(top, skip=CACHE.parent), env)}.json"
    ref = f"{against} ({commit[:8]})"
    ref_hit, tree_hit = use_cache and ref_file.is_file(), use_cache and tree_file.is_file()
    sides = (("working tree", tree_hit), (ref, ref_hit))
    doing = [what for what, hit in sides if not hit]
    done = [what for what, hit in sides if hit]
    message = f"synthesizing {config.env}: " + (" and ".join(doing) or "nothing")
    with (
        tempfile.TemporaryDirectory(prefix="preview-") as tmp,
        progress(message + (f" ({', '.join(done)} cached)" if done else "")),
    ):
        # Both synths run at once; a cached side is read instead.
        new = (
            None
            if tree_hit
            else synth.start(ROOT, config.env, Path(tmp) / "new.out", config_dir=folder)
        )
        try:
            before = (
                json.loads(ref_file.read_text())
                if ref_hit
                else _synth_ref(top, commit, config.env, Path(tmp), folder)
            )
            after = json.loads(tree_file.read_text()) if new is None else new.templates()
        finally:
            if new is not None and new.process.poll() is None:
                new.process.kill()  # the ref failed: its partner's result is not needed
    CACHE.mkdir(parents=True, exist_ok=True)
    for file, hit, templates in ((ref_file, ref_hit, before), (tree_file, tree_hit, after)):
        if not hit:  # a side read from the cache is there already
            file.write_text(json.dumps(templates))
    diff = compare(before, after, stateful_stacks(config), consumed_stacks(config))
    return Preview(diff, before, after)


__all__ = ["Preview", "PreviewError", "preview", "stateful_stacks"]
