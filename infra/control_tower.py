"""AWS Control Tower's proactive controls, checked at every synth, and their waivers.

The controls are AWS's own cfn-guard rules, shipped with cfn-guard in PyPI's
``cdklabs-cdk-validator-cfnguard``, whose ``CfnGuardValidator`` is a CDK policy
validation plugin: a failing control fails ``cdk synth`` with the construct
path and the fix. :class:`ControlTowerChecks` wraps it to add the waivers of
``security/control-tower.yaml`` (per environment, each with its reason) and
two savings. cfn-guard applies all 237 rule files to every template, which
made each synth about 3 s slower: rules about resource types the templates do
not contain can only be skipped, so they are left out, for the same result in
a fraction of the time. And a template that passed is remembered
(``.cache/control-tower/``, keyed by its exact bytes, the waivers, the
validator's version and this module), so a synth checks only the stacks that
changed since one that passed.
"""

from __future__ import annotations

import hashlib
import json
import re
import tarfile
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import jsii
from cdklabs.cdk_validator_cfnguard import CfnGuardValidator

from infra.cache import write_entry
from infra.config import ConfigError, environments
from infra.config.files import read
from infra.paths import CACHE_DIR, CONTROL_TOWER_WAIVERS, ROOT

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
    """The controls waived in ``env`` (``all`` and the env's own), each with its reason.

    Read like a config file (:func:`infra.config.files.read`): a YAML error or a
    key set twice names its line, and so does every other problem here.
    """
    label = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
    try:
        document = read(path.read_bytes(), label)
    except ConfigError as error:
        raise WaiverError("\n".join(error.problems)) from None
    scopes = ["all", *environments()]
    known = rule_types()
    waived: dict[str, str] = {}
    for scope, controls in document.data.items():
        where = document.at((scope,))
        if scope not in scopes:
            raise WaiverError(f"{where}: {scope}: not `all` or an env ({', '.join(scopes)})")
        if not isinstance(controls, dict | None):
            raise WaiverError(f"{where}: {scope}: must be a mapping of control ID: reason")
        for control, reason in (controls or {}).items():
            where = document.at((scope, control))
            if not CONTROL.fullmatch(str(control)) or rule_name(str(control)) not in known:
                raise WaiverError(
                    f"{where}: {scope}.{control}: not a Control Tower control this "
                    "validator has (IDs look like CT.S3.PR.10)"
                )
            if not reason:
                raise WaiverError(f"{where}: {scope}.{control}: give the reason")
            if scope in ("all", env):
                waived[control] = " ".join(str(reason).split())
    return waived


def resource_types(templates: Iterable[bytes]) -> set[str]:
    """The resource types declared in the given templates (their JSON text)."""
    types: set[str] = set()
    for text in templates:
        template: dict[str, Any] = json.loads(text)
        types.update(r["Type"] for r in template.get("Resources", {}).values())
    return types


def rules_to_skip(types: set[str], waived: Iterable[str]) -> list[str]:
    """The rules that cannot apply to ``types``, plus the waived controls' rules."""
    skipped = {rule_name(control) for control in waived}
    skipped.update(name for name, checks in rule_types().items() if checks and not checks & types)
    return sorted(skipped)


@jsii.implements(cdk.IPolicyValidationContextBeta1)
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


