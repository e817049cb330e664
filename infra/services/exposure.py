"""PublicEndpoint: an internet-facing load balancer in front of a service."""

from __future__ import annotations

from aws_cdk import Duration, Fn
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from constructs import Construct

from infra.config import PublicConfig

PUBLIC_SUBNETS = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC)


class PublicEndpoint(Construct):
    """An application (default) or network load balancer for one service.

    The balancer has its own security group open to the internet on the
    listener port only; the service's security group admits that group on the
    container port only, so nothing else on the internet reaches a task.
    ``url`` is the address to put in a stack output.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        service: ecs.FargateService,
        container_name: str,
        container_port: int,
        config: PublicConfig,
    ) -> None:
        super().__init__(scope, construct_id)
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description="Load balancer: the internet in on the listener port, out to the tasks",
            allow_all_outbound=False,
        )
        self.security_group.add_ingress_rule(
            ec2.Peer.any_ipv4(),
            ec2.Port.tcp(config.listener_port),
            "the internet to the listener",
        )
        target = service.load_balancer_target(
            container_name=container_name, container_port=container_port
        )
        self.load_balancer: elbv2.BaseLoadBalancer
        if config.load_balancer == "network":
            nlb = elbv2.NetworkLoadBalancer(
                self,
                "LoadBalancer",
                vpc=vpc,
                internet_facing=True,
                vpc_subnets=PUBLIC_SUBNETS,
                security_groups=[self.security_group],
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
            self.load_balancer = nlb
        else:
            alb = elbv2.ApplicationLoadBalancer(
                self,
                "LoadBalancer",
                vpc=vpc,
                internet_facing=True,
                vpc_subnets=PUBLIC_SUBNETS,
                security_group=self.security_group,
            )
            alb.add_listener(
                "Listener",
                port=config.listener_port,
                protocol=elbv2.ApplicationProtocol.HTTP,
                open=False,  # the ingress rule above is the only way in
            ).add_targets(
                "Targets",
                port=container_port,
                protocol=elbv2.ApplicationProtocol.HTTP,
                targets=[target],
                deregistration_delay=Duration.seconds(30),
                health_check=elbv2.HealthCheck(
                    path=config.health_check_path,
                    healthy_http_codes="200",
                    interval=Duration.seconds(15),
                ),
            )
            self.load_balancer = alb
        # The tasks admit the balancer on the container port, and nothing else.
        service.connections.allow_from(
            self.security_group, ec2.Port.tcp(container_port), "load balancer to the tasks"
        )
        port = "" if config.listener_port == 80 else f":{config.listener_port}"
        self.url: str = Fn.join("", ["http://", self.load_balancer.load_balancer_dns_name, port])
