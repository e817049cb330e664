"""The operator CLI, ``python -m infra``: config show, preview and cost, run for real."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.config import load_with_origins
from infra.ops import cost, cost_report
from infra.ops.checks import run_checks
from infra.ops.diff import compare
from infra.ops.preview import stateful_stacks
from infra.ops.show import annotated_yaml
from infra.paths import ROOT
from tests.infra.conftest import Synth

# What a checkout needs to synthesize: the app, its config and code, the
# frontend's build context and the security skip list.
PROJECT = ["app.py", "cdk.json", "config", "infra", "frontend", "security"]
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".mypy_cache", ".ruff_cache")


def run(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "infra", *args],
        cwd=cwd, capture_output=True, text=True, timeout=600, env=env,
    )  # fmt: skip


# --- config show -------------------------------------------------------------------


def origins_of(text: str, line_start: str) -> set[str]:
    """The origins on every line that starts (after indentation) with ``line_start``."""
    return {line.rsplit("# ", 1)[1] for line in text.splitlines()
            if line.strip().startswith(line_start)}  # fmt: skip


def origin_of(text: str, line_start: str) -> str:
    (origin,) = origins_of(text, line_start)
    return origin


def test_config_show_names_where_each_value_came_from() -> None:
    variable = "APP_CONFIG__SERVICES__FRONTEND__DESIRED_COUNT"
    config, origins = load_with_origins("prod", environ={variable: "3"})
    text = annotated_yaml(config, origins)
    assert origin_of(text, "app: timestamper") == "config/base.yaml"  # a base key
    assert origin_of(text, "nat_gateways: 2") == "config/prod.yaml"  # an env override
    assert origin_of(text, "desired_count: 3") == f"environment variable {variable}"
    assert origin_of(text, "cidr:") == "config/base.yaml"
    assert origin_of(text, "cpu_percent: 60") == "config/prod.yaml"  # inside a prod-only mapping
    assert origins_of(text, "exec: false") == {"default"}  # not set anywhere
    assert origins_of(text, "interval_seconds: 30") == {"default"}
    # The annotated text is still the config, as YAML.
    assert yaml.safe_load(text) == config.model_dump(mode="json")


def test_config_show_cli_and_its_errors() -> None:
    shown = run("config", "show", "--env", "prod")
    assert shown.returncode == 0, shown.stderr
    assert "termination_protection: true" in shown.stdout
    bad = run("config", "show", "--env", "staging")
    assert bad.returncode == 2
    assert "unknown env 'staging'" in bad.stderr and "Traceback" not in bad.stderr
    variable = "APP_CONFIG__SERVICES__FRONTEND__MEMORY"
    wrong = run("config", "show", "--env", "dev", env={**os.environ, variable: "4096"})
    assert wrong.returncode == 2 and wrong.stdout == ""
    assert f"environment variable {variable}: services.frontend.memory: 4096" in wrong.stderr


# --- cost --------------------------------------------------------------------------


def test_cost_matches_a_hand_computed_estimate(synths: dict[str, Synth]) -> None:
    prices = cost.Prices.load()
    assert (prices.region, prices.hours_per_month) == ("us-east-1", 730)
    lines = cost.by_item(cost.estimate(synths["prod"].templates, prices))
    monthly = {item: round(line.monthly, 4) for item, line in lines.items()}
    # By hand, from prices.yaml: 730 hours; x86 Fargate 0.04048/vCPU-h, 0.004445/GB-h.
    assert monthly == {
        "Fargate backend": round(1 * (0.25 * 0.04048 + 0.5 * 0.004445) * 730, 4),  # 9.0100
        "Fargate frontend": round(
            2 * (0.5 * 0.04048 + 1 * 0.004445) * 730, 4
        ),  # 36.0401, autoscaling min 2
        "load balancer (application)": round(0.0225 * 730, 4),  # 16.425
        "NAT gateways": round(2 * 0.045 * 730, 4),  # 65.70
        "public IPv4 addresses": round(4 * 0.005 * 730, 4),  # 2 NAT EIPs + 2 ALB zones: 14.60
        "secrets": 0.40,
    }
    assert cost.total(list(lines.values())) == pytest.approx(142.175125)
    assert lines["Fargate frontend"].quantity == "2 x 0.5 vCPU, 1 GB"


def test_cost_prices_can_be_overridden(synths: dict[str, Synth], tmp_path: Path) -> None:
    data = yaml.safe_load(cost.PRICES.read_text())
    data["prices"] = {key: value * 2 for key, value in data["prices"].items()}
    doubled = tmp_path / "prices.yaml"
    doubled.write_text(yaml.safe_dump(data))
    base = cost.total(cost.estimate(synths["dev"].templates, cost.Prices.load()))
    twice = cost.total(cost.estimate(synths["dev"].templates, cost.Prices.load(doubled)))
    assert twice == pytest.approx(2 * base)


def test_cost_tables(synths: dict[str, Synth]) -> None:
    """One env: items with quantities; several: one column per env, '-' where absent."""
    prices = cost.Prices.load()
    lines = {env: cost.estimate(s.templates, prices) for env, s in synths.items()}
    one = cost_report.as_table({"prod": lines["prod"]}, prices)
    assert one.title == "always-on cost, us-east-1 on-demand prices taken 2025-10"
    assert (one.headers, one.right) == (["item", "quantity", "USD/month"], (2,))
    assert one.rows[1] == ["Fargate frontend", "2 x 0.5 vCPU, 1 GB", "36.04"]
    assert one.rows[-1] == ["total", "", "142.18"]
    both = cost_report.as_table(lines, prices)
    assert (both.headers, both.right) == (["item", "dev USD/month", "prod USD/month"], (1, 2))
    assert both.rows[-1] == ["total", "78.65", "142.18"]
    assert [row[0] for row in both.rows] == [row[0] for row in one.rows]
    extra = cost.Line("timestamper-dev-x", "interface endpoint zones", 2, 14.6)
    shown = cost_report.as_table({"dev": [*lines["dev"], extra], "prod": lines["prod"]}, prices)
    assert ["interface endpoint zones", "14.60", "-"] in shown.rows
    report = cost_report.as_json(lines, prices)
    assert {env: r["total"] for env, r in report["envs"].items()} == {"dev": 78.65, "prod": 142.18}
    assert report["not_included"] == prices.not_included


def test_cost_cli() -> None:
    table = run("cost", "--env", "dev")
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0] == "always-on cost, us-east-1 on-demand prices taken 2025-10"
    assert lines[1].split() == ["item", "quantity", "USD/month"]
    assert lines[-2].split() == ["total", "78.65"]
    assert lines[-1].startswith("not included: data transfer")
    assert "synthesizing dev ..." in table.stderr  # the progress line, plain off a terminal
    unknown = run("cost", "--env", "staging")
    assert unknown.returncode == 2 and "unknown env 'staging'" in unknown.stderr


# --- preview -----------------------------------------------------------------------


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


def preview(repo: Path, *args: str) -> tuple[int, dict[str, Any]]:
    result = run("preview", "--env", "dev", "--json", *args, cwd=repo)
    assert result.returncode in (0, 1, 3), result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    assert report["exit_code"] == result.returncode
    return result.returncode, report


def test_preview_end_to_end(repo: Path) -> None:
    """The real CLI on a real repository: a ref checked out and synthesized beside the
    working tree, its templates cached, an in-place edit, a rename, and the errors."""
    code, report = preview(repo)
    assert code == 0 and report["resources"] == [] and len(report["stacks_unchanged"]) == 4
    assert len(list((repo / ".cache" / "preview").glob("*.json"))) == 1
    assert git(repo, "worktree", "list").count("\n") == 1  # the temporary checkout is gone

    # A scale edit and a refactor that renames a construct (a stateful log group).
    edit(repo, "dev.yaml", lambda d: d.update(services={"frontend": {"desired_count": 3}}))
    stack = repo / "infra" / "network" / "stack.py"
    stack.write_text(stack.read_text().replace('"FlowLogGroup"', '"FlowLogs"'))
    human = run("preview", "--env", "dev", cwd=repo)
    assert human.returncode == 3, human.stderr
    assert "cached)" in human.stderr  # one synth: the ref's templates came from the cache
    lines = human.stdout.splitlines()
    assert lines[0] == "preview dev: working tree against HEAD"
    found = re.search(r"logical ID (\w+) -> (\w+)\)", lines[1])
    assert found, lines
    old, new = found.groups()
    assert old.startswith("FlowLogGroup") and new.startswith("FlowLogs")
    assert lines[1] == (f"WARNING network: FlowLogs (AWS::Logs::LogGroup) is REPLACED (logical ID "
                        f"{old} -> {new}): its data or dependents go with it")  # fmt: skip
    assert "  ~ Service (ECS::Service): DesiredCount 1 -> 3" in lines
    assert f"  ~ FlowLogs (Logs::LogGroup) REPLACE (logical ID {old} -> {new})" in lines
    assert lines[-1] == "unchanged: backend, cluster"

    missing = run("preview", "--env", "dev", "--against", "no-such-ref", cwd=repo)
    assert missing.returncode == 2 and "'no-such-ref' is not a commit" in missing.stderr
    edit(repo, "dev.yaml", lambda d: d.update(services={"frontend": {"memory": 4096}}))
    broken = run("preview", "--env", "dev", cwd=repo)
    assert broken.returncode == 2
    assert "config/dev.yaml: services.frontend.memory: 4096 is not valid" in broken.stderr


def test_namespace_and_cidr_changes_replace_across_stacks(
    synths: dict[str, Synth], synth_edited: Any
) -> None:
    """On the app's real templates: the namespace and VPC are replaced, and so is
    what reads them through other stacks' outputs."""

    def change(base: dict[str, Any]) -> None:
        base["cluster"]["namespace"] = "svc.local"
        base["network"]["cidr"] = "10.1.0.0/16"

    before = synths["dev"]
    found = compare(before.templates, synth_edited("dev", base=change).templates,
                    stateful_stacks(before.config))  # fmt: skip
    replaced = {(r.stack.rsplit("-", 1)[1], r.type): r for r in found.resources if r.replacement}
    namespace = replaced["cluster", "AWS::ServiceDiscovery::PrivateDnsNamespace"]
    assert namespace.stateful and [(c.name, c.new, c.create_only) for c in namespace.changes] == [
        ("Name", "svc.local", True)
    ]
    assert "CidrBlock" in replaced["network", "AWS::EC2::VPC"].reason
    assert ("network", "AWS::EC2::Subnet") in replaced
    registration = replaced["backend", "AWS::ServiceDiscovery::Service"]
    assert registration.reason.startswith("NamespaceId reads replaced Namespace")
    assert registration.reason.endswith(" in timestamper-dev-cluster")
    warned = {(f.change.stack, f.change.type) for f in run_checks(found)}
    assert {("timestamper-dev-network", "AWS::EC2::VPC"),
            ("timestamper-dev-cluster", "AWS::ServiceDiscovery::PrivateDnsNamespace")} <= warned  # fmt: skip


# --- output ------------------------------------------------------------------------


def test_tables_are_rich_on_a_terminal_and_plain_otherwise(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from infra.ops import render

    rows = [["NAT gateways", "65.70"], ["total", "142.18"]]
    render.table("cost", ["item", "USD/month"], rows, right=(1,))
    plain = capsys.readouterr().out
    assert plain.splitlines() == ["cost", "  item          USD/month", "  NAT gateways      65.70",
                                  "  total            142.18"]  # fmt: skip
    monkeypatch.setattr(render, "terminal", lambda: True)
    render.table("cost", ["item", "USD/month"], rows, right=(1,))
    rich = capsys.readouterr().out
    assert "━" in rich and "NAT gateways" in rich and "142.18" in rich
