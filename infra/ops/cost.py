"""``cost``: the always-on monthly cost of an environment, read off its templates.

Counts what runs around the clock at its minimum: Fargate tasks (desired
count, or the autoscaling minimum), on-demand and on Spot as the service's
capacity provider strategy places them, NAT gateways, load balancers, public
IPv4 addresses (NAT, load balancer zones, tasks given one), interface
endpoints, secrets and KMS keys, EFS storage of the volumes that config gives
a size, alarms and dashboards. Gateway endpoints are listed at no cost.
Usage-driven charges are listed in the price file as not included.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

PRICES = Path(__file__).with_name("prices.yaml")
# The resource metadata in which infra.storage.volume writes a volume's expected
# size ({"StorageGB": N}); not imported from there, as that loads the CDK.
COST_METADATA = "CostEstimate"
SPOT = "FARGATE_SPOT"
# The item of a service's Spot tasks is its on-demand item and this.
SPOT_SUFFIX = " (Spot)"
# Gateway endpoints exist for these services, named as the console names them.
GATEWAY_SERVICES = {"s3": "S3", "dynamodb": "DynamoDB"}


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
    """Lines for every always-on resource in ``templates`` (stack name -> template).

    Only load balancers are priced, once each, wherever they live (a shared one in a
    stack of its own): the listener rules and target groups of the services behind
    one cost nothing by themselves."""
    lines: list[Line] = []
    for stack, body in templates.items():
        resources: Mapping[str, Any] = body.get("Resources", {})
        services = _services(stack, resources)
        lines += _fargate(stack, services, prices)
        lines += _efs(stack, resources, prices)
        lines += _managed(stack, resources, prices)
        by_type: dict[str, list[Mapping[str, Any]]] = {}
        for resource in resources.values():
            by_type.setdefault(resource["Type"], []).append(resource.get("Properties", {}))
        nat = len(by_type.get("AWS::EC2::NatGateway", []))
        if nat:
            lines.append(Line(stack, "NAT gateways", nat, nat * prices.hourly("nat_gateway_hour")))
        # A task placed with a public IP holds its own address for as long as it runs.
        public_ips = len(by_type.get("AWS::EC2::EIP", [])) + sum(
            s.count for s in services if s.public_ip
        )
        for lb in by_type.get("AWS::ElasticLoadBalancingV2::LoadBalancer", []):
            kind = lb.get("Type", "application")
            key = "nlb_hour" if kind == "network" else "alb_hour"
            lines.append(Line(stack, f"load balancer ({kind})", 1, prices.hourly(key)))
            if lb.get("Scheme") == "internet-facing":
                public_ips += len(lb.get("Subnets") or lb.get("SubnetMappings") or [])
        if public_ips:
            lines.append(Line(stack, "public IPv4 addresses", public_ips,
                              public_ips * prices.hourly("public_ipv4_hour")))  # fmt: skip
        gateways: dict[str, int] = {}
        for endpoint in by_type.get("AWS::EC2::VPCEndpoint", []):
            # CloudFormation makes an endpoint without a type a gateway one.
            kind = endpoint.get("VpcEndpointType", "Gateway")
            if kind == "Interface":
                zones = len(endpoint.get("SubnetIds", [])) or 1
                lines.append(Line(stack, "interface endpoint zones", zones,
                                  zones * prices.hourly("interface_endpoint_hour")))  # fmt: skip
            elif kind == "Gateway":
                item = _gateway_item(endpoint.get("ServiceName"))
                gateways[item] = gateways.get(item, 0) + 1
        # Free, and listed all the same: the table shows they are there.
        lines += [Line(stack, item, count, 0.0) for item, count in gateways.items()]
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


def placement(count: int, strategy: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """How ECS places ``count`` tasks with a capacity provider strategy: each
    provider's ``Base`` first, in order, while tasks last; the rest by ``Weight``
    (omitted: 0). No strategy places every task on FARGATE (on-demand).

    ECS keeps the rest at the weights' ratio; where a share is not a whole task,
    the providers with the largest remainders get one more each (whole counts that
    add up to ``count``), a tie going to on-demand first and then to the provider
    listed first, so that the estimate errs high rather than low.
    """
    if not strategy:
        return {"FARGATE": count}
    placed = {str(entry["CapacityProvider"]): 0 for entry in strategy}
    left = count
    for entry in strategy:
        base = min(int(entry.get("Base", 0)), left)
        placed[str(entry["CapacityProvider"])] += base
        left -= base
    weights = {str(entry["CapacityProvider"]): int(entry.get("Weight", 0)) for entry in strategy}
    weight = sum(weights.values())
    if not weight:  # ECS refuses this for tasks past the base; keep them priced
        placed[next(iter(placed))] += left
        return placed
    shares = {provider: divmod(left * share, weight) for provider, share in weights.items()}
    for provider, (whole, _) in shares.items():
        placed[provider] += whole
    short = left - sum(whole for whole, _ in shares.values())
    # sorted() is stable: among equal remainders and kinds, the order listed.
    ranked = sorted(shares, key=lambda p: (-shares[p][1], p == SPOT))
    for provider in ranked[:short]:
        placed[provider] += 1
    return placed


@dataclass(frozen=True)
class _Tasks:
    """One ECS service's always-on tasks: how many, their size, where they run."""

    name: str
    count: int
    vcpu: float
    gb: float
    arm: bool
    spot: int  # of ``count``, on FARGATE_SPOT
    public_ip: bool


