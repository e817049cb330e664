"""ClusterStack: the ECS cluster, the Cloud Map namespace and the alarm topic."""

from __future__ import annotations

from typing import Any

from aws_cdk import Fn, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_servicediscovery as servicediscovery
from constructs import Construct

from infra.config import AlarmsConfig, ClusterConfig, LoggingConfig
from infra.logs import configured_log_group
from infra.monitoring.topic import AlarmTopic


class ClusterStack(Stack):
    """An ECS cluster for Fargate and a private DNS namespace in the VPC.

    Services register in the namespace as ``<service>.<namespace>``, which is
    how containers find each other, as compose's service names do locally.
    With container insights on, its performance log group is made here, so it
    gets the env's retention, encryption and removal instead of the defaults
    ECS would create it with (kept forever, left behind by a destroy).
    Every alarm of the env notifies ``alarm_topic``, made (or imported) here so
    it exists before the services whose alarms name it.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        config: ClusterConfig,
        logging: LoggingConfig,
        alarms: AlarmsConfig,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.cluster: ecs.ICluster = ecs.Cluster(
            self,
            "Cluster",
            vpc=vpc,
            # FARGATE and FARGATE_SPOT, always: a service switching to Spot then
            # deploys on its own, without the cluster stack first.
            enable_fargate_capacity_providers=True,
            container_insights_v2=(
                ecs.ContainerInsights.ENABLED
                if config.container_insights
                else ecs.ContainerInsights.DISABLED
            ),
        )
        if config.container_insights:
            # ECS writes to this name (which AWS decides) and uses the group if it exists.
            name = Fn.join(
                "", ["/aws/ecs/containerinsights/", self.cluster.cluster_name, "/performance"]
            )
            configured_log_group(self, "InsightsLogs", logging, name=name)
        self.namespace: servicediscovery.IPrivateDnsNamespace = (
            servicediscovery.PrivateDnsNamespace(self, "Namespace", name=config.namespace, vpc=vpc)
        )
        self.alarm_topic = AlarmTopic(self, "Alarms", config=alarms).topic
