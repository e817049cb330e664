"""``python -m infra``: operator tools.

Offline, without AWS credentials:

python -m infra config show --env prod      the resolved config, with origins
python -m infra preview --env prod [--against REF] [--json] [--no-cache] [--prices FILE]
python -m infra cost --env prod|all [--prices FILE] [--json] [--assembly DIR]
python -m infra import compose.yaml [-f MORE.yaml] [--out DIR] [--app NAME] [--public SVC,..]

Each command that reads the config takes --config DIR (default config/).

With AWS credentials, on the deployed env (boto3; region from the config's
region:, else AWS_REGION or the profile's; AWS_ENDPOINT_URL is honoured):

python -m infra status --env prod           stacks, tasks, deployments, targets, URL
python -m infra logs --env prod SERVICE [--since 10m] [--follow]
python -m infra exec --env prod SERVICE [-- CMD ...]   a shell in a task (exec: true)
python -m infra smoke --env prod            GET the public URLs; the visit count rises
python -m infra preflight --env prod        credentials, account and CDK bootstrap

Exit codes: 0 fine, 1 something found (changes, unhealthy, a failed check),
2 could not run (bad config, no credentials, no region); preview also 3.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from infra.config import AppConfig, ConfigError, environments, load_config, load_with_origins
from infra.ops import cost, cost_report, synth
from infra.ops.checks import run_checks
from infra.ops.compose_import import add_import_arguments, run_import
from infra.ops.preview import PreviewError, preview
from infra.ops.preview_report import CostChange, as_json, exit_code, print_human
from infra.ops.render import progress, say, table
from infra.ops.show import annotated_yaml
from infra.paths import CONFIG_DIR, ROOT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra",
        description="Operator tools: offline ones, and day-2 commands on the deployed env.",
        epilog="\n".join(line.strip() for line in __doc__.splitlines()[2:]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    config = commands.add_parser("config", help="the resolved config").add_subparsers(
        dest="action", required=True
    )
    show = config.add_parser("show", help="resolved config as YAML, each value with its origin")
    show.add_argument("--env", default="dev")
    look = commands.add_parser("preview", help="what a deploy of the working tree would change")
    look.add_argument("--env", default="dev")
    look.add_argument("--against", default="HEAD", metavar="REF", help="git ref (default HEAD)")
    look.add_argument("--json", action="store_true", help="machine-readable output")
    look.add_argument("--no-cache", action="store_true", help="synthesize the ref again")
    look.add_argument("--prices", type=Path, default=cost.PRICES, metavar="FILE",
                      help="price file (YAML) for the cost line")  # fmt: skip
    price = commands.add_parser("cost", help="estimated always-on monthly cost")
    price.add_argument("--env", default="dev", help="an environment, or all")
    price.add_argument("--prices", type=Path, default=cost.PRICES, metavar="FILE",
                       help="price file (YAML)")  # fmt: skip
    price.add_argument("--json", action="store_true", help="machine-readable output")
    price.add_argument(
        "--assembly", type=Path, metavar="DIR",
        help="price the env's templates already in DIR (e.g. cdk.out) instead of synthesizing",
    )  # fmt: skip
    imports = commands.add_parser("import", help="config/ from a compose file (offline)")
    add_import_arguments(imports)
    _day2_commands(commands)
    for command in (show, look, price, *(commands.choices[name] for name in DAY2)):
        command.add_argument(
            "--config", type=Path, default=CONFIG_DIR, metavar="DIR",
            help="the config folder (default config/), e.g. one `import` wrote",
        )  # fmt: skip
    args = parser.parse_args(argv)
    if args.command == "import":
        return run_import(args)
    try:
        if args.command in DAY2:
            return _day2(args, load_config(args.env, args.config))
        if args.command == "config":
            resolved, origins = load_with_origins(args.env, args.config)
            print(annotated_yaml(resolved, origins))
            return 0
        if args.command == "preview":
            loaded = load_config(args.env, args.config)
            return _preview(
                loaded, args.config, args.against, args.json, not args.no_cache, args.prices
            )
        envs = environments(args.config) if args.env == "all" else [args.env]
        configs = [load_config(env, args.config) for env in envs]
        if args.assembly is not None:
            return _cost_of_assembly(configs, args.assembly, args.prices, args.json)
        return _cost(configs, args.config, args.prices, args.json)
    except ConfigError as error:
        print(error.render(), file=sys.stderr)
        return 2
    except (PreviewError, synth.SynthError, cost.PriceFileError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


DAY2 = ("status", "logs", "exec", "smoke", "preflight")


def _day2_commands(commands: Any) -> None:
    """The commands that read the deployed env through AWS."""
    status = commands.add_parser("status", help="the deployed stacks and services, their health")
    status.add_argument("--env", default="dev")
    logs = commands.add_parser("logs", help="a service's CloudWatch logs")
    logs.add_argument("--env", default="dev")
    logs.add_argument("service", nargs="?", help="a service of the config")
    logs.add_argument("--since", default="10m", type=_since, help="30s, 10m, 2h, 1d (default 10m)")
    logs.add_argument("--follow", action="store_true", help="print new events until Ctrl-C")
    shell = commands.add_parser("exec", help="a command in a running task (ECS Exec)")
    shell.add_argument("--env", default="dev")
    shell.add_argument("service", nargs="?", help="a service with exec: true")
    shell.add_argument(
        "cmd", nargs="*", metavar="CMD", help="after --: the command (default /bin/sh)"
    )
    smoke = commands.add_parser("smoke", help="GET each public URL's health path and page")
    smoke.add_argument("--env", default="dev")
    pre = commands.add_parser("preflight", help="credentials and CDK bootstrap, before a deploy")
    pre.add_argument("--env", default="dev")


def _since(text: str) -> Any:
    from infra.ops.logs_tail import parse_since

    try:
        return parse_since(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _day2(args: argparse.Namespace, config: AppConfig) -> int:
    """status, logs, exec, smoke, preflight. boto3 is imported here only: the
    offline commands do not pay for it."""
    from infra.ops import aws

    try:
        return _run_day2(args, config)
    except aws.AwsError as error:
        print(f"error: {error}", file=sys.stderr)
    except aws.ERRORS as error:
        print(f"error: {aws.explain(error)}", file=sys.stderr)
    except KeyboardInterrupt:
        return 130
    if args.command == "preflight":
        from infra.ops.preflight import offline_hint

        print(offline_hint(config.env), file=sys.stderr)
    return 2


def _run_day2(args: argparse.Namespace, config: AppConfig) -> int:
    from infra.ops import exec_session, logs_tail, preflight, smoke, status
    from infra.ops.aws import QUICK, Aws, AwsError

    if args.command == "status":
        aws = Aws(config.region)
        return status.report(status.collect(aws, config), config, aws.region)
    if args.command == "smoke":
        return smoke.run(Aws(config.region), config)
    if args.command == "preflight":
        return preflight.run(Aws(config.region, QUICK), config)
    name = _service_name(config, args.service)
    if args.command == "logs":
        aws = Aws(config.region)
        stack = aws.deployed(config.stack_name(name), f"make deploy ENV={config.env}")
        logs_tail.tail(aws.client("logs"), stack.output("LogGroupName"), args.since, args.follow)
        return 0
    if not config.services[name].exec:
        raise AwsError(
            f"{name} does not allow exec: set `services.{name}.exec: true` in "
            f"config/{config.env}.yaml (or config/base.yaml for every env), then "
            f"make deploy ENV={config.env}"
        )
    plugin = exec_session.plugin()
    if plugin is None:
        raise AwsError(exec_session.INSTALL_HINT)
    aws = Aws(config.region)
    stack = aws.deployed(config.stack_name(name), f"make deploy ENV={config.env}")
    return exec_session.run(
        aws, plugin, stack.output("ClusterName"), stack.output("ServiceArn"), name, args.cmd
    )


def _service_name(config: AppConfig, name: str | None) -> str:
    from infra.ops.aws import AwsError

    known = ", ".join(config.services)
    if name is None:
        raise AwsError(f"name a service of {config.env}: {known}")
    if name not in config.services:
        raise AwsError(f"unknown service {name!r}; the services of {config.env} are: {known}")
    managed = config.services[name].managed
    if managed is not None:
        from infra.config.engines import ENGINES, aurora_log_group

        logs = (
            f"; its log: the CloudWatch group {aurora_log_group(config.stack_name(name))}"
            if managed.engine == "postgres"
            else ""
        )
        raise AwsError(f"{name} is {ENGINES[managed.engine].title} in {config.env}: no "
                       "container to read logs of or exec into; its graphs and alarms are "
                       f"on the env's dashboard{logs}")  # fmt: skip
    return name


def _preview(
    config: AppConfig,
    config_dir: Path,
    against: str,
    machine: bool,
    use_cache: bool,
    price_file: Path,
) -> int:
    prices = cost.Prices.load(price_file)  # a bad price file fails before the synths
    found = preview(config, against, use_cache, config_dir)
    findings = run_checks(found.diff)
    money = CostChange.of(found.before, found.after, prices)
    if machine:
        print(as_json(found.diff, findings, config, against, money))
    else:
        print_human(found.diff, findings, config, against, money)
    return exit_code(found.diff, findings)


def _cost(configs: list[AppConfig], config_dir: Path, price_file: Path, machine: bool) -> int:
    prices = cost.Prices.load(price_file)
    with (
        tempfile.TemporaryDirectory(prefix="cost-") as tmp,
        progress("synthesizing " + ", ".join(c.env for c in configs)),
    ):
        running = [
            synth.start(ROOT, c.env, Path(tmp) / c.env, config_dir=config_dir.resolve())
            for c in configs
        ]
        lines = {
            c.env: cost.estimate(run.templates(), prices)
            for c, run in zip(configs, running, strict=True)
        }
    return _print_cost(lines, prices, machine)


def _cost_of_assembly(
    configs: list[AppConfig], assembly: Path, price_file: Path, machine: bool
) -> int:
    """The cost of one env's stacks as synthesized into ``assembly`` (no synth here)."""
    if len(configs) != 1:
        print("error: --assembly holds one env's templates; name it with --env", file=sys.stderr)
        return 2
    (config,) = configs
    templates = synth.assembly_templates(assembly)
    prefix = config.stack_name("")
    mine = {name: body for name, body in templates.items() if name.startswith(prefix)}
    if not mine:
        found = ", ".join(sorted(templates)) or "no stacks"
        print(f"error: {assembly} holds {found}, not {config.env}'s stacks "
              f"({prefix}*): run `make synth ENV={config.env}`", file=sys.stderr)  # fmt: skip
        return 2
    prices = cost.Prices.load(price_file)
    return _print_cost({config.env: cost.estimate(mine, prices)}, prices, machine)


def _print_cost(lines: dict[str, list[cost.Line]], prices: cost.Prices, machine: bool) -> int:
    if machine:
        print(json.dumps(cost_report.as_json(lines, prices), indent=2))
        return 0
    shown = cost_report.as_table(lines, prices)
    table(shown.title, shown.headers, shown.rows, shown.right)
    say("not included: " + "; ".join(prices.not_included))
    return 0


if __name__ == "__main__":
    sys.exit(main())
