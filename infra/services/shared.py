"""SharedEndpoint: a service behind the env's shared application load balancer."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from constructs import Construct

from infra.config import PublicConfig
from infra.config.ingress import literal_prefix, rule_priority
from infra.ingress.stack import IngressStack
from infra.services.alb import health_check
from infra.services.exposure import public_url


class SharedEndpoint(Construct):
    """The service's own target group and listener rule on the shared load balancer.

    The rule (on ``public.host`` and/or ``public.path``, at the priority
    :func:`rule_priority` derives) forwards to the group; both live in the
    service's stack, with the two security-group rules between the balancer
    and the tasks on the container port, so the ingress stack never refers
    to a service. ``hosts`` are the names clients send (``public.host``, or
    the balancer's DNS name, and ``domain_name``); ``url`` is where the
    service answers.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        service: ecs.FargateService,
        security_group: ec2.ISecurityGroup,
        container_name: str,
        container_port: int,
        config: PublicConfig,
        ingress: IngressStack,
    ) -> None:
        super().__init__(scope, construct_id)
        self.load_balancer = ingress.load_balancer
        group = elbv2.ApplicationTargetGroup(
            self, "TargetsGroup", vpc=vpc, port=container_port,
            protocol=elbv2.ApplicationProtocol.HTTP, target_type=elbv2.TargetType.IP,
            deregistration_delay=Duration.seconds(30), health_check=health_check(config),
        )  # fmt: skip
        service.load_balancer_target(
            container_name=container_name, container_port=container_port
        ).attach_to_application_target_group(group)
        self.target_groups: list[elbv2.TargetGroupBase] = [group]
        # Imported with a group CDK may not change: it would put the tasks'
        # ingress rule in the ingress stack, which then refers to this one (a cycle).
        balancer_group = ec2.SecurityGroup.from_security_group_id(
            self, "LoadBalancerGroup", ingress.security_group.security_group_id, mutable=False
        )
        listener = elbv2.ApplicationListener.from_application_listener_attributes(
            self, "Listener", listener_arn=ingress.listener.listener_arn,
            security_group=balancer_group,
        )  # fmt: skip
        conditions = []
        if config.host is not None:
            conditions.append(elbv2.ListenerCondition.host_headers([config.host]))
        if config.path is not None:
            conditions.append(elbv2.ListenerCondition.path_patterns([config.path]))
        elbv2.ApplicationListenerRule(
            self, "Rule", listener=listener, priority=rule_priority(config),
            conditions=conditions, action=elbv2.ListenerAction.forward([group]),
        )  # fmt: skip
        description = f"load balancer to {container_name} on {container_port}"
        # The tasks' side: CDK adds the ingress rule as the group joins the
        # listener; the balancer's side is added here, in this stack.
        ec2.CfnSecurityGroupEgress(
            self, "Egress", group_id=ingress.security_group.security_group_id,
            destination_security_group_id=security_group.security_group_id,
            ip_protocol="tcp", from_port=container_port, to_port=container_port,
            description=description,
        )  # fmt: skip
        dns = ingress.load_balancer.load_balancer_dns_name
        self.hosts: list[str] = [
            config.host or dns,
            *([config.domain_name] if config.domain_name else []),
        ]
        self.url: str = public_url(
            ingress.config, config.host or config.domain_name or dns, literal_prefix(config.path)
        )
