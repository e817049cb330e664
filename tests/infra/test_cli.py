"""The real cdk CLI and cfn-lint over what it synthesizes, for every environment."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from infra.config import environments
from infra.paths import ROOT

CDK = ROOT / "node_modules" / ".bin" / "cdk"
CFN_LINT = ROOT / ".venv" / "bin" / "cfn-lint"
ENVS = environments()
PARTS = ("network", "cluster", "backend", "frontend")


def cdk(*args: str) -> subprocess.Popen[str]:
    """The pinned cdk CLI, started in the project root (wait with ``communicate``)."""
    if not CDK.exists():
        pytest.fail("the pinned cdk CLI is missing: run `make synth` or `npm ci` first")
    env = {**os.environ, "CDK_DISABLE_CLI_TELEMETRY": "true"}
    return subprocess.Popen(
        [str(CDK), *args, "--no-notices"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def finish(process: subprocess.Popen[str]) -> subprocess.CompletedProcess[str]:
    stdout, stderr = process.communicate(timeout=300)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


@pytest.fixture(scope="module")
def cli_synths(tmp_path_factory: pytest.TempPathFactory
               ) -> dict[str, tuple[Path, subprocess.CompletedProcess[str]]]:  # fmt: skip
    """``cdk synth --context env=<env>`` of every env, run at once, each into its own folder."""
    outs = {env: tmp_path_factory.mktemp(f"cli-{env}") for env in ENVS}
    running = {env: cdk("synth", "--context", f"env={env}", "--output", str(out), "--quiet")
               for env, out in outs.items()}  # fmt: skip
    return {env: (outs[env], finish(process)) for env, process in running.items()}


@pytest.mark.parametrize("env", ENVS)
def test_cli_synth_writes_every_stack(
    env: str, cli_synths: dict[str, tuple[Path, subprocess.CompletedProcess[str]]]
) -> None:
    out, result = cli_synths[env]
    assert result.returncode == 0, result.stderr
    names = sorted(p.name.removesuffix(".template.json") for p in out.glob("*.template.json"))
    assert names == sorted(f"timestamper-{env}-{p}" for p in PARTS)
    # No CDK warnings (circuit breaker, min healthy percent, deprecations ...).
    assert "[Warning" not in result.stderr and "[WARNING]" not in result.stderr, result.stderr
    # `cdk ls` lists the stacks in deploy order (read from the assembly just written).
    listed = finish(cdk("ls", "--app", str(out)))
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split() == [f"timestamper-{env}-{p}" for p in PARTS]


def test_cfn_lint_passes(cli_synths: dict[str, tuple[Path, subprocess.CompletedProcess[str]]]
                         ) -> None:  # fmt: skip
    templates = []
    for out, result in cli_synths.values():
        assert result.returncode == 0, result.stderr
        templates += sorted(str(p) for p in out.glob("*.template.json"))
    assert len(templates) == len(ENVS) * len(PARTS)
    lint = subprocess.run(
        [str(CFN_LINT), "--config-file", str(ROOT / ".cfnlintrc"), "--", *templates],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_cli_unknown_env_fails_cleanly(tmp_path: Path) -> None:
    result = finish(cdk("synth", "--context", "env=staging", "--quiet", "--output", str(tmp_path)))
    assert result.returncode != 0
    assert "unknown env 'staging'" in result.stderr
    assert "Traceback" not in result.stderr
