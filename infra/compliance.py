"""The security checks every synth runs, and the one place exceptions are declared.

cdk-nag's AwsSolutions pack and AWS Control Tower's proactive controls
(:mod:`infra.control_tower`) run as CDK policy-validation plugins, so any
unacknowledged finding fails ``cdk synth`` (and ``make synth``) with the rule
and the construct path. Control Tower waivers are per environment, in
``security/control-tower.yaml``. Acknowledgments live next to the construct they
excuse, through :func:`acknowledge`, each with its reason.

checkov runs on the synthesized templates (``make checkov``, and in the
tests). Its exceptions are listed in ``security/checkov-skips.yaml``; this
module writes them into the matching resources' ``Metadata.checkov.skip``, so
a plain ``checkov -d cdk.out`` reports them as skipped, with their reasons.
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import aws_cdk as cdk
import jsii
import yaml
from cdk_nag import AwsSolutionsChecks
from constructs import Construct, IConstruct

from infra.control_tower import ControlTowerChecks, waivers
from infra.paths import CHECKOV_SKIPS


def acknowledge(construct: IConstruct, rule: str, reason: str) -> None:
    """Accept one cdk-nag finding on ``construct`` (and its children) for ``reason``."""
    cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=rule, reason=reason))


@dataclass(frozen=True)
class CheckovSkip:
    """One checkov check accepted on the resources whose construct path matches and,
    with ``when``, whose L1 attributes have those values (``{type: network}``)."""

    check: str
    paths: tuple[str, ...]
    reason: str
    when: tuple[tuple[str, str], ...] = ()

    def matches(self, path: str, resource: object = None) -> bool:
        if not any(fnmatch.fnmatchcase(path, pattern) for pattern in self.paths):
            return False
        return all(getattr(resource, name, None) == value for name, value in self.when)


def checkov_skips(path: Path = CHECKOV_SKIPS) -> list[CheckovSkip]:
    """The entries of the skip file; a malformed file is a programming error here."""
    entries: list[dict[str, Any]] = yaml.safe_load(path.read_text())["skips"]
    return [
        CheckovSkip(
            check=e["check"],
            paths=tuple(e["paths"]),
            reason=" ".join(e["reason"].split()),
            when=tuple(sorted((e.get("when") or {}).items())),
        )
        for e in entries
    ]


def stack_relative_path(node: IConstruct) -> str:
    """``Public/LoadBalancer/Resource``: a construct's path inside its stack."""
    stack = cdk.Stack.of(node)
    return node.node.path.removeprefix(stack.node.path).lstrip("/")


@jsii.implements(cdk.IAspect)
class _CheckovSkipWriter:
    """Writes the matching skips into each resource's template metadata."""

    def __init__(self, skips: list[CheckovSkip]) -> None:
        self._skips = skips

    def visit(self, node: IConstruct) -> None:
        if not isinstance(node, cdk.CfnResource):
            return
        path = stack_relative_path(node)
        found = [{"id": s.check, "comment": s.reason} for s in self._skips if s.matches(path, node)]
        if found:
            node.add_metadata("checkov", {"skip": found})


def checks_failed(report: Path) -> bool:
    """Whether CDK's policy-validation report (when written) has a failed plugin: under
    the cdk CLI a failed check does not raise in the app, it is only reported there."""
    if not report.is_file():
        return False
    plugins = json.loads(report.read_text()).get("pluginReports", [])
    return any(plugin.get("conclusion") == "failure" for plugin in plugins)


def failed_findings(report: Path, shown: int = 5) -> list[str]:
    """Each finding of the failed plugins in CDK's validation report, with where it
    is (construct paths) and the fix when the rule gives one, as lines to print:
    under the cdk CLI nothing else shows them, since the app itself fails first."""
    lines = []
    for plugin in json.loads(report.read_text()).get("pluginReports", []):
        if plugin.get("conclusion") != "failure":
            continue
        for violation in plugin.get("violations", []):
            lines.append(f"{violation.get('description') or violation.get('ruleName')} "
                         f"({plugin.get('pluginName')}: {violation.get('ruleName')})")  # fmt: skip
            paths = [c.get("constructPath", "?") for c in violation.get("violatingConstructs", [])]
            lines += [f"    at {path}" for path in paths[:shown]]
            if len(paths) > shown:
                lines.append(f"    ... and {len(paths) - shown} more")
            if violation.get("suggestedFix"):
                lines.append(f"    fix: {violation['suggestedFix']}")
    return lines


def add_checks(app: Construct, env: str, *, control_tower: bool = True) -> None:
    """Run cdk-nag and the Control Tower controls (less ``env``'s waivers) on every
    synth of ``app``, and mark checkov's accepted exceptions. Only tests that
    compare templates turn the Control Tower controls off, to save their time."""
    cdk.Validations.of(app).add_plugins(
        AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True)
    )
    if control_tower:
        cdk.Validations.of(app).add_plugins(
            cast(cdk.IPolicyValidationPlugin, ControlTowerChecks(waivers(env)))
        )
    cdk.Aspects.of(app).add(_CheckovSkipWriter(checkov_skips()))
