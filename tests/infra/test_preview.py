"""``python -m infra preview``: the real CLI on a real git repository, and its cache key."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.ops import cost
from infra.ops.preview import _synth_ref, cache_key, tree_state
from infra.ops.preview import git as git_here
from infra.paths import ROOT
from tests.support.cli import run

pytestmark = pytest.mark.end_to_end

# What a checkout needs to synthesize: the app, its config and code, the
# frontend's build context and the security skip list.
PROJECT = ["app.py", "cdk.json", "config", "infra", "frontend", "security", ".gitignore"]
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".mypy_cache", ".ruff_cache")


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True)
    return result.stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A real git repository holding the project, one commit deep."""
    root = tmp_path / "repo"
    root.mkdir()
    for name in PROJECT:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=IGNORE)
        else:
            shutil.copy2(source, root / name)
    # The Control Tower passes the project has already verified, shared (entries are
    # keyed by the exact template, waivers and checker): as on a user's machine, the
    # working tree's unchanged stacks are not checked again. Preview's own cache stays
    # the copy's.
    passes = ROOT / ".cache" / "control-tower"
    passes.mkdir(parents=True, exist_ok=True)
    (root / ".cache").mkdir()
    (root / ".cache" / "control-tower").symlink_to(passes, target_is_directory=True)
    git(root, "init", "--quiet", "--initial-branch=main")
    git(root, "config", "user.email", "test@example.com")
    git(root, "config", "user.name", "Test")
    git(root, "add", ".")
    git(root, "commit", "--quiet", "-m", "initial")
    return root


def edit(repo: Path, file: str, change: Any) -> None:
    path = repo / "config" / file
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_preview_end_to_end(repo: Path) -> None:
    """A ref checked out and synthesized beside the working tree (one synth each, at
    once), an in-place edit and a rename in one run, the same again as JSON with both
    sides' templates from the cache, and the errors a user meets. The ref fails the
    security checks (Container Insights off) and the working tree fixes it: only the
    working tree is checked, so the preview of the fix runs."""
    edit(repo, "base.yaml", lambda d: d["cluster"].update(container_insights=False))
    git(repo, "commit", "--quiet", "-am", "container insights off")
    edit(repo, "base.yaml", lambda d: d["cluster"].update(container_insights=True))
    edit(repo, "dev.yaml", lambda d: d["services"]["frontend"].update(desired_count=3))
    # A refactor that renames a construct: the flow log group (stateful) is replaced.
    stack = repo / "infra" / "network" / "stack.py"
    stack.write_text(stack.read_text().replace('"FlowLogGroup"', '"FlowLogs"'))
    result = run("preview", "--env", "dev", cwd=repo)
    assert result.returncode == 3, result.stderr
    assert "synthesizing dev: working tree and HEAD (" in result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "preview dev: working tree against HEAD"
    found = re.search(r"logical ID (\w+) -> (\w+)\)", lines[1])
    assert found, lines
    old, new = found.groups()
    assert old.startswith("FlowLogGroup") and new.startswith("FlowLogs")
    assert lines[1] == (f"WARNING network: FlowLogs (AWS::Logs::LogGroup) is REPLACED (logical ID "
                        f"{old} -> {new}): its data or dependents go with it")  # fmt: skip
    assert "  ~ Service (ECS::Service): DesiredCount 1 -> 3" in lines
    assert f"  ~ FlowLogs (Logs::LogGroup) REPLACE (logical ID {old} -> {new})" in lines
    # The fix of the ref's failed check: Container Insights, its log group, and the
    # alarms on its task counts.
    assert any(line.startswith("  + InsightsLogs (Logs::LogGroup)") for line in lines), lines
    assert lines.count("  + Alarms/TasksBelowDesired (CloudWatch::Alarm)") == 2, lines
    # The monthly cost of both sides comes just before the summary, which stays last.
    assert lines[-3] == "unchanged: storage"
    assert re.fullmatch(r"cost: \$[\d,]+\.\d\d -> \$[\d,]+\.\d\d /month", lines[-2]), lines
    assert lines[-1] == "exit 3: 1 warning above: review it before deploying"
    # The ref's templates and the working tree's, each under its own key.
    assert len(list((repo / ".cache" / "preview").glob("*.json"))) == 2
    assert git(repo, "worktree", "list").count("\n") == 1  # the temporary checkout is gone

    # Again, as JSON, with no edit in between: both sides come from the cache.
    again = run("preview", "--env", "dev", "--json", cwd=repo)
    assert again.returncode == 3, again.stderr
    assert "synthesizing dev: nothing (working tree, HEAD (" in again.stderr, again.stderr
    report = json.loads(again.stdout)
    assert (report["exit_code"], report["warnings"]) == (3, ["timestamper-dev-network/FlowLogs"])
    assert report["summary"] == "exit 3: 1 warning above: review it before deploying"
    (scaled,) = [r for r in report["resources"] if r["type"] == "AWS::ECS::Service"]
    assert scaled["changes"] == [
        {"property": "DesiredCount", "old": 1, "new": 3, "create_only": False}
    ]
    # The cost of the templates compared (the cache holds both sides), in both outputs:
    # two more frontend tasks, and the alarms that came with Container Insights.
    money = report["cost"]
    assert (money["currency"], money["region"], money["prices_taken"]) == (
        "USD", "us-east-1", "2025-10")  # fmt: skip
    assert money["after"] > money["before"]
    assert lines[-2] == f"cost: ${money['before']:,.2f} -> ${money['after']:,.2f} /month"
    cached = [json.loads(f.read_text()) for f in (repo / ".cache" / "preview").glob("*.json")]
    prices = cost.Prices.load()
    assert sorted(round(cost.total(cost.estimate(t, prices)), 2) for t in cached) == [
        money["before"], money["after"]]  # fmt: skip

    missing = run("preview", "--env", "dev", "--against", "no-such-ref", cwd=repo)
    assert missing.returncode == 2 and "'no-such-ref' is not a commit" in missing.stderr
    edit(repo, "dev.yaml", lambda d: d["services"]["frontend"].update(memory=4096))
    broken = run("preview", "--env", "dev", cwd=repo)
    assert broken.returncode == 2
    assert re.search(
        r"config/dev\.yaml:\d+: services\.frontend\.memory: 4096 is not valid", broken.stderr
    ), broken.stderr


