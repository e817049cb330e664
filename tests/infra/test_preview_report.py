"""Preview's checks, exit codes and output, on hand-built diffs (no synthesis)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator

import pytest

from infra.config import AppConfig, load_config
from infra.ops import cost
from infra.ops.checks import (
    CHECKS,
    MOVED,
    Finding,
    run_checks,
    service_connect_switched,
    stateful_replaced_or_removed,
    traffic_shift_rewired,
)
from infra.ops.diff import MISSING, Diff, PropertyChange, ResourceChange
from infra.ops.preview import consumed_stacks
from infra.ops.preview_report import CostChange, as_json, exit_code, print_human, summary

# What preview prices both sides at (issue 14's example); its own tests are below.
COST = CostChange(78.65, 35.10, cost.Prices.load())
STACKS = [f"timestamper-dev-{p}" for p in ("network", "cluster", "backend", "frontend")]
NETWORK, CLUSTER, BACKEND, FRONTEND = STACKS


@pytest.fixture(scope="module")
def config() -> AppConfig:
    return load_config("dev", environ={})


def change(stack: str, name: str, kind: str, action: str = "modify", **fields: object
           ) -> ResourceChange:  # fmt: skip
    return ResourceChange(stack, f"{name}1234ABCD", kind, name, action, **fields)  # type: ignore[arg-type]


def diff(*resources: ResourceChange, added: list[str] | None = None) -> Diff:
    changed = {r.stack for r in resources}
    return Diff(added or [], [], [s for s in STACKS if s not in changed],
                list(resources))  # fmt: skip


SCALE = change(FRONTEND, "Service", "AWS::ECS::Service",
               changes=[PropertyChange(("DesiredCount",), 1, 3, create_only=False)])  # fmt: skip
NEW_VPC = change(NETWORK, "Vpc", "AWS::EC2::VPC", replacement=True, stateful=True,
                 reason="create-only CidrBlock",
                 changes=[PropertyChange(("CidrBlock",), "10.0.0.0/16", "10.1.0.0/16", True)])  # fmt: skip
GONE_LOGS = change(BACKEND, "Task/Logs", "AWS::Logs::LogGroup", "remove", stateful=True)
REDIS_TASK = change(BACKEND, "Task/Definition", "AWS::ECS::TaskDefinition", replacement=True,
                    stateful=True, reason="create-only Cpu")  # fmt: skip
STATELESS_TASK = change(FRONTEND, "Task/Definition", "AWS::ECS::TaskDefinition",
                        replacement=True, reason="create-only Cpu",
                        changes=[PropertyChange(("Cpu",), "256", "512", True)])  # fmt: skip
RENAMED = change(NETWORK, "FlowLogs", "AWS::Logs::LogGroup", "rename", replacement=True,
                 stateful=True, old_logical_id="FlowLogGroup99", reason="logical ID FlowLogGroup99 -> FlowLogs1234ABCD")  # fmt: skip
# What goes by the old template's policies: kept, snapshotted, or deleted.
ACCESS_LOGS = "Public/AccessLogs/Bucket"
KEPT_BUCKET = change(FRONTEND, ACCESS_LOGS, "AWS::S3::Bucket", "remove", stateful=True,
                     deletion_policy="Retain", update_replace_policy="Retain")  # fmt: skip
DELETED_BUCKET = change(FRONTEND, ACCESS_LOGS, "AWS::S3::Bucket", "remove", stateful=True,
                        deletion_policy="Delete", update_replace_policy="Retain")  # fmt: skip
NEW_BUCKET = change(FRONTEND, ACCESS_LOGS, "AWS::S3::Bucket", replacement=True, stateful=True,
                    reason="create-only BucketName", update_replace_policy="Retain")  # fmt: skip
GONE_DATABASE = change(BACKEND, "Database", "AWS::RDS::DBInstance", "remove", stateful=True,
                       deletion_policy="Snapshot")  # fmt: skip
NEW_DATABASE = change(BACKEND, "Database", "AWS::RDS::DBInstance", replacement=True,
                      stateful=True, reason="create-only Engine",
                      deletion_policy="Retain", update_replace_policy="Snapshot")  # fmt: skip
KEPT_REDIS_TASK = dataclasses.replace(REDIS_TASK, update_replace_policy="Retain")


@pytest.mark.parametrize(
    ("resource", "message"),
    [
        (NEW_VPC, "is REPLACED (create-only CidrBlock): its data or dependents go with it"),
        (GONE_LOGS, "is REMOVED: its data or dependents go with it"),
        (REDIS_TASK, "gets a new revision (create-only Cpu): the stateful service restarts empty"),
        (RENAMED, "is REPLACED (logical ID FlowLogGroup99 -> FlowLogs1234ABCD): its data or "
                  "dependents go with it"),
        (KEPT_BUCKET, "is REMOVED from the stack but kept (DeletionPolicy Retain): its data "
                      "stays in the account, no longer managed; delete it by hand once done"),
        (DELETED_BUCKET, "is REMOVED: its data or dependents go with it"),
        (NEW_BUCKET, "is REPLACED (create-only BucketName): the old one is kept "
                     "(UpdateReplacePolicy Retain) with its data, in the account but no longer "
                     "managed, and the new one starts without it; delete the old one by hand "
                     "once done"),
        (GONE_DATABASE, "is REMOVED, but a snapshot is kept (DeletionPolicy Snapshot): its data "
                        "lives on only in the snapshot, and its dependents go with it"),
        (NEW_DATABASE, "is REPLACED (create-only Engine): a snapshot of the old one is kept "
                       "(UpdateReplacePolicy Snapshot), and the new one starts without its data"),
        # A kept revision holds no data: the stateful service still restarts empty.
        (KEPT_REDIS_TASK, "gets a new revision (create-only Cpu): the stateful service restarts "
                          "empty"),
    ],
)  # fmt: skip
def test_stateful_replacements_and_removals_are_found(resource: ResourceChange, message: str
                                                      ) -> None:  # fmt: skip
    assert list(stateful_replaced_or_removed(diff(resource, SCALE))) == [Finding(resource, message)]


@pytest.mark.parametrize("resource", [SCALE, STATELESS_TASK,
                                      change(BACKEND, "Password", "AWS::SecretsManager::Secret",
                                             stateful=True)])  # fmt: skip
def test_in_place_or_stateless_changes_are_not_findings(resource: ResourceChange) -> None:
    assert run_checks(diff(resource)) == []


def consumed(found: Diff) -> Diff:
    """``found`` as preview gives it for the shipped config: the frontend connects to
    the backend."""
    return dataclasses.replace(found, consumed_stacks=frozenset({BACKEND}))


def test_the_consumed_stacks_are_those_others_connect_to(config: AppConfig) -> None:
    assert consumed_stacks(config) == frozenset({BACKEND})


def test_switching_service_connect_is_a_finding_both_ways() -> None:
    connect = {"Enabled": True, "Namespace": "arn:aws:servicediscovery:eu-west-1:1:namespace/ns-1"}

    def switch(old: object, new: object) -> ResourceChange:
        return change(BACKEND, "Service", "AWS::ECS::Service", changes=[
            PropertyChange(("ServiceConnectConfiguration",), old, new, create_only=False)])  # fmt: skip

    on, off = switch(MISSING, connect), switch(connect, MISSING)
    # Only a service others connect to: nothing reaches the frontend by name.
    assert run_checks(diff(on)) == []
    found = run_checks(consumed(diff(on)))
    assert [f.message for f in found] == ["joins Service Connect: its Cloud Map DNS name goes, "
                                          "and consumers cannot reach it until their own stacks deploy"]  # fmt: skip
    assert [f.message for f in service_connect_switched(consumed(diff(off)))] == [
        "leaves Service Connect: consumers cannot reach it by its bare name until their own "
        "stacks deploy"]  # fmt: skip
    # A change inside an existing configuration, or any other property, is not one.
    inside = change(BACKEND, "Service", "AWS::ECS::Service", changes=[
        PropertyChange(("ServiceConnectConfiguration", "Enabled"), True, False, False)])  # fmt: skip
    assert list(service_connect_switched(consumed(diff(inside, SCALE)))) == []


def test_exit_codes() -> None:
    assert exit_code(diff(), []) == 0
    assert exit_code(diff(SCALE), []) == 1
    assert exit_code(diff(added=[f"{FRONTEND}2"]), []) == 1
    assert exit_code(diff(NEW_VPC), run_checks(diff(NEW_VPC))) == 3


def test_the_summary_says_what_the_exit_code_means() -> None:
    assert summary(diff(), []) == "exit 0: no changes"
    assert summary(diff(SCALE), []) == "exit 1: changes, no warnings"
    one = diff(NEW_VPC, SCALE)
    assert summary(one, run_checks(one)) == "exit 3: 1 warning above: review it before deploying"
    two = diff(NEW_VPC, GONE_LOGS)
    assert summary(two, run_checks(two)) == (
        "exit 3: 2 warnings above: review them before deploying")  # fmt: skip


def test_a_new_task_definition_is_a_revision_not_a_replacement(
    config: AppConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    """ECS task definitions are immutable revisions: a new one rolls the service
    over to it, which is nothing like replacing a database."""
    found = diff(STATELESS_TASK)
    print_human(found, run_checks(found), config, "HEAD", COST)
    lines = capsys.readouterr().out.splitlines()
    assert "  ~ Task/Definition (ECS::TaskDefinition) new revision, the service deploys it " \
        "(create-only Cpu): Cpu 256 -> 512" in lines  # fmt: skip
    assert not any("REPLACE" in line for line in lines), lines
    assert lines[-1] == "exit 1: changes, no warnings"


def test_a_new_check_reaches_the_exit_code_and_both_outputs(
    config: AppConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    """Adding a check is one function in a list: nothing else needs to change."""

    def big_scale(found: Diff) -> Iterator[Finding]:
        for c in found.resources:
            if any(p.name == "DesiredCount" and p.new > 2 for p in c.changes):
                yield Finding(c, "scales past 2 tasks")

    scaled = diff(SCALE)
    findings = run_checks(scaled, [*CHECKS, big_scale])
    assert exit_code(scaled, findings) == 3
    print_human(scaled, findings, config, "HEAD", COST)
    assert "WARNING frontend: Service (AWS::ECS::Service) scales past 2 tasks" in (
        capsys.readouterr().out.splitlines())  # fmt: skip
    report = json.loads(as_json(scaled, findings, config, "HEAD", COST))
    assert (report["exit_code"], report["warnings"]) == (3, [f"{FRONTEND}/Service"])


def test_human_output(config: AppConfig, capsys: pytest.CaptureFixture[str]) -> None:
    many = change(FRONTEND, "Public/LoadBalancer", "AWS::ElasticLoadBalancingV2::LoadBalancer",
                  changes=[PropertyChange((f"P{i}",), i, i + 1, False) for i in range(5)]
                  + [PropertyChange(("Tags",), [], [{"Key": "a"}], False),
                     PropertyChange(("New",), MISSING, "x", False)])  # fmt: skip
    found = diff(NEW_VPC, GONE_LOGS, SCALE, many, added=["timestamper-dev-worker"])
    print_human(found, run_checks(found), config, "main", COST)
    assert capsys.readouterr().out.splitlines() == [
        "preview dev: working tree against main",
        "WARNING network: Vpc (AWS::EC2::VPC) is REPLACED (create-only CidrBlock): its data or "
        "dependents go with it",
        "WARNING backend: Task/Logs (AWS::Logs::LogGroup) is REMOVED: its data or dependents go "
        "with it",
        "+ new stack timestamper-dev-worker",
        "network",
        "  ~ Vpc (EC2::VPC) REPLACE (create-only CidrBlock): CidrBlock 10.0.0.0/16 -> 10.1.0.0/16",
        "backend",
        "  - Task/Logs (Logs::LogGroup)",
        "frontend",
        "  ~ Service (ECS::Service): DesiredCount 1 -> 3",
        "  ~ Public/LoadBalancer (ElasticLoadBalancingV2::LoadBalancer): P0 0 -> 1; P1 1 -> 2; "
        "P2 2 -> 3; P3 3 -> 4; changed: Tags; and 2 more",
        "unchanged: cluster",
        "cost: $78.65 -> $35.10 /month",
        "exit 3: 2 warnings above: review them before deploying",
    ]  # fmt: skip


def test_no_changes_says_so(config: AppConfig, capsys: pytest.CaptureFixture[str]) -> None:
    print_human(diff(), [], config, "HEAD", COST)
    assert capsys.readouterr().out.splitlines()[-3:] == [
        "unchanged: network, cluster, backend, frontend", "cost: $78.65 -> $35.10 /month",
        "exit 0: no changes"]  # fmt: skip


def test_preview_ends_with_the_monthly_cost_before_and_after(
    config: AppConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    """Just before the summary, which stays last (people and scripts grep it)."""
    found = diff(SCALE)
    print_human(found, [], config, "HEAD", COST)
    assert capsys.readouterr().out.splitlines()[-2:] == [
        "cost: $78.65 -> $35.10 /month", "exit 1: changes, no warnings"]  # fmt: skip
    report = json.loads(as_json(found, [], config, "HEAD", COST))
    assert report["cost"] == {"before": 78.65, "after": 35.1, "currency": "USD",
                              "prices_taken": "2025-10", "region": "us-east-1"}  # fmt: skip


def test_the_cost_line_prices_both_sides_templates() -> None:
    """A ref with no stacks (a config folder it lacks) costs $0.00."""
    prices = cost.Prices.load()
    nat = {"Type": "AWS::EC2::NatGateway", "Properties": {}}
    both = {NETWORK: {"Resources": {"Nat1": nat, "Nat2": nat}}}
    new = CostChange.of({}, both, prices)
    assert (new.before, new.line) == (0.0, "cost: $0.00 -> $65.70 /month")  # 2 x 0.045 x 730
    assert CostChange.of(both, {}, prices).line == "cost: $65.70 -> $0.00 /month"
    assert CostChange(1234.5, 99.999, prices).line == "cost: $1,234.50 -> $100.00 /month"


def test_a_key_the_template_ignores_is_noted_before_the_diff(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """prod's frontend autoscales: an edit of its desired_count changes no template,
    and preview says why instead of a bare "no changes"."""
    prod = load_config("prod", environ={"APP_CONFIG__SERVICES__FRONTEND__DESIRED_COUNT": "2"})
    nothing = Diff([], [], [s.replace("-dev-", "-prod-") for s in STACKS], [])
    print_human(nothing, [], prod, "HEAD", COST)
    note = ("note: services.frontend.desired_count is ignored: autoscaling sets the count "
            "between min 2 and max 16; edit autoscaling.min/max to scale")  # fmt: skip
    assert capsys.readouterr().out.splitlines()[:2] == [
        "preview prod: working tree against HEAD", note]  # fmt: skip
    assert json.loads(as_json(nothing, [], prod, "HEAD", COST))["notes"] == [
        note.removeprefix("note: ")
    ]


def test_json_output(config: AppConfig) -> None:
    found = diff(NEW_VPC, SCALE, change(FRONTEND, "Url", "AWS::SSM::Parameter", "add",
                                        changes=[PropertyChange(("Value",), MISSING, "x", False)]))  # fmt: skip
    report = json.loads(as_json(found, run_checks(found), config, "HEAD~1", COST))
    assert {k: report[k] for k in ("env", "against", "exit_code", "summary", "warnings",
                                   "stacks_added", "stacks_removed", "stacks_unchanged")} == {
        "env": "dev", "against": "HEAD~1", "exit_code": 3,
        "summary": "exit 3: 1 warning above: review it before deploying",
        "warnings": [f"{NETWORK}/Vpc"], "stacks_added": [], "stacks_removed": [],
        "stacks_unchanged": [CLUSTER, BACKEND],
    }  # fmt: skip
    vpc, scale, added = report["resources"]
    assert vpc["changes"] == [{"property": "CidrBlock", "old": "10.0.0.0/16",
                               "new": "10.1.0.0/16", "create_only": True}]  # fmt: skip
    assert (vpc["replacement"], vpc["stateful"], vpc["reason"]) == (
        True, True, "create-only CidrBlock")  # fmt: skip
    assert (scale["action"], scale["replacement"], scale["logical_id"]) == (
        "modify", False, "Service1234ABCD")  # fmt: skip
    # Every resource has the policy keys, null where its old template sets none.
    assert {(r["deletion_policy"], r["update_replace_policy"]) for r in report["resources"]} == {
        (None, None)}  # fmt: skip
    assert added["changes"][0]["old"] is None  # MISSING is null in JSON


def test_a_kept_resource_is_told_as_kept_in_both_outputs(
    config: AppConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    """Still a warning (it leaves the stack, and keeps costing), but not "goes with it"."""
    found = diff(KEPT_BUCKET)
    print_human(found, run_checks(found), config, "HEAD", COST)
    assert (f"WARNING frontend: {ACCESS_LOGS} (AWS::S3::Bucket) is REMOVED from the stack but "
            "kept (DeletionPolicy Retain): its data stays in the account, no longer managed; "
            "delete it by hand once done") in capsys.readouterr().out.splitlines()  # fmt: skip
    report = json.loads(as_json(found, run_checks(found), config, "HEAD", COST))
    assert report["warnings"] == [f"{FRONTEND}/{ACCESS_LOGS}"]
    [bucket] = report["resources"]
    assert (bucket["deletion_policy"], bucket["update_replace_policy"]) == ("Retain", "Retain")


RULE = "AWS::ElasticLoadBalancingV2::ListenerRule"
GROUP = "AWS::ElasticLoadBalancingV2::TargetGroup"
LISTENER = "Public/LoadBalancer/Listener"


def test_rewiring_what_a_canary_shifts_through_is_a_finding() -> None:
    """After a canary the tasks may sit in the second group; an update of the rule sets
    its weights back to the template's. Adding the parts (rolling -> canary) is safe,
    and so is replacing a rolling service's one group (ECS follows the template)."""
    rule = change(FRONTEND, f"{LISTENER}/ProductionRule", RULE, changes=[
        PropertyChange(("Conditions",), [], [{"Field": "host-header"}], False)])  # fmt: skip
    alternate = change(FRONTEND, f"{LISTENER}/AlternateGroup", GROUP, "remove")
    primary = change(FRONTEND, f"{LISTENER}/TargetsGroup", GROUP, replacement=True,
                     reason="create-only Port")  # fmt: skip
    tuned = change(FRONTEND, f"{LISTENER}/TargetsGroup", GROUP, changes=[
        PropertyChange(("HealthCheckPath",), "/", "/healthz", False)])  # fmt: skip
    found = run_checks(diff(rule, alternate, primary, tuned))
    assert [f.change for f in found] == [rule, alternate, primary]
    assert all("check `make status` first" in f.message for f in found)
    added = [change(FRONTEND, f"{LISTENER}/ProductionRule", RULE, "add"),
             change(FRONTEND, f"{LISTENER}/AlternateGroup", GROUP, "add"), primary]  # fmt: skip
    assert list(traffic_shift_rewired(diff(*added))) == [Finding(primary, found[0].message)]
    assert list(traffic_shift_rewired(diff(primary))) == []


