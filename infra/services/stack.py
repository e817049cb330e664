"""ServiceStack: one ECS service per entry under ``services:`` in the config."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import CfnOutput, Fn, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_servicediscovery as servicediscovery
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.config import AlarmsConfig, LoggingConfig, ServiceConfig, injected
from infra.ingress.stack import IngressStack
from infra.logs import give_functions_log_groups
from infra.names import pascal
from infra.services.alarms import ServiceAlarms, alarm_specs, deployment_alarm_names
from infra.services.alb import ApplicationEndpoint
from infra.services.exposure import PublicEndpoint
from infra.services.metrics import service_metrics
from infra.services.nlb import NetworkEndpoint
from infra.services.password import ServicePassword
from infra.services.peers import Endpoint, PeerAccess, container_variables
from infra.services.secrets import ExistingSecrets
from infra.services.service import Service
from infra.services.shared import SharedEndpoint
from infra.services.task import ServiceTask
from infra.services.volumes import VolumeMounts
from infra.storage.volume import DurableVolume

BALANCERS = {"application": ApplicationEndpoint, "network": NetworkEndpoint}


class ServiceStack(Stack):
    """A Fargate service in private subnets, found by name, reachable only as configured.

    Wires the constructs a service is made of: its security group (out: HTTPS
    and its peers' ports only), the password of a service with ``auth``, the
    existing secrets it names, the task (size, hardened container, logs, health
    check), its durable volumes, the service (Cloud Map name or Service Connect,
    deployment safety, autoscaling), access to the services it connects to and
    an optional public endpoint (a load balancer of its own, or a rule on the
    env's shared one in ``ingress``), whose host names the container gets as
    ``ALLOWED_HOSTS``, and its alarms (named after the stack, notifying
    ``alarm_topic``; the 5xx and latency ones roll a deploy back). ``endpoint``
    is what the stacks of its consumers receive (None for a worker, which has
    no port); ``metrics`` and ``alarm_names`` are what the dashboard shows.
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
        alarm_topic: sns.ITopic,
        alarms: AlarmsConfig,
        container_insights: bool = True,
        service_connect: bool = False,
        connects_to: Sequence[Endpoint] = (),
        volumes: Mapping[str, DurableVolume] | None = None,
        public_placement: bool = False,
        ingress: IngressStack | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.security_group = ec2.SecurityGroup(
            self, "SecurityGroup", vpc=cluster.vpc, description=f"{name} tasks",
            allow_all_outbound=False,
        )  # fmt: skip
        # Out: HTTPS for image pulls, logs, secrets and other AWS APIs; the
        # peers' ports are opened by PeerAccess below. DNS to the VPC resolver
        # is never filtered by security groups.
        self.security_group.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to AWS APIs and registries"
        )
        self.password = ServicePassword(self, "Password", service=name) if service.auth else None
        names = injected(name, service)
        environment, secrets = container_variables(names, service.port, self.password, connects_to)
        existing = ExistingSecrets(self, "Secrets", secrets=service.secrets)
        task = ServiceTask(
            self, "Task", name=name, service=service, logging=logging,
            environment=environment, secrets={**secrets, **existing.by_variable},
        )  # fmt: skip
        if service.secrets and task.definition.execution_role is not None:
            existing.grant_decrypt(task.definition.execution_role)
        mounts = VolumeMounts(
            self, "Volumes", service_name=name, definition=task.definition,
            container=task.container, security_group=self.security_group,
            mounts=service.volumes, volumes=volumes or {},
        ) if service.volumes else None  # fmt: skip
        self.service = Service(
            self, "Service", name=name, cluster=cluster, namespace=namespace,
            task_definition=task.definition, security_group=self.security_group,
            desired_count=service.desired_count, stateful=service.stateful,
            autoscaling=service.autoscaling, behind_load_balancer=service.public is not None,
            exec_enabled=service.exec, port=service.port, service_connect=service_connect,
            proxy_logs=ecs.LogDrivers.aws_logs(
                stream_prefix="service-connect", log_group=task.log_group
            ),
            deployment=service.deployment, capacity=service.capacity,
            public_placement=public_placement,
            deployment_alarms=deployment_alarm_names(
                self.stack_name,
                http=service.public is not None and service.public.load_balancer == "application",
            ),
        )  # fmt: skip
        # What `python -m infra status|logs|exec` read to find the service.
        CfnOutput(self, "ServiceArn", value=self.service.service_arn,
                  description=f"ECS service of {name}")  # fmt: skip
        CfnOutput(self, "ClusterName", value=cluster.cluster_name, description="ECS cluster")
        CfnOutput(self, "LogGroupName", value=task.log_group.log_group_name,
                  description=f"Logs of {name}'s containers")  # fmt: skip
        if mounts is not None:
            # A task that starts before its NFS rules exist cannot mount its
            # volume and fails; CloudFormation would otherwise create them at once.
            self.service.node.add_dependency(mounts)
        # Through Service Connect the bare name resolves, as under compose.
        host = name if service_connect else f"{name}.{namespace.namespace_name}"
        self.endpoint = Endpoint(
            name=name, host=host, port=service.port, security_group=self.security_group,
            password=self.password,
        ) if service.port is not None else None  # fmt: skip
        for peer in connects_to:
            PeerAccess(
                self, f"{pascal(peer.name)}Access", consumer_name=name,
                consumer=self.security_group, provider_name=peer.name,
                provider=peer.security_group, port=peer.port,
            )  # fmt: skip
        public: PublicEndpoint | SharedEndpoint | None = None
        if service.public is not None and service.public.shared and service.port is not None:
            assert ingress is not None  # the builder makes one for every shared service
            public = SharedEndpoint(
                self, "Shared", vpc=cluster.vpc, service=self.service,
                security_group=self.security_group, container_name=name,
                container_port=service.port, config=service.public, ingress=ingress,
            )  # fmt: skip
        elif service.public is not None and service.port is not None:
            public = BALANCERS[service.public.load_balancer](
                self, "Public", vpc=cluster.vpc, service=self.service, container_name=name,
                container_port=service.port, config=service.public, logging=logging,
                shifts_traffic=service.deployment.strategy.shifts_traffic,
            )  # fmt: skip
        if public is not None:
            CfnOutput(self, "Url", value=public.url, description=f"Public URL of {name}")
            if names.allowed_hosts is not None:
                task.container.add_environment(names.allowed_hosts, Fn.join(",", public.hosts))
        self.metrics = service_metrics(
            name, self.service, cluster, container_insights,
            public.load_balancer if public else None, public.target_groups if public else [],
        )  # fmt: skip
        self.alarm_names = ServiceAlarms(
            self, "Alarms", stack_name=self.stack_name,
            specs=alarm_specs(self.metrics, alarms), topic=alarm_topic,
        ).names  # fmt: skip
        # CDK's own handlers (the access-log bucket's emptier) log like the service.
        give_functions_log_groups(self, logging)
