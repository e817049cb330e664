"""What ``python -m infra preview`` decides, on small hand-written templates.

Pure unit tests of :mod:`infra.ops.diff`: no synthesis, no subprocess. Most
tests edit a copy of ``APP``, three stacks shaped as CDK writes them (network,
cluster, backend, linked by ``Fn::GetStackOutput``), and read what
``compare()`` says about the edit; the volume tests also read what preview's
checks warn about.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from infra.ops.checks import run_checks
from infra.ops.diff import (
    MISSING,
    Diff,
    Part,
    PropertyChange,
    ResourceChange,
    compare,
    construct_name,
    is_create_only,
    leaves,
    references,
)

Templates = dict[str, dict[str, Any]]

NET, CLUSTER, BACKEND = "app-network", "app-cluster", "app-backend"

VPC = "Vpc8378EB38"
SUBNET = "VpcPrivateSubnet1Subnet536B997A"
ROUTE_TABLE = "VpcPrivateSubnet1RouteTableB2C5B500"
ASSOCIATION = "VpcPrivateSubnet1RouteTableAssociation70C59FA6"
ECS_CLUSTER = "ClusterEB0386A7"
NAMESPACE = "Namespace9B63B8C8"
SECURITY_GROUP = "SecurityGroupDD263621"
CLOUDMAP = "ServiceCloudmapService046058A4"
SERVICE = "ServiceD69D759B"
TASK = "TaskDefinition21A4D618"
LOGS = "TaskLogsA2B30BBC"

VPC_OUT = "ExportsOutputRefVpc8378EB38272D6E3A"
SUBNET_OUT = "ExportsOutputRefVpcPrivateSubnet1Subnet536B997AFCA6AC9A"
CLUSTER_OUT = "ExportsOutputRefClusterEB0386A7AF8B7F8B"
NAMESPACE_OUT = "ExportsOutputFnGetAttNamespace9B63B8C8Id6C9A5B8F"


def resource(stack: str, path: str, kind: str, **properties: Any) -> dict[str, Any]:
    """A resource as CDK writes it: type, properties and its construct path."""
    return {
        "Type": kind,
        "Properties": properties,
        "Metadata": {"aws:cdk:path": f"{stack}/{path}"},
    }


def ref(logical_id: str) -> dict[str, Any]:
    return {"Ref": logical_id}


def stack_output(stack: str, name: str) -> dict[str, Any]:
    return {"Fn::GetStackOutput": {"StackName": stack, "OutputName": name}}


# Three stacks: a VPC; a cluster and a namespace in it; a service on both.
APP: Templates = {
    NET: {
        "Resources": {
            VPC: resource(NET, "Vpc/Resource", "AWS::EC2::VPC", CidrBlock="10.0.0.0/16", EnableDnsHostnames=True),
            SUBNET: resource(NET, "Vpc/PrivateSubnet1/Subnet", "AWS::EC2::Subnet", VpcId=ref(VPC), CidrBlock="10.0.0.0/24", AvailabilityZone="us-east-1a"),
            ROUTE_TABLE: resource(NET, "Vpc/PrivateSubnet1/RouteTable", "AWS::EC2::RouteTable", VpcId=ref(VPC)),
            ASSOCIATION: resource(NET, "Vpc/PrivateSubnet1/RouteTableAssociation", "AWS::EC2::SubnetRouteTableAssociation", SubnetId=ref(SUBNET), RouteTableId=ref(ROUTE_TABLE)),
        },
        "Outputs": {
            VPC_OUT: {"Value": ref(VPC)},
            SUBNET_OUT: {"Value": ref(SUBNET)},
        },
    },
    CLUSTER: {
        "Resources": {
            ECS_CLUSTER: resource(CLUSTER, "Cluster/Resource", "AWS::ECS::Cluster", ClusterName="app"),
            NAMESPACE: resource(CLUSTER, "Namespace/Resource", "AWS::ServiceDiscovery::PrivateDnsNamespace", Name="app.local", Vpc=stack_output(NET, VPC_OUT)),
        },
        "Outputs": {
            CLUSTER_OUT: {"Value": ref(ECS_CLUSTER)},
            NAMESPACE_OUT: {"Value": {"Fn::GetAtt": [NAMESPACE, "Id"]}},
        },
    },
    BACKEND: {
        "Resources": {
            LOGS: resource(BACKEND, "TaskLogs/Resource", "AWS::Logs::LogGroup", RetentionInDays=7),
            SECURITY_GROUP: resource(BACKEND, "SecurityGroup/Resource", "AWS::EC2::SecurityGroup", GroupDescription="backend", VpcId=stack_output(NET, VPC_OUT)),
            TASK: resource(BACKEND, "TaskDefinition/Resource", "AWS::ECS::TaskDefinition", Cpu="256", Memory="512", ContainerDefinitions=[{"Name": "backend", "Image": "redis:7"}]),
            CLOUDMAP: resource(BACKEND, "Service/CloudmapService/Resource", "AWS::ServiceDiscovery::Service", Name="backend", NamespaceId=stack_output(CLUSTER, NAMESPACE_OUT)),
            SERVICE: resource(
                BACKEND, "Service/Service", "AWS::ECS::Service",
                Cluster=stack_output(CLUSTER, CLUSTER_OUT),
                DesiredCount=1,
                TaskDefinition=ref(TASK),
                NetworkConfiguration={"AwsvpcConfiguration": {
                    "Subnets": [stack_output(NET, SUBNET_OUT)],
                    "SecurityGroups": [{"Fn::GetAtt": [SECURITY_GROUP, "GroupId"]}],
                }},
            ),
        },
    },
}  # fmt: skip


def app() -> Templates:
    """A fresh copy of ``APP`` to edit."""
    return copy.deepcopy(APP)


def props(templates: Templates, stack: str, logical_id: str) -> dict[str, Any]:
    found: dict[str, Any] = templates[stack]["Resources"][logical_id]["Properties"]
    return found


def by_key(diff: Diff) -> dict[tuple[str, str], ResourceChange]:
    return {(r.stack, r.logical_id): r for r in diff.resources}


def summary(diff: Diff) -> list[tuple[str, str, str, bool, str]]:
    """(stack, construct name, action, replacement, reason) of every change, in order."""
    return [(r.stack, r.name, r.action, r.replacement, r.reason) for r in diff.resources]


def one_stack(*resources: tuple[str, dict[str, Any]], stack: str = BACKEND) -> Templates:
    return {stack: {"Resources": dict(resources)}}


# --- in place, create-only, type -----------------------------------------------------


def test_same_templates_change_nothing() -> None:
    assert compare(app(), app()) == Diff(
        stacks_added=[], stacks_removed=[], stacks_unchanged=[BACKEND, CLUSTER, NET], resources=[]
    )


def test_scaling_a_service_modifies_it_in_place() -> None:
    new = app()
    props(new, BACKEND, SERVICE)["DesiredCount"] = 3
    diff = compare(app(), new)
    assert diff.resources == [
        ResourceChange(
            stack=BACKEND, logical_id=SERVICE, type="AWS::ECS::Service", name="Service",
            action="modify", replacement=False, reason="", stateful=False,
            changes=[PropertyChange(("DesiredCount",), 1, 3, create_only=False)],
        )
    ]  # fmt: skip
    assert diff.stacks_unchanged == [CLUSTER, NET]


@pytest.mark.parametrize(
    ("stack", "logical_id", "prop", "value"),
    [
        (NET, VPC, "CidrBlock", "10.1.0.0/16"),
        (CLUSTER, NAMESPACE, "Name", "app.internal"),
        (BACKEND, TASK, "Cpu", "512"),
    ],
)
def test_a_create_only_change_replaces(stack: str, logical_id: str, prop: str, value: str) -> None:
    old, new = app(), app()
    props(new, stack, logical_id)[prop] = value
    change = by_key(compare(old, new))[(stack, logical_id)]
    assert (change.action, change.replacement) == ("modify", True)
    assert change.reason == f"create-only {prop}"
    assert change.changes == [
        PropertyChange((prop,), props(old, stack, logical_id)[prop], value, create_only=True)
    ]


def test_only_create_only_properties_are_flagged_and_named() -> None:
    new = app()
    props(new, NET, VPC).update(EnableDnsHostnames=False, CidrBlock="10.1.0.0/16")
    change = by_key(compare(app(), new))[(NET, VPC)]
    assert [(c.name, c.create_only) for c in change.changes] == [
        ("CidrBlock", True),
        ("EnableDnsHostnames", False),
    ]
    assert change.reason == "create-only CidrBlock"


def replicator(**info: Any) -> tuple[str, dict[str, Any]]:
    """An MSK replicator: its schema has create-only properties under a list (``*``)."""
    item = {
        "SourceKafkaClusterArn": "arn:aws:kafka:us-east-1:111111111111:cluster/a/1",
        "TargetKafkaClusterArn": "arn:aws:kafka:us-east-1:111111111111:cluster/b/2",
        "TargetCompressionType": "NONE",
        "TopicReplication": {"TopicsToReplicate": ["orders"]},
        "ConsumerGroupReplication": {"ConsumerGroupsToReplicate": [".*"]},
        **info,
    }
    body = resource(BACKEND, "Replicator", "AWS::MSK::Replicator", ReplicatorName="r", ReplicationInfoList=[item])  # fmt: skip
    return "Replicator", body


@pytest.mark.parametrize(
    ("edit", "path", "create_only"),
    [
        ({"TargetCompressionType": "GZIP"}, ("ReplicationInfoList", 0, "TargetCompressionType"), True),
        ({"TopicReplication": {"TopicsToReplicate": ["events"]}}, ("ReplicationInfoList", 0, "TopicReplication", "TopicsToReplicate", 0), False),
    ],
)  # fmt: skip
def test_create_only_inside_a_list(
    edit: dict[str, Any], path: tuple[Part, ...], create_only: bool
) -> None:
    change = compare(one_stack(replicator()), one_stack(replicator(**edit))).resources[0]
    assert [(c.path, c.create_only) for c in change.changes] == [(path, create_only)]
    assert change.replacement is create_only
    assert change.reason == ("create-only ReplicationInfoList" if create_only else "")


def test_a_changed_type_replaces() -> None:
    old = one_stack(("Events", resource(BACKEND, "Events/Resource", "AWS::SQS::Queue")))
    new = one_stack(("Events", resource(BACKEND, "Events/Resource", "AWS::SNS::Topic")))
    [change] = compare(old, new).resources
    assert (change.action, change.type, change.replacement, change.reason) == (
        "modify", "AWS::SNS::Topic", True, "type changed"
    )  # fmt: skip


def test_metadata_alone_is_no_change() -> None:
    new = app()
    suppression = {"rules_to_suppress": [{"id": "AwsSolutions-IAM5", "reason": "logs"}]}
    new[BACKEND]["Resources"][LOGS]["Metadata"]["cdk_nag"] = suppression
    assert compare(app(), new).resources == []


@pytest.mark.parametrize(
    ("policy", "old", "new"),
    [("DeletionPolicy", "Retain", "Delete"), ("UpdateReplacePolicy", MISSING, "Retain")],
)
def test_a_policy_change_is_a_change(policy: str, old: Any, new: Any) -> None:
    before, after = app(), app()
    for templates, value in ((before, old), (after, new)):
        if value is not MISSING:
            templates[BACKEND]["Resources"][LOGS][policy] = value
    [change] = compare(before, after).resources
    assert (change.logical_id, change.action, change.replacement) == (LOGS, "modify", False)
    assert change.changes == [PropertyChange((policy,), old, new, create_only=False)]


# --- added, removed, renamed ---------------------------------------------------------


def test_added_and_removed_resources() -> None:
    new = app()
    del new[BACKEND]["Resources"][LOGS]
    new[BACKEND]["Resources"]["Password67973E0B"] = resource(
        BACKEND, "Password/Resource", "AWS::SecretsManager::Secret", Description="redis"
    )
    changes = by_key(compare(app(), new))
    assert {k: (r.action, r.replacement) for k, r in changes.items()} == {
        (BACKEND, LOGS): ("remove", False),
        (BACKEND, "Password67973E0B"): ("add", False),
    }
    assert changes[(BACKEND, LOGS)].name == "TaskLogs"


def logs(logical_id: str, path: str) -> tuple[str, dict[str, Any]]:
    return logical_id, resource(BACKEND, path, "AWS::Logs::LogGroup", RetentionInDays=7)


def test_a_new_logical_id_on_the_same_construct_path_is_a_rename() -> None:
    old = one_stack(logs(LOGS, "TaskLogs/Resource"))
    new = one_stack(logs("TaskLogs5E1B2A90", "TaskLogs/Resource"))
    assert compare(old, new).resources == [
        ResourceChange(
            stack=BACKEND, logical_id="TaskLogs5E1B2A90", type="AWS::Logs::LogGroup",
            name="TaskLogs", action="rename", replacement=True,
            reason=f"logical ID {LOGS} -> TaskLogs5E1B2A90", stateful=True,
            old_logical_id=LOGS,
        )
    ]  # fmt: skip


def test_renames_pair_by_construct_path_before_type() -> None:
    old = one_stack(logs("AccessLogsA1", "Access/Resource"), logs("TaskLogsB1", "Task/Resource"))
    new = one_stack(logs("TaskLogsB2", "Task/Resource"), logs("AccessLogsA2", "Access/Resource"))
    pairs = {(r.old_logical_id, r.logical_id, r.action) for r in compare(old, new).resources}
    assert pairs == {("AccessLogsA1", "AccessLogsA2", "rename"), ("TaskLogsB1", "TaskLogsB2", "rename")}  # fmt: skip


def test_the_only_removed_and_added_resource_of_a_type_is_a_rename() -> None:
    old = one_stack(logs("OldLogs0A1B2C3D", "Old/Resource"), logs(LOGS, "TaskLogs/Resource"))
    new = one_stack(logs("NewLogs9F8E7D6C", "New/Resource"), logs(LOGS, "TaskLogs/Resource"))
    [change] = compare(old, new).resources
    assert (change.action, change.old_logical_id, change.logical_id, change.replacement) == (
        "rename", "OldLogs0A1B2C3D", "NewLogs9F8E7D6C", True
    )  # fmt: skip
    assert change.reason == "logical ID OldLogs0A1B2C3D -> NewLogs9F8E7D6C"


def test_no_rename_when_two_of_a_type_were_removed() -> None:
    old = one_stack(logs("OldLogsA", "OldA/Resource"), logs("OldLogsB", "OldB/Resource"))
    new = one_stack(logs("NewLogs", "New/Resource"))
    actions = {(r.logical_id, r.action) for r in compare(old, new).resources}
    assert actions == {("OldLogsA", "remove"), ("OldLogsB", "remove"), ("NewLogs", "add")}


def test_no_rename_across_types_on_one_construct_path() -> None:
    old = one_stack(("StoreQueue1", resource(BACKEND, "Store/Resource", "AWS::SQS::Queue")))
    new = one_stack(("StoreBucket2", resource(BACKEND, "Store/Resource", "AWS::S3::Bucket")))
    actions = {(r.logical_id, r.action) for r in compare(old, new).resources}
    assert actions == {("StoreQueue1", "remove"), ("StoreBucket2", "add")}


# --- stateful ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "in_stateful_stack", "stateful"),
    [
        ("AWS::EC2::VPC", False, True),
        ("AWS::ServiceDiscovery::PrivateDnsNamespace", False, True),
        ("AWS::Logs::LogGroup", False, True),
        ("AWS::SecretsManager::Secret", False, True),
        ("AWS::S3::Bucket", False, True),
        ("AWS::EFS::FileSystem", False, True),
        ("AWS::EFS::AccessPoint", False, True),
        ("AWS::EFS::MountTarget", False, False),
        ("AWS::ECS::Service", False, False),
        ("AWS::ECS::Service", True, True),
        ("AWS::ECS::TaskDefinition", False, False),
        ("AWS::ECS::TaskDefinition", True, True),
        ("AWS::EC2::SecurityGroup", True, False),
    ],
)
def test_stateful_flag(kind: str, in_stateful_stack: bool, stateful: bool) -> None:
    def tagged(team: str) -> Templates:
        tags = [{"Key": "team", "Value": team}]
        return one_stack(("Thing", resource(BACKEND, "Thing/Resource", kind, Tags=tags)))

    stateful_stacks = frozenset({BACKEND} if in_stateful_stack else set())
    [change] = compare(tagged("a"), tagged("b"), stateful_stacks).resources
    assert change.stateful is stateful


def test_removed_and_cascaded_resources_are_flagged_stateful_too() -> None:
    new = app()
    props(new, CLUSTER, ECS_CLUSTER)["ClusterName"] = "app2"
    del new[BACKEND]["Resources"][LOGS]
    changes = by_key(compare(app(), new, frozenset({BACKEND})))
    assert changes[(BACKEND, LOGS)].stateful
    assert changes[(BACKEND, SERVICE)].stateful
    assert not changes[(CLUSTER, ECS_CLUSTER)].stateful


# --- durable volumes (EFS) -----------------------------------------------------------

STORAGE = "app-storage"
FILE_SYSTEM = "RedisDataFileSystem1E2F01C8"
MOUNT_TARGET = "RedisDataFileSystemEfsMountTargetPrivateSubnet11020B80F"
ACCESS_POINT = "RedisDataFileSystemAccessPointD5D3B458"


def storage() -> Templates:
    """The network stack and a storage stack with one volume, as ``StorageStack`` writes it."""
    volume = {
        FILE_SYSTEM: resource(STORAGE, "RedisData/FileSystem/Resource", "AWS::EFS::FileSystem", Encrypted=True, PerformanceMode="generalPurpose", ThroughputMode="elastic"),
        MOUNT_TARGET: resource(STORAGE, "RedisData/FileSystem/EfsMountTarget-PrivateSubnet1", "AWS::EFS::MountTarget", FileSystemId=ref(FILE_SYSTEM), SubnetId=stack_output(NET, SUBNET_OUT), SecurityGroups=["sg-1"]),
        ACCESS_POINT: resource(STORAGE, "RedisData/FileSystem/AccessPoint/Resource", "AWS::EFS::AccessPoint", FileSystemId=ref(FILE_SYSTEM), RootDirectory={"Path": "/redis-data"}),
    }  # fmt: skip
    return {NET: copy.deepcopy(APP[NET]), STORAGE: {"Resources": volume}}


def warned(old: Templates, new: Templates) -> dict[str, str]:
    """Construct name -> message of every finding preview's checks raise."""
    return {f.change.name: f.message for f in run_checks(compare(old, new))}


