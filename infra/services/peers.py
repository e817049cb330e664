"""What a consumer needs to know of a service it connects to, and the access it gets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.config import Injected


@dataclass(frozen=True)
class Endpoint:
    """A service as its consumers see it: a DNS name, a port, a security group
    and, when it requires one, the secret holding its password (the whole secret,
    or its JSON ``password_field``); ``tls`` when it takes only TLS connections."""

    name: str
    host: str
    port: int
    security_group: ec2.ISecurityGroup
    password: secretsmanager.ISecret | None = None
    password_field: str | None = None
    tls: bool = False


def container_variables(
    names: Injected,
    port: int | None,
    password: secretsmanager.ISecret | None,
    peers: Sequence[Endpoint],
) -> tuple[dict[str, str], dict[str, ecs.Secret]]:
    """The plain variables (its port, each peer's host and port) and the secrets
    (its own and its peers' passwords, read by ECS at task start) of one container."""
    environment = {names.port: str(port)} if names.port and port is not None else {}
    secrets: dict[str, ecs.Secret] = {}
    if password is not None and names.own_password is not None:
        secrets[names.own_password] = ecs.Secret.from_secrets_manager(password)
    for peer in peers:
        variables = names.peers[peer.name]
        environment[variables.host] = peer.host
        environment[variables.port] = str(peer.port)
        if peer.tls:
            environment[variables.tls] = "true"
        if peer.password is not None:
            secrets[variables.password] = ecs.Secret.from_secrets_manager(
                peer.password, peer.password_field
            )
    return environment, secrets


class PeerAccess(Construct):
    """Lets a consumer's tasks reach one provider (a service, a volume's mount
    targets) on one port, nothing more: the provider's group admits the
    consumer's, and the consumer's lets it out.

    The rule is created in the consumer's stack, so the consumer depends on the
    provider and deploys after it (compose's ``depends_on``); CDK's default
    ``allow_from`` would put it in the provider and invert that order.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        consumer_name: str,
        consumer: ec2.ISecurityGroup,
        provider_name: str,
        provider: ec2.ISecurityGroup,
        port: int,
    ) -> None:
        super().__init__(scope, construct_id)
        description = f"{consumer_name} to {provider_name} on {port}"
        ec2.CfnSecurityGroupIngress(
            self,
            "Ingress",
            group_id=provider.security_group_id,
            source_security_group_id=consumer.security_group_id,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            description=description,
        )
        # The consumer's group allows no other outbound traffic but HTTPS.
        ec2.CfnSecurityGroupEgress(
            self,
            "Egress",
            group_id=consumer.security_group_id,
            destination_security_group_id=provider.security_group_id,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            description=description,
        )
