"""cfn-lint and checkov over the synthesized templates, started in the background.

Both are separate programs that only read template files. Started as soon as
every template they check exists (the first in-process test asks for them;
see tests/conftest.py), they run while the other tests do, on whichever core
is free, and their tests only wait for the results. Each checks only what its
pass cache (tests/infra/checks_cache.py) does not already know passes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.paths import ROOT
from tests.infra.checks_cache import CheckovReports, LintPasses
from tests.infra.conftest import VARIANTS, Synth, Variants

CFN_LINT = ROOT / ".venv" / "bin" / "cfn-lint"
CFN_LINT_SETTINGS = ROOT / ".cfnlintrc"
# Parseable: a line per finding, starting with its template's path (the cache reads it).
CFN_LINT_OPTIONS = ("--config-file", str(CFN_LINT_SETTINGS), "--format", "parseable")
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
CHECKOV_OPTIONS = ("--framework", "cloudformation", "--output", "json", "--skip-download")
# The checks whose skips the HTTPS variant's frontend is scanned without.
HTTPS_LISTENER_CHECKS = ("CKV_AWS_2", "CKV_AWS_103")  # HTTPS protocol, TLS 1.2 or newer

Result = subprocess.CompletedProcess[str]


@dataclass
class Started:
    """One checker, running, or (``process`` None) its result ``known`` from its pass
    cache; :meth:`result` waits for the process (once) and hands its result to ``record``."""

    process: subprocess.Popen[str] | None = None
    record: Callable[[Result], None] | None = None
    known: Result | None = None

    def result(self) -> Result:
        if self.known is None:
            assert self.process is not None
            out, err = self.process.communicate(timeout=600)
            self.known = subprocess.CompletedProcess(
                self.process.args, self.process.returncode, out, err
            )
            if self.record is not None:
                self.record(self.known)
        return self.known


def cfn_lint(templates: Sequence[Path], passes: LintPasses) -> Started:
    """cfn-lint over the templates without a pass; with none, nothing runs and the
    result is a clean run's (exit 0, no output)."""
    todo = passes.missing(templates)
    args = [str(CFN_LINT), *CFN_LINT_OPTIONS, "--", *map(str, todo)]
    if not todo:
        return Started(known=subprocess.CompletedProcess(args, 0, "", ""))
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return Started(process, lambda result: passes.record(todo, result))


def checkov(folder: Path, reports: CheckovReports) -> Started:
    """checkov over ``folder``, unless its report on these very files is remembered."""
    args = [str(CHECKOV), "--directory", str(folder), *CHECKOV_OPTIONS]
    report = reports.get(folder)
    if report is not None:
        return Started(known=subprocess.CompletedProcess(args, 0, report, ""))
    process = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
    )  # fmt: skip
    return Started(process, lambda result: reports.put(folder, result))


@dataclass
class TemplateChecks:
    """cfn-lint over ``linted``; checkov over ``checkov_folders`` (by name), in one run."""

    linted: list[Path]
    cfn_lint: Started
    checkov_folders: dict[str, Path]
    checkov: Started | None

    def checkov_report(self) -> dict[str, Any]:
        if self.checkov is None:
            raise RuntimeError(
                "checkov is missing: run `make checkov` once (it lives in .venv-checkov)"
            )
        result = self.checkov.result()
        report = json.loads(result.stdout)
        assert isinstance(report, dict), report  # one framework: one report
        return report


def start(synths: dict[str, Synth], variants: Variants, workdir: Path) -> TemplateChecks:
    """Write out what the checks read, and start both."""
    linted = []
    for synth in synths.values():
        linted += sorted(Path(synth.assembly.directory).glob("*.template.json"))
    for name in VARIANTS:
        after = variants[name]
        shipped = synths[after.config.env].templates
        # A variant's dashboard is the shipped one with other graphs in its body (a
        # string to CloudFormation): the shipped envs' dashboards are linted.
        changed = [(stack, body) for stack, body in after.templates.items()
                   if body != shipped.get(stack) and not stack.endswith("-dashboard")]  # fmt: skip
        assert changed, f"the variant {name} changes no template"
        for stack, body in changed:
            path = workdir / "lint" / name / f"{stack}.template.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(body))
            linted.append(path)
    cfn_lint_run = cfn_lint(linted, LintPasses(CFN_LINT.parent.parent, CFN_LINT_SETTINGS,
                                               CFN_LINT_OPTIONS))  # fmt: skip
    scan = (workdir / "checkov").resolve()
    folders = checkov_folders(synths, variants, scan)
    checkov_run = None
    if CHECKOV.exists():
        # checkov's start-up is most of its time; with several --directory it
        # repeats results, so one folder.
        checkov_run = checkov(scan, CheckovReports(CHECKOV.parent.parent, CHECKOV_OPTIONS))
    return TemplateChecks(linted, cfn_lint_run, folders, checkov_run)


def checkov_folders(synths: dict[str, Synth], variants: Variants, scan: Path) -> dict[str, Path]:
    """One folder per env (its templates) and per variant checked (what it adds)."""
    folders = {env: (scan / env).resolve() for env in synths}
    for env, synth in synths.items():
        folders[env].mkdir(parents=True)
        for template in Path(synth.assembly.directory).glob("*.template.json"):
            shutil.copy2(template, folders[env])

    def add(name: str, bodies: dict[str, Any]) -> None:
        folders[name] = (scan / name).resolve()
        folders[name].mkdir()
        for part, body in bodies.items():
            (folders[name] / f"{part}.template.json").write_text(json.dumps(body))

    # The HTTPS listeners, without the skips their checks have on the plain listener.
    https = json.loads(
        json.dumps(variants["https-exec-connect"].templates["timestamper-dev-frontend"])
    )
    for resource in https["Resources"].values():
        skips = resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
        skips[:] = [skip for skip in skips if skip["id"] not in HTTPS_LISTENER_CHECKS]
    add("https", {"frontend": https})
    # The network load balancer option, its accepted exception (no access logs) in place.
    add("nlb", {"frontend": variants["pinned"].templates["timestamper-prod-frontend"]})
    # README's db (its image's user, a writable root, a volume) and worker (secrets, no port).
    worker = variants["worker"].templates
    add("worker", {part: worker[f"timestamper-dev-{part}"] for part in ("db", "worker", "storage")})
    # One load balancer shared by two services, each with its rule and target group.
    # ... and Aurora (prod's Valkey is in the prod folder).
    shared = variants["shared"].templates
    parts = ("ingress", "frontend", "admin", "db")
    add("shared", {part: shared[f"timestamper-prod-{part}"] for part in parts})
    return folders
