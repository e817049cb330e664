"""ServiceStack: one ECS service per entry under ``services:`` in the config."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_servicediscovery as servicediscovery
from constructs import Construct

from infra.compliance import acknowledge
from infra.config import LoggingConfig, ServiceConfig
from infra.services.exposure import PublicEndpoint
from infra.services.peers import Endpoint, PeerAccess, password_secret
from infra.services.task import ServiceTask

PRIVATE_SUBNETS = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)


def pascal(name: str) -> str:
    """my-cache -> MyCache, for construct IDs derived from service names."""
    return "".join(part.capitalize() for part in name.split("-"))


class ServiceStack(Stack):
    """A Fargate service in private subnets, found by name, reachable only as configured.

    Composes the task (size, hardened container, logs, health check), the
    service (Cloud Map name, deployment safety), the password of a service
    with ``auth``, access to the services it connects to, optional public
    exposure and optional autoscaling. ``endpoint`` is what the stacks of its
    consumers receive.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        service: ServiceConfig,
        logging: LoggingConfig,
        cluster: ecs.ICluster,
        namespace: servicediscovery.IPrivateDnsNamespace,
        connects_to: Sequence[Endpoint] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=cluster.vpc,
            description=f"{name} tasks",
            allow_all_outbound=True,
        )
        environment = {"PORT": str(service.port)}
        secrets: dict[str, ecs.Secret] = {}
        self.password: secretsmanager.ISecret | None = None
        if service.auth:
            self.password = secretsmanager.Secret(
                self,
                "Password",
                description=f"{name}: the password its clients authenticate with",
                generate_secret_string=secretsmanager.SecretStringGenerator(
                    # Letters and digits only: the value goes through shells and URLs.
                    exclude_punctuation=True,
                    password_length=40,
                ),
            )
            acknowledge(
                self.password,
                "AwsSolutions-SMG4",
                "No rotation: the server reads its password once at start, so rotating "
                "means redeploying it and its clients together; do that by hand.",
            )
            secrets.update(password_secret(name, self.password))
        for peer in connects_to:
            environment.update(peer.environment())
            secrets.update(peer.secrets())
        task = ServiceTask(
            self,
            "Task",
            name=name,
            service=service,
            logging=logging,
            environment=environment,
            secrets=secrets,
        )
        acknowledge(
            task.definition,
            "AwsSolutions-ECS2",
            "The plain environment holds only wiring (PORT, peers' host names and ports) and "
            "the service's own non-secret settings; passwords arrive as ECS secrets.",
        )
        # Stateless: start new tasks before stopping old ones. Stateful (Redis):
        # stop the old task first so two copies never serve at once.
        min_healthy, max_healthy = (0, 100) if service.stateful else (100, 200)
        self.service = ecs.FargateService(
            self,
            "Service",
            cluster=cluster,
            task_definition=task.definition,
            # With autoscaling the scaler owns the count; a template value
            # would reset it on every deploy.
            desired_count=None if service.autoscaling else service.desired_count,
            min_healthy_percent=min_healthy,
            max_healthy_percent=max_healthy,
            circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
            assign_public_ip=False,
            vpc_subnets=PRIVATE_SUBNETS,
            security_groups=[self.security_group],
            cloud_map_options=ecs.CloudMapOptions(
                name=name,
                cloud_map_namespace=namespace,
                dns_record_type=servicediscovery.DnsRecordType.A,
                dns_ttl=Duration.seconds(10),
            ),
            health_check_grace_period=Duration.seconds(60) if service.public else None,
            propagate_tags=ecs.PropagatedTagSource.SERVICE,
            enable_execute_command=service.exec,
        )
        if service.exec:
            acknowledge(
                task.definition.task_role.node.find_child("DefaultPolicy"),
                "AwsSolutions-IAM5[Resource::*]",
                "ECS Exec (exec: true in config) opens SSM message channels, whose "
                "ssmmessages:* actions take no resource ARN.",
            )
        self.endpoint = Endpoint(
            name=name,
            host=f"{name}.{namespace.namespace_name}",
            port=service.port,
            security_group=self.security_group,
            password=self.password,
        )
        for peer in connects_to:
            PeerAccess(
                self,
                f"{pascal(peer.name)}Access",
                consumer_name=name,
                consumer=self.security_group,
                provider=peer,
            )
        if service.public is not None:
            public = PublicEndpoint(
                self,
                "Public",
                vpc=cluster.vpc,
                service=self.service,
                container_name=name,
                container_port=service.port,
                config=service.public,
                logging=logging,
            )
            CfnOutput(self, "Url", value=public.url, description=f"Public URL of {name}")
        if service.autoscaling is not None:
            scaling = self.service.auto_scale_task_count(
                min_capacity=service.autoscaling.min, max_capacity=service.autoscaling.max
            )
            scaling.scale_on_cpu_utilization(
                "CpuScaling",
                target_utilization_percent=service.autoscaling.cpu_percent,
                scale_out_cooldown=Duration.seconds(60),
                scale_in_cooldown=Duration.seconds(180),
            )