def _services(stack: str, resources: Mapping[str, Any]) -> list[_Tasks]:
    """The always-on tasks of each ECS service in one stack's ``resources``."""
    # Scalable targets name their service inside ResourceId (a Join over its Name).
    minimums = {
        json.dumps(target["Properties"]["ResourceId"]): target["Properties"]["MinCapacity"]
        for target in resources.values()
        if target["Type"] == "AWS::ApplicationAutoScaling::ScalableTarget"
        and target["Properties"].get("ServiceNamespace") == "ecs"
    }
    found = []
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
        arm = task.get("RuntimePlatform", {}).get("CpuArchitecture") == "ARM64"
        placed = placement(int(count), props.get("CapacityProviderStrategy") or [])
        network = props.get("NetworkConfiguration", {}).get("AwsvpcConfiguration", {})
        found.append(_Tasks(
            name=_service_name(stack, service, logical_id),
            count=int(count),
            vcpu=int(task.get("Cpu", 256)) / 1024,
            gb=int(task.get("Memory", 512)) / 1024,
            arm=arm,
            spot=placed.get(SPOT, 0),
            public_ip=network.get("AssignPublicIp") == "ENABLED",
        ))  # fmt: skip
    return found


def _fargate(stack: str, services: list[_Tasks], prices: Prices) -> list[Line]:
    """Each service's on-demand tasks and, as an item of their own, its Spot tasks, at
    the x86 or ARM64 prices of their size."""
    lines = []
    for tasks in services:
        size = f"{tasks.vcpu:g} vCPU, {tasks.gb:g} GB" + (" ARM" if tasks.arm else "")
        on_demand = ("fargate_arm_vcpu_hour", "fargate_arm_gb_hour") if tasks.arm else (
            "fargate_vcpu_hour", "fargate_gb_hour")  # fmt: skip
        spot = ("fargate_spot_arm_vcpu_hour", "fargate_spot_arm_gb_hour") if tasks.arm else (
            "fargate_spot_vcpu_hour", "fargate_spot_gb_hour")  # fmt: skip
        for suffix, count, (cpu_key, gb_key) in (("", tasks.count - tasks.spot, on_demand),
                                                 (SPOT_SUFFIX, tasks.spot, spot)):  # fmt: skip
            # A service of 0 tasks shows as one on-demand line of 0; no other line is 0.
            if count or not (suffix or tasks.spot):
                hourly = tasks.vcpu * prices.hourly(cpu_key) + tasks.gb * prices.hourly(gb_key)
                lines.append(Line(stack, f"Fargate {tasks.name}{suffix}", count, count * hourly,
                                  size))  # fmt: skip
    return lines


