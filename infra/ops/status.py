"""``python -m infra status``: what is deployed and whether it is healthy.

Each stack of the env with its CloudFormation state; for each service stack,
the ECS service's task counts, its deployments (rollout state), the health of
the targets in its target groups and its public URL. :func:`collect` asks AWS;
:func:`problems` and :func:`service_lines` are pure, and decide the exit code
and the text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from infra.config import AppConfig
from infra.ops.aws import Aws, Client, Stack
from infra.ops.render import say, table

# Target states that are fine: serving, registering (a task just started) and
# leaving (a task being replaced in a deploy).
PASSING_TARGETS = frozenset({"healthy", "initial", "draining"})


@dataclass(frozen=True)
class Deployment:
    """One entry of the ECS service's ``deployments``."""

    id: str
    status: str  # PRIMARY (the newest), ACTIVE (being replaced)
    rollout: str  # IN_PROGRESS, COMPLETED, FAILED; "" when ECS gives none
    reason: str
    task_definition: str  # family:revision
    desired: int
    running: int
    pending: int
    failed: int


@dataclass(frozen=True)
class Target:
    id: str  # address:port, or instance id:port
    state: str
    reason: str


@dataclass(frozen=True)
class TargetGroup:
    name: str
    targets: tuple[Target, ...]


@dataclass(frozen=True)
class Service:
    """The ECS service of a service stack."""

    arn: str
    status: str  # ACTIVE, DRAINING, INACTIVE, or MISSING
    desired: int = 0
    running: int = 0
    pending: int = 0
    deployments: tuple[Deployment, ...] = ()
    target_groups: tuple[TargetGroup, ...] = ()


@dataclass(frozen=True)
class Part:
    """One stack of the env: None when it is not deployed."""

    part: str
    stack_name: str
    stack: Stack | None
    is_service: bool = False
    service: Service | None = None


def collect(aws: Aws, config: AppConfig) -> list[Part]:
    """Every stack of ``config``'s env, in deploy order, with its service's state."""
    ecs, elbv2 = aws.client("ecs"), aws.client("elbv2")
    parts = []
    for part in config.stack_parts():
        name = config.stack_name(part)
        stack = aws.stack(name)
        # A managed engine (prod's Valkey) has no ECS service to look at.
        is_service = part in config.services and config.services[part].managed is None
        outputs = stack.outputs if stack is not None else {}
        service = None
        if is_service and {"ServiceArn", "ClusterName"} <= outputs.keys():
            service = _service(ecs, elbv2, outputs["ClusterName"], outputs["ServiceArn"])
        parts.append(Part(part, name, stack, is_service, service))
    return parts


def _service(ecs: Client, elbv2: Client, cluster: str, arn: str) -> Service:
    found = ecs.describe_services(cluster=cluster, services=[arn])["services"]
    if not found:
        return Service(arn, "MISSING")
    (raw,) = found
    groups = []
    for arn_ in _target_group_arns(raw.get("loadBalancers", [])):
        health = elbv2.describe_target_health(TargetGroupArn=arn_)["TargetHealthDescriptions"]
        groups.append(TargetGroup(arn_.split("/")[1], tuple(_target(t) for t in health)))
    return Service(
        arn=arn,
        status=str(raw["status"]),
        desired=int(raw.get("desiredCount", 0)),
        running=int(raw.get("runningCount", 0)),
        pending=int(raw.get("pendingCount", 0)),
        deployments=tuple(_deployment(d) for d in raw.get("deployments", [])),
        target_groups=tuple(groups),
    )


def _target_group_arns(balancers: Iterable[dict[str, Any]]) -> list[str]:
    """The service's target groups, and the alternate ones that blue/green,
    canary and linear deployments shift traffic to, without repeats."""
    arns: list[str] = []
    for balancer in balancers:
        alternate = balancer.get("advancedConfiguration", {}).get("alternateTargetGroupArn")
        for arn in (balancer.get("targetGroupArn"), alternate):
            if arn and arn not in arns:
                arns.append(str(arn))
    return arns


def _deployment(raw: dict[str, Any]) -> Deployment:
    return Deployment(
        id=str(raw["id"]),
        status=str(raw["status"]),
        rollout=str(raw.get("rolloutState", "")),
        reason=str(raw.get("rolloutStateReason", "")),
        task_definition=str(raw.get("taskDefinition", "")).rsplit("/", 1)[-1],
        desired=int(raw.get("desiredCount", 0)),
        running=int(raw.get("runningCount", 0)),
        pending=int(raw.get("pendingCount", 0)),
        failed=int(raw.get("failedTasks", 0)),
    )


def _target(raw: dict[str, Any]) -> Target:
    where, health = raw["Target"], raw["TargetHealth"]
    port = f":{where['Port']}" if "Port" in where else ""
    why = ": ".join(str(health[k]) for k in ("Reason", "Description") if health.get(k))
    return Target(f"{where['Id']}{port}", str(health["State"]), why)


