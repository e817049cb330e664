"""ApplicationEndpoint: an application load balancer (HTTP, or HTTPS with a certificate)."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from constructs import Construct

from infra.compliance import acknowledge
from infra.config import HTTPS_PORT, LoggingConfig, PublicConfig
from infra.network.stack import PUBLIC_SUBNETS
from infra.services.access_logs import AccessLogBucket
from infra.services.exposure import PublicEndpoint, Serving


class ApplicationEndpoint(PublicEndpoint):
    """An application load balancer that drops invalid headers and checks ``/healthz``-style paths.

    With ``certificate_arn`` it serves HTTPS on 443 with AWS's recommended TLS
    policy and ``listener_port`` only redirects (301) to it. Access logs go to
    an :class:`AccessLogBucket`.

    When ECS shifts traffic (canary, linear, blue/green), the serving listener
    forwards through a rule matching every path to two target groups, weighted
    100/0; on a deploy ECS registers the new tasks in the idle group and moves
    the rule's weights, and on a rollback moves them back. The primary group
    keeps the ID a rolling deploy's only group has, so switching strategies
    does not replace it.
    """

    def _balance(
        self, vpc: ec2.IVpc, serving: Serving, config: PublicConfig, logging: LoggingConfig
    ) -> elbv2.BaseLoadBalancer:
        alb, listener = application_load_balancer(
            self, vpc=vpc, security_group=self.security_group, config=config, logging=logging
        )
        if serving.shifts_traffic:
            self._shift(vpc, listener, serving, config)
        else:
            group = listener.add_targets(
                "Targets", port=serving.port, protocol=elbv2.ApplicationProtocol.HTTP,
                targets=[serving.target()], deregistration_delay=Duration.seconds(30),
                health_check=health_check(config),
            )  # fmt: skip
            self.target_groups.append(group)
        return alb

    def _shift(
        self,
        vpc: ec2.IVpc,
        listener: elbv2.ApplicationListener,
        serving: Serving,
        config: PublicConfig,
    ) -> None:
        """Two target groups behind one rule, handed to ECS to shift traffic between."""

        def group(construct_id: str) -> elbv2.ApplicationTargetGroup:
            return elbv2.ApplicationTargetGroup(
                listener, construct_id, vpc=vpc, port=serving.port,
                protocol=elbv2.ApplicationProtocol.HTTP, target_type=elbv2.TargetType.IP,
                deregistration_delay=Duration.seconds(30), health_check=health_check(config),
            )  # fmt: skip

        # "TargetsGroup": the ID add_targets("Targets") gives a rolling deploy's group.
        primary, alternate = group("TargetsGroup"), group("AlternateGroup")
        both = elbv2.ListenerAction.weighted_forward(
            [
                elbv2.WeightedTargetGroup(target_group=primary, weight=100),
                elbv2.WeightedTargetGroup(target_group=alternate, weight=0),
            ]
        )
        # ECS moves the weights of a rule, never of a listener's default action.
        # The default forwards too: ECS refuses a listener that mixes forward
        # with other actions (fixed response, redirect).
        listener.add_action("Default", action=both)
        rule = elbv2.ApplicationListenerRule(
            listener, "ProductionRule", listener=listener, priority=1,
            conditions=[elbv2.ListenerCondition.path_patterns(["/*"])], action=both,
        )  # fmt: skip
        target = serving.target(
            ecs.AlternateTarget(
                "AlternateTarget",
                alternate_target_group=alternate,
                production_listener=ecs.ListenerRuleConfiguration.application_listener_rule(rule),
            )
        )
        target.attach_to_application_target_group(primary)
        acknowledge(
            serving.service,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
            "AmazonECSInfrastructureRolePolicyForLoadBalancers]",
            "The role ECS assumes to move traffic between the two target groups: AWS "
            "maintains this policy for exactly that, with the calls ECS makes as they change.",
        )
        self.target_groups.extend([primary, alternate])


def application_load_balancer(
    scope: Construct,
    *,
    vpc: ec2.IVpc,
    security_group: ec2.ISecurityGroup,
    config: PublicConfig,
    logging: LoggingConfig,
    default_action: elbv2.ListenerAction | None = None,
) -> tuple[elbv2.ApplicationLoadBalancer, elbv2.ApplicationListener]:
    """An internet-facing application load balancer in ``security_group`` that drops
    invalid headers and logs to its :class:`AccessLogBucket`, with its listeners:
    ``listener_port`` (a redirect to 443 with a certificate) and the serving one
    (returned), which answers ``default_action`` (None: the targets added to it)."""
    access_logs = AccessLogBucket(scope, "AccessLogs", logging=logging)
    alb = elbv2.ApplicationLoadBalancer(
        scope,
        "LoadBalancer",
        vpc=vpc,
        internet_facing=True,
        vpc_subnets=PUBLIC_SUBNETS,
        security_group=security_group,
        deletion_protection=config.deletion_protection,
        drop_invalid_header_fields=True,
    )
    https = config.certificate_arn is not None
    # The security group's ingress rules are the only way in (open=False).
    listener = alb.add_listener(
        "Listener",
        port=config.listener_port,
        protocol=elbv2.ApplicationProtocol.HTTP,
        open=False,
        default_action=(
            elbv2.ListenerAction.redirect(protocol="HTTPS", port=str(HTTPS_PORT), permanent=True)
            if https
            else default_action
        ),
    )
    if config.certificate_arn is not None:
        listener = alb.add_listener(
            "HttpsListener",
            port=HTTPS_PORT,
            protocol=elbv2.ApplicationProtocol.HTTPS,
            certificates=[elbv2.ListenerCertificate.from_arn(config.certificate_arn)],
            ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS,
            open=False,
            default_action=default_action,
        )
    access_logs.receive_from(alb)
    return alb, listener


def health_check(config: PublicConfig) -> elbv2.HealthCheck:
    """How the load balancer decides a task may take traffic."""
    return elbv2.HealthCheck(
        path=config.health_check_path, healthy_http_codes="200", interval=Duration.seconds(15)
    )
