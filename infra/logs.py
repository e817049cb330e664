"""Log storage whose retention and removal follow the environment's config."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.config import LoggingConfig, Removal


def removal_policy(config: LoggingConfig) -> RemovalPolicy:
    """What happens to stored logs when their stack is deleted."""
    destroy = config.removal_policy is Removal.DESTROY
    return RemovalPolicy.DESTROY if destroy else RemovalPolicy.RETAIN


def configured_log_group(
    scope: Construct, construct_id: str, config: LoggingConfig
) -> logs.LogGroup:
    """A log group kept ``config.retention_days`` and destroyed or retained with its stack."""
    group = logs.LogGroup(
        scope,
        construct_id,
        removal_policy=removal_policy(config),
    )
    # RetentionDays is an enum of names; the config holds validated day counts,
    # which is what CloudFormation takes, so set them on the resource directly.
    resource = group.node.default_child
    assert isinstance(resource, logs.CfnLogGroup)
    resource.retention_in_days = config.retention_days
    return group
