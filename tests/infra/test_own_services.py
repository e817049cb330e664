"""People's own services: durable volumes, existing secrets, workers, the image's
user, build options and Service Connect, on the synthesized templates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template
from aws_cdk.cx_api import SynthesisMessageLevel

from infra.builder import build, volume_owners
from infra.config import BuildConfig, LoggingConfig, ServiceConfig, load_config
from infra.ops import cost
from infra.services.task import ServiceTask
from infra.storage.volume import Owner
from tests.infra.conftest import SECRETS, Synth, Variants, config_dir_with
from tests.infra.templates import (
    DELETION_POLICY,
    DISCOVERY,
    GROUP,
    INGRESS,
    POLICY,
    SERVICE,
    SUBNET,
    container,
    exported,
    role_statements,
    task_group,
)

FILE_SYSTEM = "AWS::EFS::FileSystem"
ACCESS_POINT = "AWS::EFS::AccessPoint"
MOUNT_TARGET = "AWS::EFS::MountTarget"


def statements(template: Template) -> list[dict[str, Any]]:
    """Every statement of every IAM policy in the template."""
    return [s for p in template.find_resources(POLICY).values()
            for s in p["Properties"]["PolicyDocument"]["Statement"]]  # fmt: skip


def actions(statement: dict[str, Any]) -> set[str]:
    found = statement["Action"]
    return {found} if isinstance(found, str) else set(found)


def resources(statement: dict[str, Any]) -> list[Any]:
    found = statement["Resource"]
    return found if isinstance(found, list) else [found]


# --- durable volumes ---------------------------------------------------------------


@pytest.fixture(params=["dev", "pinned"])
def volumed(request: pytest.FixtureRequest, synths: dict[str, Synth], variants: Variants) -> Synth:
    """The envs with Redis on a volume: dev, and prod with Redis in a container again
    (the pinned variant; the shipped prod's Redis is managed Valkey, with no volume)."""
    return synths["dev"] if request.param == "dev" else variants[request.param]


def test_a_volume_is_an_encrypted_backed_up_file_system_in_every_zone(volumed: Synth) -> None:
    storage = volumed.template("storage")
    policy = DELETION_POLICY[volumed.config.storage.removal_policy.value]
    storage.resource_count_is(FILE_SYSTEM, 1)
    storage.has_resource(FILE_SYSTEM, {
        "Properties": Match.object_like({"Encrypted": True, "BackupPolicy": {"Status": "ENABLED"},
                                         "ThroughputMode": "elastic"}),
        "DeletionPolicy": policy, "UpdateReplacePolicy": policy,
    })  # fmt: skip
    # One mount target per zone, each in a private subnet of the network stack
    # (isolated, without NAT: file systems need no way out).
    targets = storage.find_resources(MOUNT_TARGET)
    assert len(targets) == volumed.config.network.max_azs
    network = volumed.template("network")
    for target in targets.values():
        subnet = exported(volumed, target["Properties"]["SubnetId"], "network")["Ref"]
        tags = network.find_resources(SUBNET)[subnet]["Properties"]["Tags"]
        assert {"Key": "aws-cdk:subnet-name", "Value": "Private"} in tags
    # Its group admits nothing by itself: no CIDR, no rule in this stack.
    (group,) = storage.find_resources(GROUP).values()
    assert "SecurityGroupIngress" not in group["Properties"]
    storage.resource_count_is(INGRESS, 0)


def test_the_file_system_allows_only_tls_through_an_access_point(volumed: Synth) -> None:
    (fs,) = volumed.template("storage").find_resources(FILE_SYSTEM).values()
    document = fs["Properties"]["FileSystemPolicy"]["Statement"]
    # Nothing is allowed by the resource policy: only IAM grants (the task roles) let in.
    assert {s["Effect"] for s in document} == {"Deny"}
    by_condition = {json.dumps(s["Condition"]): s for s in document}
    plain = by_condition[json.dumps({"Bool": {"aws:SecureTransport": "false"}})]
    assert plain["Action"] == "*" and plain["Principal"] == {"AWS": "*"}
    around = by_condition[json.dumps({"Null": {"elasticfilesystem:AccessPointArn": "true"}})]
    assert around["Principal"] == {"AWS": "*"} and set(around["Action"]) == {
        "elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite",
        "elasticfilesystem:ClientRootAccess"}  # fmt: skip


def test_the_access_point_roots_the_volume_for_the_services_user(volumed: Synth) -> None:
    uid, gid = str(volumed.config.services["backend"].user).split(":")
    volumed.template("storage").has_resource_properties(ACCESS_POINT, {
        "PosixUser": {"Uid": uid, "Gid": gid},
        "RootDirectory": {"Path": "/redis-data", "CreationInfo": {
            "OwnerUid": uid, "OwnerGid": gid, "Permissions": "750"}},
    })  # fmt: skip


def test_only_the_mounting_task_role_may_mount_through_its_access_point(volumed: Synth) -> None:
    storage = volumed.template("storage")
    (fs_id,) = storage.find_resources(FILE_SYSTEM)
    (ap_id,) = storage.find_resources(ACCESS_POINT)
    for name in volumed.config.services:
        efs = [s for s in statements(volumed.template(name))
               if any(a.startswith("elasticfilesystem:") for a in actions(s))]  # fmt: skip
        if name != "backend":
            assert efs == [], name
            continue
        (grant,) = efs
        assert actions(grant) == {"elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"}
        assert exported(volumed, grant["Resource"], "storage") == {"Fn::GetAtt": [fs_id, "Arn"]}
        arn = grant["Condition"]["StringEquals"]["elasticfilesystem:AccessPointArn"]
        reference = arn["Fn::Join"][1][-1]
        assert exported(volumed, reference, "storage") == {"Ref": ap_id}
    backend = volumed.template("backend")
    # The service waits for its NFS rules: a task started before them cannot mount.
    (service,) = backend.find_resources(SERVICE).values()
    nfs = {"Properties": {"FromPort": 2049}}
    rules = {**backend.find_resources(INGRESS, nfs),
             **backend.find_resources("AWS::EC2::SecurityGroupEgress", nfs)}  # fmt: skip
    assert len(rules) == 2 and set(rules) <= set(service["DependsOn"])
    # The one NFS rule into the volume's group is from the backend's tasks.
    (rule,) = backend.find_resources(INGRESS, {"Properties": {"FromPort": 2049}}).values()
    assert rule["Properties"]["SourceSecurityGroupId"] == task_group(backend)
    (group_id,) = storage.find_resources(GROUP)
    assert exported(volumed, rule["Properties"]["GroupId"], "storage") == {
        "Fn::GetAtt": [group_id, "GroupId"]
    }


def test_storage_deploys_before_what_mounts_it_and_is_protected_in_prod(volumed: Synth) -> None:
    name = volumed.config.stack_name

    def deps(part: str) -> set[str]:
        artifacts = volumed.assembly.get_stack_by_name(name(part)).dependencies
        return {d.id for d in artifacts if not d.id.endswith(".assets")}

    assert deps("storage") == {name("network")}
    assert name("storage") in deps("backend")
    assert name("storage") not in deps("frontend")
    protected = volumed.assembly.get_stack_by_name(name("storage")).termination_protection
    assert bool(protected) == volumed.config.termination_protection


def test_a_second_volume_for_a_database_running_as_its_image_user(variants: Variants) -> None:
    after = variants["worker"]
    storage = after.template("storage")
    storage.resource_count_is(FILE_SYSTEM, 2)
    storage.has_resource_properties(ACCESS_POINT, {
        "PosixUser": {"Uid": "70", "Gid": "70"},
        "RootDirectory": {"Path": "/pgdata", "CreationInfo": Match.object_like({"OwnerUid": "70"})},
    })  # fmt: skip
    # The size from config reaches `cost` through the file system's metadata.
    sizes = sorted(r.get("Metadata", {}).get("CostEstimate", {}).get("StorageGB", 0)
                   for r in storage.find_resources(FILE_SYSTEM).values())  # fmt: skip
    assert sizes == [1, 5]


# --- images you don't control ------------------------------------------------------


def test_user_image_and_a_writable_root_are_opt_outs_reported_once(variants: Variants) -> None:
    after = variants["worker"]
    db = container(after.template("db"), "db", ReadonlyRootFilesystem=False)
    assert "User" not in db
    for name in ("backend", "frontend", "worker"):
        box = container(after.template(name), name, ReadonlyRootFilesystem=True)
        assert box["User"] == after.config.services[name].user
    infos = [
        str(m.entry.data)
        for stack in after.assembly.stacks
        if not stack.stack_name.endswith("-network")  # dev's: tasks in public subnets
        for m in stack.messages
        if m.level == SynthesisMessageLevel.INFO and "plain HTTP" not in str(m.entry.data)
    ]
    assert sorted(infos) == [
        "db has a writable root filesystem (read_only_root: false)",
        "db runs as its image's own user (user: image), which may be root",
    ]


def test_build_takes_a_dockerfile_target_and_arguments(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Build")
    service = ServiceConfig(
        build=BuildConfig(context="frontend", dockerfile="Dockerfile", target="runtime",
                          args={"PYTHON_VERSION": "3.11"}),
        port=5000, user="10001",
    )  # fmt: skip
    ServiceTask(stack, "Task", name="web", service=service, logging=LoggingConfig(),
                environment={}, secrets={})  # fmt: skip
    app.synth()
    (image,) = json.loads((tmp_path / "Build.assets.json").read_text())["dockerImages"].values()
    assert image["source"]["dockerFile"] == "Dockerfile"
    assert image["source"]["dockerBuildTarget"] == "runtime"
    assert image["source"]["dockerBuildArgs"] == {"PYTHON_VERSION": "3.11"}
    assert image["source"]["platform"] == "linux/amd64"


# --- workers -----------------------------------------------------------------------


def test_a_worker_has_no_port_no_name_and_nothing_reaches_it(variants: Variants) -> None:
    after = variants["worker"]
    worker = after.template("worker")
    assert "PortMappings" not in container(worker, "worker")
    worker.has_resource_properties(SERVICE, {"ServiceRegistries": Match.absent()})
    worker.resource_count_is(DISCOVERY, 0)
    group = task_group(worker)
    # No rule anywhere admits the worker's group as a destination.
    for name in after.config.services:
        template = after.template(name)
        for rule in template.find_resources(INGRESS).values():
            target = rule["Properties"]["GroupId"]
            if name == "worker":
                assert target != group
            elif "Fn::GetStackOutput" in target:
                assert target["Fn::GetStackOutput"]["StackName"] != after.config.stack_name(
                    "worker"
                )
    (own,) = worker.find_resources(GROUP).values()
    assert "SecurityGroupIngress" not in own["Properties"]


# --- existing secrets --------------------------------------------------------------


def test_existing_secrets_become_ecs_secrets_read_by_the_execution_role(
    variants: Variants,
) -> None:
    after = variants["worker"]
    worker = after.template("worker")
    secrets = {s["Name"]: s["ValueFrom"] for s in container(worker, "worker")["Secrets"]}
    smtp, signing = SECRETS["SMTP_PASSWORD"], SECRETS["SIGNING_KEY"]
    assert secrets["SIGNING_KEY"] == signing["secrets_manager"]
    # A JSON field: ECS's <complete ARN>:<field>:<stage>:<version>.
    assert secrets["SMTP_PASSWORD"] == f"{smtp['secrets_manager']}:password::"
    assert secrets["LEGACY_TOKEN"] == SECRETS["LEGACY_TOKEN"]["ssm"]
    assert json.dumps(secrets["API_TOKEN"]).endswith(':parameter/timestamper/api-token"]]}')
    assert json.dumps(secrets["WEBHOOK_KEY"]).endswith(':parameter/webhook-key"]]}')
    # The execution role reads exactly these (and the peers' passwords), nothing more.
    granted: dict[str, set[str]] = {}
    execution = role_statements(worker, "ExecutionRoleArn")
    for statement in execution:
        for action in actions(statement):
            granted.setdefault(action.split(":")[0], set()).update(
                json.dumps(r) for r in resources(statement)
            )
    ssm = granted["ssm"]
    assert len(ssm) == 3 and json.dumps(SECRETS["LEGACY_TOKEN"]["ssm"]) in ssm
    managed = granted["secretsmanager"]
    assert {json.dumps(smtp["secrets_manager"]), json.dumps(signing["secrets_manager"])} <= managed
    assert len(managed) == 4  # and the backend's and the db's passwords
    # Decrypt with each named key, through the service that stores its secret only.
    decrypt = [s for s in execution if "kms:Decrypt" in actions(s)]
    by_key: dict[str, list[Any]] = {}
    for statement in decrypt:
        for key in resources(statement):
            by_key.setdefault(key, []).append(statement["Condition"]["StringEquals"])
    assert sorted(by_key) == sorted(
        SECRETS[v]["kms_key"] for v in ("SMTP_PASSWORD", "LEGACY_TOKEN", "WEBHOOK_KEY")
    )
    for variable, service in (("SMTP_PASSWORD", "secretsmanager"), ("LEGACY_TOKEN", "ssm"),
                              ("WEBHOOK_KEY", "ssm")):  # fmt: skip
        # In the key's region (the service decrypts with a key of its own region).
        (condition,) = by_key[SECRETS[variable]["kms_key"]]
        assert condition == {"kms:ViaService": [f"{service}.eu-west-1.amazonaws.com"]}, variable
    for name in ("backend", "db", "frontend"):
        assert not any(a.startswith("kms:") for s in statements(after.template(name))
                       for a in actions(s)), name  # fmt: skip


# --- Service Connect ---------------------------------------------------------------


def test_service_connect_gives_bare_names_instead_of_cloud_map_dns(
    synths: dict[str, Synth], variants: Variants
) -> None:
    after = variants["https-exec-connect"]
    namespace = {"Fn::GetAtt": [Match.string_like_regexp("^Namespace"), "Arn"]}
    for name, port in (("backend", 6379), ("frontend", 5000)):
        template = after.template(name)
        template.has_resource_properties(SERVICE, {
            "ServiceRegistries": Match.absent(),
            "ServiceConnectConfiguration": {
                "Enabled": True, "Namespace": Match.any_value(),
                # The Cloud Map service behind the bare name is named apart from
                # the DNS registration it replaces, which CloudFormation deletes
                # only after it has updated the ECS service.
                "Services": [{"PortName": name, "DiscoveryName": f"{name}-connect",
                              "ClientAliases": [{"DnsName": name, "Port": port}]}],
                "LogConfiguration": Match.object_like({"LogDriver": "awslogs"}),
            },
        })  # fmt: skip
        template.resource_count_is(DISCOVERY, 0)
        (service,) = template.find_resources(SERVICE).values()
        reference = service["Properties"]["ServiceConnectConfiguration"]["Namespace"]
        Template.from_json({"Value": exported(after, reference, "cluster")}).template_matches(
            {"Value": namespace}
        )
    frontend = container(after.template("frontend"), "frontend")
    env = {e["Name"]: e["Value"] for e in frontend["Environment"]}
    assert env["BACKEND_HOST"] == "backend"
    # The default stays Cloud Map DNS.
    shipped = synths["dev"].template("frontend")
    shipped.has_resource_properties(SERVICE, {"ServiceConnectConfiguration": Match.absent()})
    default = {e["Name"]: e["Value"] for e in container(shipped, "frontend")["Environment"]}
    assert default["BACKEND_HOST"] == "backend.service.local"


def test_a_build_context_at_the_project_root_leaves_the_tooling_out(tmp_path: Path) -> None:
    """compose's ``context: .`` with ``dockerfile: frontend/Dockerfile``: the project's
    virtualenvs, node_modules and cdk.out are never staged into the image's context."""
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Root")
    service = ServiceConfig(build=BuildConfig(context=".", dockerfile="frontend/Dockerfile"),
                            port=5000, user="10001")  # fmt: skip
    ServiceTask(stack, "Task", name="web", service=service, logging=LoggingConfig(),
                environment={}, secrets={})  # fmt: skip
    app.synth()
    (staged,) = tmp_path.glob("asset.*")
    assert (staged / "frontend" / "Dockerfile").is_file()
    assert {".venv", "node_modules", "cdk.out", ".git"}.isdisjoint(p.name for p in staged.iterdir())


def test_cost_prices_the_database_and_its_volume(variants: Variants) -> None:
    prices = cost.Prices.load()
    lines = {line.item: line for line in cost.estimate(variants["worker"].templates, prices)}
    # 0.25 vCPU and 1 GB around the clock, and the 5 GB the config expects on EFS.
    assert lines["Fargate db"].monthly == pytest.approx(
        (0.25 * prices.unit["fargate_vcpu_hour"] + 1 * prices.unit["fargate_gb_hour"]) * 730
    )
    assert lines["EFS pgdata"].monthly == pytest.approx(5 * prices.unit["efs_standard_gb_month"])
    assert lines["Fargate worker"].count == 2


def test_a_listed_volume_outlives_the_service_that_mounted_it(tmp_path: Path) -> None:
    """Its service gone, a volume listed with an owner keeps its file system."""

    def drop_backend(base: dict[str, Any]) -> None:
        del base["services"]["backend"]
        base["services"]["frontend"]["connects_to"] = []

    def own_volume(dev: dict[str, Any]) -> None:
        dev["storage"]["volumes"]["redis-data"]["owner"] = "999:1000"

    folder = config_dir_with(tmp_path, base=drop_backend, dev=own_volume)
    config = load_config("dev", folder, environ={})
    assert config.mounts() == {} and config.volume_names() == ["redis-data"]
    stacks = build(cdk.App(outdir=str(tmp_path / "out")), config)
    assert stacks.storage is not None and list(stacks.storage.volumes) == ["redis-data"]
    assert volume_owners(config)["redis-data"] == Owner(999, 1000)