def problems(parts: Sequence[Part]) -> list[str]:
    """What is not healthy or stable, one line each; none means exit 0."""
    found = []
    for part in parts:
        stack = part.stack
        if stack is None:
            continue
        if stack.failed:
            reason = f": {stack.reason}" if stack.reason else ""
            found.append(f"{part.part}: stack {stack.name} is {stack.status}{reason}")
        if part.is_service and part.service is None and stack.settled:
            found.append(f"{part.part}: stack {stack.name} has no ServiceArn/ClusterName "
                         "outputs to find its service by: deploy it again")  # fmt: skip
        if part.service is not None:
            found += [f"{part.part}: {line}" for line in _service_problems(part.service)]
    return found


def _service_problems(service: Service) -> list[str]:
    if service.status != "ACTIVE":
        return [f"ECS service {service.arn} is {service.status}"]
    found = []
    if service.running < service.desired:
        found.append(f"{service.running} running of {service.desired} desired")
    for deployment in service.deployments:
        if deployment.rollout == "FAILED":
            found.append(f"deployment {deployment.id} ({deployment.task_definition}) FAILED: "
                         f"{deployment.reason}")  # fmt: skip
    targets = [(g, t) for g in service.target_groups for t in g.targets]
    for group, target in targets:
        if target.state not in PASSING_TARGETS:
            why = f" ({target.reason})" if target.reason else ""
            found.append(f"target {target.id} in {group.name} is {target.state}{why}")
    if (
        service.target_groups
        and service.desired > 0
        and not any(t.state == "healthy" for _, t in targets)
    ):
        names = ", ".join(g.name for g in service.target_groups)
        found.append(f"no healthy target in {names}")
    return found


def service_lines(part: Part) -> list[str]:
    """The details under a service stack: counts, deployments, targets, URL."""
    lines = []
    stack = part.stack
    if stack is not None and stack.failed and stack.reason:
        lines.append(f"  stack {stack.status}: {stack.reason}")
    service = part.service
    if service is not None:
        lines.append(f"  tasks: {service.running} running, {service.desired} desired, "
                     f"{service.pending} pending ({service.status})")  # fmt: skip
        for d in service.deployments:
            reason = f": {d.reason}" if d.reason else ""
            lines.append(f"  deployment {d.status} {d.task_definition} {d.rollout or '-'}, "
                         f"{d.running}/{d.desired} running, {d.pending} pending, "
                         f"{d.failed} failed{reason}")  # fmt: skip
        for group in service.target_groups:
            counts = Counter(t.state for t in group.targets)
            summary = ", ".join(f"{n} {state}" for state, n in sorted(counts.items())) or "empty"
            lines.append(f"  target group {group.name}: {summary}")
            lines += [f"    {t.id} {t.state}" + (f": {t.reason}" if t.reason else "")
                      for t in group.targets if t.state != "healthy"]  # fmt: skip
    if stack is not None and "Url" in stack.outputs:
        lines.append(f"  url: {stack.outputs['Url']}")
    return lines


def report(parts: Sequence[Part], config: AppConfig, region: str) -> int:
    """Print the state of every stack; 1 when something is unhealthy, else 0."""
    rows = [(p.part, p.stack_name, p.stack.status if p.stack else "not deployed") for p in parts]
    table(f"{config.app} {config.env} in {region}", ("part", "stack", "state"), rows)
    for part in parts:
        lines = service_lines(part)
        if lines:
            say(f"{part.part}:")
            for line in lines:
                say(line)
    found = problems(parts)
    if found:
        say(f"{len(found)} problem{'s' if len(found) > 1 else ''}:", style="bold red")
        for line in found:
            say(f"  {line}", style="red")
        return 1
    absent = [p.part for p in parts if p.stack is None]
    if len(absent) == len(parts):
        say(f"nothing of {config.app} {config.env} is deployed in {region} "
            f"(make deploy ENV={config.env})")  # fmt: skip
        return 0
    notes = [f"{', '.join(absent)} not deployed"] if absent else []
    moving = in_progress(parts)
    if moving:
        notes.append("in progress: " + ", ".join(moving))
        say("ok: nothing unhealthy (" + "; ".join(notes) + ")", style="green")
    else:
        extra = f" ({notes[0]})" if notes else ""
        say(f"ok: everything deployed is healthy and stable{extra}", style="green")
    return 0


def in_progress(parts: Sequence[Part]) -> list[str]:
    """Stack operations and rollouts still running: not a problem, not settled either."""
    found = []
    for part in parts:
        if part.stack is not None and not part.stack.settled:
            found.append(f"{part.part} stack {part.stack.status}")
        if part.service is not None:
            found += [f"{part.part} deployment {d.id}" for d in part.service.deployments
                      if d.rollout == "IN_PROGRESS"]  # fmt: skip
    return found
