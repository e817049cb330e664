"""DurableVolume: one named volume as an encrypted, backed-up EFS file system."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import CfnResource, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_efs as efs
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.network.stack import PRIVATE_SUBNETS

NFS_PORT = 2049
# The resource metadata key that carries a volume's expected size to `cost`.
COST_METADATA = "CostEstimate"


@dataclass(frozen=True)
class Owner:
    """The numeric user and group a volume's files belong to."""

    uid: int
    gid: int

    @classmethod
    def parse(cls, user: str) -> Owner:
        """``'999:1000'`` or ``'10001'`` (its group then the same number).

        The group only names who owns files on the volume: the access point
        makes every write through it use this uid and gid, whatever the
        container's process runs as.
        """
        uid, _, gid = user.partition(":")
        return cls(int(uid), int(gid or uid))


class DurableVolume(Construct):
    """An EFS file system in the private subnets of every zone, with one access point.

    Encrypted at rest (and in transit: the file system policy refuses plain
    NFS), backed up daily by AWS Backup, kept or destroyed with its stack as
    ``removal`` says. Its mount targets' security group admits nothing until a
    service that mounts the volume adds its own rule (in that service's stack).
    The access point roots the volume in ``/<name>``, created for and used as
    ``owner``, so a non-root container can write to it.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        name: str,
        owner: Owner,
        removal: RemovalPolicy,
        size_gb: int | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.name = name
        self.security_group = ec2.SecurityGroup(
            self, "SecurityGroup", vpc=vpc, allow_all_outbound=False,
            description=f"{name} volume: NFS from the services that mount it",
        )  # fmt: skip
        self.file_system = efs.FileSystem(
            self,
            "FileSystem",
            vpc=vpc,
            vpc_subnets=PRIVATE_SUBNETS,
            security_group=self.security_group,
            encrypted=True,
            enable_automatic_backups=True,
            performance_mode=efs.PerformanceMode.GENERAL_PURPOSE,
            # Pay for what is read and written, never run out of burst credits
            # (a small volume's bursting baseline is a few KiB/s).
            throughput_mode=efs.ThroughputMode.ELASTIC,
            removal_policy=removal,
            # CDK's "deny anonymous" default is a statement that lets any
            # principal write, as root, through a mount target. The policy below
            # allows nothing: only roles granted in IAM (the task roles of the
            # services that mount the volume) get in, over TLS, through the
            # access point; clients without IAM are refused for lack of an allow.
            allow_anonymous_access=True,
        )
        if size_gb is not None:
            # For `cost` alone: EFS bills the GB stored, which no template states.
            cfn = self.file_system.node.default_child
            assert isinstance(cfn, CfnResource)
            cfn.add_metadata(COST_METADATA, {"StorageGB": size_gb})
        anyone = [iam.AnyPrincipal()]
        self.file_system.add_to_resource_policy(
            iam.PolicyStatement(
                sid="RefusePlainNfs", effect=iam.Effect.DENY, principals=anyone, actions=["*"],
                conditions={"Bool": {"aws:SecureTransport": "false"}},
            )
        )  # fmt: skip
        self.file_system.add_to_resource_policy(
            iam.PolicyStatement(
                sid="OnlyThroughAnAccessPoint", effect=iam.Effect.DENY, principals=anyone,
                actions=["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite",
                         "elasticfilesystem:ClientRootAccess"],
                conditions={"Null": {"elasticfilesystem:AccessPointArn": "true"}},
            )
        )  # fmt: skip
        self.access_point = self.file_system.add_access_point(
            "AccessPoint",
            path=f"/{name}",
            create_acl=efs.Acl(owner_uid=str(owner.uid), owner_gid=str(owner.gid),
                               permissions="750"),
            posix_user=efs.PosixUser(uid=str(owner.uid), gid=str(owner.gid)),
        )  # fmt: skip
        # Replacing or deleting an access point leaves the data, but a new one
        # is a new ID in every task definition that mounts it: keep it with the data.
        self.access_point.apply_removal_policy(removal)
