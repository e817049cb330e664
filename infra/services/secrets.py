"""Existing secrets (SSM parameters, Secrets Manager secrets) as a container's ECS secrets."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Annotations
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from infra.config import SecretConfig
from infra.names import pascal


class ExistingSecrets(Construct):
    """References to secrets made outside this app, by the variable each fills.

    ECS reads them at task start with the execution role; aws-cdk-lib grants
    that role read on exactly these parameters and secrets when the container
    names them. A customer-managed key named in config is granted here, by
    :meth:`grant_decrypt`: ``kms:Decrypt`` on that key only, and only through
    the service that stores the secret, in the key's region (aws-cdk-lib has no
    key option for a parameter imported by ARN, and its Secrets Manager grant
    carries no such condition).
    Nothing is created and no value is in a template.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, secrets: Mapping[str, SecretConfig]
    ) -> None:
        super().__init__(scope, construct_id)
        self.by_variable: dict[str, ecs.Secret] = {}
        # Key ARN -> the services (ssm, secretsmanager) that decrypt with it.
        self._keys: dict[str, set[str]] = {}
        for variable, config in secrets.items():
            construct = pascal(variable)
            if config.ssm is not None:
                parameter = self._parameter(construct, config.ssm)
                self.by_variable[variable] = ecs.Secret.from_ssm_parameter(parameter)
                service = "ssm"
            else:
                assert config.secrets_manager is not None  # the config rules: exactly one
                secret = secretsmanager.Secret.from_secret_complete_arn(
                    self, construct, config.secrets_manager
                )
                self.by_variable[variable] = ecs.Secret.from_secrets_manager(secret, config.field)
                service = "secretsmanager"
            if config.kms_key is not None:
                self._keys.setdefault(config.kms_key, set()).add(service)

    def _parameter(self, construct_id: str, name: str) -> ssm.IParameter:
        if name.startswith("arn:"):
            parameter = ssm.StringParameter.from_string_parameter_arn(self, construct_id, name)
            # CDK warns on any ARN it cannot tell is this account's.
            Annotations.of(self).acknowledge_warning(
                "aws-cdk-lib/aws-ssm:crossAccountReferenceSameRegion",
                "A parameter named by ARN is read where the ARN says; ECS reads one of "
                "another account only if its owner shares it (and its key) with this one.",
            )
            return parameter
        return ssm.StringParameter.from_secure_string_parameter_attributes(
            self, construct_id, parameter_name=name
        )

    def grant_decrypt(self, role: iam.IRole) -> None:
        """Let ``role`` decrypt with each named key, through SSM or Secrets Manager only."""
        for key, services in sorted(self._keys.items()):
            # The service decrypts with a key in its own region: the key's.
            region = key.split(":")[3]
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["kms:Decrypt"],
                    resources=[key],
                    conditions={
                        "StringEquals": {
                            "kms:ViaService": [
                                f"{service}.{region}.amazonaws.com" for service in sorted(services)
                            ]
                        }
                    },
                )
            )
