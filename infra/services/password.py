"""ServicePassword: the generated password of a service with ``auth: true``."""

from __future__ import annotations

from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.compliance import acknowledge


class ServicePassword(secretsmanager.Secret):
    """A generated password in Secrets Manager that ``service`` requires of its clients.

    The service and every consumer read it as an ECS secret at task start;
    its value is never in a template.
    """

    def __init__(self, scope: Construct, construct_id: str, *, service: str) -> None:
        super().__init__(
            scope,
            construct_id,
            description=f"{service}: the password its clients authenticate with",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                # Letters and digits only: the value goes through shells and URLs.
                exclude_punctuation=True,
                password_length=40,
            ),
        )
        acknowledge(
            self,
            "AwsSolutions-SMG4",
            "No rotation: the server (a Redis task, or a managed cache's user, updated "
            "only when its template changes) and its clients read it once, so rotating "
            "means a new value and a deploy of all of them together; by hand.",
        )
