#!/usr/bin/env python3
"""CDK entry point: ``cdk synth --context env=<env>`` (default ``dev``).

Loads ``config/base.yaml`` merged with ``config/<env>.yaml``, validates it,
and builds the network, cluster and service stacks of that environment.
"""

from __future__ import annotations

import sys

import aws_cdk as cdk

from infra.builder import build, cdk_json_context
from infra.config import ConfigError, load_config


def main() -> int:
    app = cdk.App(context=cdk_json_context())
    env = app.node.try_get_context("env") or "dev"
    try:
        config = load_config(str(env))
    except ConfigError as error:
        print(f"config error ({len(error.problems)}):", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        if error.note:
            print(error.note, file=sys.stderr)
        return 2
    build(app, config)
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