def test_a_replaced_file_system_warns_and_so_does_its_access_point() -> None:
    new = storage()
    props(new, STORAGE, FILE_SYSTEM)["PerformanceMode"] = "maxIO"
    changes = by_key(compare(storage(), new))
    # The mount target goes with the file system, but it only ever held an address.
    assert {k[1]: (r.replacement, r.stateful) for k, r in changes.items()} == {
        FILE_SYSTEM: (True, True), ACCESS_POINT: (True, True), MOUNT_TARGET: (True, False)
    }  # fmt: skip
    assert warned(storage(), new) == {
        "RedisData/FileSystem": "is REPLACED (create-only PerformanceMode): its data or dependents go with it",
        "RedisData/FileSystem/AccessPoint": "is REPLACED (FileSystemId reads replaced RedisData/FileSystem): its data or dependents go with it",
    }  # fmt: skip


def test_a_removed_access_point_warns() -> None:
    new = storage()
    del new[STORAGE]["Resources"][ACCESS_POINT]
    assert warned(storage(), new) == {
        "RedisData/FileSystem/AccessPoint": "is REMOVED: its data or dependents go with it"
    }


def test_a_replaced_mount_target_does_not_warn() -> None:
    new = storage()
    props(new, STORAGE, MOUNT_TARGET)["SubnetId"] = "subnet-0123456789abcdef0"
    [change] = compare(storage(), new).resources
    assert (change.logical_id, change.replacement, change.reason) == (
        MOUNT_TARGET, True, "create-only SubnetId"
    )  # fmt: skip
    assert warned(storage(), new) == {}


