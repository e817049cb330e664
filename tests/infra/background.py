"""cfn-lint and checkov over the synthesized templates, started in the background.

Both are separate programs that only read template files. Started as soon as
every template they check exists (the first in-process test asks for them;
see tests/conftest.py), they run while the other tests do, on whichever core
is free, and their tests only wait for the results.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.paths import ROOT
from tests.infra.conftest import VARIANTS, Synth, Variants

CFN_LINT = ROOT / ".venv" / "bin" / "cfn-lint"
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"


@dataclass
class Started:
    """One checker, running; :meth:`result` waits for it (once)."""

    process: subprocess.Popen[str]
    _done: subprocess.CompletedProcess[str] | None = None

    def result(self) -> subprocess.CompletedProcess[str]:
        if self._done is None:
            out, err = self.process.communicate(timeout=600)
            self._done = subprocess.CompletedProcess(
                self.process.args, self.process.returncode, out, err
            )
        return self._done


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
    cfn_lint = Started(subprocess.Popen(
        [str(CFN_LINT), "--config-file", str(ROOT / ".cfnlintrc"), "--", *map(str, linted)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    ))  # fmt: skip
    folders = checkov_folders(synths, variants, workdir / "checkov")
    checkov = None
    if CHECKOV.exists():
        # checkov's start-up is most of its time; with several --directory it
        # repeats results, so one folder.
        checkov = Started(subprocess.Popen(
            [str(CHECKOV), "--directory", str(workdir / "checkov"), "--framework",
             "cloudformation", "--output", "json", "--skip-download"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
        ))  # fmt: skip
    return TemplateChecks(linted, cfn_lint, folders, checkov)


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

    # The HTTPS listeners, with every accepted exception taken out of the template.
    https = json.loads(
        json.dumps(variants["https-exec-connect"].templates["timestamper-dev-frontend"])
    )
    for resource in https["Resources"].values():
        resource.get("Metadata", {}).pop("checkov", None)
    add("https", {"frontend": https})
    # The network load balancer option, its accepted exception (no access logs) in place.
    add("nlb", {"frontend": variants["pinned"].templates["timestamper-prod-frontend"]})
    # README's db (its image's user, a writable root, a volume) and worker (secrets, no port).
    worker = variants["worker"].templates
    add("worker", {part: worker[f"timestamper-dev-{part}"] for part in ("db", "worker", "storage")})
    return folders
