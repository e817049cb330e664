"""PublicEndpoint: an internet-facing load balancer in front of a service."""

from __future__ import annotations

from aws_cdk import Annotations, Duration, Fn
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from constructs import Construct

from infra.compliance import acknowledge
from infra.config import HTTPS_PORT, LoggingConfig, PublicConfig
from infra.services.access_logs import AccessLogBucket

PUBLIC_SUBNETS = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC)


class PublicEndpoint(Construct):
    """An application (default) or network load balancer for one service.

    The balancer has its own security group open to the internet on its
    listener ports only; the service's security group admits that group on the
    container port only, so nothing else on the internet reaches a task.
    Access logs go to an :class:`AccessLogBucket`. With a certificate, the
    application load balancer serves HTTPS on 443 with AWS's recommended TLS
    policy and ``listener_port`` redirects to it. ``url`` is the address to
    put in a stack output.
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
        logging: LoggingConfig,
    ) -> None:
        super().__init__(scope, construct_id)
        https = config.certificate_arn is not None
        listener_ports = [config.listener_port, *([HTTPS_PORT] if https else [])]
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description="Load balancer: the internet in on the listener port, out to the tasks",
            allow_all_outbound=False,
        )
        self.security_group.add_ingress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(config.listener_port), "the internet to the listener"
        )
        if https:
            self.security_group.add_ingress_rule(
                ec2.Peer.any_ipv4(), ec2.Port.tcp(HTTPS_PORT), "the internet to HTTPS"
            )
        acknowledge(
            self.security_group,
            "AwsSolutions-EC23",
            "An internet-facing load balancer must accept any address on its listener "
            f"ports ({', '.join(map(str, listener_ports))}); the tasks behind it admit "
            "only this security group.",
        )
        self.access_logs = AccessLogBucket(self, "AccessLogs", logging=logging)
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
            self.load_balancer = nlb
        else:
            alb = elbv2.ApplicationLoadBalancer(
                self,
                "LoadBalancer",
                vpc=vpc,
                internet_facing=True,
                vpc_subnets=PUBLIC_SUBNETS,
                security_group=self.security_group,
                deletion_protection=config.deletion_protection,
                drop_invalid_header_fields=True,
            )
            # The ingress rules above are the only way in (open=False).
            plain = alb.add_listener(
                "Listener",
                port=config.listener_port,
                protocol=elbv2.ApplicationProtocol.HTTP,
                open=False,
                default_action=(
                    elbv2.ListenerAction.redirect(
                        protocol="HTTPS", port=str(HTTPS_PORT), permanent=True
                    )
                    if https
                    else None
                ),
            )
            serving = plain
            if config.certificate_arn is not None:
                serving = alb.add_listener(
                    "HttpsListener",
                    port=HTTPS_PORT,
                    protocol=elbv2.ApplicationProtocol.HTTPS,
                    certificates=[elbv2.ListenerCertificate.from_arn(config.certificate_arn)],
                    ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS,
                    open=False,
                )
            serving.add_targets(
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
        self.access_logs.receive_from(self.load_balancer)
        if not https:
            Annotations.of(self).add_info(
                f"{container_name} is served over plain HTTP; "
                f"set services.{container_name}.public.certificate_arn for HTTPS"
            )
        # The tasks admit the balancer on the container port, and nothing else.
        service.connections.allow_from(
            self.security_group, ec2.Port.tcp(container_port), "load balancer to the tasks"
        )
        host = config.domain_name or self.load_balancer.load_balancer_dns_name
        if https:
            self.url: str = Fn.join("", ["https://", host])
        else:
            port = "" if config.listener_port == 80 else f":{config.listener_port}"
            self.url = Fn.join("", ["http://", host, port])
