"""``cost`` on small hand-written templates (no synthesis): Fargate Spot and its
on-demand base, public IPv4 per task, gateway endpoints, a shared load balancer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.__main__ import main
from infra.ops import cost, cost_report

PRICES = cost.Prices.load()
FARGATE, SPOT = "FARGATE", "FARGATE_SPOT"
# The strategy of a service on Spot with an on-demand base of one, as CDK writes it.
BASE_ONE = [{"CapacityProvider": FARGATE, "Base": 1, "Weight": 0},
            {"CapacityProvider": SPOT, "Weight": 1}]  # fmt: skip
Resources = dict[str, dict[str, Any]]


def monthly(kind: str, vcpu: float, gb: float, tasks: int = 1) -> float:
    """By hand from prices.yaml: ``kind`` is fargate, fargate_arm, fargate_spot or
    fargate_spot_arm."""
    unit = PRICES.unit
    return tasks * (vcpu * unit[f"{kind}_vcpu_hour"] + gb * unit[f"{kind}_gb_hour"]) * 730


def service(name: str, count: int | None = 1, strategy: list[dict[str, Any]] | None = None,
            cpu: int = 256, memory: int = 512, arm: bool = False, public_ip: bool = False
            ) -> Resources:  # fmt: skip
    """A task definition and its ECS service, tagged as this app tags them."""
    props: dict[str, Any] = {
        "TaskDefinition": {"Ref": f"{name}Task"},
        "Tags": [{"Key": "service", "Value": name}],
        "NetworkConfiguration": {"AwsvpcConfiguration": {
            "AssignPublicIp": "ENABLED" if public_ip else "DISABLED"}},
    }  # fmt: skip
    if count is not None:
        props["DesiredCount"] = count
    if strategy is None:
        props["LaunchType"] = "FARGATE"
    else:
        props["CapacityProviderStrategy"] = strategy
    task: dict[str, Any] = {"Cpu": str(cpu), "Memory": str(memory)}
    if arm:
        task["RuntimePlatform"] = {"CpuArchitecture": "ARM64", "OperatingSystemFamily": "LINUX"}
    return {f"{name}Task": {"Type": "AWS::ECS::TaskDefinition", "Properties": task},
            f"{name}Service": {"Type": "AWS::ECS::Service", "Properties": props}}  # fmt: skip


def summary(lines: list[cost.Line]) -> list[tuple[str, str, str, float]]:
    return [(x.stack, x.item, x.quantity, round(x.monthly, 4)) for x in lines]


@pytest.mark.parametrize(
    ("count", "strategy", "placed"),
    [
        (3, [], {FARGATE: 3}),  # no strategy: the launch type, on-demand
        (3, BASE_ONE, {FARGATE: 1, SPOT: 2}),  # the base on-demand, the rest on Spot
        (1, BASE_ONE, {FARGATE: 1, SPOT: 0}),
        (0, BASE_ONE, {FARGATE: 0, SPOT: 0}),
        # A base larger than the count takes every task.
        (2, [{"CapacityProvider": FARGATE, "Base": 3, "Weight": 1},
             {"CapacityProvider": SPOT, "Weight": 1}], {FARGATE: 2, SPOT: 0}),
        # A provider of weight 0 (or none given) gets nothing past its base.
        (4, [{"CapacityProvider": FARGATE, "Weight": 0},
             {"CapacityProvider": SPOT, "Weight": 1}], {FARGATE: 0, SPOT: 4}),
        (4, [{"CapacityProvider": FARGATE}, {"CapacityProvider": SPOT, "Weight": 1}],
         {FARGATE: 0, SPOT: 4}),
        # The base on Spot, the rest on-demand.
        (5, [{"CapacityProvider": SPOT, "Base": 2, "Weight": 0},
             {"CapacityProvider": FARGATE, "Weight": 1}], {SPOT: 2, FARGATE: 3}),
        # Weights 1:2 of 4 tasks: 1.33 and 2.67, the larger remainder rounds up.
        (4, [{"CapacityProvider": FARGATE, "Weight": 1},
             {"CapacityProvider": SPOT, "Weight": 2}], {FARGATE: 1, SPOT: 3}),
        # Half a task each way goes on-demand, wherever it is listed.
        (3, [{"CapacityProvider": SPOT, "Weight": 1},
             {"CapacityProvider": FARGATE, "Weight": 1}], {SPOT: 1, FARGATE: 2}),
        (6, [{"CapacityProvider": FARGATE, "Base": 2, "Weight": 1},
             {"CapacityProvider": SPOT, "Weight": 3}], {FARGATE: 3, SPOT: 3}),
        # No weight anywhere (ECS refuses it past the base): still priced, not lost.
        (3, [{"CapacityProvider": FARGATE, "Base": 1}], {FARGATE: 3}),
    ],
)  # fmt: skip
def test_placement_splits_tasks_as_ecs_does(
    count: int, strategy: list[dict[str, Any]], placed: dict[str, int]
) -> None:
    assert cost.placement(count, strategy) == placed


def test_placement_counts_are_whole_and_add_up() -> None:
    for count in range(12):
        for base in range(4):
            for weights in ((0, 1), (1, 1), (1, 2), (2, 3), (3, 1)):
                strategy = [{"CapacityProvider": FARGATE, "Base": base, "Weight": weights[0]},
                            {"CapacityProvider": SPOT, "Weight": weights[1]}]  # fmt: skip
                placed = cost.placement(count, strategy)
                assert sum(placed.values()) == count, (count, base, weights, placed)
                assert placed[FARGATE] >= min(base, count)


def test_spot_tasks_are_their_own_line_after_their_on_demand_ones() -> None:
    """dev's shape: all on Spot; prod's: an on-demand base under an autoscaling minimum."""
    dev = service("frontend", 1, [{"CapacityProvider": FARGATE, "Weight": 0},
                                  {"CapacityProvider": SPOT, "Weight": 1}], cpu=512, memory=1024)  # fmt: skip
    prod = service("frontend", None, BASE_ONE, cpu=512, memory=1024)
    prod["Target"] = {"Type": "AWS::ApplicationAutoScaling::ScalableTarget", "Properties": {
        "ServiceNamespace": "ecs", "MinCapacity": 2, "MaxCapacity": 8,
        "ResourceId": {"Fn::Join": ["", ["service/", {"Ref": "Cluster"}, "/",
                                         {"Fn::GetAtt": ["frontendService", "Name"]}]]}}}  # fmt: skip
    # No line of 0 on-demand tasks beside the Spot ones.
    assert summary(cost.estimate({"app-dev-frontend": {"Resources": dev}}, PRICES)) == [
        ("app-dev-frontend", "Fargate frontend (Spot)", "1 x 0.5 vCPU, 1 GB",
         round(monthly("fargate_spot", 0.5, 1), 4)),  # 5.9384
    ]  # fmt: skip
    assert summary(cost.estimate({"app-prod-frontend": {"Resources": prod}}, PRICES)) == [
        ("app-prod-frontend", "Fargate frontend", "1 x 0.5 vCPU, 1 GB",
         round(monthly("fargate", 0.5, 1), 4)),  # 18.0201
        ("app-prod-frontend", "Fargate frontend (Spot)", "1 x 0.5 vCPU, 1 GB",
         round(monthly("fargate_spot", 0.5, 1), 4)),
    ]  # fmt: skip
    # In a table: Fargate first, a service's Spot line right after its on-demand one
    # (also beside a service whose name starts the same).
    lines = cost.estimate({"app-prod-frontend": {"Resources": prod},
                           "app-prod-front": {"Resources": service("front", 2, BASE_ONE)},
                           "app-prod-backend": {"Resources": service("backend")}}, PRICES)  # fmt: skip
    lines.append(cost.Line("app-prod-storage", "EFS data", 1, 0.3, "1 GB"))
    assert list(cost.by_item(lines)) == [
        "Fargate backend", "Fargate front", "Fargate front (Spot)", "Fargate frontend",
        "Fargate frontend (Spot)", "EFS data"]  # fmt: skip
    # A service of 0 tasks still shows, at 0, as before.
    (idle,) = cost.estimate({"s": {"Resources": service("idle", 0, BASE_ONE)}}, PRICES)
    assert (idle.item, idle.count, idle.monthly) == ("Fargate idle", 0, 0.0)


def test_spot_prices_are_about_two_thirds_below_on_demand() -> None:
    for key in ("vcpu", "gb"):
        ratio = PRICES.unit[f"fargate_spot_{key}_hour"] / PRICES.unit[f"fargate_{key}_hour"]
        assert 0.30 <= ratio <= 0.33, (key, ratio)


def test_an_arm64_task_on_spot_is_priced_at_arm_spot_prices() -> None:
    """Spot takes ARM64 tasks (platform 1.4.0): the base on demand, the rest on Spot, at ARM prices."""
    arm = service("backend", 2, BASE_ONE, arm=True)
    assert summary(cost.estimate({"s": {"Resources": arm}}, PRICES)) == [
        ("s", "Fargate backend", "1 x 0.25 vCPU, 0.5 GB ARM",
         round(monthly("fargate_arm", 0.25, 0.5, 1), 4)),
        ("s", "Fargate backend (Spot)", "1 x 0.25 vCPU, 0.5 GB ARM",
         round(monthly("fargate_spot_arm", 0.25, 0.5, 1), 4)),
    ]  # fmt: skip


def test_a_task_with_a_public_ip_holds_an_address() -> None:
    """No-NAT placement: each always-on task (on-demand or Spot) holds one public IPv4
    address, counted on its stack's one line with any others there (an EIP here)."""
    web = service("web", 3, BASE_ONE, public_ip=True)
    web["Eip"] = {"Type": "AWS::EC2::EIP", "Properties": {}}
    templates = {
        "app-dev-web": {"Resources": web},
        "app-dev-db": {"Resources": service("db", 1, public_ip=True)},
        "app-dev-worker": {"Resources": service("worker", 2)},  # private: no address
    }
    ipv4 = [x for x in cost.estimate(templates, PRICES) if x.item == "public IPv4 addresses"]
    hourly = PRICES.unit["public_ipv4_hour"]
    assert summary(ipv4) == [
        ("app-dev-web", "public IPv4 addresses", "4", round(4 * hourly * 730, 4)),  # 14.60
        ("app-dev-db", "public IPv4 addresses", "1", round(hourly * 730, 4)),
    ]
    merged = cost.by_item(ipv4)["public IPv4 addresses"]
    assert (merged.count, round(merged.monthly, 2)) == (5, 18.25)


