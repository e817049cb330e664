"""AWS Control Tower's proactive controls, checked at every synth, and their waivers.

The controls are AWS's own cfn-guard rules, shipped with cfn-guard in PyPI's
``cdklabs-cdk-validator-cfnguard``, whose ``CfnGuardValidator`` is a CDK policy
validation plugin: a failing control fails ``cdk synth`` with the construct
path and the fix. :class:`ControlTowerChecks` wraps it to add two things: the
waivers of ``security/control-tower.yaml`` (per environment, each with its
reason), and a rule selection by resource type. cfn-guard parses all 237
rule files for every template, which made each synth about 3 s slower; rules
about resource types the templates do not contain can only be skipped, so
they are left out, for the same result in a fraction of the time.
"""

from __future__ import annotations

import json
import re
import tarfile
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from importlib import metadata, resources
from pathlib import Path
from typing import Any, cast

import aws_cdk as cdk
import jsii
import yaml
from cdklabs.cdk_validator_cfnguard import CfnGuardValidator

from infra.paths import CONTROL_TOWER_WAIVERS

# Control IDs as AWS writes them; rule files are named after them in lower case.
CONTROL = re.compile(r"CT\.[A-Z0-9]+\.PR\.\d+")
RULES_IN_PACKAGE = re.compile(r"package/rules/control-tower/cfn-guard/.+/(ct-[a-z0-9-]+)\.guard")
RESOURCE_TYPE = re.compile(r'"(AWS::[A-Za-z0-9]+::[A-Za-z0-9]+)"')
MAX_WAIVERS = 5
VALIDATOR_VERSION = metadata.version("cdklabs.cdk-validator-cfnguard")


class WaiverError(Exception):
    """``security/control-tower.yaml`` names something that does not exist."""


def rule_name(control: str) -> str:
    """``CT.S3.PR.10`` -> ``ct-s3-pr-10``, the name of the control's rule file."""
    return control.lower().replace(".", "-")


@lru_cache(maxsize=1)
def rule_types() -> dict[str, frozenset[str]]:
    """Every bundled rule's name, with the resource types it checks (none: all)."""
    bundle = next(
        path
        for path in resources.files("cdklabs.cdk_validator_cfnguard._jsii").iterdir()
        if path.name.endswith(".jsii.tgz")
    )
    found: dict[str, frozenset[str]] = {}
    with resources.as_file(bundle) as local, tarfile.open(local) as archive:
        for member in archive:
            match = RULES_IN_PACKAGE.fullmatch(member.name)
            handle = archive.extractfile(member) if match else None
            if match and handle is not None:
                types = RESOURCE_TYPE.findall(handle.read().decode())
                found[match.group(1)] = frozenset(types)
    return found


def waivers(env: str, path: Path = CONTROL_TOWER_WAIVERS) -> dict[str, str]:
    """The controls waived in ``env`` (``all`` and the env's own), each with its reason."""
    entries: dict[str, dict[str, str]] = yaml.safe_load(path.read_text()) or {}
    known = rule_types()
    waived: dict[str, str] = {}
    for scope, controls in entries.items():
        for control, reason in (controls or {}).items():
            if not CONTROL.fullmatch(control) or rule_name(control) not in known:
                raise WaiverError(
                    f"{path.name}: {scope}.{control}: not a Control Tower control this "
                    f"validator has (IDs look like CT.S3.PR.10)"
                )
            if scope in ("all", env):
                waived[control] = " ".join(str(reason).split())
    return waived


def resource_types(template_paths: Iterable[str]) -> set[str]:
    """The resource types declared in the given templates."""
    types: set[str] = set()
    for path in template_paths:
        template: dict[str, Any] = json.loads(Path(path).read_text())
        types.update(r["Type"] for r in template.get("Resources", {}).values())
    return types


def rules_to_skip(types: set[str], waived: Iterable[str]) -> list[str]:
    """The rules that cannot apply to ``types``, plus the waived controls' rules."""
    skipped = {rule_name(control) for control in waived}
    skipped.update(name for name, checks in rule_types().items() if checks and not checks & types)
    return sorted(skipped)


@jsii.implements(cdk.IPolicyValidationContext)
class Templates:
    """A validation context of template files, to run the checks outside a synth."""

    def __init__(self, template_paths: Sequence[str]) -> None:
        self._paths = list(template_paths)

    @property
    def template_paths(self) -> list[str]:
        return self._paths

    @property
    def app_construct(self) -> cdk.App:
        return cdk.App()


@jsii.implements(cdk.IPolicyValidationPlugin)
class ControlTowerChecks:
    """CfnGuardValidator with the Control Tower rules, less ``waived`` and those
    about resource types the synthesized templates do not contain."""

    def __init__(self, waived: Mapping[str, str]) -> None:
        self.waived = dict(waived)

    @property
    def name(self) -> str:
        return "control-tower"

    @property
    def version(self) -> str:
        return VALIDATOR_VERSION

    @property
    def rule_ids(self) -> list[str]:
        return sorted(set(rule_types()) - {rule_name(c) for c in self.waived})

    def validate(self, context: cdk.IPolicyValidationContext) -> cdk.PolicyValidationPluginReport:
        skip = rules_to_skip(resource_types(context.template_paths), self.waived)
        validator = CfnGuardValidator(control_tower_rules_enabled=True, disabled_rules=skip)
        # The validator is written against the same interface's older (Beta1) name.
        beta = cast(cdk.IPolicyValidationContextBeta1, context)
        return cast(cdk.PolicyValidationPluginReport, validator.validate(beta))


def failing_controls(template_paths: Sequence[str], waived: Mapping[str, str]) -> set[str]:
    """The controls the given templates fail, ``waived`` aside (for tests and tools)."""
    context = cast(cdk.IPolicyValidationContext, Templates(template_paths))
    report = ControlTowerChecks(waived).validate(context)
    return {control_of(v.description) for v in report.violations}


def control_of(description: str) -> str:
    """``[CT.S3.PR.10]: Require ...`` -> ``CT.S3.PR.10``."""
    match = CONTROL.search(description)
    return match.group(0) if match else description
