"""NetworkEndpoint: a network load balancer (TCP) with a security group."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2

from infra.compliance import acknowledge
from infra.config import LoggingConfig, PublicConfig
from infra.network.stack import PUBLIC_SUBNETS
from infra.services.exposure import PublicEndpoint, Serving


class NetworkEndpoint(PublicEndpoint):
    """A network load balancer passing TCP on ``listener_port`` to the tasks.

    Health checks still go over HTTP to ``health_check_path``. Security groups
    on a network load balancer must be attached at creation, so it gets one.
    It keeps no access logs: a network load balancer logs only TLS listeners,
    and this one passes TCP through; the VPC flow logs record its connections.
    """

    def _balance(
        self, vpc: ec2.IVpc, serving: Serving, config: PublicConfig, logging: LoggingConfig
    ) -> elbv2.BaseLoadBalancer:
        nlb = elbv2.NetworkLoadBalancer(
            self,
            "LoadBalancer",
            vpc=vpc,
            internet_facing=True,
            vpc_subnets=PUBLIC_SUBNETS,
            security_groups=[self.security_group],
            deletion_protection=config.deletion_protection,
            # Tasks in one zone still serve clients in every zone (CT.ELASTICLOADBALANCING.PR.14).
            cross_zone_enabled=True,
        )
        group = nlb.add_listener("Listener", port=config.listener_port).add_targets(
            "Targets",
            port=serving.port,
            targets=[serving.target()],
            deregistration_delay=Duration.seconds(30),
            health_check=elbv2.HealthCheck(
                protocol=elbv2.Protocol.HTTP,
                path=config.health_check_path,
                interval=Duration.seconds(15),
            ),
        )
        self.target_groups.append(group)
        no_logs = (
            "A network load balancer writes access logs only for TLS listeners; this one "
            "passes TCP through to the tasks. The VPC flow logs record its connections."
        )
        acknowledge(nlb, "AwsSolutions-ELB2", no_logs)
        acknowledge(nlb, "control-tower::elbv2_logging_enabled_check", no_logs)
        return nlb
