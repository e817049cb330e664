"""Pass caches for the tests' cfn-lint and checkov runs (tests/infra/background.py).

Most runs change no template, yet both tools read every one again: some 25 of the
suite's CPU-seconds. As infra/control_tower.py does for the Control Tower controls,
a pass is remembered under ``.cache/test-checks/`` and only the rest is checked:

- cfn-lint, per template: keyed by the template's exact bytes, cfn-lint's version
  (and the schemas ``cfn-lint --update-specs`` downloads, if any), ``.cfnlintrc``,
  the options and the region variables cfn-lint reads;
- checkov, the folder it scans: its report, keyed by every file's relative path and
  bytes, checkov's version, the options, the ``CKV_``/``CHECKOV_``/``BC_`` variables
  and the ``.checkov.yaml`` it would read; only the latest (some 9 MB) is kept, with
  the folder's path stood in for, so that it reads as a report on this run's folder.

Any change to what a tool reads misses, and the tool runs. Only passes are kept: a
template cfn-lint reports anything for, or a report with a failed check, is checked
again on every run, so the cache can only save time, never hide a finding.
Delete ``.cache/`` (``make clean``) to force a full run.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Iterable, Sequence
from importlib import metadata
from pathlib import Path

from infra.cache import write_entry
from infra.json_values import replaced
from infra.paths import CACHE_DIR

DIRECTORY = CACHE_DIR / "test-checks"
# The scanned folder's path, in a remembered report (a JSON string as it is).
FOLDER = "$SCANNED_FOLDER"


def installed_version(venv: Path, distribution: str) -> str:
    """``distribution``'s version in ``venv``, from its metadata (``checkov --version``
    would cost seconds of start-up)."""
    sites = [str(site) for site in venv.glob("lib/python*/site-packages")]
    (found,) = metadata.distributions(name=distribution, path=sites)
    return found.version


class LintPasses:
    """Templates cfn-lint reported nothing for, with these options, by content."""

    def __init__(
        self, venv: Path, settings: Path, options: Sequence[str], directory: Path = DIRECTORY
    ) -> None:
        self.directory = directory / "cfn-lint"
        downloaded = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        self.salt = _key(installed_version(venv, "cfn-lint"), settings.read_bytes(), *options,
                         *_variables("AWS_REGION", "AWS_DEFAULT_REGION"),
                         *_contents([downloaded / "aws" / "cfn-lint" / "schemas" / "version.json"]))  # fmt: skip

    def entry(self, template: Path) -> Path:
        return self.directory / _key(self.salt, template.read_bytes())

    def missing(self, templates: Iterable[Path]) -> list[Path]:
        """The templates without a pass, to lint."""
        return [template for template in templates if not self.entry(template).exists()]

    def record(self, linted: Sequence[Path], result: subprocess.CompletedProcess[str]) -> None:
        """Remember the templates of ``linted`` that ``result`` (cfn-lint's, parseable:
        a line per finding, starting with its template's path) names nowhere."""
        findings = [line for line in result.stdout.splitlines() if line.strip()]
        failed = {t for t in linted if any(line.startswith(f"{t}:") for line in findings)}
        named = [line for line in findings if any(line.startswith(f"{t}:") for t in failed)]
        # Output that is not findings of some templates (a crash) proves nothing about the rest.
        if result.returncode != 0 and not (failed and named == findings and not result.stderr):
            return
        for template in linted:
            if template not in failed:
                write_entry(self.entry(template))


class CheckovReports:
    """checkov's reports on a folder, by the folder's content; the latest that failed
    nothing only."""

    def __init__(self, venv: Path, options: Sequence[str], directory: Path = DIRECTORY) -> None:
        self.directory = directory / "checkov"
        # Besides the scanned folder's, checkov reads the working and home directories' config.
        configs = [d / f".checkov.{ext}" for d in (Path.cwd(), Path.home()) for ext in ("yaml", "yml")]  # fmt: skip
        self.salt = _key(installed_version(venv, "checkov"), *options,
                         *_variables("CKV_", "CHECKOV_", "BC_"), *_contents(configs))  # fmt: skip

    def entry(self, folder: Path) -> Path:
        files = sorted(path for path in folder.rglob("*") if path.is_file())
        parts = [part for path in files
                 for part in (path.relative_to(folder).as_posix(), path.read_bytes())]  # fmt: skip
        return self.directory / f"{_key(self.salt, *parts)}.json"

    def get(self, folder: Path) -> str | None:
        """The report (checkov's JSON) on ``folder`` if one is remembered, else None."""
        try:
            text = self.entry(folder).read_text()
        except FileNotFoundError:
            return None
        return text.replace(FOLDER, json.dumps(str(folder))[1:-1])

    def put(self, folder: Path, result: subprocess.CompletedProcess[str]) -> None:
        """Remember ``result``'s report on ``folder`` if it failed nothing (and forget
        the ones before it)."""
        try:
            report = json.loads(result.stdout) if result.returncode == 0 else None
        except json.JSONDecodeError:
            return
        # A dict: one framework's report (several make a list).
        if not isinstance(report, dict) or any(
            report["summary"][count] for count in ("failed", "parsing_errors")
        ):
            return
        entry = self.entry(folder)
        write_entry(entry, json.dumps(replaced(report, str(folder), FOLDER)))
        for old in self.directory.glob("*.json"):
            if old != entry:
                old.unlink(missing_ok=True)


def _key(*parts: str | bytes) -> str:
    """The digest of ``parts`` in order (each with its length: no two lists share one)."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


def _variables(*prefixes: str) -> list[str]:
    """The environment variables whose names start with one of ``prefixes``."""
    return sorted(f"{name}={value}" for name, value in os.environ.items()
                  if name.startswith(prefixes))  # fmt: skip


def _contents(paths: Iterable[Path]) -> list[str | bytes]:
    """The name and bytes of each of ``paths`` that exists."""
    return [part for path in paths if path.is_file() for part in (str(path), path.read_bytes())]