S3 = {"Fn::Join": ["", ["com.amazonaws.", {"Ref": "AWS::Region"}, ".s3"]]}


def endpoint(service_name: Any, kind: str | None = None, zones: int = 0) -> dict[str, Any]:
    props: dict[str, Any] = {"ServiceName": service_name, "VpcId": {"Ref": "Vpc"}}
    if kind is not None:
        props["VpcEndpointType"] = kind
    if zones:
        props["SubnetIds"] = [f"subnet-{i}" for i in range(zones)]
    return {"Type": "AWS::EC2::VPCEndpoint", "Properties": props}


def test_gateway_endpoints_are_listed_free() -> None:
    """Listed with their count at 0.00, so the table shows they are there; one without
    a type is a gateway endpoint (CloudFormation's default). Interface endpoints stay
    priced per zone."""
    network = {
        "S3Endpoint": endpoint(S3, "Gateway"),
        "S3Again": endpoint(S3),  # no type: Gateway
        "Dynamo": endpoint("com.amazonaws.us-east-1.dynamodb", "Gateway"),
        "Unclear": endpoint({"Ref": "ServiceName"}, "Gateway"),
        "Ecr": endpoint("com.amazonaws.us-east-1.ecr.dkr", "Interface", zones=2),
    }
    lines = cost.estimate({"app-dev-network": {"Resources": network}}, PRICES)
    assert summary(lines) == [
        ("app-dev-network", "interface endpoint zones", "2",
         round(2 * PRICES.unit["interface_endpoint_hour"] * 730, 4)),  # 14.60
        ("app-dev-network", "gateway endpoints (S3)", "2", 0.0),
        ("app-dev-network", "gateway endpoints (DynamoDB)", "1", 0.0),
        ("app-dev-network", "gateway endpoints", "1", 0.0),
    ]  # fmt: skip
    table = cost_report.as_table({"dev": lines}, PRICES)
    assert table.rows == [
        ["interface endpoint zones", "2", "14.60"],
        ["gateway endpoints", "1", "0.00"],
        ["gateway endpoints (DynamoDB)", "1", "0.00"],
        ["gateway endpoints (S3)", "2", "0.00"],
        ["total", "", "14.60"],
    ]


