"""Compare two synthesized versions of an app, stack by stack, and find replacements.

What CloudFormation replaces comes from the resource provider schemas that
cfn-lint ships (``createOnlyProperties``), not from a list kept here. A changed
logical ID is always a replacement (a new resource, then the old one
deleted); so is a resource whose create-only property refers to a replaced
one, in the same stack or through another stack's output.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

# The schemas are the same in every commercial region for these types.
SCHEMA_REGION = "us-east-1"

# Resources whose replacement or removal loses data or breaks what depends on them.
# An EFS access point holds no data, but a new one is a new ID in every task
# definition that mounts it; mount targets are only the file system's network
# interfaces, so replacing them loses nothing.
STATEFUL_TYPES = frozenset({
    "AWS::EC2::VPC",
    "AWS::ServiceDiscovery::PrivateDnsNamespace",
    "AWS::Logs::LogGroup",
    "AWS::SecretsManager::Secret",
    "AWS::S3::Bucket",
    "AWS::EFS::FileSystem",
    "AWS::EFS::AccessPoint",
    # Managed engines hold the data themselves.
    "AWS::ElastiCache::ServerlessCache",
    "AWS::RDS::DBCluster",
})  # fmt: skip
# In a stateful service's stack, a new task definition or service restarts it.
STATEFUL_SERVICE_TYPES = frozenset({"AWS::ECS::Service", "AWS::ECS::TaskDefinition"})

Action = Literal["add", "remove", "modify", "rename"]
Part = str | int


class _Missing:
    def __repr__(self) -> str:
        return "(none)"


MISSING: Any = _Missing()


@dataclass(frozen=True)
class PropertyChange:
    """One changed value inside a resource, e.g. ``DesiredCount`` 2 -> 4."""

    path: tuple[Part, ...]
    old: Any
    new: Any
    create_only: bool

    @property
    def name(self) -> str:
        text = ""
        for part in self.path:
            text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
        return text


@dataclass
class ResourceChange:
    """What happens to one resource of one stack."""

    stack: str
    logical_id: str
    type: str
    name: str
    action: Action
    replacement: bool = False
    reason: str = ""
    stateful: bool = False
    old_logical_id: str | None = None
    changes: list[PropertyChange] = field(default_factory=list)
    # Of a resource that goes (removed, or the old one of a replacement), the old
    # template's policies: whether CloudFormation deletes it, keeps it or snapshots it.
    deletion_policy: str | None = None
    update_replace_policy: str | None = None


@dataclass
class Diff:
    """Every difference between two versions of one environment."""

    stacks_added: list[str]
    stacks_removed: list[str]
    stacks_unchanged: list[str]
    resources: list[ResourceChange]
    # The stacks of services that others connect to (for checks about their peers).
    consumed_stacks: frozenset[str] = frozenset()

    @property
    def changed(self) -> bool:
        return bool(self.stacks_added or self.stacks_removed or self.resources)


@cache
def create_only(resource_type: str) -> tuple[tuple[str, ...], ...]:
    """The create-only property paths of a type, ``*`` for any list index."""
    # Imported on first use: cfn-lint takes about a second to load, which the
    # commands of `python -m infra` that never diff (config show, cost) need not pay.
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    try:
        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(SCHEMA_REGION, resource_type)
    except Exception:  # custom resources and types cfn-lint does not know
        return ()
    pointers: list[str] = schema.schema.get("createOnlyProperties", [])
    return tuple(tuple(p.split("/")[2:]) for p in pointers if p.startswith("/properties/"))


def is_create_only(resource_type: str, path: tuple[Part, ...]) -> bool:
    """Whether changing ``path`` (under Properties) replaces the resource."""
    for pointer in create_only(resource_type):
        common = min(len(pointer), len(path))
        if all(
            p == "*" or str(q) == p for p, q in zip(pointer[:common], path[:common], strict=True)
        ):
            return True
    return False


def _intrinsic(value: Any) -> bool:
    if not isinstance(value, dict) or len(value) != 1:
        return False
    key = str(next(iter(value)))
    return key == "Ref" or key.startswith("Fn::")


def leaves(
    old: Any, new: Any, at: tuple[Part, ...] = ()
) -> Iterator[tuple[tuple[Part, ...], Any, Any]]:
    """(path, old, new) of every differing value; intrinsics count as values."""
    if isinstance(old, dict) and isinstance(new, dict) and not (_intrinsic(old) or _intrinsic(new)):
        for key in [*old, *(k for k in new if k not in old)]:
            yield from leaves(old.get(key, MISSING), new.get(key, MISSING), (*at, key))
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for index, (a, b) in enumerate(zip(old, new, strict=True)):
            yield from leaves(a, b, (*at, index))
    elif old != new:
        yield at, old, new


def construct_name(stack: str, resource: Mapping[str, Any], logical_id: str) -> str:
    """``Task/Definition`` from the construct path metadata, else the logical ID."""
    path = resource.get("Metadata", {}).get("aws:cdk:path")
    if not isinstance(path, str) or not path.startswith(stack + "/"):
        return logical_id
    parts = path[len(stack) + 1 :].split("/")
    if len(parts) > 1 and parts[-1] in ("Resource", "Default", parts[-2]):
        parts = parts[:-1]
    return "/".join(parts)


def _compared(resource: Mapping[str, Any]) -> dict[str, Any]:
    """What a deploy acts on: properties and policies, not metadata."""
    keys = ("DeletionPolicy", "UpdateReplacePolicy", "Condition")
    return {
        "Properties": resource.get("Properties", {}),
        **{k: resource[k] for k in keys if k in resource},
    }


def references(
    value: Any, stack: str, templates: Mapping[str, Mapping[str, Any]]
) -> set[tuple[str, str]]:
    """(stack, logical ID) of every resource ``value`` reads: Ref and GetAtt in its
    own stack, and through Fn::GetStackOutput whatever that output is made of."""
    found: set[tuple[str, str]] = set()
    if isinstance(value, dict):
        if isinstance(value.get("Ref"), str):
            found.add((stack, value["Ref"]))
        getatt = value.get("Fn::GetAtt")
        if isinstance(getatt, list) and getatt:
            found.add((stack, str(getatt[0])))
        output = value.get("Fn::GetStackOutput")
        if isinstance(output, dict) and isinstance(output.get("StackName"), str):
            producer = output["StackName"]
            outputs = templates.get(producer, {}).get("Outputs", {})
            source = outputs.get(output.get("OutputName"), {}).get("Value")
            found |= references(source, producer, {})
        for inner in value.values():
            found |= references(inner, stack, templates)
    elif isinstance(value, list):
        for inner in value:
            found |= references(inner, stack, templates)
    return found


def compare(
    old: Mapping[str, Mapping[str, Any]],
    new: Mapping[str, Mapping[str, Any]],
    stateful_stacks: frozenset[str] = frozenset(),
    consumed_stacks: frozenset[str] = frozenset(),
) -> Diff:
    """The differences from ``old`` to ``new`` templates (by stack name)."""
    common = sorted(set(old) & set(new))
    found: dict[tuple[str, str], ResourceChange] = {}
    for stack in common:
        for change in _compare_stack(stack, old[stack], new[stack], stack in stateful_stacks):
            found[(stack, change.logical_id)] = change
    _cascade(found, {s: new[s] for s in common}, stateful_stacks)
    _policies(found, old)
    order = {"remove": 0, "rename": 1, "modify": 2, "add": 3}
    resources = sorted(found.values(), key=lambda r: (r.stack, order[r.action], r.name))
    changed = {r.stack for r in resources}
    return Diff(
        stacks_added=sorted(set(new) - set(old)),
        stacks_removed=sorted(set(old) - set(new)),
        stacks_unchanged=[s for s in common if s not in changed],
        resources=resources,
        consumed_stacks=consumed_stacks,
    )


def _change(
    stack: str, logical_id: str, body: Mapping[str, Any], action: Action, stateful_service: bool
) -> ResourceChange:
    kind = body["Type"]
    stateful = kind in STATEFUL_TYPES or (stateful_service and kind in STATEFUL_SERVICE_TYPES)
    name = construct_name(stack, body, logical_id)
    return ResourceChange(stack, logical_id, kind, name, action, stateful=stateful)


def _compare_stack(
    stack: str, old: Mapping[str, Any], new: Mapping[str, Any], stateful_service: bool
) -> list[ResourceChange]:
    before: Mapping[str, Any] = old.get("Resources", {})
    after: Mapping[str, Any] = new.get("Resources", {})

    def change(logical_id: str, body: Mapping[str, Any], action: Action) -> ResourceChange:
        return _change(stack, logical_id, body, action, stateful_service)

    found: dict[str, ResourceChange] = {}
    for logical_id in before.keys() & after.keys():
        body_old, body_new = before[logical_id], after[logical_id]
        if body_old["Type"] != body_new["Type"]:
            found[logical_id] = change(logical_id, body_new, "modify")
            found[logical_id].replacement, found[logical_id].reason = True, "type changed"
            continue
        diffs = list(leaves(_compared(body_old), _compared(body_new)))
        if not diffs:
            continue
        entry = change(logical_id, body_new, "modify")
        for path, a, b in diffs:
            in_properties = path[:1] == ("Properties",)
            inner = path[1:] if in_properties else path
            flagged = in_properties and is_create_only(body_new["Type"], inner)
            entry.changes.append(PropertyChange(inner, a, b, flagged))
        fixed = dict.fromkeys(str(c.path[0]) for c in entry.changes if c.create_only)
        if fixed:
            entry.replacement, entry.reason = True, "create-only " + ", ".join(fixed)
        found[logical_id] = entry

    removed = {i: before[i] for i in before.keys() - after.keys()}
    added = {i: after[i] for i in after.keys() - before.keys()}
    for old_id, new_id in _renames(stack, removed, added):
        entry = change(new_id, added.pop(new_id), "rename")
        removed.pop(old_id)
        entry.old_logical_id, entry.replacement = old_id, True
        entry.reason = f"logical ID {old_id} -> {new_id}"
        found[new_id] = entry
    for logical_id, body in sorted(added.items()):
        found[logical_id] = change(logical_id, body, "add")
    for logical_id, body in sorted(removed.items()):
        found[logical_id] = change(logical_id, body, "remove")
    return list(found.values())


def _renames(
    stack: str, removed: Mapping[str, Any], added: Mapping[str, Any]
) -> list[tuple[str, str]]:
    """Pairs (old ID, new ID) that are one resource under a new logical ID: the same
    construct path, or else the only removed and the only added resource of a type."""
    pairs = []
    by_path = {construct_name(stack, body, i): i for i, body in added.items()}
    for old_id, body in removed.items():
        new_id = by_path.get(construct_name(stack, body, old_id))
        if new_id is not None and added[new_id]["Type"] == body["Type"]:
            pairs.append((old_id, new_id))
    paired_old, paired_new = {o for o, _ in pairs}, {n for _, n in pairs}
    olds_left = [i for i in removed if i not in paired_old]
    news_left = [i for i in added if i not in paired_new]
    for kind in sorted({removed[i]["Type"] for i in olds_left}):
        olds = [i for i in olds_left if removed[i]["Type"] == kind]
        news = [i for i in news_left if added[i]["Type"] == kind]
        if len(olds) == 1 and len(news) == 1:
            pairs.append((olds[0], news[0]))
    return pairs


def _cascade(
    found: dict[tuple[str, str], ResourceChange],
    templates: Mapping[str, Mapping[str, Any]],
    stateful_stacks: frozenset[str],
) -> None:
    """Mark resources replaced because a create-only property reads a replaced
    resource, in the same stack or through another stack's output."""
    grew = True
    while grew:
        grew = False
        replaced = {key for key, r in found.items() if r.replacement}
        for stack, body in templates.items():
            for logical_id, resource in body.get("Resources", {}).items():
                entry = found.get((stack, logical_id))
                if entry is not None and (entry.replacement or entry.action == "add"):
                    continue
                properties = resource.get("Properties", {})
                for pointer in create_only(resource["Type"]):
                    read = references(properties.get(pointer[0]), stack, templates)
                    cause = next((key for key in sorted(read) if key in replaced), None)
                    if cause is None:
                        continue
                    entry = found.setdefault(
                        (stack, logical_id),
                        _change(stack, logical_id, resource, "modify", stack in stateful_stacks),
                    )
                    where = "" if cause[0] == stack else f" in {cause[0]}"
                    entry.replacement = True
                    entry.reason = f"{pointer[0]} reads replaced {found[cause].name}{where}"
                    grew = True
                    break


def _policies(
    found: dict[tuple[str, str], ResourceChange], old: Mapping[str, Mapping[str, Any]]
) -> None:
    """Give each removed or replaced resource the policies its old template sets: the
    deploy acts on the resource as it was, and a removed one is only in the old."""
    for (stack, logical_id), entry in found.items():
        if entry.action != "remove" and not entry.replacement:
            continue
        body = old[stack].get("Resources", {}).get(entry.old_logical_id or logical_id, {})
        entry.deletion_policy = body.get("DeletionPolicy")
        entry.update_replace_policy = body.get("UpdateReplacePolicy")
