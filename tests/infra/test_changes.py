"""Editing YAML changes exactly what it should, and nothing else."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Capture
from aws_cdk.cx_api import SynthesisMessageLevel

from infra.ops.checks import run_checks
from infra.ops.diff import compare
from infra.ops.preview import stateful_stacks
from tests.infra.background import TemplateChecks
from tests.infra.conftest import VARIANTS, Synth, Variants
from tests.infra.templates import (
    INGRESS,
    LISTENER,
    LOAD_BALANCER,
    NAT,
    SERVICE,
    SUBNET,
    TASK,
    container,
    exported,
    load_balancer_group,
    task_group,
)

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
    after.template("frontend").has_resource_properties(SERVICE, {"DesiredCount": 3})


def test_a_size_edit_changes_only_the_task_definition_and_bounds_only_the_target(
    synths: dict[str, Synth], synth_edited: Any
) -> None:
    """Two edits of prod's frontend in one synth, each found in the one resource type it
    may touch: the size in the task definition, the autoscaling bounds in the scalable
    target (and desired_count, ignored with autoscaling, nowhere)."""

    def resize_and_widen(prod: dict[str, Any]) -> None:
        prod["services"]["frontend"].update(cpu=1024, memory=2048)
        prod["services"]["frontend"]["autoscaling"]["max"] = 20
        prod["services"]["frontend"]["desired_count"] = 5  # no effect: a warning says so

    after = synth_edited("prod", prod=resize_and_widen)
    diff = changed(synths["prod"], after)
    assert list(diff) == ["timestamper-prod-frontend"]
    resources = after.templates["timestamper-prod-frontend"]["Resources"]
    assert len(diff["timestamper-prod-frontend"]) == 2
    by_type = {resources[i]["Type"]: i for i in diff["timestamper-prod-frontend"]}
    assert set(by_type) == {
        "AWS::ECS::TaskDefinition",
        "AWS::ApplicationAutoScaling::ScalableTarget",
    }
    task = resources[by_type["AWS::ECS::TaskDefinition"]]["Properties"]
    assert (task["Cpu"], task["Memory"]) == ("1024", "2048")
    target = resources[by_type["AWS::ApplicationAutoScaling::ScalableTarget"]]["Properties"]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (2, 20)
    frontend = after.assembly.get_stack_by_name("timestamper-prod-frontend")
    warnings = [m.entry.data for m in frontend.messages if m.level == SynthesisMessageLevel.WARNING]
    assert len(warnings) == 1 and "services.frontend.desired_count is ignored" in str(warnings[0])


def test_third_service_from_yaml_alone(synths: dict[str, Synth], variants: Variants) -> None:
    """README's db and worker: two new stacks, a second volume and their graphs on the
    dashboard; nothing else changes."""
    after = variants["worker"]
    assert {"timestamper-dev-db", "timestamper-dev-worker"} <= set(after.templates)
    # Existing service stacks are untouched: the new access rules live in the new stacks.
    assert set(changed(synths["dev"], after)) == {
        "timestamper-dev-db", "timestamper-dev-worker", "timestamper-dev-storage",
        "timestamper-dev-dashboard"}  # fmt: skip
    deps = {d.id for d in after.assembly.get_stack_by_name("timestamper-dev-worker").dependencies}
    assert {"timestamper-dev-backend", "timestamper-dev-db", "timestamper-dev-frontend"} <= deps
    db_deps = {d.id for d in after.assembly.get_stack_by_name("timestamper-dev-db").dependencies}
    assert "timestamper-dev-storage" in db_deps
    worker = after.template("worker")
    worker.has_resource_properties(TASK, {"Cpu": "512", "Memory": "1024"})
    env = {e["Name"]: e["Value"] for e in container(worker, "worker")["Environment"]}
    # A worker has no port, so no PORT; each peer's name and port.
    assert env == {
        "QUEUE": "visits",
        "BACKEND_HOST": "backend.service.local",
        "BACKEND_PORT": "6379",
        "DB_HOST": "db.service.local",
        "DB_PORT": "5432",
        "FRONTEND_HOST": "frontend.service.local",
        "FRONTEND_PORT": "5000",
    }
    # One rule per peer opens the peer's tasks to its own, on the peer's port.
    worker.resource_count_is(INGRESS, 3)
    for peer, port in (("backend", 6379), ("db", 5432), ("frontend", 5000)):
        into = Capture()
        worker.has_resource_properties(INGRESS, {
            "GroupId": into, "FromPort": port, "ToPort": port,
            "SourceSecurityGroupId": task_group(worker),
        })  # fmt: skip
        assert exported(after, into.as_object(), peer) == task_group(after.template(peer))
    worker.has_resource_properties(SERVICE, {"DesiredCount": 2})
    worker.resource_count_is(LOAD_BALANCER, 0)


def test_network_load_balancer_option(variants: Variants) -> None:
    """From YAML to the app: the frontend gets an NLB (its listeners and health check
    are test_constructs' business), and only its group reaches the tasks."""
    frontend = variants["pinned"].template("frontend")
    balancer = load_balancer_group(frontend)  # one load balancer, one security group
    frontend.has_resource_properties(LOAD_BALANCER, {"Type": "network"})
    frontend.has_resource_properties(LISTENER, {"Port": 443, "Protocol": "TCP"})
    tasks = task_group(frontend)
    frontend.resource_properties_count_is(INGRESS, {"GroupId": tasks}, 1)
    frontend.has_resource_properties(
        INGRESS, {"GroupId": tasks, "SourceSecurityGroupId": balancer, "FromPort": 5000}
    )


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


def test_pinned_account_uses_the_listed_zones(variants: Variants) -> None:
    after = variants["pinned"]
    network = after.template("network")
    # A public and a private subnet in each listed zone, and no others.
    network.resource_count_is(SUBNET, 6)
    for zone in ("eu-west-1a", "eu-west-1b", "eu-west-1c"):
        network.resource_properties_count_is(SUBNET, {"AvailabilityZone": zone}, 2)
    network.resource_count_is(NAT, 3)
    assert "dummy" not in json.dumps(after.templates)
    assert after.stacks.network.region == "eu-west-1"


def test_cfn_lint_passes(synths: dict[str, Synth], template_checks: TemplateChecks) -> None:
    """Every shipped env's templates, and those each variant changes, in one cfn-lint run."""
    assert len(template_checks.linted) >= 2 * len(synths["dev"].templates) + len(VARIANTS)
    lint = template_checks.cfn_lint.result()
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_namespace_and_cidr_changes_replace_across_stacks(
    synths: dict[str, Synth], synth_edited: Any
) -> None:
    """On the app's real templates: the namespace and VPC are replaced, and so is
    what reads them through other stacks' outputs."""

    def change(base: dict[str, Any]) -> None:
        base["cluster"]["namespace"] = "svc.local"
        base["network"]["cidr"] = "10.1.0.0/16"

    before = synths["dev"]
    found = compare(before.templates, synth_edited("dev", base=change).templates,
                    stateful_stacks(before.config))  # fmt: skip
    replaced = {(r.stack.rsplit("-", 1)[1], r.type): r for r in found.resources if r.replacement}
    namespace = replaced["cluster", "AWS::ServiceDiscovery::PrivateDnsNamespace"]
    assert namespace.stateful and [(c.name, c.new, c.create_only) for c in namespace.changes] == [
        ("Name", "svc.local", True)
    ]
    assert "CidrBlock" in replaced["network", "AWS::EC2::VPC"].reason
    assert ("network", "AWS::EC2::Subnet") in replaced
    registration = replaced["backend", "AWS::ServiceDiscovery::Service"]
    assert registration.reason.startswith("NamespaceId reads replaced Namespace")
    assert registration.reason.endswith(" in timestamper-dev-cluster")
    warned = {(f.change.stack, f.change.type) for f in run_checks(found)}
    assert {("timestamper-dev-network", "AWS::EC2::VPC"),
            ("timestamper-dev-cluster", "AWS::ServiceDiscovery::PrivateDnsNamespace")} <= warned  # fmt: skip