def test_a_shared_load_balancer_is_counted_once() -> None:
    """One ALB in the env's ingress stack; each public service's listener rule and
    target group in its own stack cost nothing by themselves."""
    ingress: Resources = {
        "LoadBalancer": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": {
            "Type": "application", "Scheme": "internet-facing",
            "Subnets": [{"Fn::GetStackOutput": {"StackName": "app-prod-network",
                                                "OutputName": f"PublicSubnet{i}"}}
                        for i in (1, 2)]}},
        "Listener": {"Type": "AWS::ElasticLoadBalancingV2::Listener", "Properties": {
            "LoadBalancerArn": {"Ref": "LoadBalancer"}, "Port": 80, "Protocol": "HTTP"}},
        "SecurityGroup": {"Type": "AWS::EC2::SecurityGroup", "Properties": {}},
    }  # fmt: skip

    def behind(name: str, priority: int) -> Resources:
        resources = service(name, 1)
        resources["Rule"] = {
            "Type": "AWS::ElasticLoadBalancingV2::ListenerRule",
            "Properties": {
                "ListenerArn": {
                    "Fn::GetStackOutput": {
                        "StackName": "app-prod-ingress",
                        "OutputName": "ListenerArn",
                    }
                },
                "Priority": priority,
                "Actions": [{"Type": "forward", "TargetGroupArn": {"Ref": "Targets"}}],
                "Conditions": [{"Field": "path-pattern", "Values": [f"/{name}/*"]}],
            },
        }
        resources["Targets"] = {
            "Type": "AWS::ElasticLoadBalancingV2::TargetGroup",
            "Properties": {"Port": 5000, "TargetType": "ip"},
        }
        return resources  # fmt: skip

    templates = {"app-prod-ingress": {"Resources": ingress},
                 "app-prod-web": {"Resources": behind("web", 10)},
                 "app-prod-api": {"Resources": behind("api", 20)}}  # fmt: skip
    lines = cost.estimate(templates, PRICES)
    items = cost.by_item(lines)
    hours = 730
    assert {item: (x.count, round(x.monthly, 4)) for item, x in items.items()} == {
        "Fargate api": (1, round(monthly("fargate", 0.25, 0.5), 4)),  # 9.0100
        "Fargate web": (1, round(monthly("fargate", 0.25, 0.5), 4)),
        "load balancer (application)": (1, round(PRICES.unit["alb_hour"] * hours, 4)),  # 16.425
        "public IPv4 addresses": (2, round(2 * PRICES.unit["public_ipv4_hour"] * hours, 4)),
    }
    assert [x.stack for x in lines if x.item.startswith("load balancer")] == ["app-prod-ingress"]
    assert cost.total(lines) == pytest.approx(2 * 9.01 + 16.425 + 7.30, abs=0.001)