# --- what goes: the old template's policies ------------------------------------------

BUCKET = "PublicAccessLogsBucket83982689"
KEPT = ("is REMOVED from the stack but kept (DeletionPolicy Retain): its data stays in the "
        "account, no longer managed; delete it by hand once done")  # fmt: skip
LOST = "is REMOVED: its data or dependents go with it"


def bucket(logical_id: str = BUCKET, name: str = "logs", **policies: str) -> Templates:
    """One access-log bucket, with the policies CDK writes for a RemovalPolicy."""
    body = resource(
        BACKEND, "Public/AccessLogs/Bucket/Resource", "AWS::S3::Bucket", BucketName=name
    )
    return one_stack((logical_id, {**body, **policies}))


@pytest.mark.parametrize(
    ("policies", "message"),
    [
        ({"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}, KEPT),
        ({"DeletionPolicy": "RetainExceptOnCreate"}, KEPT.replace("Retain)", "RetainExceptOnCreate)")),
        ({"DeletionPolicy": "Delete", "UpdateReplacePolicy": "Delete"}, LOST),
        ({}, LOST),
        # Only DeletionPolicy decides what a removal does.
        ({"UpdateReplacePolicy": "Retain"}, LOST),
    ],
)  # fmt: skip
def test_a_removed_resource_is_kept_by_its_old_deletion_policy(
    policies: dict[str, str], message: str
) -> None:
    [change] = compare(bucket(**policies), one_stack()).resources
    assert (change.action, change.deletion_policy, change.update_replace_policy) == (
        "remove", policies.get("DeletionPolicy"), policies.get("UpdateReplacePolicy"))  # fmt: skip
    assert warned(bucket(**policies), one_stack()) == {"Public/AccessLogs/Bucket": message}


@pytest.mark.parametrize(
    ("policies", "message"),
    [
        ({"UpdateReplacePolicy": "Retain"},
         "is REPLACED (create-only BucketName): the old one is kept (UpdateReplacePolicy Retain) "
         "with its data, in the account but no longer managed, and the new one starts without "
         "it; delete the old one by hand once done"),
        # Only UpdateReplacePolicy decides what a replacement in place does.
        ({"DeletionPolicy": "Retain"},
         "is REPLACED (create-only BucketName): its data or dependents go with it"),
    ],
)  # fmt: skip
def test_a_replaced_resource_is_kept_by_its_old_update_replace_policy(
    policies: dict[str, str], message: str
) -> None:
    old, new = bucket(**policies), bucket(name="access-logs", **policies)
    [change] = compare(old, new).resources
    assert (change.replacement, change.update_replace_policy) == (
        True, policies.get("UpdateReplacePolicy"))  # fmt: skip
    assert warned(old, new) == {"Public/AccessLogs/Bucket": message}


def test_a_renamed_resource_is_kept_by_its_old_deletion_policy() -> None:
    """A new logical ID deletes the old one as a removal, by its DeletionPolicy."""
    old = bucket(DeletionPolicy="Retain")
    new = bucket("PublicAccessLogsBucket5C1D8E2F")
    [change] = compare(old, new).resources
    assert (change.action, change.deletion_policy) == ("rename", "Retain")
    assert warned(old, new) == {
        "Public/AccessLogs/Bucket": "is REPLACED (logical ID PublicAccessLogsBucket83982689 -> "
        "PublicAccessLogsBucket5C1D8E2F): the old one is kept (DeletionPolicy Retain) with its "
        "data, in the account but no longer managed, and the new one starts without it; "
        "delete the old one by hand once done"
    }  # fmt: skip


def test_a_cascaded_replacement_carries_its_old_policy() -> None:
    old, new = app(), app()
    old[NET]["Resources"][SUBNET]["UpdateReplacePolicy"] = "Retain"
    props(new, NET, VPC)["CidrBlock"] = "10.1.0.0/16"
    changes = by_key(compare(old, new))
    assert changes[(NET, SUBNET)].update_replace_policy == "Retain"
    assert changes[(NET, VPC)].update_replace_policy is None


def test_what_stays_carries_no_policy() -> None:
    """Only what goes: an update in place deletes nothing, whatever its policies."""
    old, new = app(), app()
    old[BACKEND]["Resources"][LOGS].update(DeletionPolicy="Retain", UpdateReplacePolicy="Retain")
    new[BACKEND]["Resources"][LOGS].update(DeletionPolicy="Retain", UpdateReplacePolicy="Retain")
    props(new, BACKEND, LOGS)["RetentionInDays"] = 30
    [change] = compare(old, new).resources
    assert (change.deletion_policy, change.update_replace_policy) == (None, None)


# --- replacements that cascade -------------------------------------------------------


def test_a_replaced_vpc_replaces_the_subnet_that_reads_it() -> None:
    new = app()
    props(new, NET, VPC)["CidrBlock"] = "10.1.0.0/16"
    subnet = by_key(compare(app(), new))[(NET, SUBNET)]
    assert (subnet.action, subnet.replacement, subnet.reason) == (
        "modify", True, "VpcId reads replaced Vpc"
    )  # fmt: skip
    assert subnet.changes == []


def test_a_cascade_goes_more_than_one_level() -> None:
    new = app()
    props(new, NET, VPC)["CidrBlock"] = "10.1.0.0/16"
    association = by_key(compare(app(), new))[(NET, ASSOCIATION)]
    assert association.replacement
    assert association.reason == "SubnetId reads replaced Vpc/PrivateSubnet1/Subnet"


@pytest.mark.parametrize(
    ("replaced", "edit", "consumer", "reason"),
    [
        # The output's value is a Ref of the replaced resource.
        (ECS_CLUSTER, {"ClusterName": "app2"}, SERVICE, f"Cluster reads replaced Cluster in {CLUSTER}"),
        # The output's value is a GetAtt of the replaced resource.
        (NAMESPACE, {"Name": "app.internal"}, CLOUDMAP, f"NamespaceId reads replaced Namespace in {CLUSTER}"),
    ],
)  # fmt: skip
def test_a_cascade_crosses_stacks_through_outputs(
    replaced: str, edit: dict[str, Any], consumer: str, reason: str
) -> None:
    new = app()
    props(new, CLUSTER, replaced).update(edit)
    diff = compare(app(), new)
    source, target = by_key(diff)[(CLUSTER, replaced)], by_key(diff)[(BACKEND, consumer)]
    assert (source.replacement, source.reason) == (True, f"create-only {next(iter(edit))}")
    assert (target.action, target.replacement, target.reason) == ("modify", True, reason)
    assert len(diff.resources) == 2
    assert diff.stacks_unchanged == [NET]


def test_replacing_the_vpc_replaces_everything_built_on_it() -> None:
    new = app()
    props(new, NET, VPC)["CidrBlock"] = "10.1.0.0/16"
    assert summary(compare(app(), new)) == [
        (BACKEND, "SecurityGroup", "modify", True, f"VpcId reads replaced Vpc in {NET}"),
        (BACKEND, "Service/CloudmapService", "modify", True, f"NamespaceId reads replaced Namespace in {CLUSTER}"),
        (CLUSTER, "Namespace", "modify", True, f"Vpc reads replaced Vpc in {NET}"),
        (NET, "Vpc", "modify", True, "create-only CidrBlock"),
        (NET, "Vpc/PrivateSubnet1/RouteTable", "modify", True, "VpcId reads replaced Vpc"),
        (NET, "Vpc/PrivateSubnet1/RouteTableAssociation", "modify", True, "SubnetId reads replaced Vpc/PrivateSubnet1/Subnet"),
        (NET, "Vpc/PrivateSubnet1/Subnet", "modify", True, "VpcId reads replaced Vpc"),
    ]  # fmt: skip


def test_no_cascade_through_a_property_updated_in_place() -> None:
    new = app()
    props(new, NET, SUBNET)["CidrBlock"] = "10.0.8.0/24"
    diff = compare(app(), new)
    # The service reads the subnet, but its NetworkConfiguration is updated in place.
    assert summary(diff) == [
        (NET, "Vpc/PrivateSubnet1/RouteTableAssociation", "modify", True, "SubnetId reads replaced Vpc/PrivateSubnet1/Subnet"),
        (NET, "Vpc/PrivateSubnet1/Subnet", "modify", True, "create-only CidrBlock"),
    ]  # fmt: skip
    assert diff.stacks_unchanged == [BACKEND, CLUSTER]


def test_no_cascade_from_an_in_place_change() -> None:
    new = app()
    props(new, NET, VPC)["EnableDnsHostnames"] = False
    assert summary(compare(app(), new)) == [(NET, "Vpc", "modify", False, "")]


def test_an_added_resource_is_not_replaced() -> None:
    new = app()
    props(new, NET, VPC)["CidrBlock"] = "10.1.0.0/16"
    subnet2 = "VpcPrivateSubnet2SubnetCFCDAA7A"
    new[NET]["Resources"][subnet2] = resource(
        NET, "Vpc/PrivateSubnet2/Subnet", "AWS::EC2::Subnet", VpcId=ref(VPC), CidrBlock="10.0.1.0/24"
    )  # fmt: skip
    added = by_key(compare(app(), new))[(NET, subnet2)]
    assert (added.action, added.replacement, added.reason) == ("add", False, "")


# --- stacks and order ----------------------------------------------------------------


def test_stacks_added_removed_and_unchanged() -> None:
    old, new = app(), app()
    del new[NET]
    new["app-frontend"] = {"Resources": {}}
    props(new, BACKEND, SERVICE)["DesiredCount"] = 2
    diff = compare(old, new)
    assert (diff.stacks_added, diff.stacks_removed, diff.stacks_unchanged) == (
        ["app-frontend"], [NET], [CLUSTER]
    )  # fmt: skip
    # Neither an added nor a removed stack lists its resources.
    assert {r.stack for r in diff.resources} == {BACKEND}


def test_resources_sort_by_stack_then_action_then_name() -> None:
    def queue(path: str, timeout: int) -> dict[str, Any]:
        return resource("a", path, "AWS::SQS::Queue", VisibilityTimeout=timeout)

    old = {
        "b": {"Resources": {"Only": resource("b", "Only/Resource", "AWS::SNS::Topic", DisplayName="x")}},
        "a": {"Resources": {
            "Q1": queue("Zed/Resource", 30), "Q2": queue("Ant/Resource", 30),
            "TopicOld": resource("a", "Topic/Resource", "AWS::SNS::Topic"),
            "BucketGone": resource("a", "Gone/Resource", "AWS::S3::Bucket"),
        }},
    }  # fmt: skip
    new = {
        "b": {"Resources": {"Only": resource("b", "Only/Resource", "AWS::SNS::Topic", DisplayName="y")}},
        "a": {"Resources": {
            "ParamNew": resource("a", "Param/Resource", "AWS::SSM::Parameter", Type="String", Value="v"),
            "Q1": queue("Zed/Resource", 60), "Q2": queue("Ant/Resource", 60),
            "TopicNew": resource("a", "Topic/Resource", "AWS::SNS::Topic"),
        }},
    }  # fmt: skip
    assert [(r.stack, r.action, r.name) for r in compare(old, new).resources] == [
        ("a", "remove", "Gone"),
        ("a", "rename", "Topic"),
        ("a", "modify", "Ant"),
        ("a", "modify", "Zed"),
        ("a", "add", "Param"),
        ("b", "modify", "Only"),
    ]


# --- helpers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ({"a": 1}, {"a": 1}, []),
        ({"a": {"b": 1, "c": 2}}, {"a": {"b": 1, "c": 3}}, [(("a", "c"), 2, 3)]),
        ({"VpcId": ref("A")}, {"VpcId": ref("B")}, [(("VpcId",), ref("A"), ref("B"))]),
        (
            {"Name": {"Fn::Join": ["", ["a-", ref("X")]]}},
            {"Name": {"Fn::Join": ["", ["b-", ref("X")]]}},
            [(("Name",), {"Fn::Join": ["", ["a-", ref("X")]]}, {"Fn::Join": ["", ["b-", ref("X")]]})],
        ),
        ({"P": {"x": 1}}, {"P": ref("Y")}, [(("P",), {"x": 1}, ref("Y"))]),
        ({"L": [1, 2, 3]}, {"L": [1, 5, 3]}, [(("L", 1), 2, 5)]),
        ({"L": [{"k": 1}]}, {"L": [{"k": 2}]}, [(("L", 0, "k"), 1, 2)]),
        ({"L": [1]}, {"L": [1, 2]}, [(("L",), [1], [1, 2])]),
        ({"a": 1, "b": 2}, {"c": 3, "b": 2}, [(("a",), 1, MISSING), (("c",), MISSING, 3)]),
        ({"a": None}, {}, [(("a",), None, MISSING)]),
    ],
)  # fmt: skip
def test_leaves(old: Any, new: Any, expected: list[tuple[tuple[Part, ...], Any, Any]]) -> None:
    assert list(leaves(old, new)) == expected


