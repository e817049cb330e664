"""ManagedStack: a service that AWS runs as a managed engine instead of a container."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.config import AlarmsConfig, LoggingConfig, ManagedConfig, Removal
from infra.config.engines import ENGINES
from infra.logs import as_removal_policy
from infra.managed.metrics import postgres_metrics, valkey_metrics
from infra.managed.postgres import AuroraPostgres
from infra.managed.valkey import ValkeyCache
from infra.services.alarms import ServiceAlarms
from infra.services.peers import Endpoint


class ManagedStack(Stack):
    """One service as ElastiCache Serverless for Valkey or Aurora Serverless v2 PostgreSQL.

    The engine sits in the private subnets behind a security group of its own
    that admits nothing by itself: each consumer's stack adds the rule that
    admits its tasks on the engine's port (as for a container service).
    ``endpoint`` is what consumers receive: the engine's host and port, its
    password and that it requires TLS, so they get the same ``<NAME>_HOST``,
    ``<NAME>_PORT`` and ``<NAME>_PASSWORD`` as from a container, and
    ``<NAME>_TLS=true``. ``removal`` (the env's ``storage.removal_policy``)
    keeps the data when the stack goes, or not.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        managed: ManagedConfig,
        auth: bool,
        vpc: ec2.IVpc,
        removal: Removal,
        logging: LoggingConfig,
        alarm_topic: sns.ITopic,
        alarms: AlarmsConfig,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        engine = ENGINES[managed.engine]
        self.security_group = ec2.SecurityGroup(
            self, "SecurityGroup", vpc=vpc, description=f"{name}: {engine.title}",
            allow_all_outbound=False,
        )  # fmt: skip
        policy = as_removal_policy(removal)
        password: secretsmanager.ISecret | None
        if managed.engine == "valkey":
            cache = ValkeyCache(
                self, "Valkey", name=name, base_name=self.stack_name, vpc=vpc,
                security_group=self.security_group, config=managed, auth=auth, removal=policy,
            )  # fmt: skip
            host, password, field = cache.host, cache.password, None
            self.metrics = valkey_metrics(name, cache.name, managed, alarms)
        else:
            database = AuroraPostgres(
                self, "Postgres", name=name, base_name=self.stack_name, vpc=vpc,
                logging=logging, security_group=self.security_group, config=managed,
                removal=policy,
            )  # fmt: skip
            host, password, field = database.host, database.secret, "password"
            self.metrics = postgres_metrics(name, database.identifier, alarms)
        self.endpoint = Endpoint(
            name=name, host=host, port=engine.port, security_group=self.security_group,
            password=password, password_field=field, tls=True,
        )  # fmt: skip
        CfnOutput(self, "Endpoint", value=host, description=f"{engine.title} of {name}")
        self.alarm_names = ServiceAlarms(
            self, "Alarms", stack_name=self.stack_name, specs=self.metrics.alarms,
            topic=alarm_topic,
        ).names  # fmt: skip