def test_the_working_tree_state_changes_with_any_file_git_would_see(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "--quiet")
    (repo / ".gitignore").write_text("ignored.txt\n")
    (repo / "tracked.txt").write_text("one")
    git(repo, "add", ".")
    first = tree_state(repo)
    assert first == tree_state(repo)
    (repo / "ignored.txt").write_text("not part of the tree")
    assert tree_state(repo) == first
    (repo / ".cache").mkdir()
    (repo / ".cache" / "entry.json").write_text("{}")  # not ignored here, but skipped
    assert tree_state(repo, skip=repo / ".cache") == first != tree_state(repo)
    (repo / "tracked.txt").write_text("two")  # edited, not staged
    edited = tree_state(repo)
    assert edited != first
    (repo / "new.txt").write_text("untracked")
    assert tree_state(repo) not in (first, edited)
    (repo / "new.txt").unlink()
    (repo / "tracked.txt").unlink()
    assert tree_state(repo) not in (first, edited)


def test_the_cache_key_is_what_a_refs_templates_depend_on(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:  # fmt: skip
    monkeypatch.delenv("APP_CONFIG__SERVICES__FRONTEND__CPU", raising=False)
    key = cache_key("a" * 40, "dev")
    assert key == cache_key("a" * 40, "dev")
    assert key != cache_key("b" * 40, "dev") and key != cache_key("a" * 40, "prod")
    monkeypatch.setenv("APP_CONFIG__SERVICES__FRONTEND__CPU", "512")
    assert cache_key("a" * 40, "dev") != key


def test_a_config_folder_the_ref_lacks_has_no_stacks_there(tmp_path: Path) -> None:
    """A folder ``import`` just wrote is not in HEAD yet: everything in it is new (no
    synth of the ref, which would fail on the missing folder)."""
    top = Path(git_here("rev-parse", "--show-toplevel"))
    head = git_here("rev-parse", "HEAD")
    assert _synth_ref(top, head, "dev", tmp_path, Path("no-such-folder")) == {}
    assert git_here("worktree", "list").count("\n") == 0  # the checkout is gone again