@pytest.mark.parametrize(
    ("path", "name"),
    [
        (("DesiredCount",), "DesiredCount"),
        (("ContainerDefinitions", 0, "Image"), "ContainerDefinitions[0].Image"),
        (("ReplicationInfoList", 0, "TopicReplication", "TopicsToReplicate", 1), "ReplicationInfoList[0].TopicReplication.TopicsToReplicate[1]"),
    ],
)  # fmt: skip
def test_property_change_name(path: tuple[Part, ...], name: str) -> None:
    assert PropertyChange(path, 1, 2, create_only=False).name == name


@pytest.mark.parametrize(
    ("stack", "path", "name"),
    [
        (NET, f"{NET}/Vpc/Resource", "Vpc"),
        (NET, f"{NET}/Vpc/PrivateSubnet1/Subnet", "Vpc/PrivateSubnet1/Subnet"),
        (BACKEND, f"{BACKEND}/TaskDefinition/Resource", "TaskDefinition"),
        (BACKEND, f"{BACKEND}/Task/Definition/Resource", "Task/Definition"),
        (BACKEND, f"{BACKEND}/Service/Service", "Service"),
        (BACKEND, f"{BACKEND}/CDKMetadata/Default", "CDKMetadata"),
        (BACKEND, f"{BACKEND}/Queue", "Queue"),
        # Another stack's path, or one of a stack whose name merely starts the same.
        (BACKEND, f"{NET}/Vpc/Resource", "TheLogicalId"),
        ("app", f"{NET}/Vpc/Resource", "TheLogicalId"),
        (BACKEND, BACKEND, "TheLogicalId"),
    ],
)
def test_construct_name(stack: str, path: str, name: str) -> None:
    assert construct_name(stack, {"Metadata": {"aws:cdk:path": path}}, "TheLogicalId") == name


