"""ApplicationEndpoint: an application load balancer (HTTP, or HTTPS with a certificate)."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2

from infra.config import HTTPS_PORT, LoggingConfig, PublicConfig
from infra.services.access_logs import AccessLogBucket
from infra.services.exposure import PUBLIC_SUBNETS, PublicEndpoint


class ApplicationEndpoint(PublicEndpoint):
    """An application load balancer that drops invalid headers and checks ``/healthz``-style paths.

    With ``certificate_arn`` it serves HTTPS on 443 with AWS's recommended TLS
    policy and ``listener_port`` only redirects (301) to it. Access logs go to
    an :class:`AccessLogBucket`.
    """

    def _balance(
        self,
        vpc: ec2.IVpc,
        target: ecs.IEcsLoadBalancerTarget,
        container_port: int,
        config: PublicConfig,
        logging: LoggingConfig,
    ) -> elbv2.BaseLoadBalancer:
        self.access_logs = AccessLogBucket(self, "AccessLogs", logging=logging)
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
        https = config.certificate_arn is not None
        # The security group's ingress rules are the only way in (open=False).
        serving = alb.add_listener(
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
        self.access_logs.receive_from(alb)
        return alb
