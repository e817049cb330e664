"""What ``preview`` warns about: a list of small checks over a :class:`~infra.ops.diff.Diff`.

Each check is a function from a diff to the findings it raises. To add one,
write the function here and list it in :data:`CHECKS`; rendering (human and
JSON) and the exit code pick every finding up without further edits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from infra.ops.diff import MISSING, STATEFUL_SERVICE_TYPES, Diff, ResourceChange

# ECS task definitions are immutable revisions: "replacing" one registers the next
# revision and the service rolls over to it; REPLACE would make that sound destructive.
REVISION_TYPES = frozenset({"AWS::ECS::TaskDefinition"})


@dataclass(frozen=True)
class Finding:
    """One change a reviewer must see before deploying; any finding makes preview exit 3."""

    change: ResourceChange
    message: str


Check = Callable[[Diff], Iterable[Finding]]


def stateful_replaced_or_removed(diff: Diff) -> Iterator[Finding]:
    """A resource holding data (or that others hang on) that a deploy replaces or deletes,
    or that leaves the stack but stays in the account by its policy (and keeps costing)."""
    for change in diff.resources:
        if not change.stateful or not (change.replacement or change.action == "remove"):
            continue
        if change.type in STATEFUL_SERVICE_TYPES:
            # Whatever a policy keeps of a task definition or service, the tasks restart.
            what = "is REMOVED" if change.action == "remove" else f"is REPLACED ({change.reason})"
            if change.type in REVISION_TYPES and change.replacement:  # not destroyed
                what = f"gets a new revision ({change.reason})"
            yield Finding(change, f"{what}: the stateful service restarts empty")
        else:
            yield Finding(change, _what_goes(change))


# A removal keeps the resource under RetainExceptOnCreate too: it was created earlier.
RETAIN = frozenset({"Retain", "RetainExceptOnCreate"})


def _what_goes(change: ResourceChange) -> str:
    """What becomes of a stateful resource that goes. A replacement in place follows
    its UpdateReplacePolicy; a removal, and the old logical ID of a rename, its
    DeletionPolicy. A kept resource stays in the account, unmanaged and still billed."""
    if change.action == "modify":
        kept, policy = change.update_replace_policy, "UpdateReplacePolicy"
    else:
        kept, policy = change.deletion_policy, "DeletionPolicy"
    if change.action == "remove":
        if kept in RETAIN:
            return (
                f"is REMOVED from the stack but kept ({policy} {kept}): its data stays "
                "in the account, no longer managed; delete it by hand once done"
            )
        if kept == "Snapshot":
            return (
                f"is REMOVED, but a snapshot is kept ({policy} {kept}): its data lives "
                "on only in the snapshot, and its dependents go with it"
            )
        return "is REMOVED: its data or dependents go with it"
    what = f"is REPLACED ({change.reason})"
    if kept in RETAIN:
        return (
            f"{what}: the old one is kept ({policy} {kept}) with its data, in the account "
            "but no longer managed, and the new one starts without it; delete the old "
            "one by hand once done"
        )
    if kept == "Snapshot":
        return (
            f"{what}: a snapshot of the old one is kept ({policy} {kept}), and the new "
            "one starts without its data"
        )
    return f"{what}: its data or dependents go with it"


JOINS = (
    "joins Service Connect: its Cloud Map DNS name goes, and consumers cannot reach it "
    "until their own stacks deploy"
)
LEAVES = (
    "leaves Service Connect: consumers cannot reach it by its bare name until their own "
    "stacks deploy"
)


def service_connect_switched(diff: Diff) -> Iterator[Finding]:
    """A service others connect to joining or leaving Service Connect: its DNS
    registration goes (or comes) with this deploy, and consumers whose stacks deploy
    later use the old name until they do (README: Service Connect)."""
    for change in diff.resources:
        if change.type != "AWS::ECS::Service" or change.action != "modify":
            continue
        if change.stack not in diff.consumed_stacks:
            continue  # nothing reaches it by name (a public frontend, a worker)
        for prop in change.changes:
            if prop.path != ("ServiceConnectConfiguration",):
                continue
            if prop.old is MISSING:
                yield Finding(change, JOINS)
            elif prop.new is MISSING:
                yield Finding(change, LEAVES)


# The parts a traffic-shifting deploy adds (infra/services/alb.py), found by name.
SHIFTING_PARTS = ("/ProductionRule", "/AlternateGroup")
REWIRED = (
    "changes what ECS shifts traffic through: CloudFormation sets the rule back to this "
    "template's weights (all on the first target group), while after a canary the tasks "
    "may be in the second; check `make status` first (README: How a deploy rolls out)"
)


def traffic_shift_rewired(diff: Diff) -> Iterator[Finding]:
    """The listener rule or a target group of a service whose deploys shift traffic,
    changed or replaced: ECS moves the rule's weights at each deploy, the template
    never does, so an update of the rule can send every request to an empty group."""
    shifting = {c.stack for c in diff.resources if any(p in c.name for p in SHIFTING_PARTS)}
    for change in diff.resources:
        if change.stack not in shifting or change.action == "add":
            continue
        rule = change.type == "AWS::ElasticLoadBalancingV2::ListenerRule"
        group = change.type == "AWS::ElasticLoadBalancingV2::TargetGroup" and (
            change.replacement or change.action == "remove"
        )
        if rule or group:
            yield Finding(change, REWIRED)


# The resources a managed engine (infra/managed) keeps its data in.
MANAGED_TYPES = {
    "AWS::ElastiCache::ServerlessCache": "ElastiCache Serverless",
    "AWS::RDS::DBCluster": "Aurora",
}
MOVED = (
    "takes over from the service's container: the container's data does not move with it "
    "(copy it over first: README, Managed backends)"
)


def container_to_managed(diff: Diff) -> Iterator[Finding]:
    """A service whose container goes and a managed engine comes in its stack (prod's
    Redis to Valkey): the data moves only if someone moves it."""
    gone = {c.stack for c in diff.resources
            if c.type == "AWS::ECS::Service" and c.action == "remove"}  # fmt: skip
    for change in diff.resources:
        if change.action == "add" and change.type in MANAGED_TYPES and change.stack in gone:
            yield Finding(change, MOVED)


CHECKS: tuple[Check, ...] = (
    stateful_replaced_or_removed,
    service_connect_switched,
    traffic_shift_rewired,
    container_to_managed,
)


def run_checks(diff: Diff, checks: Iterable[Check] = CHECKS) -> list[Finding]:
    """Every finding of every check, in the order the checks are listed."""
    return [finding for check in checks for finding in check(diff)]
