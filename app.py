#!/usr/bin/env python3
"""CDK entry point: ``cdk synth --context env=<env>`` (default ``dev``).

Loads ``config/base.yaml`` merged with ``config/<env>.yaml``, validates it,
and builds the network, cluster and service stacks of that environment.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import aws_cdk as cdk

from infra.builder import build, cdk_json_context
from infra.compliance import add_checks, checks_failed, failed_findings
from infra.config import ConfigError, load_config
from infra.control_tower import WaiverError

# `preview` synthesizes the ref it compares against with this set to "off":
# those templates are only a baseline, never deployed.
from infra.ops.synth import CHECKS_VARIABLE
from infra.paths import CONFIG_DIR


def main() -> int:
    checks = os.environ.get(CHECKS_VARIABLE, "on")
    if checks not in ("on", "off"):
        print(f"{CHECKS_VARIABLE}={checks}: use on (the default) or off", file=sys.stderr)
        return 2
    # The cdk CLI sets CDK_CLI_VERSION for the app it runs: a variable left set
    # from a preview job must not let a deploy skip the checks.
    if checks == "off" and os.environ.get("CDK_CLI_VERSION"):
        print(f"{CHECKS_VARIABLE}=off: the checks cannot be turned off under the cdk CLI "
              "(only preview's own baseline synth runs without them)", file=sys.stderr)  # fmt: skip
        return 2
    # No stack traces in metadata: the CLI would print one under each info line.
    app = cdk.App(context=cdk_json_context(), stack_traces=False)
    env = app.node.try_get_context("env") or "dev"
    # `--context config=DIR`: another config folder (an imported compose file's).
    config_dir = Path(str(app.node.try_get_context("config") or CONFIG_DIR))
    try:
        config = load_config(str(env), config_dir)
    except ConfigError as error:
        print(error.render(), file=sys.stderr)
        return 2
    build(app, config)
    if checks == "off":
        print(f"{CHECKS_VARIABLE}=off: no cdk-nag or Control Tower checks; these templates "
              "are for comparing only, never deploy them", file=sys.stderr)  # fmt: skip
        app.synth()
        return 0
    try:
        add_checks(app, config.env)
    except WaiverError as error:
        print(error, file=sys.stderr)
        return 2
    # Under the cdk CLI a failed check does not raise here: CDK writes this
    # report and the CLI fails the synth. A report left by an earlier synth
    # into the same folder must not count.
    report = Path(app.outdir) / "validation-report.json"
    report.unlink(missing_ok=True)
    try:
        app.synth()
    except RuntimeError as error:
        if "ValidationFailed" not in str(error):
            raise
        return security_checks_failed()
    if checks_failed(report):
        # The cdk CLI prints the report only for an app that succeeded.
        print("\n".join(failed_findings(report)), file=sys.stderr)
        return security_checks_failed()
    return 0


def security_checks_failed() -> int:
    """After CDK has printed each finding with its construct path: what to do next."""
    print(
        "security checks failed: fix the findings above (a config value, e.g. "
        "logging.retention_days, or the construct), acknowledge a cdk-nag finding on its "
        "construct with a reason, or waive a Control Tower control (CT.*) with its reason "
        "in security/control-tower.yaml; see Security in README.md",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
