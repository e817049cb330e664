"""ClusterStack: the ECS cluster and the Cloud Map namespace."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_servicediscovery as servicediscovery
from constructs import Construct

from infra.config import ClusterConfig


class ClusterStack(Stack):
    """An ECS cluster for Fargate and a private DNS namespace in the VPC.

    Services register in the namespace as ``<service>.<namespace>``, which is
    how containers find each other, as compose's service names do locally.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        config: ClusterConfig,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.cluster: ecs.ICluster = ecs.Cluster(
            self,
            "Cluster",
            vpc=vpc,
            container_insights_v2=(
                ecs.ContainerInsights.ENABLED
                if config.container_insights
                else ecs.ContainerInsights.DISABLED
            ),
        )
        self.namespace: servicediscovery.IPrivateDnsNamespace = (
            servicediscovery.PrivateDnsNamespace(self, "Namespace", name=config.namespace, vpc=vpc)
        )