def test_a_block_removed_beside_a_changed_value_is_shown(
    config: AppConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    canary = {"CanaryPercent": 10, "CanaryBakeTimeInMinutes": 5}
    switched = change(FRONTEND, "Service", "AWS::ECS::Service", changes=[
        PropertyChange(("DeploymentConfiguration", "Strategy"), "CANARY", "BLUE_GREEN", False),
        PropertyChange(("DeploymentConfiguration", "CanaryConfiguration"), canary, MISSING, False),
        PropertyChange(("DeploymentConfiguration", "Alarms"), MISSING, {"Enable": True}, False),
        PropertyChange(("LoadBalancers",), [{"a": 1}], [{"a": 2}], False)])  # fmt: skip
    print_human(diff(switched), [], config, "HEAD", COST)
    assert ("  ~ Service (ECS::Service): DeploymentConfiguration.Strategy CANARY -> BLUE_GREEN; "
            "added: DeploymentConfiguration.Alarms; removed: "
            "DeploymentConfiguration.CanaryConfiguration; changed: LoadBalancers"
            ) in capsys.readouterr().out.splitlines()  # fmt: skip


def test_a_container_replaced_by_a_managed_engine_is_a_data_move() -> None:
    """prod's Redis container to managed Valkey: the cache comes empty."""
    backend = "timestamper-dev-backend"
    service = change(backend, "Service", "AWS::ECS::Service", "remove", stateful=True)
    cache = change(backend, "Valkey/Cache", "AWS::ElastiCache::ServerlessCache", "add",
                   stateful=True)  # fmt: skip
    found = run_checks(diff(service, cache))
    assert [(f.change.name, f.message) for f in found if f.change is cache] == [
        ("Valkey/Cache", MOVED)]  # fmt: skip
    assert "copy it over first" in MOVED
    # A managed engine alone (a new service) moves nothing.
    assert not [f for f in run_checks(diff(cache)) if f.message == MOVED]
