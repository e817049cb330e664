"""AuroraPostgres: Aurora Serverless v2 for PostgreSQL in place of a postgres container."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.compliance import acknowledge
from infra.config import LoggingConfig, ManagedConfig
from infra.config.engines import (
    DEFAULT_MAX_ACU,
    DEFAULT_MIN_ACU,
    aurora_identifier,
    aurora_log_group,
)
from infra.logs import configured_log_group
from infra.network.stack import PRIVATE_SUBNETS

# 16.3 and later can pause at 0 ACU; a version picked, not "latest", so an upgrade
# is a change someone reviews.
VERSION = rds.AuroraPostgresEngineVersion.VER_16_9
# The user compose's postgres image starts with, so apps keep their settings.
MASTER_USER = "postgres"


class AuroraPostgres(Construct):
    """An Aurora Serverless v2 PostgreSQL cluster in the private subnets.

    One serverless writer scaling between ``min_capacity`` and ``max_capacity``
    ACU (0 pauses it when idle); storage is replicated across three zones by
    Aurora itself and encrypted; clients must use TLS (``rds.force_ssl``);
    backups are kept ``backup_retention_days``. The master password is
    generated in Secrets Manager (``secret``, JSON with a ``password`` field).
    ``removal`` RETAIN (prod) means deletion protection and a final snapshot
    when the stack goes; DESTROY (dev) deletes it.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        base_name: str,
        vpc: ec2.IVpc,
        logging: LoggingConfig,
        security_group: ec2.SecurityGroup,
        config: ManagedConfig,
        removal: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        keep = removal is RemovalPolicy.RETAIN
        # Named, so that its log group exists (with the env's retention, key and
        # removal) before Aurora starts writing to it, instead of one Aurora
        # would make that never expires and outlives the stack.
        identifier = aurora_identifier(base_name)
        self.identifier = identifier
        logs = configured_log_group(self, "Logs", logging, name=aurora_log_group(base_name))
        self.cluster = rds.DatabaseCluster(
            self,
            "Cluster",
            engine=rds.DatabaseClusterEngine.aurora_postgres(version=VERSION),
            credentials=rds.Credentials.from_generated_secret(
                MASTER_USER, exclude_characters=" %+~`#$&*()|[]{}:;<>?!'/@\"\\"
            ),
            writer=rds.ClusterInstance.serverless_v2("Writer"),
            serverless_v2_min_capacity=(
                DEFAULT_MIN_ACU if config.min_capacity is None else config.min_capacity
            ),
            serverless_v2_max_capacity=(
                DEFAULT_MAX_ACU if config.max_capacity is None else config.max_capacity
            ),
            vpc=vpc,
            vpc_subnets=PRIVATE_SUBNETS,
            security_groups=[security_group],
            storage_encrypted=True,
            iam_authentication=True,
            parameters={"rds.force_ssl": "1"},
            backup=rds.BackupProps(retention=Duration.days(config.backup_retention_days)),
            deletion_protection=keep,
            removal_policy=RemovalPolicy.SNAPSHOT if keep else RemovalPolicy.DESTROY,
            copy_tags_to_snapshot=True,
            cluster_identifier=identifier,
            cloudwatch_logs_exports=["postgresql"],
            # OS metrics every minute (CT.RDS.PR.2), through a role CDK makes.
            monitoring_interval=Duration.minutes(1),
        )
        self.cluster.node.add_dependency(logs)
        acknowledge(
            self.cluster,
            "control-tower::rds_cluster_default_admin_check",
            f"{MASTER_USER} is the user compose's postgres image makes by default; its "
            "password is generated (30 characters) and only the consumers' security "
            "groups reach the cluster.",
        )
        if not keep:
            torn_down = (
                "storage.removal_policy: destroy in config: this env is torn down with "
                "`make destroy`, which deletion protection would refuse; an env that keeps "
                "its data (retain) gets deletion protection and a final snapshot."
            )
            acknowledge(self.cluster, "AwsSolutions-RDS10", torn_down)
            acknowledge(
                self.cluster, "control-tower::rds_cluster_deletion_protection_enabled_check",
                torn_down,
            )  # fmt: skip
        role = self.cluster.node.try_find_child("MonitoringRole")
        if role is not None:
            acknowledge(
                role,
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
                "service-role/AmazonRDSEnhancedMonitoringRole]",
                "The role RDS assumes to publish OS metrics: AWS maintains this policy for "
                "exactly that (logs:CreateLogGroup and PutLogEvents on RDSOSMetrics).",
            )
        assert self.cluster.secret is not None  # from_generated_secret makes one
        # The kept cluster's password and group stay with it; its log group goes with
        # it in an env that destroys data (the env's log settings keep it otherwise).
        if keep:
            secret = self.cluster.node.find_child("Secret")
            assert isinstance(secret, secretsmanager.Secret)  # the generated credentials
            secret.apply_removal_policy(RemovalPolicy.RETAIN)
            security_group.apply_removal_policy(RemovalPolicy.RETAIN)
        self.secret: secretsmanager.ISecret = self.cluster.secret
        self.host: str = self.cluster.cluster_endpoint.hostname
        acknowledge(
            self.cluster.node.find_child("Secret"),
            "AwsSolutions-SMG4",
            f"No rotation yet: {name}'s consumers read the password at task start, so a "
            "rotation must restart them with the cluster's change; do it by hand.",
        )
