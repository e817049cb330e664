"""Existing secrets (SSM parameters, Secrets Manager secrets) as a container's ECS secrets."""

from __future__ import annotations

import re
from collections.abc import Mapping

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ssm as ssm
from constructs import Construct, IConstruct

from infra.compliance import acknowledge
from infra.config import SecretConfig
from infra.names import pascal

# Secrets Manager appends "-" and six characters to a secret's name in its ARN.
COMPLETE_SECRET_ARN = re.compile(r":secret:.+-[A-Za-z0-9]{6}$")


class ExistingSecrets(Construct):
    """References to secrets made outside this app, by the variable each fills.

    ECS reads them at task start with the execution role; aws-cdk-lib grants
    that role read on exactly these parameters and secrets when the container
    names them, and ``kms:Decrypt`` only on a key named in config (through the
    owning service only). Nothing is created and no value is in a template.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, secrets: Mapping[str, SecretConfig]
    ) -> None:
        super().__init__(scope, construct_id)
        self.by_variable: dict[str, ecs.Secret] = {}
        # A secret named without its ARN suffix is granted as name-??????.
        self.partial_names: list[str] = []
        for variable, config in secrets.items():
            key = (
                kms.Key.from_key_arn(self, f"{pascal(variable)}Key", config.kms_key)
                if config.kms_key
                else None
            )
            if config.ssm is not None:
                parameter = self._parameter(pascal(variable), config.ssm, key)
                self.by_variable[variable] = ecs.Secret.from_ssm_parameter(parameter)
            else:
                assert config.secrets_manager is not None  # the config rules: exactly one
                secret = self._secret(pascal(variable), config.secrets_manager, key)
                self.by_variable[variable] = ecs.Secret.from_secrets_manager(secret, config.field)

    def _parameter(self, construct_id: str, name: str, key: kms.IKey | None) -> ssm.IParameter:
        if name.startswith("arn:"):
            return ssm.StringParameter.from_string_parameter_arn(self, construct_id, name)
        return ssm.StringParameter.from_secure_string_parameter_attributes(
            self, construct_id, parameter_name=name, encryption_key=key
        )

    def _secret(self, construct_id: str, name: str, key: kms.IKey | None) -> secretsmanager.ISecret:
        if name.startswith("arn:") and COMPLETE_SECRET_ARN.search(name):
            return secretsmanager.Secret.from_secret_attributes(
                self, construct_id, secret_complete_arn=name, encryption_key=key
            )
        self.partial_names.append(name)
        arn = name if name.startswith("arn:") else Stack.of(self).format_arn(
            service="secretsmanager", resource="secret", resource_name=name,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )  # fmt: skip
        return secretsmanager.Secret.from_secret_attributes(
            self, construct_id, secret_partial_arn=arn, encryption_key=key
        )

    def acknowledge_partial_names(self, policy: IConstruct) -> None:
        """cdk-nag's IAM5 on ``name-??????``: the one wildcard a secret named without its
        suffix needs, on the execution role's ``policy``."""
        if self.partial_names:
            acknowledge(
                policy,
                "AwsSolutions-IAM5[Resource::*]",
                "Secrets named without their ARN suffix "
                f"({', '.join(self.partial_names)}) are read as <name>-?????? (the six "
                "characters Secrets Manager appends); give the complete ARN to drop the wildcard.",
            )
