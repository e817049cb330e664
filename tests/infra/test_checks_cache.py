"""The pass caches of the tests' cfn-lint and checkov runs (tests/infra/checks_cache.py)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.infra.background import (
    CFN_LINT,
    CFN_LINT_OPTIONS,
    CFN_LINT_SETTINGS,
    CHECKOV,
    CHECKOV_OPTIONS,
    cfn_lint,
    checkov,
)
from tests.infra.checks_cache import CheckovReports, LintPasses

pytestmark = pytest.mark.end_to_end  # one cfn-lint run


def topic(properties: dict[str, Any]) -> str:
    return json.dumps({"Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": properties}}})  # fmt: skip


def test_cfn_lint_runs_on_what_has_no_pass_and_remembers_only_passes(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(topic({"TopicName": "visits"}))
    bad.write_text(topic({"TopicNam": "visits"}))
    passes = LintPasses(CFN_LINT.parent.parent, CFN_LINT_SETTINGS, CFN_LINT_OPTIONS, tmp_path)
    first = cfn_lint([good, bad], passes).result()
    assert first.returncode != 0 and "E3002" in first.stdout and str(good) not in first.stdout
    # The template with a finding is linted again on every run; the other is not.
    assert passes.missing([good, bad]) == [bad]
    again = cfn_lint([good], passes)
    assert again.process is None
    assert (again.result().returncode, again.result().stdout, again.result().stderr) == (0, "", "")
    # One byte changed: linted again; back as it was: known again.
    good.write_text(topic({"TopicName": "visitz"}))
    assert passes.missing([good]) == [good]
    # Output that is not findings (a crash) records no pass, not even of the unnamed.
    crash = subprocess.CompletedProcess(["cfn-lint"], 1, "", "Traceback (most recent call last):")
    passes.record([good], crash)
    passes.record([good], subprocess.CompletedProcess(["cfn-lint"], 2, "E0000 somewhere\n", ""))
    assert passes.missing([good]) == [good]
    good.write_text(topic({"TopicName": "visits"}))
    assert passes.missing([good]) == []
    # Other options, other passes.
    other = LintPasses(CFN_LINT.parent.parent, CFN_LINT_SETTINGS, CFN_LINT_OPTIONS[2:], tmp_path)
    assert other.missing([good]) == [good]


@pytest.mark.skipif(not CHECKOV.exists(), reason="checkov is missing: run `make checkov` once")
def test_checkov_reports_that_fail_nothing_are_reused_in_another_folder(tmp_path: Path) -> None:
    reports = CheckovReports(CHECKOV.parent.parent, CHECKOV_OPTIONS, tmp_path / "cache")

    def scanned(folder: Path, failed: int, code: int = 0) -> subprocess.CompletedProcess[str]:
        """A report of checkov's shape on ``folder`` (as a real run would give)."""
        check = {"check_id": "CKV_AWS_26", "file_path": "/dev/topic.template.json",
                 "file_abs_path": f"{folder}/dev/topic.template.json"}  # fmt: skip
        report = {"check_type": "cloudformation", "summary": {"failed": failed, "parsing_errors": 0},
                  "results": {"passed_checks": [check], "failed_checks": [check] * failed}}  # fmt: skip
        return subprocess.CompletedProcess(["checkov"], code, json.dumps(report), "")

    first, second = tmp_path / "run1" / "checkov", tmp_path / "run2" / "checkov"
    for folder in (first, second):
        (folder / "dev").mkdir(parents=True)
        (folder / "dev" / "topic.template.json").write_text(topic({"TopicName": "visits"}))
    for code in (1, 0):  # 0: as with --soft-fail
        reports.put(first, scanned(first, failed=1, code=code))
        assert reports.get(first) is None
    reports.put(first, scanned(first, failed=0))
    # The same files in another run's folder: checkov does not run, and the report
    # names that folder's files.
    assert reports.get(second) is not None
    hit = checkov(second, reports)
    assert hit.process is None and hit.result().returncode == 0
    (check,) = json.loads(hit.result().stdout)["results"]["passed_checks"]
    assert check["file_abs_path"] == f"{second}/dev/topic.template.json"
    # One byte changed: no report (checkov would run).
    (second / "dev" / "topic.template.json").write_text(topic({"TopicName": "visitz"}))
    assert reports.get(second) is None and reports.get(first) is not None
