"""``python -m infra exec``: a command (a shell by default) in a running task.

ECS Exec as the AWS CLI's ``aws ecs execute-command --interactive`` does it:
check that the Session Manager plugin is installed, call ExecuteCommand, and
hand the session it returns to ``session-manager-plugin`` with the same
arguments, ignoring Ctrl-C and friends meanwhile so they reach the remote
command (awscli/customizations/ecs/executecommand.py).
"""

from __future__ import annotations

import json
import shlex
import shutil
import signal
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from infra.ops.aws import Aws, AwsError, Client

PLUGIN = "session-manager-plugin"
INSTALL_PAGE = (
    "https://docs.aws.amazon.com/systems-manager/latest/userguide/"
    "session-manager-working-with-install-plugin.html"
)
INSTALL_HINT = f"""\
exec needs the Session Manager plugin for the AWS CLI ({PLUGIN}), and it is not on PATH.
Install it as AWS's page "Install the Session Manager plugin for the AWS CLI" says:
  {INSTALL_PAGE}
  Debian/Ubuntu: session-manager-plugin.deb from that page (ubuntu_64bit or ubuntu_arm64),
                 then: sudo dpkg -i session-manager-plugin.deb
  macOS:         brew install --cask session-manager-plugin, or the signed installer
                 session-manager-plugin.pkg from that page
  Windows:       SessionManagerPluginSetup.exe from that page
Check with `{PLUGIN} --version` (1.2.764.0 or later), then run this again."""
# Signals the plugin passes on to the remote command; killing this process
# instead would leave the plugin running in the background (as the AWS CLI says).
PASSED_ON = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGQUIT", "SIGTSTP") if hasattr(signal, name)
)
DEFAULT_COMMAND = "/bin/sh"


def plugin() -> str | None:
    """The plugin's path, or None when it is not installed."""
    return shutil.which(PLUGIN)


def pick_task(ecs: Client, cluster: str, service_arn: str) -> str:
    """A running task of the service that can be exec'd into: the newest one."""
    service_name = service_arn.rsplit("/", 1)[-1]
    arns = ecs.list_tasks(cluster=cluster, serviceName=service_name, desiredStatus="RUNNING")[
        "taskArns"
    ]
    if not arns:
        raise AwsError(f"{service_name} has no running task (python -m infra status shows why)")
    tasks = ecs.describe_tasks(cluster=cluster, tasks=arns[:100])["tasks"]
    running = [t for t in tasks if t.get("lastStatus") == "RUNNING"]
    # Tasks started before exec was enabled have no agent to talk to.
    ready = [t for t in running if t.get("enableExecuteCommand") is not False]
    if not ready:
        raise AwsError(
            f"none of {service_name}'s {len(running)} running tasks has ECS Exec enabled: "
            "they started before `exec: true` was deployed; start new ones with "
            f"aws ecs update-service --cluster {cluster} --service {service_name} "
            "--force-new-deployment"
        )
    newest = max(ready, key=lambda t: str(t.get("startedAt", "")))
    return str(newest["taskArn"])


def plugin_argv(
    plugin_path: str,
    response: Mapping[str, Any],
    region: str,
    profile: str | None,
    target: str,
    endpoint_url: str,
) -> list[str]:
    """The plugin's command line for an ExecuteCommand ``response``, as the AWS CLI builds it."""
    return [
        plugin_path,
        json.dumps(response["session"]),
        region,
        "StartSession",
        profile or "",
        json.dumps({"Target": target}),
        endpoint_url,
    ]


def ssm_target(ecs: Client, response: Mapping[str, Any]) -> str:
    """``ecs:<cluster>_<task id>_<container runtime id>``: the session's SSM target."""
    cluster = str(response["clusterArn"]).rsplit("/", 1)[-1]
    task_id = str(response["taskArn"]).rsplit("/", 1)[-1]
    tasks = ecs.describe_tasks(cluster=cluster, tasks=[task_id])["tasks"]
    if not tasks:
        raise AwsError(f"task {task_id} stopped before the session started; run exec again")
    name = response["containerName"]
    runtime = next((c.get("runtimeId") for c in tasks[0]["containers"] if c["name"] == name), None)
    return f"ecs:{cluster}_{task_id}_{runtime}"


def run(
    aws: Aws, plugin_path: str, cluster: str, service_arn: str, container: str,
    command: Sequence[str],
) -> int:  # fmt: skip
    """An interactive ``command`` in a running task's ``container``; the plugin's exit code."""
    ecs = aws.client("ecs")
    task = pick_task(ecs, cluster, service_arn)
    text = shlex.join(command) if command else DEFAULT_COMMAND
    print(f"exec in {task.rsplit('/', 1)[-1]} ({container}): {text}", flush=True)
    response = ecs.execute_command(
        cluster=cluster, task=task, container=container, command=text, interactive=True
    )
    target = ssm_target(ecs, response)
    endpoint = str(ecs.meta.endpoint_url)
    argv = plugin_argv(plugin_path, response, aws.region, aws.profile, target, endpoint)
    with passed_on():
        return subprocess.call(argv)


@contextmanager
def passed_on() -> Iterator[None]:
    """Ignore the signals a user types while the plugin runs (it forwards them)."""
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in PASSED_ON}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
