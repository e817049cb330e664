"""What a consumer needs to know of a service it connects to, and the access it gets."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.config import env_name


@dataclass(frozen=True)
class Endpoint:
    """A service as its consumers see it: a DNS name, a port, a security group
    and, when it requires one, the secret holding its password."""

    name: str
    host: str
    port: int
    security_group: ec2.ISecurityGroup
    password: secretsmanager.ISecret | None = None

    def environment(self) -> dict[str, str]:
        """``<NAME>_HOST`` and ``<NAME>_PORT``, as compose-era apps expect them."""
        prefix = env_name(self.name)
        return {f"{prefix}_HOST": self.host, f"{prefix}_PORT": str(self.port)}

    def secrets(self) -> dict[str, ecs.Secret]:
        """``<NAME>_PASSWORD``, which ECS reads from Secrets Manager at task start."""
        return password_secret(self.name, self.password) if self.password else {}


def password_secret(name: str, secret: secretsmanager.ISecret) -> dict[str, ecs.Secret]:
    """The container secret that carries ``name``'s password as ``<NAME>_PASSWORD``."""
    return {f"{env_name(name)}_PASSWORD": ecs.Secret.from_secrets_manager(secret)}


class PeerAccess(Construct):
    """Lets a consumer's tasks reach one provider on the provider's port, nothing more.

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
        provider: Endpoint,
    ) -> None:
        super().__init__(scope, construct_id)
        ec2.CfnSecurityGroupIngress(
            self,
            "Ingress",
            group_id=provider.security_group.security_group_id,
            source_security_group_id=consumer.security_group_id,
            ip_protocol="tcp",
            from_port=provider.port,
            to_port=provider.port,
            description=f"{consumer_name} to {provider.name} on {provider.port}",
        )