def test_cost_of_all_envs_keeps_an_item_of_one_env_in_its_place() -> None:
    """dev all on Spot, prod with an on-demand base: side by side, in table order."""
    dev = cost.estimate({"app-dev-web": {"Resources": service("web", 1, [
        {"CapacityProvider": SPOT, "Weight": 1}], public_ip=True)}}, PRICES)  # fmt: skip
    prod = cost.estimate({"app-prod-web": {"Resources": service("web", 2, BASE_ONE)}}, PRICES)
    prod.append(cost.Line("app-prod-network", "NAT gateways", 2, 65.7))
    table = cost_report.as_table({"dev": dev, "prod": prod}, PRICES)
    assert table.headers == ["item", "dev USD/month", "prod USD/month"]
    assert table.rows == [
        ["Fargate web", "-", "9.01"],
        ["Fargate web (Spot)", "2.97", "2.97"],
        ["NAT gateways", "-", "65.70"],
        ["public IPv4 addresses", "3.65", "-"],
        ["total", "6.62", "77.68"],
    ]


def test_a_price_file_without_the_spot_prices_is_refused_by_name(tmp_path: Path) -> None:
    data = yaml.safe_load(cost.PRICES.read_text())
    del data["prices"]["fargate_spot_vcpu_hour"], data["prices"]["fargate_spot_gb_hour"]
    older = tmp_path / "prices.yaml"
    older.write_text(yaml.safe_dump(data))
    with pytest.raises(cost.PriceFileError, match=r"prices: missing fargate_spot_gb_hour, "
                       r"fargate_spot_vcpu_hour \(copy them from infra/ops/prices\.yaml\)"):  # fmt: skip
        cost.Prices.load(older)


def test_preview_refuses_a_bad_price_file_before_synthesizing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = yaml.safe_load(cost.PRICES.read_text())
    del data["prices"]["fargate_spot_gb_hour"]
    older = tmp_path / "prices.yaml"
    older.write_text(yaml.safe_dump(data))
    assert main(["preview", "--env", "dev", "--prices", str(older)]) == 2
    captured = capsys.readouterr()
    assert "prices: missing fargate_spot_gb_hour" in captured.err
    assert "synthesizing" not in captured.err
