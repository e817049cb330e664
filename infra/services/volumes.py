"""VolumeMounts: a service's durable volumes, mounted from the storage stack."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.names import pascal
from infra.services.peers import PeerAccess
from infra.storage.volume import NFS_PORT, DurableVolume


class VolumeMounts(Construct):
    """Mounts each volume at its path, over TLS and as the task role, through its access point.

    The task role may mount and write that file system only through that
    access point (ClientMount/ClientWrite, conditioned on the access point's
    ARN); the volume's mount targets admit the service's tasks on NFS, and the
    tasks' group lets that out. The rules live here, in the service's stack,
    which therefore deploys after the storage stack.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        service_name: str,
        definition: ecs.FargateTaskDefinition,
        container: ecs.ContainerDefinition,
        security_group: ec2.ISecurityGroup,
        mounts: Mapping[str, str],
        volumes: Mapping[str, DurableVolume],
    ) -> None:
        super().__init__(scope, construct_id)
        for name, path in mounts.items():
            volume = volumes[name]
            source = f"volume-{name}"
            definition.add_volume(
                name=source,
                efs_volume_configuration=ecs.EfsVolumeConfiguration(
                    file_system_id=volume.file_system.file_system_id,
                    transit_encryption="ENABLED",
                    authorization_config=ecs.AuthorizationConfig(
                        access_point_id=volume.access_point.access_point_id, iam="ENABLED"
                    ),
                ),
            )
            container.add_mount_points(
                ecs.MountPoint(container_path=path, source_volume=source, read_only=False)
            )
            definition.task_role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
                    resources=[volume.file_system.file_system_arn],
                    conditions={
                        "StringEquals": {
                            "elasticfilesystem:AccessPointArn": volume.access_point.access_point_arn
                        }
                    },
                )
            )
            PeerAccess(
                self, pascal(name), consumer_name=service_name, consumer=security_group,
                provider_name=f"the {name} volume", provider=volume.security_group, port=NFS_PORT,
            )  # fmt: skip
