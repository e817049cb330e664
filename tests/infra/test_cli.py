"""The real cdk CLI, through ``bin/cdk`` as the README runs it, and the Makefile.

The CLI runs the app the same way whatever the env; every env is synthesized
in-process by the same code for the other tests (the templates are identical),
so the CLI runs once, for ``make synth``'s default env. cfn-lint runs over every
env's templates in test_changes. A mistaken env is app.py's message, tested
with the config (test_config) and the ``python -m infra`` commands (test_ops).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from infra.paths import ROOT

pytestmark = pytest.mark.end_to_end

CDK = ROOT / "bin" / "cdk"
PARTS = ("network", "cluster", "storage", "backend", "frontend", "dashboard")


def cdk(*args: str) -> subprocess.Popen[str]:
    """The pinned cdk CLI, started in the project root (wait with ``communicate``),
    in a user's environment: not the PATH and variables the Makefile and the
    test session set up, which bin/cdk must do itself."""
    if not (ROOT / "node_modules" / ".bin" / "cdk").exists():
        pytest.fail("the pinned cdk CLI is missing: run `make synth` or `npm ci` first")
    path = [p for p in os.environ["PATH"].split(os.pathsep) if "node_modules" not in p]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JSII_", "CDK_"))}
    env["PATH"] = os.pathsep.join(path)
    return subprocess.Popen(
        [str(CDK), *args, "--no-notices"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def finish(process: subprocess.Popen[str]) -> subprocess.CompletedProcess[str]:
    stdout, stderr = process.communicate(timeout=300)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


@pytest.fixture(scope="module")
def cli_synth(tmp_path_factory: pytest.TempPathFactory
              ) -> tuple[Path, subprocess.CompletedProcess[str]]:  # fmt: skip
    """``cdk synth`` of dev, as ``make synth`` runs it, into a folder of its own."""
    out = tmp_path_factory.mktemp("cli-dev")
    return out, finish(cdk("synth", "--context", "env=dev", "--output", str(out), "--quiet"))


def test_cli_synth_writes_every_stack(cli_synth: tuple[Path, subprocess.CompletedProcess[str]]
                                      ) -> None:  # fmt: skip
    out, result = cli_synth
    assert result.returncode == 0, result.stderr
    names = sorted(p.name.removesuffix(".template.json") for p in out.glob("*.template.json"))
    assert names == sorted(f"timestamper-dev-{p}" for p in PARTS)
    # No CDK warnings (circuit breaker, min healthy percent, deprecations ...), and
    # no Node end-of-life banner (jsii prints it as Python byte strings).
    assert "[Warning" not in result.stderr and "[WARNING]" not in result.stderr, result.stderr
    assert "b'" not in result.stderr and "end-of-life" not in result.stderr, result.stderr
    # `cdk ls` lists the stacks in deploy order (read from the assembly just written).
    listed = finish(cdk("ls", "--app", str(out)))
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split() == [f"timestamper-dev-{p}" for p in PARTS]


def make_dry_run(*args: str) -> str:
    """What ``make`` would run for ``args`` with every target out of date (nothing runs)."""
    result = subprocess.run(["make", "--dry-run", "--always-make", *args], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_only_the_targets_that_run_checkov_build_its_venv() -> None:
    synth = make_dry_run("synth")
    assert ".venv-checkov" not in synth
    # Only this env's templates in cdk.out, for a plain `checkov -d cdk.out`.
    assert synth.index("rm -rf cdk.out") < synth.index("cdk synth")
    for target in ("checkov", "test"):
        assert "python3 -m venv .venv-checkov" in make_dry_run(target), target


def test_make_help_lists_every_target() -> None:
    makefile = (ROOT / "Makefile").read_text()
    phony = next(line for line in makefile.splitlines() if line.startswith(".PHONY:"))
    shown = subprocess.run(["make", "--no-print-directory", "help"], cwd=ROOT,
                           capture_output=True, text=True, timeout=60).stdout  # fmt: skip
    listed = {line.split()[1] for line in shown.splitlines() if line.startswith("make ")}
    assert set(phony.split()[1:]) - {"help", "deps"} <= listed, shown
