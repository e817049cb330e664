"""Editing YAML changes exactly what it should, and nothing else."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from infra.config import ROOT
from tests.infra.conftest import Synth

SNAPSHOT = Path(__file__).parent / "snapshots" / "logical_ids.json"


def changed(before: Synth, after: Synth) -> dict[str, set[str]]:
    """Per stack, the logical IDs added, removed or modified."""
    result: dict[str, set[str]] = {}
    for stack in before.templates.keys() | after.templates.keys():
        old = before.templates.get(stack, {}).get("Resources", {})
        new = after.templates.get(stack, {}).get("Resources", {})
        diff = {k for k in old.keys() | new.keys() if old.get(k) != new.get(k)}
        if diff:
            result[stack] = diff
    return result


def kinds(synth: Synth, stack: str, ids: set[str]) -> set[str]:
    resources = synth.templates[stack]["Resources"]
    return {resources[i]["Type"] for i in ids}


def test_raising_a_count_changes_only_that_service(
    synths: dict[str, Synth], synth_edited: Any
) -> None:
    def scale(dev: dict[str, Any]) -> None:
        dev.setdefault("services", {}).setdefault("frontend", {})["desired_count"] = 3

    after = synth_edited("dev", dev=scale)
    diff = changed(synths["dev"], after)
    assert list(diff) == ["timestamper-dev-frontend"]
    assert kinds(after, "timestamper-dev-frontend", diff["timestamper-dev-frontend"]) == {
        "AWS::ECS::Service"
    }
    assert after.one("frontend", "AWS::ECS::Service")["DesiredCount"] == 3


def test_changing_a_size_changes_only_that_task_definition(
    synths: dict[str, Synth], synth_edited: Any
) -> None:
    def resize(prod: dict[str, Any]) -> None:
        prod["services"]["frontend"].update(cpu=1024, memory=2048)

    after = synth_edited("prod", prod=resize)
    diff = changed(synths["prod"], after)
    assert list(diff) == ["timestamper-prod-frontend"]
    assert kinds(after, "timestamper-prod-frontend", diff["timestamper-prod-frontend"]) == {
        "AWS::ECS::TaskDefinition"
    }


def test_autoscaling_bounds_change_only_the_scalable_target(
    synths: dict[str, Synth], synth_edited: Any
) -> None:
    def widen(prod: dict[str, Any]) -> None:
        prod["services"]["frontend"]["autoscaling"]["max"] = 20

    after = synth_edited("prod", prod=widen)
    diff = changed(synths["prod"], after)
    assert {s: kinds(after, s, ids) for s, ids in diff.items()} == {
        "timestamper-prod-frontend": {"AWS::ApplicationAutoScaling::ScalableTarget"}
    }


def test_third_service_from_yaml_alone(synths: dict[str, Synth], synth_edited: Any) -> None:
    def add_worker(base: dict[str, Any]) -> None:
        base["services"]["worker"] = {
            "image": "public.ecr.aws/docker/library/python:3.11-slim",
            "user": "65534",
            "port": 8080,
            "cpu": 512,
            "memory": 1024,
            "desired_count": 2,
            "connects_to": ["backend"],
            "environment": {"QUEUE": "visits"},
        }

    after = synth_edited("dev", base=add_worker)
    assert "timestamper-dev-worker" in after.templates
    # Existing stacks are untouched.
    assert set(changed(synths["dev"], after)) == {"timestamper-dev-worker"}
    deps = {d.id for d in after.assembly.get_stack_by_name("timestamper-dev-worker").dependencies}
    assert "timestamper-dev-backend" in deps
    task = after.one("worker", "AWS::ECS::TaskDefinition")
    assert (task["Cpu"], task["Memory"]) == ("512", "1024")
    env = {e["Name"]: e["Value"] for e in task["ContainerDefinitions"][0]["Environment"]}
    assert env == {
        "QUEUE": "visits",
        "PORT": "8080",
        "BACKEND_HOST": "backend.service.local",
        "BACKEND_PORT": "6379",
    }
    (rule,) = after.resources("worker", "AWS::EC2::SecurityGroupIngress").values()
    props = rule["Properties"]
    assert props["GroupId"]["Fn::GetStackOutput"]["StackName"] == "timestamper-dev-backend"
    assert (props["FromPort"], props["ToPort"]) == (6379, 6379)
    assert after.one("worker", "AWS::ECS::Service")["DesiredCount"] == 2
    assert after.resources("worker", "AWS::ElasticLoadBalancingV2::LoadBalancer") == {}


def test_network_load_balancer_option(synth_edited: Any) -> None:
    def use_nlb(dev: dict[str, Any]) -> None:
        dev.setdefault("services", {})["frontend"] = {"public": {"load_balancer": "network"}}

    after = synth_edited("dev", dev=use_nlb)
    lb = after.one("frontend", "AWS::ElasticLoadBalancingV2::LoadBalancer")
    assert lb["Type"] == "network" and lb["Scheme"] == "internet-facing"
    assert len(lb["SecurityGroups"]) == 1
    listener = after.one("frontend", "AWS::ElasticLoadBalancingV2::Listener")
    assert (listener["Port"], listener["Protocol"]) == (80, "TCP")
    group = after.one("frontend", "AWS::ElasticLoadBalancingV2::TargetGroup")
    assert (group["HealthCheckProtocol"], group["HealthCheckPath"]) == ("HTTP", "/healthz")
    lb_group_id = lb["SecurityGroups"][0]["Fn::GetAtt"][0]
    into_tasks = [
        r["Properties"]
        for r in after.resources("frontend", "AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["GroupId"] == {"Fn::GetAtt": ["SecurityGroupDD263621", "GroupId"]}
    ]
    assert [(r["SourceSecurityGroupId"]["Fn::GetAtt"][0], r["FromPort"]) for r in into_tasks] == [
        (lb_group_id, 5000)
    ]


def test_asset_hash_moves_only_when_the_image_would(tmp_path: Path, synth_edited: Any) -> None:
    source = tmp_path / "src" / "frontend"
    shutil.copytree(ROOT / "frontend", source, ignore=shutil.ignore_patterns("__pycache__"))

    def build_from(path: Path) -> Any:
        def edit(base: dict[str, Any]) -> None:
            base["services"]["frontend"]["build"] = str(path)

        return edit

    def image() -> str:
        after = synth_edited("dev", base=build_from(source))
        task = after.one("frontend", "AWS::ECS::TaskDefinition")
        return json.dumps(task["ContainerDefinitions"][0]["Image"])

    first = image()
    (source / "__pycache__").mkdir()
    (source / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"\0cache")
    (source / "tests").mkdir()
    (source / "tests" / "test_local.py").write_text("def test(): pass\n")
    assert image() == first
    (source / "app.py").write_text((source / "app.py").read_text() + "\n# changed\n")
    assert image() != first


def logical_ids(synth: Synth) -> dict[str, dict[str, str]]:
    return {
        stack: {k: v["Type"] for k, v in sorted(body["Resources"].items())}
        for stack, body in sorted(synth.templates.items())
    }


def test_logical_ids_are_pinned(synths: dict[str, Synth]) -> None:
    """Logical IDs are an interface: a change here replaces resources on deploy.

    If a change is intended, regenerate with UPDATE_SNAPSHOTS=1 and review the diff.
    """
    current = {env: logical_ids(synth) for env, synth in sorted(synths.items())}
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(json.dumps(current, indent=2) + "\n")
    if not SNAPSHOT.exists():
        pytest.fail(f"no snapshot at {SNAPSHOT}; run with UPDATE_SNAPSHOTS=1 once")
    assert current == json.loads(SNAPSHOT.read_text())


def test_pinned_account_uses_the_listed_zones(synth_edited: Any) -> None:
    def pin(prod: dict[str, Any]) -> None:
        prod.update(account="123456789012", region="eu-west-1",
                    availability_zones=["eu-west-1a", "eu-west-1b", "eu-west-1c"])  # fmt: skip
        prod["network"]["max_azs"] = 3
        prod["network"]["nat_gateways"] = 3

    after = synth_edited("prod", prod=pin)
    zones = sorted(
        s["Properties"]["AvailabilityZone"]
        for s in after.resources("network", "AWS::EC2::Subnet").values()
    )
    assert zones == sorted(["eu-west-1a", "eu-west-1b", "eu-west-1c"] * 2)
    assert len(after.resources("network", "AWS::EC2::NatGateway")) == 3
    assert "dummy" not in json.dumps(after.templates)
    assert after.stacks.network.region == "eu-west-1"


@pytest.mark.parametrize("variant", ["nlb", "worker", "pinned", "https-exec"])
def test_cfn_lint_on_variants(variant: str, synth_edited: Any, tmp_path: Path) -> None:
    """The options the shipped envs do not use are lint-clean too."""
    import subprocess

    edits: dict[str, dict[str, Any]] = {
        "nlb": {"dev": lambda d: d.setdefault("services", {}).update(
            frontend={"public": {"load_balancer": "network", "listener_port": 8080}})},
        "worker": {"base": lambda b: b["services"].update(
            worker={"image": "busybox", "user": "65534", "port": 8080,
                    "connects_to": ["backend", "frontend"]})},
        "pinned": {"dev": lambda d: d.update(
            account="123456789012", region="us-east-1",
            availability_zones=["us-east-1a", "us-east-1b"])},
        "https-exec": {"dev": lambda d: d.update(services={
            "frontend": {"exec": True, "public": {
                "certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/abc-123",
                "domain_name": "www.example.com"}}})},
    }  # fmt: skip
    after = synth_edited("dev", **edits[variant])
    paths = []
    for name, body in after.templates.items():
        path = tmp_path / f"{name}.template.json"
        path.write_text(json.dumps(body))
        paths.append(str(path))
    lint = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "cfn-lint"), "--config-file", str(ROOT / ".cfnlintrc"),
         "--", *paths],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert lint.returncode == 0, lint.stdout
