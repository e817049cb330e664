"""Log storage whose retention, removal and encryption follow the environment's config."""

from __future__ import annotations

from aws_cdk import Aws, CfnResource, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.config import LoggingConfig, Removal
from infra.keys import only_aws_resources_get_grants

# The construct ID of each stack's logs key, at the stack's top level.
KEY_ID = "LogsKey"


def removal_policy(config: LoggingConfig) -> RemovalPolicy:
    """What happens to stored logs when their stack is deleted."""
    return as_removal_policy(config.removal_policy)


def as_removal_policy(removal: Removal) -> RemovalPolicy:
    """A config ``removal_policy`` (logs, volumes, managed engines) as CDK's."""
    return RemovalPolicy.DESTROY if removal is Removal.DESTROY else RemovalPolicy.RETAIN


def logs_key(scope: Construct, config: LoggingConfig) -> kms.Key:
    """The customer-managed KMS key of the log groups in ``scope``'s stack (made once).

    One key per stack, not one per env: a log group that names a key from
    another stack reaches it through a cross-stack reference, which AWS
    Control Tower's CT.CLOUDWATCH.PR.3 check cannot follow, and the key then
    lives and dies with the logs it protects. CloudWatch Logs may use it for
    this account's log groups in this region only; it rotates yearly; grants
    on it can only be made for AWS resources (CT.KMS.PR.3).
    """
    stack = Stack.of(scope)
    existing = stack.node.try_find_child(KEY_ID)
    if isinstance(existing, kms.Key):
        return existing
    key = kms.Key(
        stack,
        KEY_ID,
        description=f"Encrypts the CloudWatch log groups of {stack.stack_name}",
        enable_key_rotation=True,
        removal_policy=removal_policy(config),
        pending_window=Duration.days(7),
    )
    key.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.ServicePrincipal(f"logs.{Aws.REGION}.amazonaws.com")],
            actions=[
                "kms:Encrypt*",
                "kms:Decrypt*",
                "kms:ReEncrypt*",
                "kms:GenerateDataKey*",
                "kms:Describe*",
            ],
            resources=["*"],  # in a key policy, "*" is this key
            conditions={
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": (
                        f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group:*"
                    )
                }
            },
        )
    )
    only_aws_resources_get_grants(key)
    return key


def configured_log_group(
    scope: Construct, construct_id: str, config: LoggingConfig, name: str | None = None
) -> logs.LogGroup:
    """A log group kept ``config.retention_days``, encrypted with its stack's
    :func:`logs_key` and destroyed or retained with its stack. ``name`` only
    where AWS decides the name."""
    group = logs.LogGroup(
        scope,
        construct_id,
        log_group_name=name,
        encryption_key=logs_key(scope, config),
        removal_policy=removal_policy(config),
    )
    # RetentionDays is an enum of names; the config holds validated day counts,
    # which is what CloudFormation takes, so set them on the resource directly.
    resource = group.node.default_child
    assert isinstance(resource, logs.CfnLogGroup)
    resource.retention_in_days = config.retention_days
    return group


def give_functions_log_groups(scope: Construct, config: LoggingConfig) -> None:
    """Send every Lambda function under ``scope`` to a log group of its own.

    CDK's custom-resource handlers (default security group, bucket emptying)
    otherwise log to ``/aws/lambda/<name>``, which Lambda creates on first run
    with no retention and which outlives the stack. Referencing the group
    from the function makes CloudFormation create it first and delete it
    last, after the function's final (delete-time) run.
    """
    functions = [
        node
        for node in scope.node.find_all()
        if isinstance(node, CfnResource) and node.cfn_resource_type == "AWS::Lambda::Function"
    ]
    for function in functions:
        owner = function.node.scope
        assert isinstance(owner, Construct)  # a resource always has a parent construct
        group = configured_log_group(owner, "Logs", config)
        function.add_property_override("LoggingConfig.LogGroup", group.log_group_name)
