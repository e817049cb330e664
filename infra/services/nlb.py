"""NetworkEndpoint: a network load balancer (TCP) with a security group."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2

from infra.config import PublicConfig
from infra.services.exposure import PUBLIC_SUBNETS, PublicEndpoint


class NetworkEndpoint(PublicEndpoint):
    """A network load balancer passing TCP on ``listener_port`` to the tasks.

    Health checks still go over HTTP to ``health_check_path``. Security groups
    on a network load balancer must be attached at creation, so it gets one.
    """

    def _balance(
        self,
        vpc: ec2.IVpc,
        target: ecs.IEcsLoadBalancerTarget,
        container_port: int,
        config: PublicConfig,
    ) -> elbv2.BaseLoadBalancer:
        nlb = elbv2.NetworkLoadBalancer(
            self,
            "LoadBalancer",
            vpc=vpc,
            internet_facing=True,
            vpc_subnets=PUBLIC_SUBNETS,
            security_groups=[self.security_group],
            deletion_protection=config.deletion_protection,
        )
        nlb.add_listener("Listener", port=config.listener_port).add_targets(
            "Targets",
            port=container_port,
            targets=[target],
            deregistration_delay=Duration.seconds(30),
            health_check=elbv2.HealthCheck(
                protocol=elbv2.Protocol.HTTP,
                path=config.health_check_path,
                interval=Duration.seconds(15),
            ),
        )
        return nlb
