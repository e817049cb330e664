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


def cdk(*args: str) -> subprocess.CompletedProcess[str]:
    if not CDK.exists():
        pytest.fail("the pinned cdk CLI is missing: run `make synth` or `npm ci` first")
    env = {**os.environ, "CDK_DISABLE_CLI_TELEMETRY": "true"}
    return subprocess.run(
        [str(CDK), *args, "--no-notices"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


@pytest.fixture(scope="module", params=environments())
def cli_synth(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
              ) -> tuple[str, Path, subprocess.CompletedProcess[str]]:  # fmt: skip
    env = request.param
    out = tmp_path_factory.mktemp(f"cli-{env}")
    return env, out, cdk("synth", "--context", f"env={env}", "--output", str(out), "--quiet")


def test_cli_synth_writes_every_stack(cli_synth: tuple[str, Path, subprocess.CompletedProcess[str]]
                                      ) -> None:  # fmt: skip
    env, out, result = cli_synth
    assert result.returncode == 0, result.stderr
    names = sorted(p.name.removesuffix(".template.json") for p in out.glob("*.template.json"))
    assert names == sorted(f"timestamper-{env}-{p}"
                           for p in ("network", "cluster", "backend", "frontend"))  # fmt: skip
    # No CDK warnings (circuit breaker, min healthy percent, deprecations ...).
    assert "[Warning" not in result.stderr and "[WARNING]" not in result.stderr, result.stderr


def test_cfn_lint_passes(cli_synth: tuple[str, Path, subprocess.CompletedProcess[str]]) -> None:
    _, out, result = cli_synth
    assert result.returncode == 0, result.stderr
    templates = sorted(str(p) for p in out.glob("*.template.json"))
    lint = subprocess.run(
        [str(CFN_LINT), "--config-file", str(ROOT / ".cfnlintrc"), "--", *templates],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert lint.returncode == 0, lint.stdout + lint.stderr


@pytest.mark.parametrize("env", environments())
def test_cli_ls(env: str) -> None:
    result = cdk("ls", "--context", f"env={env}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [f"timestamper-{env}-{p}"
                                     for p in ("network", "cluster", "backend", "frontend")]  # fmt: skip


def test_cli_unknown_env_fails_cleanly() -> None:
    result = cdk("synth", "--context", "env=staging", "--quiet")
    assert result.returncode != 0
    assert "unknown env 'staging'" in result.stderr
    assert "Traceback" not in result.stderr
