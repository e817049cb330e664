"""PublicEndpoint: what every internet-facing load balancer in front of a service shares.

The balancer itself, with its listeners, is one of the two kinds in
:mod:`infra.services.alb` and :mod:`infra.services.nlb`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Annotations, Fn
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from constructs import Construct

from infra.compliance import acknowledge
from infra.config import HTTPS_PORT, LoggingConfig, PublicConfig


class PublicEndpoint(Construct):
    """An internet-facing load balancer for one service (subclasses pick the kind).

    The balancer has its own security group open to the internet on its
    listener ports only; the service's security group admits that group on the
    container port only, so nothing else on the internet reaches a task.
    ``url`` is the address to put in a stack output, ``hosts`` the names
    clients reach it by.
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
        shifts_traffic: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        https = config.certificate_arn is not None
        self.security_group = open_security_group(self, vpc, listeners_of(config))
        # The groups the tasks register in: one, or two when ECS shifts traffic.
        self.target_groups: list[elbv2.TargetGroupBase] = []
        self.load_balancer = self._balance(
            vpc, Serving(service, container_name, container_port, shifts_traffic), config, logging
        )
        if not https:
            Annotations.of(self).add_info(
                f"{container_name} is served over plain HTTP; "
                f"set services.{container_name}.public.certificate_arn for HTTPS"
            )
        # The tasks admit the balancer on the container port, and nothing else.
        service.connections.allow_from(
            self.security_group, ec2.Port.tcp(container_port), "load balancer to the tasks"
        )
        # What clients may send as Host: the service refuses any other.
        self.hosts: list[str] = [
            self.load_balancer.load_balancer_dns_name,
            *([config.domain_name] if config.domain_name else []),
        ]
        self.url: str = public_url(
            config, config.domain_name or self.load_balancer.load_balancer_dns_name
        )

    def _balance(
        self, vpc: ec2.IVpc, serving: Serving, config: PublicConfig, logging: LoggingConfig
    ) -> elbv2.BaseLoadBalancer:
        """The load balancer and its listeners, forwarding to the ``serving`` tasks
        (their groups in ``target_groups``), with its access logs (where the kind
        has them) kept as ``logging`` says."""
        raise NotImplementedError


def listeners_of(config: PublicConfig) -> list[tuple[int, str]]:
    """A load balancer's (port, what) listeners: ``listener_port``, and 443 with a certificate."""
    listeners = [(config.listener_port, "the listener")]
    if config.certificate_arn is not None:
        listeners.append((HTTPS_PORT, "HTTPS"))
    return listeners


def open_security_group(
    scope: Construct, vpc: ec2.IVpc, listeners: Sequence[tuple[int, str]]
) -> ec2.SecurityGroup:
    """A load balancer's group: the internet in on each (port, what) listener, out
    only to the tasks (added as targets attach)."""
    group = ec2.SecurityGroup(
        scope,
        "SecurityGroup",
        vpc=vpc,
        description="Load balancer: the internet in on the listener port, out to the tasks",
        allow_all_outbound=False,
    )
    for port, what in listeners:
        group.add_ingress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(port), f"the internet to {what}")
    acknowledge(
        group,
        "AwsSolutions-EC23",
        "An internet-facing load balancer must accept any address on its listener "
        f"ports ({', '.join(str(port) for port, _ in listeners)}); the tasks behind it admit "
        "only this security group.",
    )
    return group


def public_url(config: PublicConfig, host: str, path: str = "") -> str:
    """``https://host/path`` with a certificate, else ``http://host[:port]/path``."""
    if config.certificate_arn is not None:
        return Fn.join("", ["https://", host, path])
    port = "" if config.listener_port == 80 else f":{config.listener_port}"
    return Fn.join("", ["http://", host, port, path])


@dataclass(frozen=True)
class Serving:
    """The container a load balancer forwards to, and whether ECS shifts its
    traffic between two target groups on a deploy (canary, linear, blue/green)."""

    service: ecs.FargateService
    container_name: str
    port: int
    shifts_traffic: bool

    def target(self, alternate: ecs.AlternateTarget | None = None) -> ecs.IEcsLoadBalancerTarget:
        """The service's container as a load balancer target (with the group and
        listener rule ECS shifts traffic through, when it does)."""
        return self.service.load_balancer_target(
            container_name=self.container_name,
            container_port=self.port,
            alternate_target=alternate,
        )
