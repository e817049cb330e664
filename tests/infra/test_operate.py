"""The day-2 commands (status, logs, exec, smoke, preflight) against a local AWS.

One real ``moto_server`` for the module; each test that needs AWS state resets
it and creates what it needs through boto3 calls over HTTP: CloudFormation
stacks whose outputs carry the names (as the service stacks' do), ECS clusters
and services, target groups, log groups, the CDK bootstrap parameter.

Two runs are of ``python -m infra`` as a user runs it, in a subprocess: a
healthy ``status`` and a ``preflight`` without any credentials (where a clean
environment is the point). Every other case calls ``main`` in this process:
the same code against the same moto, with the environment pointed at it by
``monkeypatch``. Nothing caches a session or a client across commands (each
builds its own ``Aws``, which reads the environment then; only botocore's
service models are shared), so one test's endpoint or credentials cannot
reach the next. The pure parts run on small inputs. smoke checks the real
frontend (gunicorn) and a real redis-server on loopback.

moto does not implement ECS ExecuteCommand (its server answers 500 "not
implemented"), and no Session Manager plugin is installed here: exec is run
for real up to the missing plugin, its task choice against moto, and the
plugin's command line is compared with the AWS CLI's.
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import os
import queue
import shutil
import signal
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.exceptions import ClientError, NoCredentialsError, UnauthorizedSSOTokenError

from infra.__main__ import main
from infra.config import AppConfig, load_config
from infra.ops import exec_session, logs_tail, preflight, smoke, status
from infra.ops.aws import MODELS, Aws, AwsError, Stack, explain
from infra.paths import ROOT
from tests.support.cli import run
from tests.support.servers import Gunicorn, MotoServer, RedisServer, free_port, without_aws

pytestmark = pytest.mark.end_to_end

ENV = "dev"
ACCOUNT = "123456789012"  # moto's
DUMMY = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


# moto's names of the backends the commands and the tests call.
BACKENDS = ("cloudformation", "ecs", "ec2", "elbv2", "logs", "ssm", "sts")


@pytest.fixture(scope="module")
def moto_server() -> Iterator[MotoServer]:
    """Started, not waited for: it imports its backends (~2 s of CPU) while the
    first tests run processes of their own; the fixtures that call it wait."""
    server = MotoServer(running_tasks=1, preload=BACKENDS).start(wait=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def config() -> AppConfig:
    return load_config(ENV, environ={})


class Cloud:
    """Creates, through boto3 on moto, what a deploy of the env would leave behind."""

    def __init__(self, config: AppConfig, clients: dict[str, Any]) -> None:
        self.config = config
        self.clients = clients
        self.cluster = f"{config.stack_name('cluster')}-Cluster"
        self.client("ecs").create_cluster(clusterName=self.cluster)

    def client(self, name: str) -> Any:
        return self.clients[name]

    def stack(self, part: str, outputs: dict[str, str] | None = None) -> str:
        """A stack of the env with one trivial resource and literal outputs."""
        body = {
            "Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
            "Outputs": {key: {"Value": value} for key, value in (outputs or {}).items()},
        }
        name = self.config.stack_name(part)
        self.client("cloudformation").create_stack(StackName=name, TemplateBody=json.dumps(body))
        return name

    def service(self, name: str, desired: int = 1, url: str | None = None,
                targets: int = 1) -> dict[str, str]:  # fmt: skip
        """An ECS service (moto reports one task running), its log group, a target
        group with ``targets`` registered when ``url`` is given, and its stack."""
        ecs = self.client("ecs")
        ecs.register_task_definition(
            family=name, containerDefinitions=[{"name": name, "image": "x", "memory": 512}]
        )
        balancers = []
        if url is not None:
            balancers = [{"targetGroupArn": self.target_group(name, targets),
                          "containerName": name, "containerPort": 5000}]  # fmt: skip
        arn = ecs.create_service(
            cluster=self.cluster, serviceName=name, taskDefinition=name, desiredCount=desired,
            launchType="FARGATE", loadBalancers=balancers,
        )["service"]["serviceArn"]  # fmt: skip
        group = f"{self.config.stack_name(name)}-TaskLogGroup"
        self.client("logs").create_log_group(logGroupName=group)
        outputs = {"ServiceArn": arn, "ClusterName": self.cluster, "LogGroupName": group}
        if url is not None:
            outputs["Url"] = url
        self.stack(name, outputs)
        return outputs

    def target_group(self, name: str, targets: int) -> str:
        vpc = self.client("ec2").create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        elbv2 = self.client("elbv2")
        arn: str = elbv2.create_target_group(
            Name=f"{name}-tg", Protocol="HTTP", Port=5000, VpcId=vpc, TargetType="ip"
        )["TargetGroups"][0]["TargetGroupArn"]
        if targets:
            elbv2.register_targets(
                TargetGroupArn=arn,
                Targets=[{"Id": f"10.0.1.{i + 10}", "Port": 5000} for i in range(targets)],
            )
        return arn

    def deploy(self, url: str = "http://127.0.0.1:9", frontend_desired: int = 1,
               frontend_targets: int = 1) -> None:  # fmt: skip
        """The env as `make deploy` leaves it, less the storage stack."""
        for part in self.config.stack_parts():
            if part == "backend":
                self.service("backend")
            elif part == "frontend":
                self.service("frontend", frontend_desired, url, frontend_targets)
            elif part != "storage":
                self.stack(part)

    def bootstrap(self, version: str) -> None:
        self.client("ssm").put_parameter(
            Name="/cdk-bootstrap/hnb659fds/version", Value=version, Type="String", Overwrite=True
        )


@pytest.fixture(scope="module")
def clients(moto_server: MotoServer) -> dict[str, Any]:
    """The tests' boto3 clients, one per service for the module, made while moto
    starts. They read the service models through the commands' loader: each is
    parsed once (CloudFormation's alone takes ~0.1 s)."""
    core = botocore.session.Session()
    core.register_component("data_loader", MODELS)
    session = boto3.Session(botocore_session=core, region_name=moto_server.REGION, **DUMMY)
    services = ("cloudformation", "ecs", "ec2", "elbv2", "logs", "ssm")
    return {name: session.client(name, endpoint_url=moto_server.url) for name in services}


@pytest.fixture(scope="module")
def stopping() -> Iterator[list[threading.Thread]]:
    """Servers being stopped in the background while the next tests run; waited for
    at the end of the module."""
    threads: list[threading.Thread] = []
    yield threads
    for thread in threads:
        thread.join()


@pytest.fixture
def frontend(stopping: list[threading.Thread]) -> Iterator[tuple[RedisServer, Gunicorn]]:
    """The real frontend (gunicorn) on a real redis-server. A test that asks for it
    before ``cloud`` has it start while moto may still be loading its backends.
    gunicorn's quick shutdown still takes ~0.5 s: the next tests need not wait."""
    with RedisServer() as redis_server:
        backend = {"BACKEND_HOST": "127.0.0.1", "BACKEND_PORT": str(redis_server.port)}
        gunicorn = Gunicorn(env=backend, workers=1, threads=2).start()
        try:
            yield redis_server, gunicorn
        finally:
            stopping.append(threading.Thread(target=gunicorn.quit))
            stopping[-1].start()


@pytest.fixture
def aws_env(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> MotoServer:
    """This process's environment pointed at moto (for ``main``), and at nothing else:
    its endpoint and dummy credentials, no profile or shared file, undone after."""
    moto_server.wait()
    for key in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(key)
    for key, value in moto_server.env.items():
        if key.startswith("AWS_"):
            monkeypatch.setenv(key, value)
    return moto_server


@pytest.fixture
def cloud(aws_env: MotoServer, config: AppConfig, clients: dict[str, Any]) -> Cloud:
    """An empty moto (``aws_env`` points this process at it)."""
    aws_env.reset()
    aws_env.hold("ecs::task")  # a task run stays RUNNING
    return Cloud(config, clients)


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``main(args)`` in this process: exit code, stdout, stderr."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


# --- first, while moto imports its backends: the tests that start processes of their
# own (a CLI run, the frontend), which then run alongside it --------------------------


def test_preflight_without_credentials_says_how_to_log_in(moto_server: MotoServer) -> None:
    """As a user runs it, in a process whose environment has no AWS setting at all."""
    env = {**without_aws(os.environ), "AWS_REGION": "eu-west-1",
           "AWS_ENDPOINT_URL": moto_server.url}  # fmt: skip
    done = run("preflight", "--env", ENV, env=env)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (
        "error: no AWS credentials found: set AWS_PROFILE to a configured profile, or run "
        "`aws sso login` (`aws configure sso` sets a profile up)\n"
        "for an offline look at what a deploy would change: make preview ENV=dev\n"
    )


def test_smoke_against_the_real_frontend_and_redis(
    moto_server: MotoServer, frontend: tuple[RedisServer, Gunicorn], cloud: Cloud,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """One frontend for both cases. The fixtures in this order: moto starts, then
    the frontend, then ``cloud`` waits for moto."""
    redis_server, gunicorn = frontend
    cloud.deploy(url=gunicorn.url)
    code, out, err = cli(capsys, "smoke", "--env", ENV)
    assert code == 0, out + err
    lines = [" ".join(line.split()) for line in out.splitlines()]
    assert [line.rsplit(" (", 1)[0] for line in lines] == [
        f"ok frontend GET {gunicorn.url}/healthz: 200",
        f"ok frontend GET {gunicorn.url}/: 200",
        "ok frontend visit count: 0 -> 1",
        "smoke: all 3 checks passed",
    ]
    # Redis goes away: the page fails, liveness does not, and the count cannot be read.
    redis_server.stop()
    code, out, _ = cli(capsys, "smoke", "--env", ENV)
    assert code == 1
    lines = [" ".join(line.split()) for line in out.splitlines()]
    assert lines[0].startswith(f"ok frontend GET {gunicorn.url}/healthz: 200")
    assert lines[1].startswith(f"FAIL frontend GET {gunicorn.url}/: 503")
    assert lines[2].startswith("FAIL frontend visit count: GET /api/visits before the page: 503")
    assert lines[3].startswith(f"smoke: 2 of 3 checks failed: frontend GET {gunicorn.url}/: 503 (")


# --- status ------------------------------------------------------------------------


def test_status_of_a_healthy_env(cloud: Cloud, moto_server: MotoServer) -> None:
    """As a user runs it: ``python -m infra`` in its own process."""
    cloud.deploy(url="http://timestamper-dev.example")
    shown = run("status", "--env", ENV, env=moto_server.env)
    assert shown.returncode == 0, shown.stderr
    lines = [" ".join(line.split()) for line in shown.stdout.splitlines()]
    assert "timestamper dev in eu-west-1" in lines
    assert "network timestamper-dev-network CREATE_COMPLETE" in lines
    assert "storage timestamper-dev-storage not deployed" in lines  # not an error
    assert lines.count("tasks: 1 running, 1 desired, 0 pending (ACTIVE)") == 2
    deployment = next(line for line in lines if line.startswith("deployment PRIMARY frontend:1"))
    assert "COMPLETED, 1/1 running, 0 pending, 0 failed: ECS deployment" in deployment
    assert "target group frontend-tg: 1 healthy" in lines
    assert "url: http://timestamper-dev.example" in lines
    assert lines[-1] == "ok: everything deployed is healthy and stable (storage not deployed)"


def test_status_names_what_is_not_healthy(
    cloud: Cloud, config: AppConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    # Two tasks wanted, one running (moto runs one), and no target registered.
    cloud.deploy(frontend_desired=2, frontend_targets=0)
    code, out, _ = cli(capsys, "status", "--env", ENV)
    assert code == 1
    assert out.splitlines()[-3:] == [
        "2 problems:",
        "  frontend: 1 running of 2 desired",
        "  frontend: no healthy target in frontend-tg",
    ]
    assert "target group frontend-tg: empty" in out


def test_a_managed_service_has_no_logs_or_shell_to_open(capsys: pytest.CaptureFixture[str]) -> None:
    """Prod's backend is managed Valkey: said before any AWS call, exit 2."""
    for command in ("logs", "exec"):
        code, _, err = cli(capsys, command, "--env", "prod", "backend")
        assert code == 2
        assert "backend is ElastiCache Serverless for Valkey in prod: no container" in err


def test_status_decisions_on_small_inputs() -> None:
    def part(stack_status: str = "UPDATE_COMPLETE", service: status.Service | None = None,
             outputs: dict[str, str] | None = None) -> status.Part:  # fmt: skip
        default = {"ServiceArn": "arn", "ClusterName": "c"} if service else {}
        stack = Stack("app-dev-web", stack_status, "Resource creation cancelled",
                      outputs if outputs is not None else default)  # fmt: skip
        return status.Part("web", stack.name, stack, True, service)

    def deployment(rollout: str, reason: str = "") -> status.Deployment:
        return status.Deployment("ecs-svc/1", "PRIMARY", rollout, reason, "web:3", 2, 2, 0, 0)

    def service(targets: tuple[str, ...] = ("healthy",), running: int = 2,
                rollout: str = "COMPLETED", reason: str = "") -> status.Service:  # fmt: skip
        group = status.TargetGroup("web-tg", tuple(
            status.Target(f"10.0.0.{i}:80", state, "Target.Timeout: Request timed out"
                          if state != "healthy" else "") for i, state in enumerate(targets)
        ))  # fmt: skip
        return status.Service("arn", "ACTIVE", 2, running, 2 - running,
                              (deployment(rollout, reason),), (group,))  # fmt: skip

    assert status.problems([part(service=service())]) == []
    assert status.problems([status.Part("storage", "app-dev-storage", None)]) == []
    # Draining and registering targets are a deploy going on, not a problem.
    assert status.problems([part(service=service(("healthy", "draining", "initial")))]) == []
    moving = part(service=service(rollout="IN_PROGRESS"))
    assert status.problems([moving]) == []
    assert status.in_progress([moving]) == ["web deployment ecs-svc/1"]
    assert status.problems([part("UPDATE_ROLLBACK_COMPLETE", service())]) == [
        "web: stack app-dev-web is UPDATE_ROLLBACK_COMPLETE: Resource creation cancelled"
    ]
    assert status.problems([part(service=service(running=1))]) == ["web: 1 running of 2 desired"]
    assert status.problems([part(service=service(rollout="FAILED", reason="circuit breaker"))]) == [
        "web: deployment ecs-svc/1 (web:3) FAILED: circuit breaker"
    ]
    assert status.problems([part(service=service(("healthy", "unhealthy")))]) == [
        "web: target 10.0.0.1:80 in web-tg is unhealthy (Target.Timeout: Request timed out)"
    ]
    assert status.problems([part(service=service(("unhealthy",)))])[-1] == (
        "web: no healthy target in web-tg"
    )
    assert status.problems([part(service=status.Service("arn", "INACTIVE"))]) == [
        "web: ECS service arn is INACTIVE"
    ]
    # A settled stack without the outputs cannot be looked into: say so. One
    # still being created has none yet.
    assert status.problems([part(outputs={})]) == [
        "web: stack app-dev-web has no ServiceArn/ClusterName outputs to find its "
        "service by: deploy it again"
    ]
    assert status.problems([part("CREATE_IN_PROGRESS", outputs={})]) == []
    shown = status.service_lines(part(service=service(("healthy", "unhealthy"))))
    assert "  target group web-tg: 1 healthy, 1 unhealthy" in shown
    assert "    10.0.0.1:80 unhealthy: Target.Timeout: Request timed out" in shown


# --- logs --------------------------------------------------------------------------


def put_events(cloud: Cloud, group: str, stream: str, events: list[tuple[float, str]]) -> None:
    """``events``: (seconds ago, message)."""
    logs = cloud.client("logs")
    if not logs.describe_log_streams(logGroupName=group, logStreamNamePrefix=stream)["logStreams"]:
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
    now = time.time()
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[
        {"timestamp": int((now - ago) * 1000), "message": text} for ago, text in events
    ])  # fmt: skip


def test_logs_interleave_the_streams_by_time(
    cloud: Cloud, capsys: pytest.CaptureFixture[str]
) -> None:
    group = cloud.service("backend")["LogGroupName"]
    put_events(cloud, group, "backend/backend/task-a", [(7200, "too old"), (30, "a1"), (10, "a2")])
    put_events(cloud, group, "backend/backend/task-b", [(20, "b1\n")])
    code, out, err = cli(capsys, "logs", "--env", ENV, "backend", "--since", "10m")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert [line.split(" ", 2)[1:] for line in lines] == [
        ["backend/backend/task-a", "a1"], ["backend/backend/task-b", "b1"],
        ["backend/backend/task-a", "a2"],
    ]  # fmt: skip
    assert all(line[:24].endswith("Z") and line[10] == "T" for line in lines)  # UTC, ms


class Lines(io.TextIOBase):
    """A stdout whose lines another thread can wait for, as it would read a pipe."""

    def __init__(self) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        self._partial = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        *done, self._partial = (self._partial + text).split("\n")
        for line in done:
            self.lines.put(line)
        return len(text)


def test_logs_follow_prints_new_events_until_ctrl_c(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``logs --follow`` runs in this (main) thread; a second thread plays the user
    and the service: it waits for the first line, logs a new event, waits for
    that to show, and types Ctrl-C (a real SIGINT to the main thread)."""
    group = cloud.service("frontend")["LogGroupName"]
    put_events(cloud, group, "frontend/frontend/task-a", [(5, "before")])
    monkeypatch.setattr(logs_tail, "POLL_SECONDS", 0.05)  # users wait 2 s between polls
    out, shown = Lines(), []
    following = threading.Event()

    def user() -> None:
        try:
            shown.append(out.lines.get(timeout=10))
            put_events(cloud, group, "frontend/frontend/task-b", [(0, "after")])
            shown.append(out.lines.get(timeout=10))
        finally:
            if following.is_set():
                signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)

    # Python's own Ctrl-C handling, as in `python -m infra` (a test runner's may differ).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    watcher = threading.Thread(target=user, daemon=True)
    try:
        following.set()
        watcher.start()
        with contextlib.redirect_stdout(out):
            code = main(["logs", "--env", ENV, "frontend", "--since", "1m", "--follow"])
        following.clear()
    finally:
        signal.signal(signal.SIGINT, previous)
    watcher.join(timeout=20)
    assert len(shown) == 2, f"follow printed {shown}, then nothing for 10 s"
    assert shown[0].endswith("frontend/frontend/task-a before")
    assert shown[1].endswith("frontend/frontend/task-b after")
    assert (code, capsys.readouterr().err) == (0, "")  # quietly, no traceback


def test_logs_of_an_unknown_or_undeployed_service(
    cloud: Cloud, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = cli(capsys, "logs", "--env", ENV, "web")
    assert code == 2
    assert err == "error: unknown service 'web'; the services of dev are: backend, frontend\n"
    code, _, err = cli(capsys, "logs", "--env", ENV)
    assert (code, err) == (2, "error: name a service of dev: backend, frontend\n")
    code, _, err = cli(capsys, "logs", "--env", ENV, "backend")
    assert code == 2
    assert err == ("error: stack timestamper-dev-backend is not deployed in eu-west-1: "
                   "make deploy ENV=dev\n")  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), [
    ("30s", timedelta(seconds=30)), ("10m", timedelta(minutes=10)),
    ("2h", timedelta(hours=2)), ("1d", timedelta(days=1)),
])  # fmt: skip
def test_since_durations(text: str, expected: timedelta) -> None:
    assert logs_tail.parse_since(text) == expected


@pytest.mark.parametrize("text", ["10", "10x", "0m", "-5m", "m", "1.5h", ""])
def test_since_refuses_what_is_not_a_duration(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration such as 30s, 10m, 2h or 1d"):
        logs_tail.parse_since(text)


# --- exec --------------------------------------------------------------------------


def test_exec_refuses_a_service_without_exec(
    aws_env: MotoServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = cli(capsys, "exec", "--env", ENV, "backend", "--", "redis-cli", "ping")
    assert code == 2
    assert err == (
        "error: backend does not allow exec: set `services.backend.exec: true` in "
        "config/dev.yaml (or config/base.yaml for every env), then make deploy ENV=dev\n"
    )


def test_exec_without_the_plugin_says_what_to_install(
    aws_env: MotoServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = os.pathsep.join([str(Path(sys.executable).parent), "/usr/bin", "/bin"])
    assert shutil.which(exec_session.PLUGIN, path=path) is None
    monkeypatch.setenv("PATH", path)
    monkeypatch.setenv("APP_CONFIG__SERVICES__BACKEND__EXEC", "true")
    code, out, err = cli(capsys, "exec", "--env", ENV, "backend")
    assert code == 2 and out == ""
    assert err.startswith("error: exec needs the Session Manager plugin for the AWS CLI "
                          "(session-manager-plugin), and it is not on PATH.\n")  # fmt: skip
    for needed in (
        '"Install the Session Manager plugin for the AWS CLI"',
        "https://docs.aws.amazon.com/systems-manager/latest/userguide/"
        "session-manager-working-with-install-plugin.html",
        "Debian/Ubuntu: session-manager-plugin.deb", "sudo dpkg -i session-manager-plugin.deb",
        "macOS:         brew install --cask session-manager-plugin",
        "Windows:       SessionManagerPluginSetup.exe",
    ):  # fmt: skip
        assert needed in err
    assert "Traceback" not in err


def test_exec_picks_a_running_task_of_the_service(cloud: Cloud) -> None:
    outputs = cloud.service("backend")
    ecs = cloud.client("ecs")
    with pytest.raises(AwsError, match="backend has no running task"):
        exec_session.pick_task(ecs, cloud.cluster, outputs["ServiceArn"])
    started = ecs.run_task(cluster=cloud.cluster, taskDefinition="backend", launchType="FARGATE",
                           enableExecuteCommand=True, startedBy="ecs-svc/1")  # fmt: skip
    task = started["tasks"][0]["taskArn"]
    assert exec_session.pick_task(ecs, cloud.cluster, outputs["ServiceArn"]) == task


def test_the_plugin_gets_what_the_aws_cli_gives_it() -> None:
    # awscli/customizations/ecs/executecommand.py: session, region, "StartSession",
    # profile ('' for none), {"Target": ...} and the ECS endpoint, in that order.
    response = {"session": {"sessionId": "s-1", "streamUrl": "wss://x", "tokenValue": "t"}}
    assert exec_session.plugin_argv(
        "/usr/bin/session-manager-plugin", response, "eu-west-1", None,
        "ecs:c_0123_0123-456", "https://ecs.eu-west-1.amazonaws.com",
    ) == [
        "/usr/bin/session-manager-plugin",
        '{"sessionId": "s-1", "streamUrl": "wss://x", "tokenValue": "t"}',
        "eu-west-1", "StartSession", "", '{"Target": "ecs:c_0123_0123-456"}',
        "https://ecs.eu-west-1.amazonaws.com",
    ]  # fmt: skip


# --- smoke -------------------------------------------------------------------------


def test_smoke_of_a_wrong_url_or_an_undeployed_service(
    cloud: Cloud, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(capsys, "smoke", "--env", ENV)
    assert code == 1
    assert out.splitlines() == [
        "FAIL  frontend  Url: stack timestamper-dev-frontend is not deployed in eu-west-1",
        "smoke: 1 of 1 checks failed: frontend Url: stack timestamper-dev-frontend is not "
        "deployed in eu-west-1",
    ]
    nobody = f"http://127.0.0.1:{free_port()}"
    cloud.deploy(url=nobody)
    code, out, _ = cli(capsys, "smoke", "--env", ENV)
    assert code == 1
    assert f"FAIL  frontend  GET {nobody}/healthz: no answer: [Errno 111] Connection refused" in out
    assert out.splitlines()[-1].startswith("smoke: 3 of 3 checks failed")


def test_smoke_decisions_on_small_inputs() -> None:
    def reply(status: int, body: object = None) -> smoke.Reply:
        return smoke.Reply(status, json.dumps(body).encode(), "", 0.01)

    assert smoke.rose("web", reply(200, {"count": 4}), reply(200, {"count": 5})).ok
    stuck = smoke.rose("web", reply(200, {"count": 4}), reply(200, {"count": 4}))
    assert (stuck.ok, stuck.detail) == (False, "4 -> 4: the page did not record a visit")
    assert not smoke.rose("web", reply(200, {"count": 4}), reply(200, {"total": 5})).ok
    assert smoke.verdict([]) == (0, "smoke: no public service to check")
    # A service under /admin/* on a shared load balancer: its health path outside that
    # path reaches another rule through the balancer, so it is not asked there.
    closed = "http://127.0.0.1:9/admin/"  # the discard port: refused at once
    skipped = smoke.check_service("admin", closed, "/healthz", "/admin/*")[0]
    assert (skipped.ok, skipped.detail.split(":")[0]) == (True, "skipped")
    asked = smoke.check_service("admin", closed, "/admin/healthz", "/admin/*")[0]
    assert (asked.ok, asked.what) == (False, "GET http://127.0.0.1:9/admin/healthz")


# --- preflight and credentials -----------------------------------------------------


def test_preflight_passes_a_bootstrapped_account(
    cloud: Cloud, capsys: pytest.CaptureFixture[str]
) -> None:
    cloud.bootstrap("30")
    code, out, err = cli(capsys, "preflight", "--env", ENV)
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        f"ok    credentials: arn:aws:sts::{ACCOUNT}:user/moto (account {ACCOUNT})",
        "ok    region: eu-west-1",
        f"ok    CDK bootstrap: version 30 in aws://{ACCOUNT}/eu-west-1 (6 or later needed)",
    ]


@pytest.mark.parametrize(("version", "found"), [
    (None, f"aws://{ACCOUNT}/eu-west-1 is not bootstrapped (no SSM parameter "
           "/cdk-bootstrap/hnb659fds/version)"),
    ("5", f"aws://{ACCOUNT}/eu-west-1 has bootstrap version 5; the templates need 6 or later"),
])  # fmt: skip
def test_preflight_stops_an_unbootstrapped_account(
    cloud: Cloud, capsys: pytest.CaptureFixture[str], version: str | None, found: str
) -> None:
    if version is not None:
        cloud.bootstrap(version)
    code, out, _ = cli(capsys, "preflight", "--env", ENV)
    assert code == 1
    assert out.splitlines()[-3:] == [
        f"FAIL  CDK bootstrap: {found}",
        f"      fix: bin/cdk bootstrap aws://{ACCOUNT}/eu-west-1",
        "preflight failed (CDK bootstrap); for an offline look at what a deploy would change: "
        "make preview ENV=dev",
    ]


def test_preflight_stops_the_wrong_account(
    cloud: Cloud, config: AppConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    cloud.bootstrap("30")
    pinned = config.model_copy(update={"account": "210987654321"})
    assert preflight.run(Aws(), pinned) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == [
        f"FAIL  credentials: arn:aws:sts::{ACCOUNT}:user/moto is in account {ACCOUNT}, "
        "and config/dev.yaml pins account 210987654321",
        "      fix: set AWS_PROFILE to a profile of account 210987654321, or `aws sso login` to it",
    ]


def test_no_region_is_one_line(aws_env: MotoServer, monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    monkeypatch.delenv("AWS_REGION")
    code, out, err = cli(capsys, "status", "--env", ENV)
    assert (code, out) == (2, "")
    assert err == ("error: no AWS region: set AWS_REGION (or a region in your AWS profile), "
                   "or pin `region:` (with account and availability_zones) in "
                   "config/<env>.yaml\n")  # fmt: skip


def test_rejected_credentials_are_one_line_with_the_fix() -> None:
    expired = ClientError(
        {"Error": {"Code": "ExpiredToken", "Message": "The security token is expired"}},
        "GetCallerIdentity",
    )
    assert explain(expired) == (
        "AWS refused the credentials (ExpiredToken: The security token is expired): expired or "
        "invalid; set AWS_PROFILE to a configured profile, or run `aws sso login` "
        "(`aws configure sso` sets a profile up)"
    )
    assert "run `aws sso login`" in explain(UnauthorizedSSOTokenError())
    assert explain(NoCredentialsError()).startswith("no AWS credentials found: ")
    other = ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"}},
                        "DescribeStacks")  # fmt: skip
    assert explain(other) == "DescribeStacks failed: Throttling: Rate exceeded"


def test_the_offline_commands_do_not_import_boto3() -> None:
    """`python -m infra cost|preview|config show` stay as fast as before: boto3
    (~0.3 s to import) comes in only with the day-2 commands."""
    seen: set[str] = set()
    todo = ["infra.__main__"]
    found: set[str] = set()
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        path = ROOT / (module.replace(".", "/") + ".py")
        if not path.exists():
            path = ROOT / module.replace(".", "/") / "__init__.py"
        for node in ast.parse(path.read_text()).body:  # module level only
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                # `from infra.ops import cost`: the package, and cost if a module.
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            for name in names:
                found.add(name.split(".")[0])
                file = ROOT / (name.replace(".", "/") + ".py")
                if name.startswith("infra") and (file.exists() or file.with_suffix("").is_dir()):
                    todo.append(name)
    assert "infra.ops.aws" not in seen and not {"boto3", "botocore"} & found
