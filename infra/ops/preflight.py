"""``python -m infra preflight``: can a deploy of this env start?

Run by ``make deploy`` and ``make diff`` before they synthesize, so a missing
login or bootstrap costs seconds, not a synth and a failed deploy: the
credentials (STS GetCallerIdentity, and the account the config pins), the
region, and the CDK bootstrap version of that account and region (its SSM
parameter). Each failure says its fix.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from botocore.exceptions import ClientError

from infra.config import AppConfig
from infra.ops.aws import DENIED, Aws, code_of
from infra.ops.render import say
from infra.paths import CDK_JSON

# The oldest bootstrap the synthesized templates accept: every stack's
# Rules.CheckBootstrapVersion (cdk.out/<stack>.template.json, aws-cdk-lib 2.275)
# asserts that the version parameter is none of 1-5, "CDK bootstrap stack
# version 6 required" (cdk.out/manifest.json: requiresBootstrapStackVersion 6).
MIN_BOOTSTRAP_VERSION = 6
DEFAULT_QUALIFIER = "hnb659fds"
QUALIFIER_CONTEXT = "@aws-cdk/core:bootstrapQualifier"


@dataclass(frozen=True)
class Finding:
    what: str
    ok: bool
    detail: str
    fix: str = ""

    def lines(self) -> list[str]:
        head = f"{'ok  ' if self.ok else 'FAIL'}  {self.what}: {self.detail}"
        return [head, f"      fix: {self.fix}"] if self.fix else [head]


def offline_hint(env: str) -> str:
    return f"for an offline look at what a deploy would change: make preview ENV={env}"


def qualifier(cdk_json: Path = CDK_JSON) -> str:
    """The bootstrap qualifier the app synthesizes for (cdk.json's context, or the default)."""
    try:
        context = json.loads(cdk_json.read_text()).get("context", {})
    except (OSError, ValueError):
        return DEFAULT_QUALIFIER
    return str(context.get(QUALIFIER_CONTEXT, DEFAULT_QUALIFIER))


def bootstrap_command(account: str, region: str, qualifier: str = DEFAULT_QUALIFIER) -> str:
    custom = f" --qualifier {qualifier}" if qualifier != DEFAULT_QUALIFIER else ""
    # bin/cdk: the pinned CLI on the project's Node, as README says to run it.
    return f"bin/cdk bootstrap aws://{account}/{region}{custom}"


def account_finding(account: str, arn: str, pinned: str | None, env: str) -> Finding:
    if pinned is None or account == pinned:
        return Finding("credentials", True, f"{arn} (account {account})")
    return Finding(
        "credentials", False,
        f"{arn} is in account {account}, and config/{env}.yaml pins account {pinned}",
        f"set AWS_PROFILE to a profile of account {pinned}, or `aws sso login` to it",
    )  # fmt: skip


def bootstrap_finding(
    version: str | None, parameter: str, account: str, region: str, qualifier: str
) -> Finding:
    """``version``: the parameter's value, None when it does not exist."""
    where = f"aws://{account}/{region}"
    fix = bootstrap_command(account, region, qualifier)
    what, least = "CDK bootstrap", MIN_BOOTSTRAP_VERSION
    if version is None:
        detail = f"{where} is not bootstrapped (no SSM parameter {parameter})"
        return Finding(what, False, detail, fix)
    if not version.isdigit() or int(version) < least:
        detail = f"{where} has bootstrap version {version}; the templates need {least} or later"
        return Finding(what, False, detail, fix)
    return Finding(what, True, f"version {version} in {where} ({least} or later needed)")


def run(aws: Aws, config: AppConfig, cdk_json: Path = CDK_JSON) -> int:
    """Check, print each finding; 0 when a deploy can start, 1 when not. No
    credentials or no region raise (AwsError, botocore errors): exit 2."""
    identity = aws.client("sts").get_caller_identity()
    account, arn = str(identity["Account"]), str(identity["Arn"])
    findings = [
        account_finding(account, arn, config.account, config.env),
        Finding("region", True, aws.region),
    ]
    name = qualifier(cdk_json)
    parameter = f"/cdk-bootstrap/{name}/version"
    try:
        version: str | None = str(
            aws.client("ssm").get_parameter(Name=parameter)["Parameter"]["Value"]
        )
    except ClientError as error:
        if code_of(error) in DENIED:
            detail = f"not checked: may not read {parameter} ({code_of(error)}); the deploy will"
            findings.append(Finding("CDK bootstrap", True, detail))
            return _print(findings, config.env)
        if code_of(error) != "ParameterNotFound":
            raise
        version = None
    findings.append(bootstrap_finding(version, parameter, account, aws.region, name))
    return _print(findings, config.env)


def _print(findings: list[Finding], env: str) -> int:
    for finding in findings:
        for line in finding.lines():
            say(line, style=None if finding.ok else "red")
    failed = [f.what for f in findings if not f.ok]
    if failed:
        say(f"preflight failed ({', '.join(failed)}); {offline_hint(env)}", style="bold red")
        return 1
    return 0