def test_construct_name_without_metadata_is_the_logical_id() -> None:
    assert construct_name(BACKEND, {"Type": "AWS::SQS::Queue"}, "Queue4A7E3555") == "Queue4A7E3555"


@pytest.mark.parametrize(
    ("kind", "path", "expected"),
    [
        ("AWS::EC2::VPC", ("CidrBlock",), True),
        ("AWS::EC2::VPC", ("EnableDnsHostnames",), False),
        ("AWS::ECS::Service", ("DesiredCount",), False),
        ("AWS::ECS::TaskDefinition", ("ContainerDefinitions", 0, "Image"), True),
        ("AWS::MSK::Replicator", ("ReplicationInfoList", 0, "TargetCompressionType"), True),
        ("AWS::MSK::Replicator", ("ReplicationInfoList", 3, "TargetKafkaClusterArn"), True),
        ("AWS::MSK::Replicator", ("ReplicationInfoList", 0, "TopicReplication", "StartingPosition", "Type"), True),
        ("AWS::MSK::Replicator", ("ReplicationInfoList", 0, "TopicReplication", "TopicsToReplicate", 0), False),
        # A whole list compared as one value may hold a create-only property.
        ("AWS::MSK::Replicator", ("ReplicationInfoList",), True),
        ("AWS::Not::AType", ("Anything",), False),
    ],
)  # fmt: skip
def test_is_create_only(kind: str, path: tuple[Part, ...], expected: bool) -> None:
    assert is_create_only(kind, path) is expected


@pytest.mark.parametrize(
    ("value", "found"),
    [
        ("plain", set()),
        (3, set()),
        (ref(TASK), {(BACKEND, TASK)}),
        ({"Fn::GetAtt": [SECURITY_GROUP, "GroupId"]}, {(BACKEND, SECURITY_GROUP)}),
        ({"Fn::Join": ["", [ref(TASK), "-", {"Fn::GetAtt": [LOGS, "Arn"]}]]}, {(BACKEND, TASK), (BACKEND, LOGS)}),
        ([ref("A"), {"nested": [ref("B")]}], {(BACKEND, "A"), (BACKEND, "B")}),
        # Through another stack's output, to what that output is made of, in that stack.
        (stack_output(NET, VPC_OUT), {(NET, VPC)}),
        (stack_output(CLUSTER, NAMESPACE_OUT), {(CLUSTER, NAMESPACE)}),
        (stack_output(NET, "NoSuchOutput"), set()),
        (stack_output("app-nowhere", VPC_OUT), set()),
    ],
)  # fmt: skip
def test_references(value: Any, found: set[tuple[str, str]]) -> None:
    assert references(value, BACKEND, app()) == found