def _gateway_item(service_name: Any) -> str:
    """``gateway endpoints (S3)``: the service is what ends ``com.amazonaws.<region>.s3``,
    which CDK writes as a Join over the region; plain ``gateway endpoints`` if unclear."""
    name = service_name
    join = name.get("Fn::Join") if isinstance(name, dict) else None
    if isinstance(join, list) and len(join) == 2 and isinstance(join[1], list):
        name = str(join[0]).join(p if isinstance(p, str) else "{}" for p in join[1])
    last = name.rsplit(".", 1)[-1] if isinstance(name, str) else ""
    if not re.fullmatch(r"[a-z0-9-]+", last):
        return "gateway endpoints"
    return f"gateway endpoints ({GATEWAY_SERVICES.get(last, last)})"


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


# ElastiCache Serverless bills at least this much data stored, in GB (Valkey's minimum).
VALKEY_MIN_GB = 0.1


def _managed(stack: str, resources: Mapping[str, Any], prices: Prices) -> list[Line]:
    """What a managed engine costs when idle: a serverless Valkey cache's minimum data
    storage; an Aurora Serverless v2 writer's minimum capacity (0 when it may pause).
    Their usage (ECPUs, data above the minimum, ACUs above it, storage, I/O, backups)
    is in the price file's list of what is not included."""
    lines = []
    for logical_id, resource in resources.items():
        props = resource.get("Properties", {})
        name = _service_name(stack, resource, logical_id)
        if resource["Type"] == "AWS::ElastiCache::ServerlessCache":
            monthly = VALKEY_MIN_GB * prices.hourly("elasticache_valkey_gb_hour")
            lines.append(Line(stack, f"ElastiCache Serverless {name}", 1, monthly,
                              f"{VALKEY_MIN_GB:g} GB minimum"))  # fmt: skip
        elif resource["Type"] == "AWS::RDS::DBCluster":
            scaling = props.get("ServerlessV2ScalingConfiguration", {})
            acu = float(scaling.get("MinCapacity", 0))
            monthly = acu * prices.hourly("aurora_serverless_v2_acu_hour")
            paused = " (paused while no connection is open)" if acu == 0 else ""
            lines.append(Line(stack, f"Aurora Serverless v2 {name}", 1, monthly,
                              f"{acu:g} ACU minimum{paused}"))  # fmt: skip
    return lines


def _service_name(stack: str, service: Mapping[str, Any], logical_id: str) -> str:
    tags = {t["Key"]: t["Value"] for t in service.get("Properties", {}).get("Tags", [])}
    return str(tags.get("service") or stack.rsplit("-", 1)[-1] or logical_id)


def total(lines: list[Line]) -> float:
    return sum(line.monthly for line in lines)


ORDER = ("Fargate", "EFS", "ElastiCache", "Aurora", "load balancer", "NAT", "public IPv4",
         "interface", "gateway", "secrets", "KMS", "alarm", "dashboard")  # fmt: skip


def item_order(item: str) -> tuple[int, str, bool]:
    """Where an item goes in a table: by kind (``ORDER``), then by name, a service's
    Spot tasks right after its on-demand ones."""
    rank = next((i for i, p in enumerate(ORDER) if item.startswith(p)), len(ORDER))
    return rank, item.removesuffix(SPOT_SUFFIX), item.endswith(SPOT_SUFFIX)


def by_item(lines: list[Line]) -> dict[str, Line]:
    """Lines of the same item (public IPv4 in several stacks ...) added together."""
    merged: dict[str, Line] = {}
    for line in lines:
        old = merged.get(line.item)
        merged[line.item] = line if old is None else Line(
            "", line.item, old.count + line.count, old.monthly + line.monthly, line.size
        )  # fmt: skip
    return dict(sorted(merged.items(), key=lambda kv: item_order(kv[0])))