# The Beta1 interfaces, which CfnGuardValidator implements: CDK accepts them
# where it asks for the newer names, but cannot read a Beta1 report back as a
# newer one.
@jsii.implements(cdk.IPolicyValidationPluginBeta1)
class ControlTowerChecks:
    """CfnGuardValidator with the Control Tower rules, less ``waived`` and those
    about resource types the synthesized templates do not contain."""

    def __init__(self, waived: Mapping[str, str], cache_dir: Path = CACHE_DIR) -> None:
        self.waived = dict(waived)
        self.cache_dir = cache_dir

    @property
    def name(self) -> str:
        return "control-tower"

    @property
    def version(self) -> str:
        return VALIDATOR_VERSION

    @property
    def rule_ids(self) -> list[str]:
        return sorted(set(rule_types()) - {rule_name(c) for c in self.waived})

    def validate(
        self, context: cdk.IPolicyValidationContextBeta1
    ) -> cdk.PolicyValidationPluginReportBeta1:
        passes = PassCache(self.waived, self.cache_dir)
        texts = {path: Path(path).read_bytes() for path in context.template_paths}
        entries = {path: passes.entry(text) for path, text in texts.items()}
        todo = [path for path, entry in entries.items() if not entry.exists()]
        if not todo:
            return cdk.PolicyValidationPluginReportBeta1(success=True, violations=[])
        skip = rules_to_skip(resource_types(texts[path] for path in todo), self.waived)
        validator = CfnGuardValidator(control_tower_rules_enabled=True, disabled_rules=skip)
        report = without_waived(validator.validate(Templates(todo)), self.waived)
        failed = {
            Path(resource.template_path).name
            for violation in report.violations
            for resource in violation.violating_resources
        }
        # A failure that names no template proves nothing about any of them.
        if report.success or failed:
            passes.add(entries[path] for path in todo if Path(path).name not in failed)
        return report


def without_waived(
    report: cdk.PolicyValidationPluginReportBeta1, waived: Mapping[str, str]
) -> cdk.PolicyValidationPluginReportBeta1:
    """``report`` less the findings of ``waived`` controls.

    cdk-validator-cfnguard 0.0.62 sometimes runs disabled rules: its rule
    listing passes cfn-guard the whole rules folder whenever the number of
    paths it kept happens to equal the folder's number of entries, and a
    waived control then failed a synth, depending on which templates the pass
    cache left to check (tests/infra/test_security.py reproduces it).
    """
    kept = [v for v in report.violations if control_of(v.description) not in waived]
    if len(kept) == len(report.violations):
        return report
    return cdk.PolicyValidationPluginReportBeta1(success=not kept, violations=kept)


class PassCache:
    """Templates that passed the checks with these waivers, by content."""

    def __init__(self, waived: Mapping[str, str], directory: Path = CACHE_DIR) -> None:
        self.directory = directory / "control-tower"
        self.salt = "\0".join([VALIDATOR_VERSION, _this_module_hash(), *sorted(waived)])

    def entry(self, template: bytes) -> Path:
        """Where a pass of the template with this text is (or would be) recorded."""
        digest = hashlib.sha256(self.salt.encode() + b"\0" + template)
        return self.directory / digest.hexdigest()

    def known(self, template_path: str) -> bool:
        return self.entry(Path(template_path).read_bytes()).exists()

    def add(self, entries: Iterable[Path]) -> None:
        for entry in entries:
            write_entry(entry)


@lru_cache(maxsize=1)
def _this_module_hash() -> str:
    """A change to the rule selection here invalidates every remembered pass."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()


def failing_controls(template_paths: Sequence[str], waived: Mapping[str, str]) -> set[str]:
    """The controls the given templates fail, ``waived`` aside (for tests and tools)."""
    return set().union(*failing_by_file(template_paths, waived).values())


def failing_by_file(
    template_paths: Sequence[str], waived: Mapping[str, str] | None = None
) -> dict[str, set[str]]:
    """The controls each of the given templates fails, ``waived`` aside, by its path
    (templates that pass are left out); one cfn-guard run for them all."""
    report = ControlTowerChecks(waived or {}).validate(Templates(template_paths))
    found: dict[str, set[str]] = {}
    for violation in report.violations:
        for resource in violation.violating_resources:
            found.setdefault(resource.template_path, set()).add(control_of(violation.description))
    return found


def control_of(description: str) -> str:
    """``[CT.S3.PR.10]: Require ...`` -> ``CT.S3.PR.10``."""
    match = CONTROL.search(description)
    return match.group(0) if match else description
