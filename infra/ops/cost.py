"""``cost``: the always-on monthly cost of an environment, read off its templates.

Counts what runs around the clock at its minimum: Fargate tasks (desired
count, or the autoscaling minimum), NAT gateways, load balancers, public IPv4
addresses, interface endpoints, secrets and KMS keys, EFS storage of the
volumes that config gives a size, alarms and dashboards. Usage-driven
charges are listed in the price file as not included.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

PRICES = Path(__file__).with_name("prices.yaml")
# The resource metadata in which infra.storage.volume writes a volume's expected
# size ({"StorageGB": N}); not imported from there, as that loads the CDK.
COST_METADATA = "CostEstimate"


class PriceFileError(Exception):
    """A price file that cannot be used: unreadable YAML, or keys missing."""


@dataclass(frozen=True)
class Prices:
    """Unit prices of one region, and when they were taken."""

    region: str
    taken: str
    hours_per_month: float
    unit: dict[str, float]
    not_included: list[str]

    @classmethod
    def load(cls, path: Path = PRICES) -> Prices:
        """The prices in ``path``, which must price everything the shipped file does
        (a file written before a new kind of resource was priced names what it lacks)."""
        try:
            data = yaml.safe_load(path.read_text())
            prices = cls(
                region=str(data["region"]),
                taken=str(data["taken"]),
                hours_per_month=float(data["hours_per_month"]),
                unit={str(k): float(v) for k, v in data["prices"].items()},
                not_included=list(data.get("not_included", [])),
            )
        except (yaml.YAMLError, TypeError, KeyError, ValueError, AttributeError):
            raise PriceFileError(
                f"{path}: not a price file like {PRICES.name}: a mapping with region, taken, "
                "hours_per_month (numbers) and prices (a mapping of names to numbers)"
            ) from None
        if path != PRICES:
            missing = sorted(set(yaml.safe_load(PRICES.read_text())["prices"]) - set(prices.unit))
            if missing:
                raise PriceFileError(
                    f"{path}: prices: missing {', '.join(missing)} "
                    f"(copy them from {PRICES.relative_to(PRICES.parents[2])})"
                )
        return prices

    def hourly(self, key: str) -> float:
        return self.unit[key] * self.hours_per_month


@dataclass(frozen=True)
class Line:
    """One item of the estimate: ``count`` units of ``size`` (if any) for ``monthly`` USD."""

    stack: str
    item: str
    count: int
    monthly: float
    size: str = ""

    @property
    def quantity(self) -> str:
        return f"{self.count} x {self.size}" if self.size else str(self.count)


def estimate(templates: Mapping[str, Mapping[str, Any]], prices: Prices) -> list[Line]:
    """Lines for every always-on resource in ``templates`` (stack name -> template)."""
    lines: list[Line] = []
    for stack, body in templates.items():
        resources: Mapping[str, Any] = body.get("Resources", {})
        lines += _fargate(stack, resources, prices)
        lines += _efs(stack, resources, prices)
        by_type: dict[str, list[Mapping[str, Any]]] = {}
        for resource in resources.values():
            by_type.setdefault(resource["Type"], []).append(resource.get("Properties", {}))
        nat = len(by_type.get("AWS::EC2::NatGateway", []))
        if nat:
            lines.append(Line(stack, "NAT gateways", nat, nat * prices.hourly("nat_gateway_hour")))
        public_ips = len(by_type.get("AWS::EC2::EIP", []))
        for lb in by_type.get("AWS::ElasticLoadBalancingV2::LoadBalancer", []):
            kind = lb.get("Type", "application")
            key = "nlb_hour" if kind == "network" else "alb_hour"
            lines.append(Line(stack, f"load balancer ({kind})", 1, prices.hourly(key)))
            if lb.get("Scheme") == "internet-facing":
                public_ips += len(lb.get("Subnets") or lb.get("SubnetMappings") or [])
        if public_ips:
            lines.append(Line(stack, "public IPv4 addresses", public_ips,
                              public_ips * prices.hourly("public_ipv4_hour")))  # fmt: skip
        for endpoint in by_type.get("AWS::EC2::VPCEndpoint", []):
            if endpoint.get("VpcEndpointType") == "Interface":
                zones = len(endpoint.get("SubnetIds", [])) or 1
                lines.append(Line(stack, "interface endpoint zones", zones,
                                  zones * prices.hourly("interface_endpoint_hour")))  # fmt: skip
        secrets = len(by_type.get("AWS::SecretsManager::Secret", []))
        if secrets:
            lines.append(Line(stack, "secrets", secrets, secrets * prices.unit["secret_month"]))
        keys = len(by_type.get("AWS::KMS::Key", []))
        if keys:
            lines.append(Line(stack, "KMS keys", keys, keys * prices.unit["kms_key_month"]))
        # CloudWatch bills an alarm per metric it evaluates (each of a math expression's).
        alarm_metrics = sum(
            sum(1 for query in alarm.get("Metrics", []) if "MetricStat" in query) or 1
            for alarm in by_type.get("AWS::CloudWatch::Alarm", [])
        )
        if alarm_metrics:
            lines.append(Line(stack, "alarm metrics", alarm_metrics,
                              alarm_metrics * prices.unit["alarm_metric_month"]))  # fmt: skip
        dashboards = len(by_type.get("AWS::CloudWatch::Dashboard", []))
        if dashboards:
            lines.append(Line(stack, "dashboards", dashboards,
                              dashboards * prices.unit["dashboard_month"]))  # fmt: skip
    return lines


def _fargate(stack: str, resources: Mapping[str, Any], prices: Prices) -> list[Line]:
    lines = []
    # Scalable targets name their service inside ResourceId (a Join over its Name).
    minimums = {
        json.dumps(target["Properties"]["ResourceId"]): target["Properties"]["MinCapacity"]
        for target in resources.values()
        if target["Type"] == "AWS::ApplicationAutoScaling::ScalableTarget"
        and target["Properties"].get("ServiceNamespace") == "ecs"
    }
    for logical_id, service in resources.items():
        if service["Type"] != "AWS::ECS::Service":
            continue
        props = service.get("Properties", {})
        count = props.get("DesiredCount")
        if count is None:  # the scaler owns the count: its minimum always runs
            scaled = [m for ref, m in minimums.items() if f'"{logical_id}"' in ref]
            count = scaled[0] if scaled else 1
        task_ref = props.get("TaskDefinition", {}).get("Ref")
        task = resources.get(task_ref, {}).get("Properties", {})
        vcpu, gb = int(task.get("Cpu", 256)) / 1024, int(task.get("Memory", 512)) / 1024
        arm = task.get("RuntimePlatform", {}).get("CpuArchitecture") == "ARM64"
        cpu_key, gb_key = ("fargate_arm_vcpu_hour", "fargate_arm_gb_hour") if arm else (
            "fargate_vcpu_hour", "fargate_gb_hour")  # fmt: skip
        monthly = int(count) * (vcpu * prices.hourly(cpu_key) + gb * prices.hourly(gb_key))
        name = _service_name(stack, service, logical_id)
        size = f"{vcpu:g} vCPU, {gb:g} GB" + (" ARM" if arm else "")
        lines.append(Line(stack, f"Fargate {name}", int(count), monthly, size))
    return lines


def _efs(stack: str, resources: Mapping[str, Any], prices: Prices) -> list[Line]:
    """EFS Standard storage of each file system of a known size; EFS bills the GB
    stored, which no template states, so one without a size costs 0 here."""
    # Each volume's access point is rooted at /<volume>: the name config uses.
    roots: dict[str, str] = {}
    for resource in resources.values():
        if resource["Type"] == "AWS::EFS::AccessPoint":
            props = resource.get("Properties", {})
            path = props.get("RootDirectory", {}).get("Path", "")
            roots[json.dumps(props.get("FileSystemId"))] = str(path).strip("/")
    lines = []
    for logical_id, file_system in resources.items():
        if file_system["Type"] != "AWS::EFS::FileSystem":
            continue
        name = roots.get(json.dumps({"Ref": logical_id})) or logical_id
        size = file_system.get("Metadata", {}).get(COST_METADATA, {}).get("StorageGB")
        if size is None:
            lines.append(Line(stack, f"EFS {name}", 1, 0.0, "usage-based"))
            continue
        gb = float(size)
        monthly = gb * prices.unit["efs_standard_gb_month"]
        lines.append(Line(stack, f"EFS {name}", 1, monthly, f"{gb:g} GB"))
    return lines


def _service_name(stack: str, service: Mapping[str, Any], logical_id: str) -> str:
    tags = {t["Key"]: t["Value"] for t in service.get("Properties", {}).get("Tags", [])}
    return str(tags.get("service") or stack.rsplit("-", 1)[-1] or logical_id)


def total(lines: list[Line]) -> float:
    return sum(line.monthly for line in lines)


ORDER = ("Fargate", "EFS", "load balancer", "NAT", "public IPv4", "interface", "secrets", "KMS",
         "alarm", "dashboard")  # fmt: skip


def by_item(lines: list[Line]) -> dict[str, Line]:
    """Lines of the same item (public IPv4 in several stacks ...) added together."""
    merged: dict[str, Line] = {}
    for line in lines:
        old = merged.get(line.item)
        merged[line.item] = line if old is None else Line(
            "", line.item, old.count + line.count, old.monthly + line.monthly, line.size
        )  # fmt: skip
    rank = {item: next((i for i, p in enumerate(ORDER) if item.startswith(p)), len(ORDER))
            for item in merged}  # fmt: skip
    return dict(sorted(merged.items(), key=lambda kv: (rank[kv[0]], kv[0])))
