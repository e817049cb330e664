"""What every customer-managed KMS key of the app has in its policy."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms


def only_aws_resources_get_grants(key: kms.Key) -> None:
    """Refuse grants on ``key`` except those AWS services make for their
    resources (CT.KMS.PR.3): a principal allowed to use the key cannot hand
    that use on to anyone else."""
    key.add_to_resource_policy(
        iam.PolicyStatement(
            effect=iam.Effect.DENY,
            principals=[iam.AnyPrincipal()],
            actions=["kms:CreateGrant"],
            resources=["*"],
            conditions={
                "BoolIfExists": {
                    "kms:GrantIsForAWSResource": "false",
                    "aws:PrincipalIsAWSService": "false",
                }
            },
        )
    )
